package awsretry_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// fixedRandom returns the same number every time.
type fixedRandom float64

func (r fixedRandom) Float64() float64 { return float64(r) }

// waitsOf runs an always-throttled operation through a Retrier made with
// opts and a fake clock, and returns the waits it asked for.
func waitsOf(t *testing.T, opts ...awsretry.Option) []time.Duration {
	t.Helper()
	clk := awsretrytest.NewClock()
	r, err := awsretry.New(append(opts, awsretry.WithClock(clk))...)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Do(context.Background(), func(context.Context) error { return apiError("ThrottlingException", 400) })
	return clk.Sleeps()
}

func TestJitterExactWithFixedRandom(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	base := []awsretry.Option{awsretry.WithDelay(s), awsretry.WithBackoff(2), awsretry.WithTries(6)}
	tests := []struct {
		name   string
		jitter awsretry.Jitter
		random float64
		cap    time.Duration
		want   []time.Duration
	}{
		{"none", awsretry.JitterNone, 0.5, 0, []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s}},
		{"full low", awsretry.JitterFull, 0, 0, []time.Duration{0, 0, 0, 0, 0}},
		{"full half", awsretry.JitterFull, 0.5, 0, []time.Duration{500 * ms, s, 2 * s, 4 * s, 8 * s}},
		{"full high", awsretry.JitterFull, 0.75, 0, []time.Duration{750 * ms, 1500 * ms, 3 * s, 6 * s, 12 * s}},
		{"full capped", awsretry.JitterFull, 0.5, 5 * s, []time.Duration{500 * ms, s, 2 * s, 2500 * ms, 2500 * ms}},
		{"equal low", awsretry.JitterEqual, 0, 0, []time.Duration{500 * ms, s, 2 * s, 4 * s, 8 * s}},
		{"equal half", awsretry.JitterEqual, 0.5, 0, []time.Duration{750 * ms, 1500 * ms, 3 * s, 6 * s, 12 * s}},
		{"equal capped", awsretry.JitterEqual, 0.5, 5 * s, []time.Duration{750 * ms, 1500 * ms, 3 * s, 3750 * ms, 3750 * ms}},
		// rand(delay, 3*prev): 1 + 0.5*(3-1) = 2; 1 + 0.5*(6-1) = 3.5; ...
		{"decorrelated half", awsretry.JitterDecorrelated, 0.5, 0, []time.Duration{2 * s, 3500 * ms, 5750 * ms, 9125 * ms, 14187500 * time.Microsecond}},
		{"decorrelated low", awsretry.JitterDecorrelated, 0, 0, []time.Duration{s, s, s, s, s}},
		{"decorrelated capped", awsretry.JitterDecorrelated, 0.5, 4 * s, []time.Duration{2 * s, 3500 * ms, 4 * s, 4 * s, 4 * s}},
		// A faulty source is clamped to [0, 1].
		{"full random above 1", awsretry.JitterFull, 7, 0, []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s}},
		{"full random negative", awsretry.JitterFull, -1, 0, []time.Duration{0, 0, 0, 0, 0}},
		{"equal random NaN", awsretry.JitterEqual, math.NaN(), 0, []time.Duration{500 * ms, s, 2 * s, 4 * s, 8 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append(base, awsretry.WithJitter(tt.jitter), awsretry.WithRandom(fixedRandom(tt.random)))
			if tt.cap > 0 {
				opts = append(opts, awsretry.WithMaxDelay(tt.cap))
			}
			if got := waitsOf(t, opts...); !equalDurations(got, tt.want) {
				t.Errorf("waits = %v, want %v", got, tt.want)
			}
		})
	}
}

// sequence returns its numbers in turn, cycling.
type sequence struct {
	values []float64
	next   int
}

func (s *sequence) Float64() float64 {
	v := s.values[s.next%len(s.values)]
	s.next++
	return v
}

