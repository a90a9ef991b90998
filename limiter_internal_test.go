package awsretry

import (
	"context"
	"math"
	"testing"
	"time"
)

// stepClock is a Clock whose time moves only when the test sets it.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time                             { return c.now }
func (c *stepClock) Sleep(context.Context, time.Duration) error { return nil }

// cutAfterOneSecond is a Limiter on a stepClock, cut 1 s after its first
// throttle (the mark), with one attempt accepted in that second: it holds
// 0.95 a second from then. at gives the time d after the mark.
func cutAfterOneSecond(t *testing.T) (clk *stepClock, l *Limiter, throttled *Classification, at func(d time.Duration) time.Time) {
	t.Helper()
	clk = &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l = new(Limiter)
	throttled = &Classification{Retryable: true, Class: ClassThrottle, Code: "ThrottlingException"}
	start := clk.now
	at = func(d time.Duration) time.Time { return start.Add(d) }
	l.observe(clk, time.Time{}, throttled) // the mark
	clk.now = at(500 * time.Millisecond)
	l.observe(clk, at(490*time.Millisecond), nil)
	clk.now = at(time.Second)
	l.observe(clk, at(995*time.Millisecond), throttled) // the cut: 1 accepted in 1 s
	if rate := l.Rate(); rate != 0.95 {
		t.Fatalf("Rate() = %v after the cut, want 0.95", rate)
	}
	return clk, l, throttled, at
}

// TestLimiterIgnoresThrottlesSentBeforeTheCut: a throttle answering an
// attempt sent before the last cut says nothing new; one sent after it
// counts in the hold, and beyond what is tolerated it measures again.
func TestLimiterIgnoresThrottlesSentBeforeTheCut(t *testing.T) {
	clk, l, throttled, at := cutAfterOneSecond(t)
	cut := l.epoch

	clk.now = at(2500 * time.Millisecond)
	l.observe(clk, at(900*time.Millisecond), throttled) // sent before the cut
	if l.epoch != cut || l.Rate() != 0.95 {
		t.Errorf("a throttle of an attempt sent before the cut cut again: rate %v", l.Rate())
	}
	// Sent after the cut, in the hold: one throttle in 1.5 s, more than
	// the one per 2 s tolerated, and nothing accepted since the cut.
	l.observe(clk, at(1100*time.Millisecond), throttled)
	if l.epoch == cut {
		t.Error("a throttle of an attempt sent after the cut did not measure again")
	}
	if rate := l.Rate(); rate != limiterMinRate {
		t.Errorf("Rate() = %v after a hold in which nothing was accepted, want the lowest, %v", rate, limiterMinRate)
	}
}

// TestLimiterStormInAHoldIsSpread: in a hold, three throttles a
// millisecond apart, 300 ms after the cut, may be one moment of an empty
// bucket: not a storm, though the cut is more than a quarter of a second
// before them (the span is counted from the first throttle, not from the
// cut). A fourth, 250 ms after the first of them, makes one: the rate
// offered (the held 0.95 a second) cut tenfold.
func TestLimiterStormInAHoldIsSpread(t *testing.T) {
	clk, l, throttled, at := cutAfterOneSecond(t)
	cut := l.epoch
	for _, d := range []time.Duration{1300 * time.Millisecond, 1301 * time.Millisecond, 1302 * time.Millisecond} {
		clk.now = at(d)
		l.observe(clk, at(d-5*time.Millisecond), throttled)
	}
	if l.epoch != cut || l.Rate() != 0.95 {
		t.Fatalf("three throttles a millisecond apart in a hold cut the rate to %v", l.Rate())
	}
	clk.now = at(1550 * time.Millisecond)
	l.observe(clk, at(1545*time.Millisecond), throttled)
	if l.epoch == cut {
		t.Fatal("four throttles over 250 ms in a hold, with none accepted, did not cut")
	}
	if rate := l.Rate(); math.Abs(rate-0.095) > 1e-9 {
		t.Errorf("Rate() = %v, want 0.095: a tenth of the 0.95 held", rate)
	}
}

