package awsretry

import (
	"context"
	"fmt"
	"reflect"
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

// clockBinding ties a shared policy (a Budget's window) to the one Clock
// of the Retriers configured with it: it compares the times it reads, so
// they must come from one clock. The real clock in any form (RealClock, or
// any pointer to one) is one clock; any other Clock is itself: comparable
// Clocks are one clock only when == (the same pointer, or equal values),
// and Clocks of a type that is not comparable cannot be told apart, so a
// binding to one refuses any other value of that type. Inside a
// testing/synctest bubble the real clock reads the bubble's time: the
// binding keeps the time of the first real-clock reading it takes, real
// time (readings with a monotonic clock reading) or a bubble's (without),
// and sameTime tells a reading of the other apart.
type clockBinding struct {
	clock Clock
	kind  readingKind
}

// readingKind is the time a clockBinding keeps on the real clock.
type readingKind uint8

const (
	readingUnknown readingKind = iota // no real-clock reading yet
	readingReal                       // with a monotonic clock reading
	readingBubble                     // without: a bubble's time.Now
)

// bind ties c to clk, or returns an error when c is tied to another clock;
// owner names the policy in the error ("Budget").
func (c *clockBinding) bind(owner string, clk Clock) error {
	if c.clock == nil {
		c.clock = clk
		return nil
	}
	bound := c.clock
	another := fmt.Errorf("the %s is used with another Clock (%T) than this %T; use one %s per Clock", owner, bound, clk, owner)
	switch realBound, realClk := isRealClock(bound), isRealClock(clk); {
	case realBound && realClk:
		return nil
	case realBound || realClk, reflect.TypeOf(bound) != reflect.TypeOf(clk):
		return another
	}
	// Value.Comparable looks into interface fields too: a comparable
	// type may hold a func, and == on it would panic.
	if !reflect.ValueOf(bound).Comparable() || !reflect.ValueOf(clk).Comparable() {
		return fmt.Errorf("the %s is used with a Clock of type %T, whose values are not comparable: "+
			"this one cannot be told apart from another; "+
			"pass the same pointer to the clock (WithClock(&clock)) to every Retrier that shares the %s", owner, bound, owner)
	}
	if bound != clk {
		return another
	}
	return nil
}

// sameTime reports whether now, read from clk, is of the time c keeps,
// which the first real-clock reading sets. Readings of other Clocks are
// always of c's time: bind lets c have only one.
func (c *clockBinding) sameTime(clk Clock, now time.Time) bool {
	if !isRealClock(clk) {
		return true
	}
	kind := readingReal
	if now.Round(0) == now {
		// Round(0) strips a monotonic clock reading: there was none.
		// Outside a bubble, time.Now always carries one.
		kind = readingBubble
	}
	if c.kind == readingUnknown {
		c.kind = kind
	}
	return c.kind == kind
}
