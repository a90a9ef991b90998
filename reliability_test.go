package awsretry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type panicValue struct{ msg string }

func TestPanicPropagatesUnchanged(t *testing.T) {
	want := &panicValue{"boom"}
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	calls := 0
	defer func() {
		if got := recover(); got != want || calls != 2 {
			t.Errorf("recovered %v after %d calls, want the very value fn panicked with, on the second call", got, calls)
		}
	}()
	_ = r.Do(context.Background(), func(context.Context) error {
		calls++
		if calls == 2 {
			panic(want)
		}
		return apiError("ThrottlingException", 400)
	})
	t.Error("Do returned instead of panicking")
}

// TestCancelDuringRealWaitIsPrompt measures, on the real clock, how long Do
// takes to return once the context is canceled during a 3s wait. It uses
// real time, briefly.
func TestCancelDuringRealWaitIsPrompt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan struct{})
	r := awsretry.MustNew(awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { close(waiting) }))
	done := make(chan time.Time, 1)
	go func() {
		_ = r.Do(ctx, func(context.Context) error { return apiError("RequestLimitExceeded", 503) })
		done <- time.Now()
	}()
	<-waiting
	time.Sleep(time.Millisecond) // let Do enter its 3s wait
	canceled := time.Now()
	cancel()
	latency := (<-done).Sub(canceled)
	t.Logf("Do returned %v after the cancel, during a 3s wait", latency)
	if latency > 50*time.Millisecond {
		t.Errorf("Do took %v to return after the cancel, want well under 50ms", latency)
	}
}

func TestErrorsAreNeverLost(t *testing.T) {
	// Whatever stops Do, the last error of the operation is reachable.
	last := apiError("RequestLimitExceeded", 503)
	ctx, cancel := context.WithCancel(context.Background())
	for _, opts := range [][]awsretry.Option{
		{awsretry.WithTries(2)},
		{awsretry.WithMaxElapsed(time.Second)},
		{awsretry.WithBudget(awsretry.MustNewBudget(awsretry.BudgetCapacity(1)))},
		{awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { cancel() })},
	} {
		err := awsretry.MustNew(append(opts, awsretry.WithClock(awsretrytest.NewClock()))...).
			Do(ctx, func(context.Context) error { return last })
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Err != last || !errors.Is(err, last) {
			t.Errorf("Do = %v, want a RetryError wrapping the last error", err)
		}
	}
}
