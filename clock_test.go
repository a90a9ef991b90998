package awsretry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

func TestRealClock(t *testing.T) {
	var clk awsretry.RealClock
	if d := time.Since(clk.Now()); d < 0 || d > time.Minute {
		t.Errorf("RealClock.Now is %v away from time.Now", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := clk.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(done ctx, 0) = %v, want context.Canceled", err)
	}
	if err := clk.Sleep(context.Background(), time.Microsecond); err != nil {
		t.Errorf("Sleep = %v, want nil", err)
	}
}

// TestRealClockInSynctest runs the seed schedule on the default real clock
// inside a synctest bubble, where time is fake: Do works there unchanged.
func TestRealClockInSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := awsretry.MustNew()
		err := r.Do(context.Background(), func(context.Context) error {
			return apiError("ThrottlingException", 400)
		})
		if !errors.As(err, new(*awsretry.RetryError)) {
			t.Fatalf("Do returned %v, want a *RetryError", err)
		}
		if got, want := time.Since(start), sum(seedSchedule); got != want {
			t.Errorf("bubble time passed = %v, want %v", got, want)
		}
	})
}

func TestManualClockHoldsTheRetrierMidWait(t *testing.T) {
	clk := awsretrytest.NewManualClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(4))
	var mu sync.Mutex
	calls := 0
	done := make(chan error, 1)
	go func() {
		done <- r.Do(context.Background(), func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return apiError("ServiceUnavailable", 503)
		})
	}()
	ctx := context.Background()
	for i, wait := range seedSchedule[:3] {
		if err := clk.BlockUntilWaiters(ctx, 1); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if calls != i+1 {
			t.Errorf("during wait %d: %d calls, want %d", i+1, calls, i+1)
		}
		mu.Unlock()
		clk.Advance(wait - time.Nanosecond)
		if clk.Waiters() != 1 {
			t.Fatalf("wait %d released %v early", i+1, time.Nanosecond)
		}
		clk.Advance(time.Nanosecond)
	}
	err := <-done
	if !errors.As(err, new(*awsretry.RetryError)) || calls != 4 {
		t.Errorf("Do = %v after %d calls, want exhausted after 4", err, calls)
	}
}
