package throttled

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// pacedRefusals returns the share of a Poisson demand of rate per second
// that a pacer refuses when it spaces sends at capacity per second, keeping
// up to credit slots (1: none but the one due) that went unused, and
// refuses a call whose slot is more than maxWait away: with credit 1, the
// least any client that paces without a burst refuses, whatever its
// control law; with 3, what the Limiter's pacing itself refuses at its
// exact capacity.
func pacedRefusals(rng *rand.Rand, rate, capacity float64, credit int, maxWait time.Duration, calls int) float64 {
	interval, wait := 1/capacity, maxWait.Seconds()
	kept := float64(credit-1) * interval
	now, due, refused := 0.0, -interval, 0
	for range calls {
		now += rng.ExpFloat64() / rate
		next := max(due+interval, now-kept)
		if next-now > wait {
			refused++
			continue
		}
		due = next
	}
	return float64(refused) / float64(calls)
}

// unpacedThrottles returns the share of a Poisson demand of rate per second
// that a token bucket of capacity per second holding size requests (full
// at the start) throttles on the first attempt, with no client limiting.
func unpacedThrottles(rng *rand.Rand, rate, capacity, size float64, calls int) float64 {
	now, last, tokens, throttled := 0.0, 0.0, size, 0
	for range calls {
		now += rng.ExpFloat64() / rate
		tokens = min(size, tokens+(now-last)*capacity)
		last = now
		if tokens >= 1 {
			tokens--
			continue
		}
		throttled++
	}
	return float64(throttled) / float64(calls)
}

// TestLowRateBound computes the bounds docs/performance.md quotes for the
// grid's cells where the Limiter misses its goals at demands under the
// capacity (5 requests per second, and a bucket of a tenth of a second): what an exact pacer must refuse within
// the default MaxWait (and within 1 s), and what the service's bucket
// throttles by itself when nobody paces. The checks hold the bounds to
// the figures quoted.
func TestLowRateBound(t *testing.T) {
	const calls = 200_000
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	refused := map[string]float64{}
	for _, d := range []float64{0.5, 0.9} {
		for _, wait := range []time.Duration{100 * time.Millisecond, time.Second} {
			r := pacedRefusals(rng, d*5, 5, 1, wait, calls)
			refused[fmt.Sprint(d, wait)] = r
			fmt.Fprintf(&b, "C = 5/s, Poisson demand %gC, paced at C, MaxWait %v: %.1f%% refused\n", d, wait, 100*r)
		}
		r := pacedRefusals(rng, d*5, 5, 3, 100*time.Millisecond, calls)
		refused[fmt.Sprint(d, " credit 3")] = r
		fmt.Fprintf(&b, "C = 5/s, Poisson demand %gC, paced at C keeping 3 slots, MaxWait 100ms: %.1f%% refused\n", d, 100*r)
	}
	throttled := map[string]float64{}
	for _, size := range []float64{1, 5} {
		for _, d := range []float64{0.5, 0.9} {
			r := unpacedThrottles(rng, d*5, 5, size, calls)
			throttled[fmt.Sprint(size, d)] = r
			fmt.Fprintf(&b, "C = 5/s, bucket of %g requests, Poisson demand %gC, not paced: %.1f%% of first attempts throttled\n", size, d, 100*r)
		}
	}
	// At 100 per second, a bucket of a tenth of a second (10 requests):
	// the service throttles more than 1% of an unpaced demand of 0.9C by
	// itself, and a pacer at 95% of C refuses more than 1% of it.
	throttled["100 10 0.9"] = unpacedThrottles(rng, 90, 100, 10, calls)
	refused["100 0.95"] = pacedRefusals(rng, 90, 95, 1, 100*time.Millisecond, calls)
	fmt.Fprintf(&b, "C = 100/s, bucket of 10 requests, Poisson demand 0.9C, not paced: %.1f%% of first attempts throttled\n",
		100*throttled["100 10 0.9"])
	fmt.Fprintf(&b, "C = 100/s, Poisson demand 0.9C, paced at 0.95C, MaxWait 100ms: %.1f%% refused\n", 100*refused["100 0.95"])
	t.Logf("bounds at 5 and 100 requests per second:\n%s", b.String())
	for _, c := range []struct {
		name   string
		got    float64
		lo, hi float64
	}{
		{"refused at 0.5C within 100ms", refused["0.5 100ms"], 0.20, 0.24},
		{"refused at 0.9C within 100ms", refused["0.9 100ms"], 0.33, 0.37},
		{"refused at 0.5C within 100ms, 3 slots kept", refused["0.5 credit 3"], 0.01, 0.02},
		{"refused at 0.9C within 100ms, 3 slots kept", refused["0.9 credit 3"], 0.09, 0.13},
		{"refused at 0.5C within 1s", refused["0.5 1s"], 0, 0.002},
		{"refused at 0.9C within 1s", refused["0.9 1s"], 0.04, 0.06},
		{"throttled at 0.5C, bucket of 1", throttled["1 0.5"], 0.31, 0.35},
		{"throttled at 0.9C, bucket of 1", throttled["1 0.9"], 0.45, 0.49},
		{"throttled at 0.9C, bucket of 5", throttled["5 0.9"], 0.05, 0.08},
		{"throttled at 0.9C of 100/s, bucket of 10", throttled["100 10 0.9"], 0.01, 0.03},
		{"refused at 0.9C of 100/s, paced at 0.95C", refused["100 0.95"], 0.01, 0.05},
	} {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s: %.4f, want within [%g, %g]", c.name, c.got, c.lo, c.hi)
		}
	}
}
