package awsretry

import (
	"math"
	"strings"
	"testing"
	"time"
)

type constRandom float64

func (r constRandom) Float64() float64 { return float64(r) }

// checkWaits walks a schedule for tries attempts, sampling the attempt
// numbers, and fails if a wait is negative or beyond its cap.
func checkWaits(t *testing.T, s schedule, tries int) {
	t.Helper()
	limit := maxDuration
	if s.maxDelay > 0 {
		limit = s.maxDelay
	}
	var prev time.Duration
	for n := 1; n < tries; n = next(n) {
		w := s.wait(&s.curve, n, prev)
		if w < 0 || w > limit {
			t.Fatalf("%+v: wait after attempt %d = %v, want within [0, %v]", s, n, w, limit)
		}
		prev = w
	}
}

// next steps through the first attempts one by one, then geometrically.
func next(n int) int {
	if n < 1000 {
		return n + 1
	}
	return n + n/7
}

func TestScheduleSaturatesInEveryMode(t *testing.T) {
	for _, jitter := range []Jitter{JitterNone, JitterFull, JitterEqual, JitterDecorrelated} {
		for _, delay := range []time.Duration{0, 1, time.Second, maxDuration / 3, maxDuration} {
			for _, backoff := range []float64{1, 1.1, 2, 1e6} {
				for _, maxDelay := range []time.Duration{0, 1, time.Hour, maxDuration} {
					for _, r := range []float64{0, 0.5, 0.999999999999} {
						checkWaits(t, schedule{curve: curve{delay: delay, backoff: backoff, maxDelay: maxDelay}, jitter: jitter, random: constRandom(r)}, 1_000_000)
					}
				}
			}
		}
	}
}

// FuzzOptions feeds option values to New: each is either rejected with an
// error naming the option, or yields a schedule whose waits are never
// negative and never beyond the cap (or maxDuration), over up to a million
// attempts.
func FuzzOptions(f *testing.F) {
	f.Add(int64(3e9), 1.1, int64(0), int64(0), uint8(0), 0.5, 10)
	f.Add(int64(math.MaxInt64), 1e6, int64(0), int64(0), uint8(1), 0.999, 1_000_000)
	f.Add(int64(1), 2.0, int64(5), int64(1), uint8(3), 0.0, 100)
	f.Fuzz(func(t *testing.T, delay int64, backoff float64, maxDelay, maxElapsed int64, jitter uint8, r float64, tries int) {
		opts := []Option{
			WithDelay(time.Duration(delay)), WithBackoff(backoff), WithMaxDelay(time.Duration(maxDelay)),
			WithMaxElapsed(time.Duration(maxElapsed)), WithJitter(Jitter(jitter % 5)), WithRandom(constRandom(r)), WithTries(tries),
		}
		if _, err := New(opts...); err != nil {
			if !strings.HasPrefix(err.Error(), "awsretry: With") {
				t.Fatalf("New: %v does not name the option", err)
			}
			return
		}
		cfg := defaultConfig()
		for _, opt := range opts {
			if err := opt.apply(&cfg); err != nil {
				t.Fatalf("New accepted what apply rejects: %v", err)
			}
		}
		checkWaits(t, cfg.schedule, min(cfg.tries, 1_000_000))
	})
}