// TestLimiterClusteredThrottlesAreOneEvent (issue 21, item 9): six
// throttles arriving within microseconds, answers to attempts sent
// together, are one event: the first marks the bucket empty, and the
// others, sent before it, do not make a storm (the law before cut the
// rate to the responses' count over their microseconds: tens of
// thousands a second). Throttles of attempts sent after the mark do, and
// the rate offered is counted over the time since the mark, at least the
// round trip of an attempt sent after it.
func TestLimiterClusteredThrottlesAreOneEvent(t *testing.T) {
	clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := new(Limiter)
	throttled := &Classification{Retryable: true, Class: ClassThrottle, Code: "ThrottlingException"}
	start := clk.now
	sentTogether := start.Add(-5 * time.Millisecond)
	l.observe(clk, time.Time{}, throttled) // the first answer marks
	for i := range 5 {
		clk.now = start.Add(time.Duration(i+1) * time.Microsecond)
		l.observe(clk, sentTogether, throttled)
	}
	if rate := l.Rate(); !math.IsInf(rate, 1) {
		t.Fatalf("Rate() = %v after six answers to attempts sent together, want +Inf: one event", rate)
	}
	// Five attempts sent 1 ms after the mark, throttled, answered 6 ms
	// after it, within microseconds of each other: 5 offered in 6 ms,
	// none accepted: a tenth of 833 per second.
	for i := range 5 {
		clk.now = start.Add(6*time.Millisecond + time.Duration(i)*time.Microsecond)
		l.observe(clk, start.Add(time.Millisecond), throttled)
	}
	offered := 5 / (6*time.Millisecond + 4*time.Microsecond).Seconds()
	if rate := l.Rate(); math.Abs(rate-offered*limiterStormCut) > 1e-6 {
		t.Errorf("Rate() = %v after the storm, want a tenth of the %.0f offered per second since the mark", rate, offered)
	}
}

// TestLimiterStormCountsWhatWasSent: a fleet starting cold at 2,000
// attempts a second against a service that accepts 1,000, every answer a
// 40 ms round trip after its attempt, half of them throttles. The storm
// brake cuts to about the share accepted of what was sent, 2,000 a second:
// to 1,000 or so, not to a tenth of it (counted from the answers, which
// lag the sends by the round trip, the rate offered came out at a tenth of
// what it was, and the cut at 91 a second).
func TestLimiterStormCountsWhatWasSent(t *testing.T) {
	rate := coldStorm(t, 40*time.Millisecond, 40*time.Millisecond)
	if rate < 800 || rate > 1100 {
		t.Errorf("Rate() = %.0f after the storm, want about 1,000: half of the 2,000 sent a second", rate)
	}
}

// TestLimiterHoldTime: a hold lasts 1.5 s; at 50 per second 2 s (a
// probe's throttle is then one in 100 attempts, or one per 2 s); at low
// rates 16 slots; never more than 8 s.
func TestLimiterHoldTime(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want time.Duration
	}{
		{950, 1500 * time.Millisecond},
		{95, 1500 * time.Millisecond},
		{47.5, 2 * time.Second},
		{4.75, 3368421052 * time.Nanosecond},
		{1, 8 * time.Second},
		{limiterMinRate, 8 * time.Second},
	} {
		if got := holdTime(tt.rate); got != tt.want {
			t.Errorf("holdTime(%v) = %v, want %v", tt.rate, got, tt.want)
		}
	}
}

