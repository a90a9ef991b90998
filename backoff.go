package awsretry

import (
	"fmt"
	"math"
	"time"
)

// Jitter selects how a wait is randomised. Randomising waits spreads the
// retries of many clients that failed together, so they do not come back
// together (Marc Brooker, "Exponential Backoff And Jitter", 2015).
type Jitter int

// The jitter modes. In the formulas, t is the exponential wait
// delay*backoff^(n-1) for the retry after attempt n, capped by WithMaxDelay,
// and rand(a, b) is uniform in [a, b) drawn from the Retrier's Random.
const (
	// JitterNone waits exactly t, as the Python awsretry did. The default.
	JitterNone Jitter = iota
	// JitterFull waits rand(0, t).
	JitterFull
	// JitterEqual waits t/2 + rand(0, t/2).
	JitterEqual
	// JitterDecorrelated waits rand(delay, 3*previous), starting from
	// previous = delay, then capped by WithMaxDelay. It does not use the
	// backoff multiplier: the factor 3 takes its place. With a delay of 0
	// it never waits.
	JitterDecorrelated
)

// String returns the mode's name: "none", "full", "equal" or "decorrelated".
func (j Jitter) String() string {
	switch j {
	case JitterNone:
		return "none"
	case JitterFull:
		return "full"
	case JitterEqual:
		return "equal"
	case JitterDecorrelated:
		return "decorrelated"
	}
	return fmt.Sprintf("Jitter(%d)", int(j))
}

// Random is a source of uniformly distributed numbers in [0, 1). A
// *math/rand/v2.Rand is one, but it is not safe for concurrent use: a
// Random given to a Retrier that is shared between goroutines must be.
// Values outside [0, 1) are clamped, so a faulty source cannot produce a
// negative wait or one beyond the cap.
type Random interface {
	Float64() float64
}

// maxDuration is the longest wait: about 292 years. Waits saturate here
// instead of overflowing.
const maxDuration = time.Duration(math.MaxInt64)

// schedule computes the wait before each retry. It is immutable and shared by
// every Do call of a Retrier; the state of one call lives in its waits.
type schedule struct {
	curve                     // the waits of every class without a curve of its own
	classes [classCount]curve // WithClassSchedule's; a zero curve is none
	jitter  Jitter
	random  Random
}

// curve is an exponential sequence of waits.
type curve struct {
	delay    time.Duration // first wait, >= 0
	backoff  float64       // multiplier, finite and >= 1; 0 only in a class's unset curve
	maxDelay time.Duration // cap on every wait; 0 means none
}

// of returns the curve of class c's waits.
func (s *schedule) of(c Class) *curve {
	if c >= ClassNone && int(c) < classCount && s.classes[c].backoff != 0 {
		return &s.classes[c]
	}
	return &s.curve
}

// waits are the waits of one Do call, the one place that decides how long
// to wait before a retry; the zero value starts a call.
type waits struct {
	prev time.Duration // the schedule's previous wait, for decorrelated jitter
}

// maxHintExtension bounds a server's hint. aws-sdk-go-v2's 2026 retry
// behaviour honours x-amz-retry-after within [backoff, backoff+5s]: a server
// can make a client wait longer than its own schedule, by at most five
// seconds, and never shorter. awsretry applies the same clamp to both hint
// headers, then the WithMaxDelay cap.
const maxHintExtension = 5 * time.Second

// next returns the wait after failed attempt n (1-based), whose error is of
// class c: the schedule's wait, on c's curve, moved towards the server's
// hint (if any) within [wait, wait+5s], and capped. The schedule's own
// sequence never sees the hint, so a hint cannot compound through
// decorrelated jitter.
func (w *waits) next(s *schedule, n int, c Class, hint time.Duration) time.Duration {
	k := s.of(c)
	w.prev = s.wait(k, n, w.prev)
	return k.capped(withHint(w.prev, hint))
}

// withHint bounds the server's hint by the computed wait: the result lies
// in [wait, wait+maxHintExtension], saturating.
func withHint(wait, hint time.Duration) time.Duration {
	if hint <= wait {
		return wait
	}
	return min(hint, saturatingAdd(wait, maxHintExtension))
}

// wait returns the schedule's wait on curve k after failed attempt n
// (1-based). prev is its wait for the previous retry of the same Do call,
// 0 before the first.
func (s *schedule) wait(k *curve, n int, prev time.Duration) time.Duration {
	var d time.Duration
	switch s.jitter {
	case JitterFull:
		d = fraction(k.exponential(n), s.random.Float64())
	case JitterEqual:
		t := k.exponential(n)
		half := t / 2
		d = t - half + fraction(half, s.random.Float64())
	case JitterDecorrelated:
		if prev < k.delay {
			prev = k.delay
		}
		hi := saturatingMul(prev, 3)
		d = k.delay + fraction(hi-k.delay, s.random.Float64())
	default:
		d = k.exponential(n)
	}
	return k.capped(d)
}

// exponential returns delay*backoff^(n-1), capped, saturating at
// maxDuration, rounded to the nanosecond.
func (k *curve) exponential(n int) time.Duration {
	if k.delay == 0 || n <= 1 {
		return k.capped(k.delay)
	}
	f := float64(k.delay) * math.Pow(k.backoff, float64(n-1))
	if !(f < float64(maxDuration)) { // also catches +Inf
		return k.capped(maxDuration)
	}
	return k.capped(time.Duration(math.Round(f)))
}

func (k *curve) capped(d time.Duration) time.Duration {
	if k.maxDelay > 0 && d > k.maxDelay {
		return k.maxDelay
	}
	return d
}

// fraction returns d*r rounded down, with r clamped to [0, 1].
func fraction(d time.Duration, r float64) time.Duration {
	if !(r > 0) { // also catches NaN
		return 0
	}
	if r >= 1 {
		return d
	}
	return time.Duration(float64(d) * r)
}

// saturatingMul returns d*k for d >= 0 and k >= 1, or maxDuration when the
// product would overflow.
func saturatingMul(d time.Duration, k int64) time.Duration {
	if d > maxDuration/time.Duration(k) {
		return maxDuration
	}
	return d * time.Duration(k)
}

// saturatingAdd returns a+b for a, b >= 0, or maxDuration on overflow.
func saturatingAdd(a, b time.Duration) time.Duration {
	if a > maxDuration-b {
		return maxDuration
	}
	return a + b
}
