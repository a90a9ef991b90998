package awsretry_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// seedSchedule is the Python awsretry's default schedule: 3s * 1.1^(k-1)
// for k = 1..9, nothing after the tenth attempt.
var seedSchedule = []time.Duration{
	3 * time.Second,
	3300 * time.Millisecond,
	3630 * time.Millisecond,
	3993 * time.Millisecond,
	4392300 * time.Microsecond,
	4831530 * time.Microsecond,
	5314683 * time.Microsecond,
	5846151300 * time.Nanosecond,
	6430766430 * time.Nanosecond,
}

func sum(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSeedScheduleExact(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	calls := 0
	throttled := apiError("RequestLimitExceeded", 503)
	err := r.Do(context.Background(), func(context.Context) error {
		calls++
		return throttled
	})

	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) {
		t.Fatalf("Do returned %v, want a *RetryError", err)
	}
	if rerr.Reason != awsretry.ReasonExhausted || rerr.Attempts != 10 || calls != 10 {
		t.Errorf("reason %q, attempts %d, calls %d; want exhausted, 10, 10", rerr.Reason, rerr.Attempts, calls)
	}
	if rerr.Err != throttled {
		t.Errorf("RetryError.Err = %v, want the last error returned", rerr.Err)
	}
	if got := clk.Sleeps(); !equalDurations(got, seedSchedule) {
		t.Errorf("waits = %v\nwant    %v", got, seedSchedule)
	}
	const total = 40738430730 * time.Nanosecond // 30 * (1.1^9 - 1) seconds
	if got := clk.Now().Sub(awsretrytest.Epoch); got != total || sum(seedSchedule) != total {
		t.Errorf("virtual time passed = %v, want %v", got, total)
	}
}

// TestSeedScheduleTakesNoRealTime proves that the fake clock never waits for
// real: inside a synctest bubble, any timer or sleep would move time.Now.
func TestSeedScheduleTakesNoRealTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		clk := awsretrytest.NewClock()
		r := awsretry.MustNew(awsretry.WithClock(clk))
		err := r.Do(context.Background(), func(context.Context) error {
			return apiError("InternalError", 500)
		})
		if !errors.As(err, new(*awsretry.RetryError)) {
			t.Fatalf("Do returned %v, want a *RetryError", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("Do with the fake clock waited %v of (bubble) real time, want 0", waited)
		}
		if len(clk.Sleeps()) != 9 {
			t.Errorf("got %d waits, want 9", len(clk.Sleeps()))
		}
	})
}

func TestNonRetryableErrorStopsAtOnce(t *testing.T) {
	clk := awsretrytest.NewClock()
	denied := apiError("AccessDenied", 403)
	op, calls := failing(apiError("Unavailable", 503), denied)
	err := awsretry.MustNew(awsretry.WithClock(clk)).Do(context.Background(), func(context.Context) error { return op() })
	if err != denied || *calls != 2 {
		t.Errorf("Do = %v after %d calls, want %v after 2", err, *calls, denied)
	}
	if got := clk.Sleeps(); !equalDurations(got, seedSchedule[:1]) {
		t.Errorf("waits = %v, want %v", got, seedSchedule[:1])
	}
}

func TestTriesOne(t *testing.T) {
	clk := awsretrytest.NewClock()
	op, calls := failing(apiError("InternalError", 500))
	err := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(1)).
		Do(context.Background(), func(context.Context) error { return op() })
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Attempts != 1 || *calls != 1 || len(clk.Sleeps()) != 0 {
		t.Errorf("Do = %v after %d calls and waits %v; want exhausted after 1 call, no wait", err, *calls, clk.Sleeps())
	}
}

func TestConcurrentUse(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithJitter(awsretry.JitterFull))
	const goroutines = 64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			op, _ := failing(apiError("InternalError", 500), apiError("InvalidInstanceID.NotFound", 400))
			if _, err := awsretry.DoValue(context.Background(), r, func(context.Context) (int, error) {
				return 1, op()
			}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(clk.Sleeps()); got != 2*goroutines {
		t.Errorf("%d waits, want %d", got, 2*goroutines)
	}
}

func TestDoValue(t *testing.T) {
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	op, _ := failing(apiError("Unavailable", 503))
	v, err := awsretry.DoValue(context.Background(), r, func(context.Context) (string, error) {
		return "i-0123456789abcdef0", op()
	})
	if v != "i-0123456789abcdef0" || err != nil {
		t.Errorf("DoValue = %q, %v; want the value of the successful attempt", v, err)
	}
	v, err = awsretry.DoValue(context.Background(), r, func(context.Context) (string, error) {
		return "partial", errPlain
	})
	if v != "" || err != errPlain {
		t.Errorf("DoValue = %q, %v; want the zero value and the error", v, err)
	}
}

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

// TestUnusableCallsFailClearly: Do on a nil or zero Retrier, with a nil
// operation or a nil context, returns an error that says so, instead of
// dereferencing nil deep inside.
func TestUnusableCallsFailClearly(t *testing.T) {
	ok := func(context.Context) error { return nil }
	var nilRetrier *awsretry.Retrier
	r := awsretry.MustNew()
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"nil Retrier", func() error { return nilRetrier.Do(context.Background(), ok) }, "nil or zero Retrier"},
		{"zero Retrier", func() error { return new(awsretry.Retrier).Do(context.Background(), ok) }, "nil or zero Retrier"},
		{"nil operation", func() error { return r.Do(context.Background(), nil) }, "nil operation"},
		//lint:ignore SA1012 a nil context is the bad input under test
		{"nil context", func() error { return r.Do(nil, ok) }, "nil context"},
		{"DoValue nil operation", func() error {
			_, err := awsretry.DoValue[int](context.Background(), r, nil)
			return err
		}, "nil operation"},
		{"DoValue nil Retrier", func() error {
			_, err := awsretry.DoValue(context.Background(), nilRetrier, func(context.Context) (int, error) { return 1, nil })
			return err
		}, "nil or zero Retrier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil || !strings.HasPrefix(err.Error(), "awsretry: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an awsretry error saying %q", err, tt.want)
			}
		})
	}
}
