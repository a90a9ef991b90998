package awsretry

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter is an adaptive client-side rate limiter for a throttled AWS
// resource. Before each attempt, a Retrier configured with it (WithLimiter)
// waits for a send slot; the rate of slots follows what the service lets
// through. Until the service first throttles, it limits nothing and costs
// an atomic load per attempt (after that, an atomic add per success). An
// attempt that would wait longer than MaxWait for its slot is not made:
// Do returns at once with a *RetryError of reason ReasonRateLimited, so
// that demand beyond what the service admits fails fast instead of
// queueing until its deadline. A retry refused so ends Do even with tries
// left, and the Budget gets back what the retry took.
//
// Share one Limiter between the Retriers (and goroutines) of a process that
// call the same throttled resource, like a Budget: it learns from all their
// attempts. Its zero value is ready to use; it is safe for concurrent use.
//
// One clock. A Limiter compares the times it reads, so they must come from
// one clock: New refuses a Limiter already used with another (the error of
// WithLimiter names both types). The real clock in any form (RealClock, or
// any pointer to one) is one clock. Any other Clock is itself: comparable
// Clocks are one clock only when == (the same pointer, or equal values),
// and Clocks of a type that is not comparable (one holding a func, say)
// cannot be told apart, so a Limiter used with one refuses any other
// value of that type: pass the same pointer to the clock instead.
//
// In a testing/synctest bubble the real clock reads the bubble's fake
// time, which starts at 2000-01-01 00:00 UTC: the same clock, another
// time. A Limiter keeps the time of the first real-clock reading it takes
// (at its first throttle), real time or a bubble's, and tells them apart by
// the readings: real time's carry a monotonic clock reading, a bubble's do
// not. Used on the other time (a process-wide Limiter called from a test
// inside a bubble, or one made in a bubble used outside it), it lets every
// attempt through at once, and their throttles neither cut nor measure:
// it learns nothing from them, except that their successes count among
// the accepted requests, as counting those reads no clock. The check is
// made only where the Limiter reads the clock anyway, so it costs nothing
// while the Limiter limits nothing. Two bubbles' times cannot be told
// apart this way (both start in 2000): in tests, use one Limiter per
// bubble, made inside it. A fake Clock's readings are its own time, and
// none of this applies to them.
//
// The control law. A throttle means the service's token bucket is empty.
// Between two such moments, if the bucket never filled to its brim, the
// service accepted exactly what its capacity refilled, so the requests it
// accepted in between (successes, and errors of its own that are not
// retried; not transient or connection failures), over the time between,
// measure its capacity, or this process's share of it. On a throttle the
// Limiter takes that measure, once at least 10 requests were accepted since
// the last one or a second has passed, and holds 95% of it for 2 s, which
// lets the service's bucket refill; then it probes, doubling the rate every
// 500 ms, until the next throttle measures again. A measure over more than
// 10 s, or over more than 4 s that is the first or under half the held rate,
// is not trusted (the bucket may have filled while little was asked of it):
// the throttle starts a new measure instead. Throttles answering attempts
// sent before the last cut say nothing new and are ignored; attempts already
// waiting when the rate is cut queue again at the new rate. If 5 throttles
// come after the last cut or measure with too few accepted requests to
// measure by (a storm, as when a fleet starts at full demand), it cuts the
// rate offered since the measure began to the share the service accepted, by
// half to a quarter. Once the probe has grown four-fold with no throttle,
// the first time nobody waits for a slot the demand is below the capacity:
// the Limiter stops limiting until the next throttle.
//
// Each probe costs one or two throttled attempts, and the hold spaces the
// probes, so at a service limit there is a throttled attempt every second
// or two, whatever the demand: see docs/performance.md for the measures
// against aws-sdk-go-v2's adaptive mode.
type Limiter struct {
	// MaxWait is the longest an attempt waits for its send slot; one that
	// would wait longer fails fast. 0 means 100 ms; a negative value, no
	// wait at all. Set it before the Limiter is shared.
	MaxWait time.Duration

	enabled   atomic.Bool  // false: it limits nothing
	measuring atomic.Bool  // a throttle came: count the accepted attempts
	accepted  atomic.Int64 // attempts the service accepted since the first throttle

	mu        sync.Mutex
	clock     Clock     // the clock of the Retriers configured with it
	timeKind  timeKind  // on the real clock, the time it keeps: real or a bubble's
	seen      time.Time // the latest time it was told of
	hold      float64   // the rate held after the last cut, per second
	cut       time.Time // the last cut
	tat       time.Time // the next free send slot (GCRA's theoretical arrival time)
	epoch     uint64    // cuts so far: a slot of an older epoch is void
	mark      time.Time // the last measuring throttle: the service's bucket was empty
	marked    int64     // accepted at mark
	throttled int64     // throttles counted since mark
	sinceCut  int64     // throttles counted since the last cut
}