func TestJitterBounds(t *testing.T) {
	randoms := &sequence{values: []float64{0, 0.999999999, 0.25, 0.5, 0.125, 0.875, 0.999, 0.001}}
	const delay, cap = 100 * time.Millisecond, 3 * time.Second
	for _, jitter := range []awsretry.Jitter{awsretry.JitterFull, awsretry.JitterEqual, awsretry.JitterDecorrelated} {
		t.Run(jitter.String(), func(t *testing.T) {
			waits := waitsOf(t, awsretry.WithJitter(jitter), awsretry.WithRandom(randoms),
				awsretry.WithDelay(delay), awsretry.WithBackoff(2), awsretry.WithMaxDelay(cap), awsretry.WithTries(40))
			prev := delay
			for i, w := range waits {
				exp := min(cap, delay<<min(i, 30))
				lo, hi := time.Duration(0), exp
				switch jitter {
				case awsretry.JitterEqual:
					lo = exp / 2
				case awsretry.JitterDecorrelated:
					lo, hi = delay, min(cap, 3*prev)
				}
				if w < lo || w > hi {
					t.Errorf("wait %d = %v, want within [%v, %v]", i+1, w, lo, hi)
				}
				prev = w
			}
		})
	}
}

// TestSaturationAtExtremes runs a million attempts with the largest delay
// and backoff: every wait is non-negative and saturates instead of
// overflowing. schedule_test.go checks the other jitter modes on the
// schedule itself.
func TestSaturationAtExtremes(t *testing.T) {
	const tries = 1_000_000
	waits := waitsOf(t, awsretry.WithTries(tries), awsretry.WithBackoff(1e6), awsretry.WithDelay(time.Duration(math.MaxInt64)))
	if len(waits) != tries-1 {
		t.Fatalf("%d waits, want %d", len(waits), tries-1)
	}
	for i, w := range waits {
		if w != time.Duration(math.MaxInt64) {
			t.Fatalf("wait %d = %v, want saturation at %v", i+1, w, time.Duration(math.MaxInt64))
		}
	}
}

func TestBackoffGrowsUntilItSaturates(t *testing.T) {
	waits := waitsOf(t, awsretry.WithTries(200), awsretry.WithBackoff(2), awsretry.WithDelay(time.Nanosecond))
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] {
			t.Fatalf("wait %d = %v is shorter than wait %d = %v", i+1, waits[i], i, waits[i-1])
		}
	}
	if waits[62] != 1<<62 || waits[63] != time.Duration(math.MaxInt64) || waits[198] != time.Duration(math.MaxInt64) {
		t.Errorf("waits 63, 64, 199 = %v, %v, %v; want 2^62ns then saturation", waits[62], waits[63], waits[198])
	}
}

func TestZeroDelay(t *testing.T) {
	want := []time.Duration{0, 0, 0}
	if got := waitsOf(t, awsretry.WithDelay(0), awsretry.WithBackoff(1e6), awsretry.WithTries(4)); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestJitterString(t *testing.T) {
	for j, want := range map[awsretry.Jitter]string{
		awsretry.JitterNone: "none", awsretry.JitterFull: "full", awsretry.JitterEqual: "equal",
		awsretry.JitterDecorrelated: "decorrelated", awsretry.Jitter(-1): "Jitter(-1)",
	} {
		if got := j.String(); got != want {
			t.Errorf("Jitter(%d).String() = %q, want %q", int(j), got, want)
		}
	}
}

func TestMaxDelayCapsWaits(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithMaxDelay(4*time.Second), awsretry.WithTries(7))
	_ = r.Do(context.Background(), func(context.Context) error { return apiError("InternalError", 500) })
	want := []time.Duration{3 * time.Second, 3300 * time.Millisecond, 3630 * time.Millisecond,
		3993 * time.Millisecond, 4 * time.Second, 4 * time.Second}
	if got := clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestMaxElapsedStopsBeforeAPointlessWait(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithMaxElapsed(10*time.Second))
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		calls++
		return apiError("InternalError", 500)
	})
	// 3 + 3.3 + 3.63 = 9.93s fits in 10s; a fourth wait of 3.993s would not.
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonElapsed || rerr.Attempts != 4 || calls != 4 {
		t.Fatalf("Do = %v after %d calls, want elapsed after 4 attempts", err, calls)
	}
	if got := clk.Sleeps(); !equalDurations(got, seedSchedule[:3]) {
		t.Errorf("waits = %v, want %v", got, seedSchedule[:3])
	}
}

func TestMaxElapsedCountsTimeSpentInAttempts(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithMaxElapsed(10*time.Second))
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		calls++
		clk.Advance(2 * time.Second) // each attempt takes 2s
		return apiError("InternalError", 500)
	})
	// Attempt 1 ends at 2s, wait 3s; attempt 2 ends at 7s and 7+3.3 > 10.
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonElapsed || calls != 2 {
		t.Errorf("Do = %v after %d calls, want elapsed after 2", err, calls)
	}
}

