package awsretrytest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

var _ awsretry.Clock = (*awsretrytest.Clock)(nil)

func TestAutoClockAdvancesAtOnce(t *testing.T) {
	c := awsretrytest.NewClock()
	for _, d := range []time.Duration{time.Second, 0, -time.Second, time.Hour} {
		if err := c.Sleep(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := c.Now().Sub(awsretrytest.Epoch), time.Hour+time.Second; got != want {
		t.Errorf("time passed = %v, want %v", got, want)
	}
	got := c.Sleeps()
	if want := []time.Duration{time.Second, 0, -time.Second, time.Hour}; len(got) != len(want) || got[0] != want[0] || got[3] != want[3] {
		t.Errorf("Sleeps = %v, want %v", got, want)
	}
	got[0] = 42 // the result is a copy
	if c.Sleeps()[0] != time.Second {
		t.Error("Sleeps returned the clock's own slice")
	}
}

func TestAutoClockCanceledContext(t *testing.T) {
	c := awsretrytest.NewClock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	if !c.Now().Equal(awsretrytest.Epoch) || len(c.Sleeps()) != 1 {
		t.Errorf("a canceled Sleep moved time to %v or was not recorded (%v)", c.Now(), c.Sleeps())
	}
}

func TestAutoClockAdvance(t *testing.T) {
	c := awsretrytest.NewClock()
	c.Advance(time.Minute)
	if got := c.Now().Sub(awsretrytest.Epoch); got != time.Minute {
		t.Errorf("Advance moved time by %v, want 1m", got)
	}
}

func TestManualClockReleasesWaitsInOrder(t *testing.T) {
	c := awsretrytest.NewManualClock()
	ctx := context.Background()
	var mu sync.Mutex
	var woke []time.Duration
	var wg sync.WaitGroup
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		wg.Go(func() {
			if err := c.Sleep(ctx, d); err != nil {
				t.Error(err)
			}
			mu.Lock()
			woke = append(woke, d)
			mu.Unlock()
		})
	}
	if err := c.BlockUntilWaiters(ctx, 3); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	c.Advance(500 * time.Millisecond)
	if c.Waiters() != 2 {
		t.Errorf("after 1.5s, %d waiters, want 2", c.Waiters())
	}
	c.Advance(2 * time.Second)
	wg.Wait()
	if c.Waiters() != 0 || len(woke) != 3 {
		t.Errorf("after 3.5s, %d waiters and %d woken, want 0 and 3", c.Waiters(), len(woke))
	}
}

func TestManualClockCancel(t *testing.T) {
	c := awsretrytest.NewManualClock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Sleep(ctx, time.Hour) }()
	if err := c.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	if c.Waiters() != 0 {
		t.Errorf("%d waiters after cancel, want 0", c.Waiters())
	}
	c.Advance(2 * time.Hour) // must not close a channel twice or block
}

func TestManualClockZeroWait(t *testing.T) {
	c := awsretrytest.NewManualClock()
	if err := c.Sleep(context.Background(), 0); err != nil || c.Waiters() != 0 {
		t.Errorf("Sleep(0) = %v with %d waiters, want nil at once", err, c.Waiters())
	}
}

func TestBlockUntilWaitersHonoursContext(t *testing.T) {
	c := awsretrytest.NewManualClock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.BlockUntilWaiters(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("BlockUntilWaiters = %v, want context.Canceled", err)
	}
	if err := c.BlockUntilWaiters(ctx, 0); err != nil {
		t.Errorf("BlockUntilWaiters(0) = %v, want nil", err)
	}
}

func TestConcurrentUseOfOneClock(t *testing.T) {
	c := awsretrytest.NewClock()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 100 {
				_ = c.Sleep(context.Background(), time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Now().Sub(awsretrytest.Epoch); got != 3200*time.Millisecond {
		t.Errorf("time passed = %v, want 3.2s", got)
	}
}