// The control law's constants.
const (
	// limiterHold is the fraction of the measured capacity held after a
	// cut, for limiterHoldTime.
	limiterHold     = 0.95
	limiterHoldTime = 2 * time.Second
	// limiterDoubling is the time the probe takes to double the rate.
	limiterDoubling = 500 * time.Millisecond
	// limiterMaxGrowth is how far the probe grows the held rate before
	// the Limiter stops limiting, once nobody waits.
	limiterMaxGrowth = 4
	// limiterMinAccepted is the fewest accepted attempts between two
	// throttles for a measure, unless limiterMeasureAfter has passed.
	limiterMinAccepted  = 10
	limiterMeasureAfter = time.Second
	// limiterStorm is the number of throttles after the last cut or
	// measure, with too few accepted requests to measure by, that cut
	// the rate offered since the measure began. Five, not more: over 30
	// seeds of the throttled simulation, 10 let a fleet at five times the
	// capacity send 12% more throttled attempts (0.0105 per success
	// against 0.0094).
	limiterStorm = 5
	// limiterStale is the age beyond which a throttle no longer bounds a
	// measure: the next throttle starts a new one. Beyond limiterLong, a
	// measure under half the held rate (or the first measure) is not
	// trusted either: the service's bucket may have filled, and refilled
	// tokens beyond its brim are lost to the count.
	limiterStale = 10 * time.Second
	limiterLong  = 4 * time.Second
	// limiterBurst is the burst the Limiter allows, in seconds of its rate.
	limiterBurst = 100 * time.Millisecond
	// limiterMaxWait is MaxWait's default.
	limiterMaxWait = 100 * time.Millisecond
	// limiterMinRate is the lowest rate: one attempt every 2 s.
	limiterMinRate = 0.5
)

