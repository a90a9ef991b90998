package awsretrytest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/benbjohnson/clock"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// seedSchedule is the Python awsretry's default schedule: 3s * 1.1^(k-1)
// for k = 1..9, 40.73843073s in all.
var seedSchedule = []time.Duration{
	3 * time.Second, 3300 * time.Millisecond, 3630 * time.Millisecond, 3993 * time.Millisecond,
	4392300 * time.Microsecond, 4831530 * time.Microsecond, 5314683 * time.Microsecond,
	5846151300 * time.Nanosecond, 6430766430 * time.Nanosecond,
}

func sum(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

// TestBenbjohnsonMockDrivenFromAnotherGoroutine runs the seed schedule on a
// *clock.Mock advanced by the test goroutine. BlockUntilSleeps makes sure
// each timer is registered before Mock.Add, so no wake-up is lost.
func TestBenbjohnsonMockDrivenFromAnotherGoroutine(t *testing.T) {
	mock := clock.NewMock()
	clk := awsretrytest.FromBenbjohnson(mock)
	start := mock.Now()
	done := make(chan error, 1)
	go func() {
		done <- awsretry.MustNew(awsretry.WithClock(clk)).Do(context.Background(), func(context.Context) error {
			return &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
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
	clk := awsretrytest.FromBenbjohnson(mock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- awsretry.MustNew(awsretry.WithClock(clk)).Do(ctx, func(context.Context) error {
			return &smithy.GenericAPIError{Code: "InternalError"}
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
	clk := awsretrytest.FromBenbjohnson(clock.New())
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
