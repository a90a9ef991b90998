package awsretry

import (
	"context"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// Clock is the time source of a Retrier: it reads the time for the
// elapsed-time limit and performs the waits between attempts. Tests replace
// it (see package awsretrytest) so that hours of backoff take microseconds.
//
// A Clock must be safe for concurrent use: one Retrier may run many Do calls
// at once.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d, or until ctx is done, whichever comes first. It
	// returns nil after a full wait and ctx.Err() when ctx ended first
	// (including when ctx was already done). A d <= 0 does not wait.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the Clock of package time, the default. Its zero value is
// ready to use. Inside a testing/synctest bubble it runs on the bubble's fake
// time, like the rest of package time.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer for d, or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	var t *time.Timer
	return sleepOn(ctx, d, &t)
}

// sleepOn waits for d on *t, making the timer if *t is nil and resetting it
// otherwise, or until ctx is done. On return the timer has fired and been
// received from, or is stopped and drained, so it can be reset again.
func sleepOn(ctx context.Context, d time.Duration, t **time.Timer) error {
	if d <= 0 {
		return ctx.Err()
	}
	if *t == nil {
		*t = time.NewTimer(d)
	} else {
		(*t).Reset(d)
	}
	select {
	case <-(*t).C:
		return nil
	case <-ctx.Done():
		if !(*t).Stop() {
			// Fired meanwhile. Before Go 1.23's timers (GODEBUG
			// asynctimerchan=1) the tick may sit in the channel.
			select {
			case <-(*t).C:
			default:
			}
		}
		return ctx.Err()
	}
}

// BenbjohnsonClock adapts a github.com/benbjohnson/clock Clock, such as
// clock.New() or a *clock.Mock, to a Retrier's Clock. Make one with
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
// advances a Mock once per wait passes 1, 2, 3, ... It returns nil then, or ctx.Err() if ctx ends first.
// Once it returns nil, advancing a *clock.Mock past the n-th wait's end
// wakes that sleeper.
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
