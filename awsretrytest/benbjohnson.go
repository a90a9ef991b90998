package awsretrytest

import (
	"context"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// BenbjohnsonClock adapts a github.com/benbjohnson/clock Clock, such as
// clock.New() or a *clock.Mock, to awsretry's Clock. Make one with
// FromBenbjohnson.
//
// A *clock.Mock loses a wake-up when the test advances it before the sleeper
// has registered its timer: the sleeper then blocks until the Mock is
// advanced again. A test that drives the Mock from another goroutine calls
// BlockUntilSleeps before each Mock.Add to avoid that.
type BenbjohnsonClock struct {
	clock clock.Clock

	mu      sync.Mutex
	sleeps  int           // Sleep calls that have registered their timer
	changed chan struct{} // closed and replaced when sleeps grows
}

// FromBenbjohnson returns a Clock backed by c.
func FromBenbjohnson(c clock.Clock) *BenbjohnsonClock {
	return &BenbjohnsonClock{clock: c, changed: make(chan struct{})}
}

// Now returns the underlying clock's time.
func (b *BenbjohnsonClock) Now() time.Time { return b.clock.Now() }

// Sleep waits on a timer of the underlying clock for d, or until ctx is done.
func (b *BenbjohnsonClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t := b.clock.Timer(d)
	defer t.Stop()
	b.mu.Lock()
	b.sleeps++
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// BlockUntilSleeps blocks until at least n calls to Sleep in all (counted
// since FromBenbjohnson, waits of d <= 0 excluded) have registered their
// timer with the underlying clock: n is a running total, so a test that
// advances a Mock once per wait passes 1, 2, 3, ... It returns nil then, or
// ctx.Err() if ctx ends first. Once it returns nil, advancing a *clock.Mock
// past the n-th wait's end wakes that sleeper.
func (b *BenbjohnsonClock) BlockUntilSleeps(ctx context.Context, n int) error {
	for {
		b.mu.Lock()
		done, changed := b.sleeps >= n, b.changed
		b.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