// TestLimiterRateAtTheZeroTime: times far apart do not overflow the probe.
func TestLimiterRateAtTheZeroTime(t *testing.T) {
	l := &Limiter{hold: 10, cut: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if rate, grown := l.rateAt(time.Time{}); rate != 10 || grown {
		t.Errorf("rateAt(zero time) = %v, %v; want the held 10, not grown", rate, grown)
	}
}

// TestClockBindingTimeOfClocks: on the real clock, the first reading sets
// the time a clockBinding (a Limiter's, a Budget's) keeps (real time carries a monotonic clock reading, a
// synctest bubble's does not) and a reading of the other is not of it; a
// fake clock's readings are all its own, with or without one.
func TestClockBindingTimeOfClocks(t *testing.T) {
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
		c := new(clockBinding)
		if !c.sameTime(tt.clk, tt.first) {
			t.Errorf("%s: the first reading is not of the binding's time", tt.name)
		}
		if got := c.sameTime(tt.clk, tt.then); got != tt.want {
			t.Errorf("%s: sameTime = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestLimiterStormShareOfWhatWasSent: a fleet starting cold at 2,000
// attempts a second against a service that accepts 1,000, every other
// attempt throttled. The service refuses at its front door: a throttle
// answers 5 ms after its attempt, a success 20 ms after. When the storm
// brake cuts, no success of an attempt sent since the mark is in yet: the
// share accepted, counted from the answers, came out at none (the brake's
// floor, a tenth: 200 a second). Counted over the attempts whose throttles
// are in, it is about a half: 1,000 a second.
func TestLimiterStormShareOfWhatWasSent(t *testing.T) {
	rate := coldStorm(t, 5*time.Millisecond, 20*time.Millisecond)
	if rate < 850 || rate > 1100 {
		t.Errorf("Rate() = %.0f after the storm, want about 1,000: half of the 2,000 sent a second", rate)
	}
}

// coldStorm drives a Limiter as a fleet starting cold: 2,000 attempts a
// second, every other one throttled, a throttle answered throttleAfter its
// attempt and a success successAfter, until the Limiter cuts. It returns
// the rate cut to.
func coldStorm(t *testing.T, throttleAfter, successAfter time.Duration) float64 {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &stepClock{now: start}
	l := new(Limiter)
	throttled := &Classification{Retryable: true, Class: ClassThrottle, Code: "ThrottlingException"}
	l.observe(clk, time.Time{}, throttled) // the bucket is empty: the mark
	const step = 500 * time.Microsecond
	var sent []time.Time
	for k := 0; ; k++ {
		if k > 1000 {
			t.Fatal("no cut after 1,000 attempts")
		}
		clk.now = start.Add(time.Duration(k) * step)
		// The answers due now, then the attempt of now.
		if n := k - int(throttleAfter/step); n >= 0 && n%2 == 0 {
			l.observe(clk, sent[n], throttled)
		}
		if n := k - int(successAfter/step); n >= 0 && n%2 == 1 {
			l.observe(clk, sent[n], nil)
		}
		if rate := l.Rate(); !math.IsInf(rate, 1) {
			t.Logf("Rate() = %.0f after %d attempts, %v", rate, len(sent), clk.now.Sub(start))
			return rate
		}
		at, _, ok := l.acquire(context.Background(), clk, new(sleeper))
		if !ok {
			t.Fatal("refused while limiting nothing")
		}
		sent = append(sent, at)
	}
}

func TestStormShare(t *testing.T) {
	for _, tt := range []struct {
		name            string
		sent, throttled float64
		since, latency  time.Duration
		want            float64
	}{
		// Answers at once: the throttles over what was sent.
		{"no latency", 10, 5, 100 * time.Millisecond, 0, 0.5},
		// Sent evenly over 10 ms, throttles answered in 5 ms: those of
		// the attempts sent in the first 5 ms are in (1 + 10 x 5/10).
		{"half the attempts answered", 10, 3, 10 * time.Millisecond, 5 * time.Millisecond, 0.5},
		// Attempts every 10 ms, the latest throttle answered 10 ms after
		// the latest was sent: every attempt, not 1 + 9.
		{"every attempt answered", 10, 5, 100 * time.Millisecond, 10 * time.Millisecond, 0.5},
		{"nothing answered yet", 10, 0, 10 * time.Millisecond, 10 * time.Millisecond, 0},
	} {
		if got := stormShare(tt.sent, tt.throttled, tt.since, tt.latency); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: stormShare(%v, %v, %v, %v) = %v, want %v", tt.name, tt.sent, tt.throttled, tt.since, tt.latency, got, tt.want)
		}
	}
}
