package awsretry

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBudgetLedgerUnderContention: 10,000 goroutines sharing one Budget,
// each counting an answer and taking a retry (and, for the bucket, giving
// its cost back on the answer): the ledger comes out exact, no update lost.
func TestBudgetLedgerUnderContention(t *testing.T) {
	const goroutines = 10_000
	clk := &fixedClock{at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	t.Run("NewBudget", func(t *testing.T) {
		b, err := NewBudget(BudgetConfig{Ratio: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.bind(clk); err != nil {
			t.Fatal(err)
		}
		var taken atomic.Int64
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				b.answered(1, 0, true)
				if _, ok := b.take(clk, ClassThrottle); ok {
					taken.Add(1)
				}
			})
		}
		wg.Wait()
		s := b.share
		if got := s.answers.Load(); got != goroutines {
			t.Errorf("%d answers counted, want %d", got, goroutines)
		}
		if s.retries != taken.Load() || taken.Load() == 0 {
			t.Errorf("%d retries in the ledger, %d taken", s.retries, taken.Load())
		}
		// Ratio 1, floor 1: every retry is paid by an answer counted
		// before it, or the floor.
		if s.retries > goroutines+1 {
			t.Errorf("%d retries paid by %d answers and a floor of 1", s.retries, goroutines)
		}
	})
	t.Run("NewTokenBucket", func(t *testing.T) {
		b, err := NewTokenBucket(TokenBucketConfig{Capacity: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var taken, refused atomic.Int64
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				paid, ok := b.take(clk, ClassThrottle)
				if !ok {
					refused.Add(1)
					return
				}
				taken.Add(1)
				b.answered(2, paid, true) // the retry answered: its cost back
			})
		}
		wg.Wait()
		if got := b.Tokens(); got != 1000 || taken.Load()+refused.Load() != goroutines {
			t.Errorf("%d tokens after %d retries paid back and %d refused, want the full 1000", got, taken.Load(), refused.Load())
		}
	})
}

// fixedClock is a Clock that stands still.
type fixedClock struct{ at time.Time }

func (c *fixedClock) Now() time.Time { return c.at }
func (c *fixedClock) Sleep(ctx context.Context, _ time.Duration) error {
	return ctx.Err()
}
