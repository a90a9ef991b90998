package awsretry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"
	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

func TestContextDoneBeforeFirstAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := awsretry.MustNew().Do(ctx, func(context.Context) error { called = true; return nil })
	var rerr *awsretry.RetryError
	if called || !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonCanceled || rerr.Attempts != 0 {
		t.Fatalf("Do = %v (fn called %v), want canceled with 0 attempts and fn not called", err, called)
	}
	if !errors.Is(err, context.Canceled) || rerr.Err != nil {
		t.Errorf("err = %#v, want it to wrap context.Canceled only", rerr)
	}
}

func TestFnReceivesTheContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	err := awsretry.MustNew().Do(ctx, func(ctx context.Context) error {
		if ctx.Value(key{}) != "v" {
			return errors.New("fn did not get the caller's context values")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestCancelDuringWait(t *testing.T) {
	clk := awsretrytest.NewManualClock()
	ctx, cancel := context.WithCancelCause(context.Background())
	errShutdown := errors.New("shutting down")
	throttled := apiError("RequestLimitExceeded", 503)
	done := make(chan error, 1)
	calls := 0
	go func() {
		done <- awsretry.MustNew(awsretry.WithClock(clk)).Do(ctx, func(context.Context) error {
			calls++
			return throttled
		})
	}()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel(errShutdown)
	err := <-done

	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonCanceled || rerr.Attempts != 1 || calls != 1 {
		t.Fatalf("Do = %v after %d calls, want canceled after 1 attempt", err, calls)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "RequestLimitExceeded" {
		t.Errorf("errors.As(err, &apiErr) does not reach the last error: %v", err)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errShutdown) {
		t.Errorf("err %v does not wrap context.Canceled and the cancel cause", err)
	}
	if clk.Waiters() != 0 {
		t.Errorf("the canceled wait is still registered")
	}
	if !clk.Now().Equal(awsretrytest.Epoch) {
		t.Errorf("time moved during a canceled wait")
	}
}

// TestCancelDuringRealWait proves that the real clock gives up a long wait
// as soon as the context is canceled, and measures how long Do takes to
// return once the context is canceled during a 3s wait. It uses real time,
// briefly.
func TestCancelDuringRealWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan struct{})
	r := awsretry.MustNew(awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { close(waiting) }))
	type result struct {
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		err := r.Do(ctx, func(context.Context) error { return apiError("RequestLimitExceeded", 503) })
		done <- result{err, time.Now()}
	}()
	<-waiting
	time.Sleep(time.Millisecond) // let Do enter its 3s wait
	canceled := time.Now()
	cancel()
	res := <-done
	if !errors.Is(res.err, context.Canceled) {
		t.Errorf("Do = %v, want it to return context.Canceled", res.err)
	}
	latency := res.at.Sub(canceled)
	t.Logf("Do returned %v after the cancel, during a 3s wait", latency)
	if latency > 50*time.Millisecond {
		t.Errorf("Do took %v to return after the cancel, want well under 50ms", latency)
	}
}

// TestContextEndingDuringAnAttemptSchedulesNoRetry: the operation notices
// the cancellation and returns a retryable error; Do must not announce,
// charge or record a retry it will not make.
func TestContextEndingDuringAnAttemptSchedulesNoRetry(t *testing.T) {
	for name, clk := range map[string]awsretry.Clock{"fake": awsretrytest.NewClock(), "real": awsretry.RealClock{}} {
		ctx, cancel := context.WithCancel(context.Background())
		b := mustTokenBucket(awsretry.TokenBucketConfig{})
		hooked := 0
		r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithBudget(b),
			awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { hooked++ }))
		err := r.Do(ctx, func(context.Context) error {
			cancel()
			return apiError("RequestLimitExceeded", 503)
		})
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonCanceled || rerr.Attempts != 1 || !errors.Is(err, context.Canceled) {
			t.Errorf("%s clock: Do = %v, want canceled after 1 attempt", name, err)
		}
		if hooked != 0 || b.Tokens() != 500 {
			t.Errorf("%s clock: hook called %d times, %d tokens; want no retry announced or paid for", name, hooked, b.Tokens())
		}
	}
}

// TestDeadlineSoonerThanTheNextWait: with 5s left on the context, Do does
// not start the 3.3s wait after attempt 2 (it would end at 6.3s): it stops
// at once, at 3s, saying why.
func TestDeadlineSoonerThanTheNextWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := awsretry.MustNew().Do(ctx, func(context.Context) error { return apiError("InternalError", 500) })
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonDeadline || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Do = %v, want reason deadline wrapping context.DeadlineExceeded", err)
		}
		if rerr.Attempts != 2 || time.Since(start) != 3*time.Second {
			t.Errorf("attempts %d after %v, want 2 after 3s", rerr.Attempts, time.Since(start))
		}
	})
}

// TestDeadlineIgnoredOnFakeClocks: a context deadline is on real time, so a
// fake clock's virtual waits are not compared with it.
func TestDeadlineIgnoredOnFakeClocks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := awsretrytest.NewClock()
	err := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Hour)).Do(ctx, func(context.Context) error {
		return apiError("InternalError", 500)
	})
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonExhausted {
		t.Errorf("Do = %v, want exhausted after hours of virtual waits", err)
	}
}

func TestPointerToRealClockIsTheRealClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := awsretry.MustNew(awsretry.WithClock(&awsretry.RealClock{})).Do(ctx, func(context.Context) error {
			return apiError("InternalError", 500)
		})
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonDeadline {
			t.Errorf("Do = %v, want reason deadline with *RealClock too", err)
		}
	})
}