// Rate returns the rate, in attempts per second, at which the Limiter
// admits attempts as of the latest time a Retrier told it of, or +Inf
// while it limits nothing (and for a nil Limiter).
func (l *Limiter) Rate() float64 {
	if l == nil || !l.enabled.Load() {
		return math.Inf(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rate, _ := l.rateAt(l.seen)
	return rate
}

// bind ties l to clk, the Clock of a Retrier configured with it, or
// refuses clk when l is already tied to another: a Limiter compares the
// times it reads, so they must come from one clock. The real clock in any
// form (RealClock, or any pointer to one) is one clock, since all read
// package time. Any other Clock is itself: two comparable ones are one
// clock only when == (the same pointer, or equal values); two values of a
// type that is not comparable (one holding a func, say) cannot be told
// apart, so once l is tied to one it refuses them all, and the error says
// to pass a pointer instead. What bind cannot see, the real clock's time
// inside and outside a testing/synctest bubble, is told apart by the
// readings themselves (see sameTime).
func (l *Limiter) bind(clk Clock) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clock == nil {
		l.clock = clk
		return nil
	}
	return sameClock(l.clock, clk)
}

// sameClock returns nil when clk is the same clock as bound, the Clock of
// a Limiter, as bind defines it, and else an error that names both types.
func sameClock(bound, clk Clock) error {
	another := func() error {
		return fmt.Errorf("the Limiter is used with another Clock (%T) than this %T; use one Limiter per Clock", bound, clk)
	}
	switch realBound, realClk := isRealClock(bound), isRealClock(clk); {
	case realBound && realClk:
		return nil
	case realBound || realClk, reflect.TypeOf(bound) != reflect.TypeOf(clk):
		return another()
	}
	// Value.Comparable looks into interface fields too: a comparable
	// type may hold a func, and == on it would panic.
	if !reflect.ValueOf(bound).Comparable() || !reflect.ValueOf(clk).Comparable() {
		return fmt.Errorf("the Limiter is used with a Clock of type %T, whose values are not comparable: "+
			"this one cannot be told apart from another; "+
			"pass the same pointer to the clock (WithClock(&clock)) to every Retrier that shares the Limiter", bound)
	}
	if bound != clk {
		return another()
	}
	return nil
}

// timeKind is the time a Limiter keeps on the real clock, which reads
// real time outside a testing/synctest bubble and the bubble's fake time
// inside one.
type timeKind uint8

const (
	timeUnknown timeKind = iota // no real-clock reading yet
	timeReal                    // readings with a monotonic clock reading
	timeBubble                  // readings without: a bubble's time.Now
)

// sameTime reports whether now, read from clk, is of the time l keeps,
// which the first real-clock reading sets; l.mu is held. Readings of
// other Clocks are always of l's time: bind lets l have only one.
func (l *Limiter) sameTime(clk Clock, now time.Time) bool {
	if !isRealClock(clk) {
		return true
	}
	kind := timeReal
	if now.Round(0) == now {
		// Round(0) strips a monotonic clock reading: there was none.
		// Outside a bubble, time.Now always carries one.
		kind = timeBubble
	}
	if l.timeKind == timeUnknown {
		l.timeKind = kind
	}
	return l.timeKind == kind
}

// rateAt is the rate at now: the held rate, then the probe's; l.mu is
// held. grown is true once the probe has grown limiterMaxGrowth-fold.
func (l *Limiter) rateAt(now time.Time) (rate float64, grown bool) {
	probe := l.cut.Add(limiterHoldTime)
	if !now.After(probe) {
		return l.hold, false
	}
	doublings := min(now.Sub(probe).Seconds()/limiterDoubling.Seconds(), 60)
	return l.hold * math.Exp2(doublings), doublings >= math.Log2(limiterMaxGrowth)
}

// acquire waits on clk for a send slot. It returns when the attempt is sent
// (the zero time while the Limiter limits nothing) and how long it waited,
// or false when the wait would pass MaxWait or ctx's deadline (and then it
// waits not at all), or when ctx ended during the wait.
func (l *Limiter) acquire(ctx context.Context, clk Clock, sleeper *sleeper) (sent time.Time, waited time.Duration, ok bool) {
	if !l.enabled.Load() {
		return time.Time{}, 0, true
	}
	start := clk.Now()
	maxWait := l.MaxWait
	switch {
	case maxWait == 0:
		maxWait = limiterMaxWait
	case maxWait < 0:
		maxWait = 0 // no wait: a slot now, or a refusal
	}
	if deadline, ok := ctx.Deadline(); ok && isRealClock(clk) {
		maxWait = min(maxWait, time.Until(deadline))
	}
	for now := start; ; now = clk.Now() {
		send, interval, epoch, ok := l.slot(clk, now, start.Add(maxWait))
		if !ok {
			return time.Time{}, now.Sub(start), false
		}
		if !send.After(now) {
			return now, now.Sub(start), true
		}
		if sleeper.sleep(ctx, clk, send.Sub(now)) != nil {
			l.release(epoch, interval)
			return time.Time{}, clk.Now().Sub(start), false
		}
		l.mu.Lock()
		current := l.epoch == epoch
		l.mu.Unlock()
		if current {
			return send, send.Sub(start), true
		}
		// The rate was cut while this attempt waited: its slot, given
		// at the old rate, is void. It queues again at the new rate.
	}
}

// slot books the next send slot at now, read from clk, if it comes by
// latest: it returns the slot's time, the interval it took and the epoch it
// belongs to. While the Limiter limits nothing, or now is of another time
// than the Limiter's (see Limiter), the slot is now.
func (l *Limiter) slot(clk Clock, now, latest time.Time) (send time.Time, interval time.Duration, epoch uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.sameTime(clk, now) {
		// Its slots are on another time: compared with now, they would
		// be decades away (or long past). Book nothing.
		return now, 0, l.epoch, true
	}
	l.seen = now
	rate, grown := l.rateAt(now)
	if !l.enabled.Load() {
		return now, 0, l.epoch, true
	}
	if grown && !l.tat.After(now) {
		// The probe outgrew the demand, and nobody waits: limit
		// nothing until the next throttle.
		l.enabled.Store(false)
		return now, 0, l.epoch, true
	}
	send = now
	if earliest := l.tat.Add(-limiterBurst); earliest.After(send) {
		send = earliest
	}
	if send.After(latest) {
		return time.Time{}, 0, 0, false
	}
	interval = time.Duration(float64(time.Second) / rate)
	if l.tat.Before(now) {
		l.tat = now
	}
	l.tat = l.tat.Add(interval)
	return send, interval, l.epoch, true
}

// release gives back a slot of epoch that was not used.
func (l *Limiter) release(epoch uint64, interval time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch == epoch {
		l.tat = l.tat.Add(-interval)
	}
}

// observe takes in the outcome of an attempt sent at sent (the zero time
// if the Limiter was not limiting then): a success when failed is nil,
// else the failed attempt's classification. A throttle counts as such; a
// success, or an error of the service's own that is not retried, as a
// request the service accepted; a transient or connection failure or a
// timeout not at all.
func (l *Limiter) observe(clk Clock, sent time.Time, failed *Classification) {
	if l != nil {
		l.outcome(clk, sent, failed)
	}
}

// outcome is observe for a Limiter.
func (l *Limiter) outcome(clk Clock, sent time.Time, failed *Classification) {
	switch {
	case failed != nil && failed.Class == ClassThrottle:
		l.throttle(clk, sent)
	case failed == nil || !failed.Retryable && failed.Code != "":
		if l.measuring.Load() {
			l.accepted.Add(1)
		}
	}
}

// throttle takes in a throttled attempt sent at sent.
func (l *Limiter) throttle(clk Clock, sent time.Time) {
	now := clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.sameTime(clk, now) {
		return // on another time than the Limiter's marks and cuts
	}
	l.seen = now
	enabled := l.enabled.Load()
	if enabled && sent.Before(l.cut) {
		return // sent before the last cut: nothing new
	}
	accepted := l.accepted.Load()
	since := now.Sub(l.mark)
	if l.mark.IsZero() || since <= 0 || since > limiterStale {
		// The first throttle in a while: the service's bucket is empty
		// now; the measure starts here.
		l.mark, l.marked, l.throttled, l.sinceCut = now, accepted, 0, 0
		l.measuring.Store(true)
		return
	}
	l.throttled++
	l.sinceCut++
	if accepted-l.marked < limiterMinAccepted && since < limiterMeasureAfter {
		if l.sinceCut >= limiterStorm {
			// A storm of throttles, hardly a success: cut what was
			// offered since the mark to the share the service accepted,
			// by half to a quarter, and keep measuring.
			took := float64(accepted - l.marked)
			offered := (took + float64(l.throttled)) / since.Seconds()
			if enabled {
				rate, _ := l.rateAt(now)
				offered = min(offered, rate)
			}
			share := min(max(took/(took+float64(l.throttled)), 0.25), 0.5)
			l.cutTo(now, offered*share)
		}
		return
	}
	capacity := float64(accepted-l.marked) / since.Seconds()
	if since > limiterLong && (l.hold == 0 || capacity < l.hold/2) {
		// A long, thin measure: the service's bucket may have filled
		// while little was asked of it, and what it refilled beyond its
		// brim is not in the count. Measure afresh from here.
		l.mark, l.marked, l.throttled, l.sinceCut = now, accepted, 0, 0
		return
	}
	l.mark, l.marked, l.throttled = now, accepted, 0
	l.cutTo(now, limiterHold*capacity)
}

// cutTo holds rate from now; l.mu is held. Slots given before are void.
func (l *Limiter) cutTo(now time.Time, rate float64) {
	l.hold = max(rate, limiterMinRate)
	l.cut, l.sinceCut = now, 0
	// No burst after a cut: the service's bucket is empty.
	l.tat = now.Add(limiterBurst)
	l.epoch++
	l.enabled.Store(true)
}
