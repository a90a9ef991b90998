package awsretry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/awsretry/awsretry"
)

// TestBenbjohnsonMockDrivenFromAnotherGoroutine runs the seed schedule on a
// *clock.Mock advanced by the test goroutine. BlockUntilSleeps makes sure
// each timer is registered before Mock.Add, so no wake-up is lost.
func TestBenbjohnsonMockDrivenFromAnotherGoroutine(t *testing.T) {
	mock := clock.NewMock()
	clk := awsretry.FromBenbjohnson(mock)
	start := mock.Now()
	done := make(chan error, 1)
	go func() {
		done <- awsretry.MustNew(awsretry.WithClock(clk)).Do(context.Background(), func(context.Context) error {
			return apiError("RequestLimitExceeded", 503)
		})
	}()
	ctx := context.Background()
	for i, wait := range seedSchedule {
		if err := clk.BlockUntilSleeps(ctx, i+1); err != nil {
			t.Fatal(err)
		}
		mock.Add(wait)
	}
	err := <-done
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Attempts != 10 {
		t.Fatalf("Do = %v, want exhausted after 10 attempts", err)
	}
	if got := mock.Now().Sub(start); got != sum(seedSchedule) {
		t.Errorf("mock time passed = %v, want %v", got, sum(seedSchedule))
	}
}

func TestBenbjohnsonCancelDuringWait(t *testing.T) {
	mock := clock.NewMock()
	clk := awsretry.FromBenbjohnson(mock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- awsretry.MustNew(awsretry.WithClock(clk)).Do(ctx, func(context.Context) error {
			return apiError("InternalError", 500)
		})
	}()
	if err := clk.BlockUntilSleeps(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want it to wrap context.Canceled", err)
	}
}

func TestBenbjohnsonRealClock(t *testing.T) {
	clk := awsretry.FromBenbjohnson(clock.New())
	if err := clk.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Error(err)
	}
	if err := clk.Sleep(context.Background(), 0); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := clk.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a canceled context = %v, want context.Canceled", err)
	}
	if err := clk.BlockUntilSleeps(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Errorf("BlockUntilSleeps on a canceled context = %v, want context.Canceled", err)
	}
}

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
