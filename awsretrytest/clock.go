// Package awsretrytest provides a fake Clock for testing code that retries
// with awsretry: the waits between attempts take no real time, and the test
// can read back every wait the Retrier asked for.
//
//	clk := awsretrytest.NewClock()
//	r := awsretry.MustNew(awsretry.WithClock(clk))
//	err := r.Do(ctx, op)     // returns at once, however long the backoff
//	clk.Sleeps()             // [3s 3.3s 3.63s ...]
//
// A Clock made by NewClock advances its time by each wait as soon as the wait
// is requested. A Clock made by NewManualClock holds each wait until the test
// moves time forward with Advance, so a test can stop a Retrier mid-wait,
// look at it, and release it; BlockUntilWaiters tells the test when the
// Retrier has started waiting. Neither starts a goroutine or sleeps for real.
package awsretrytest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Epoch is the time at which every fake Clock starts. Tests compare with
// it; none may change it.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Clock is a fake awsretry.Clock. It is safe for concurrent use. Its time
// moves only in Sleep (NewClock) or in Advance (both kinds). Make one with
// NewClock or NewManualClock: the zero Clock behaves as NewClock's but
// starts at the zero time.
type Clock struct {
	manual bool

	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	waiters []*waiter     // manual mode: Sleep calls not yet released
	changed chan struct{} // closed and replaced when waiters changes
}

// waiter is one Sleep call held by a manual Clock until time reaches until.
type waiter struct {
	until time.Time
	done  chan struct{}
}

// NewClock returns a fake Clock, starting at Epoch, whose Sleep returns at
// once after moving the clock forward by the wait. When several goroutines
// share it, each wait moves the shared time forward; to simulate concurrent
// clients on one timeline use NewManualClock or testing/synctest.
func NewClock() *Clock {
	return &Clock{now: Epoch, changed: make(chan struct{})}
}

// NewManualClock returns a fake Clock, starting at Epoch, whose Sleep blocks
// until Advance moves the time to the end of the wait, or the context ends.
func NewManualClock() *Clock {
	c := NewClock()
	c.manual = true
	return c
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep records d in Sleeps and waits for it in fake time. It returns
// ctx.Err() if ctx is already done (the time does not move then) or, for a
// manual Clock, if ctx ends before Advance releases the wait. A d <= 0 is
// recorded and returns at once.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return err
	}
	if d <= 0 {
		c.mu.Unlock()
		return nil
	}
	if !c.manual {
		c.now = c.now.Add(d)
		c.mu.Unlock()
		return nil
	}
	w := &waiter{until: c.now.Add(d), done: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.notify()
	c.mu.Unlock()

	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.waiters, w); i >= 0 {
			c.waiters = slices.Delete(c.waiters, i, i+1)
			c.notify()
		}
		return ctx.Err()
	}
}

// Advance moves the fake time forward by d and releases every wait that has
// ended by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	released := false
	c.waiters = slices.DeleteFunc(c.waiters, func(w *waiter) bool {
		if w.until.After(c.now) {
			return false
		}
		close(w.done)
		released = true
		return true
	})
	if released {
		c.notify()
	}
}

// Sleeps returns the waits requested so far, in order, including those cut
// short by a context.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// Waiters returns the number of Sleep calls a manual Clock is holding.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// BlockUntilWaiters blocks until a manual Clock holds at least n Sleep calls,
// so that a following Advance releases them; it returns ctx.Err() if ctx ends
// first. A Sleep is counted from the moment it is registered, so no wake-up
// is lost between BlockUntilWaiters and Advance.
func (c *Clock) BlockUntilWaiters(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		enough, changed := len(c.waiters) >= n, c.changed
		c.mu.Unlock()
		if enough {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes BlockUntilWaiters; c.mu must be held.
func (c *Clock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}
