package awsretry

import (
	"context"
	"testing"
	"time"
)

// stepClock is a Clock whose time moves only when the test sets it.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time                             { return c.now }
func (c *stepClock) Sleep(context.Context, time.Duration) error { return nil }

// TestLimiterIgnoresThrottlesSentBeforeTheCut: a throttle answering an
// attempt sent before the last cut says nothing new; one sent after it
// measures again.
func TestLimiterIgnoresThrottlesSentBeforeTheCut(t *testing.T) {
	clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := new(Limiter)
	throttled := &Classification{Retryable: true, Class: ClassThrottle, Code: "ThrottlingException"}
	start := clk.now
	l.observe(clk, time.Time{}, throttled) // the mark
	clk.now = start.Add(500 * time.Millisecond)
	l.observe(clk, time.Time{}, nil)
	clk.now = start.Add(time.Second)
	l.observe(clk, time.Time{}, throttled) // the cut: 1 accepted in 1 s
	if rate := l.Rate(); rate != 0.95 {
		t.Fatalf("Rate() = %v, want 0.95", rate)
	}
	cut := l.epoch

	clk.now = start.Add(2500 * time.Millisecond)
	l.observe(clk, start.Add(900*time.Millisecond), throttled) // sent before the cut
	if l.epoch != cut || l.Rate() != 0.95 {
		t.Errorf("a throttle of an attempt sent before the cut cut again: rate %v", l.Rate())
	}
	l.observe(clk, start.Add(1100*time.Millisecond), throttled) // sent after it
	if l.epoch == cut {
		t.Error("a throttle of an attempt sent after the cut did not measure again")
	}
}

// TestLimiterRateAtTheZeroTime: times far apart do not overflow the probe.
func TestLimiterRateAtTheZeroTime(t *testing.T) {
	l := &Limiter{hold: 10, cut: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if rate, grown := l.rateAt(time.Time{}); rate != 10 || grown {
		t.Errorf("rateAt(zero time) = %v, %v; want the held 10, not grown", rate, grown)
	}
}

// TestLimiterTimeOfClocks: on the real clock, the first reading sets the
// time a Limiter keeps (real time carries a monotonic clock reading, a
// synctest bubble's does not) and a reading of the other is not of it; a
// fake clock's readings are all its own, with or without one.
func TestLimiterTimeOfClocks(t *testing.T) {
	wall, bubble := time.Now(), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if wall.Round(0) == wall {
		t.Skip("time.Now carries no monotonic clock reading on this platform")
	}
	for _, tt := range []struct {
		name        string
		clk         Clock
		first, then time.Time
		want        bool
	}{
		{"real time, then real time", RealClock{}, wall, wall.Add(time.Second), true},
		{"real time, then a bubble's", RealClock{}, wall, bubble, false},
		{"a bubble's time, then real time", &RealClock{}, bubble, wall, false},
		{"a bubble's time, then a bubble's", &RealClock{}, bubble, bubble.Add(time.Hour), true},
		{"a fake clock: with a monotonic reading, then without", &stepClock{}, wall, bubble, true},
		{"a fake clock: without a monotonic reading, then with", &stepClock{}, bubble, wall, true},
	} {
		l := new(Limiter)
		if !l.sameTime(tt.clk, tt.first) {
			t.Errorf("%s: the first reading is not of the Limiter's time", tt.name)
		}
		if got := l.sameTime(tt.clk, tt.then); got != tt.want {
			t.Errorf("%s: sameTime = %v, want %v", tt.name, got, tt.want)
		}
	}
}