func TestServerHintsAreHonouredWithinBounds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		opts []awsretry.Option
		want time.Duration
	}{
		{"longer hint", hinted("X-Amz-Retry-After", "2500"), nil, 2500 * time.Millisecond},
		{"hint clamped to wait+5s", hinted("X-Amz-Retry-After", "60000"), nil, 6 * time.Second},
		{"shorter hint ignored", hinted("X-Amz-Retry-After", "10"), nil, time.Second},
		{"Retry-After seconds", hinted("Retry-After", "4"), nil, 4 * time.Second},
		{"garbage ignored", hinted("Retry-After", "soon"), nil, time.Second},
		{"cap wins", hinted("Retry-After", "4"), []awsretry.Option{awsretry.WithMaxDelay(2 * time.Second)}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := awsretrytest.NewClock()
			op, _ := failing(tt.err)
			r := awsretry.MustNew(append(tt.opts, awsretry.WithClock(clk), awsretry.WithDelay(time.Second))...)
			if err := r.Do(context.Background(), func(context.Context) error { return op() }); err != nil {
				t.Fatal(err)
			}
			if got := clk.Sleeps(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("waits = %v, want [%v]", got, tt.want)
			}
		})
	}
}

// TestHintDoesNotCompoundThroughDecorrelatedJitter: a long server hint
// stretches one wait by at most 5s; the next waits follow the schedule.
func TestHintDoesNotCompoundThroughDecorrelatedJitter(t *testing.T) {
	clk := awsretrytest.NewClock()
	calls := 0
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Second), awsretry.WithTries(5),
		awsretry.WithJitter(awsretry.JitterDecorrelated), awsretry.WithRandom(fixedRandom(0.5)))
	_ = r.Do(context.Background(), func(context.Context) error {
		calls++
		if calls == 1 {
			return hinted("Retry-After", "3600")
		}
		return apiError("SlowDown", 503)
	})
	// Schedule: 2s, 3.5s, 5.75s, 9.125s; the hint stretches the first to 2s+5s.
	want := []time.Duration{7 * time.Second, 3500 * time.Millisecond, 5750 * time.Millisecond, 9125 * time.Millisecond}
	if got := clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

// TestClassSchedule: each class of error waits on its own curve, the
// exponent counting every retry of the call, as aws-sdk-go-v2's standard
// retryer does; the Retrier's backoff and cap fill in what a class leaves
// 0; validation names the option.
func TestClassSchedule(t *testing.T) {
	errs := []error{apiError("ThrottlingException", 400), apiError("InternalError", 500), apiError("InternalError", 500),
		apiError("ThrottlingException", 400)}
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(50*time.Millisecond), awsretry.WithBackoff(2),
		awsretry.WithMaxDelay(3*time.Second), awsretry.WithTries(5),
		awsretry.WithClassSchedule(awsretry.ClassThrottle, awsretry.ClassSchedule{Delay: time.Second}))
	n := 0
	_ = r.Do(context.Background(), func(context.Context) error { n++; return errs[min(n, len(errs))-1] })
	want := []time.Duration{time.Second, 100 * time.Millisecond, 200 * time.Millisecond, 3 * time.Second} // 8 s capped
	if got := clk.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	for _, tt := range []struct {
		class awsretry.Class
		s     awsretry.ClassSchedule
	}{
		{awsretry.ClassNone, awsretry.ClassSchedule{}},
		{awsretry.Class(9), awsretry.ClassSchedule{}},
		{awsretry.ClassThrottle, awsretry.ClassSchedule{Delay: -1}},
		{awsretry.ClassThrottle, awsretry.ClassSchedule{Backoff: 0.5}},
		{awsretry.ClassThrottle, awsretry.ClassSchedule{Backoff: math.Inf(1)}},
		{awsretry.ClassThrottle, awsretry.ClassSchedule{MaxDelay: -1}},
	} {
		if _, err := awsretry.New(awsretry.WithClassSchedule(tt.class, tt.s)); err == nil ||
			!strings.HasPrefix(err.Error(), "awsretry: WithClassSchedule(") {
			t.Errorf("WithClassSchedule(%v, %+v): %v, want an error naming the option", tt.class, tt.s, err)
		}
	}
}
