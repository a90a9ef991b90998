package awsretry

import (
	"context"
	"time"
)

// Clock is the time source of a Retrier: it reads the time for the
// elapsed-time limit and performs the waits between attempts. Tests replace
// it (see package awsretrytest, which also adapts
// github.com/benbjohnson/clock) so that hours of backoff take microseconds.
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
// time, like the rest of package time. Context deadlines are on its time,
// so with it (and only with it) Do stops at once when a deadline would pass
// during the next wait (ReasonDeadline).
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer for d, or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	var t timer
	return t.sleep(ctx, d)
}

func isRealClock(c Clock) bool {
	switch c.(type) {
	case RealClock, *RealClock:
		return true
	}
	return false
}

// sleeper performs the waits of one Do call on a Clock; its zero value is
// ready. On the real clock it keeps one timer for all of them, so that a
// call allocates one timer however many times it waits. The timer is the
// call's, not taken from a pool shared by calls: a timer made inside a
// testing/synctest bubble is fatal to stop or reset from outside it.
type sleeper struct {
	timer timer
}

func (s *sleeper) sleep(ctx context.Context, clk Clock, d time.Duration) error {
	if isRealClock(clk) {
		return s.timer.sleep(ctx, d)
	}
	return clk.Sleep(ctx, d)
}

// timer is a time.Timer made on the first wait and reset for each next.
type timer struct{ t *time.Timer }

// sleep waits for d, or until ctx is done. On return the timer has fired
// and been received from, or is stopped and drained, so it can be reset.
func (t *timer) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if t.t == nil {
		t.t = time.NewTimer(d)
	} else {
		t.t.Reset(d)
	}
	select {
	case <-t.t.C:
		return nil
	case <-ctx.Done():
		if !t.t.Stop() {
			// Fired meanwhile. Before Go 1.23's timers (GODEBUG
			// asynctimerchan=1) the tick may sit in the channel.
			select {
			case <-t.t.C:
			default:
			}
		}
		return ctx.Err()
	}
}
