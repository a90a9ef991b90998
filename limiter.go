package awsretry

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter is an adaptive client-side rate limiter for a throttled AWS
// resource. Before each attempt, a Retrier configured with it (WithLimiter)
// waits for a send slot; the rate of slots follows what the service lets
// through. Until the service first throttles, it limits nothing and costs
// an atomic load per attempt (after that, an atomic add per success and a
// clock reading and an atomic add per attempt, until it stops limiting).
// An attempt that would wait longer than MaxWait for its slot is not
// made: Do returns at once with a *RetryError of reason
// ReasonRateLimited, so that demand
// beyond what the service admits fails fast instead of queueing until its
// deadline. A retry refused so ends Do even with tries left, and the Budget
// gets back what the retry took.
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
// The control law. What it assumes of the service: a token bucket (AWS's
// API limits are buckets per account and API) of some refill rate C and
// some size, neither known, that refuses with a throttle when empty. A
// throttle says the bucket is empty at that moment; nothing else does. The
// Limiter's constants are times, counts and ratios, none a rate or a
// bucket size, so that the law is the same at 5 requests per second and
// at 1,000, against a bucket of one request or of 30 s.
//
//   - Measure. From a throttle on, the requests the service accepted
//     (successes, and errors of its own that are not retried; not
//     transient or connection failures), over the time since, are a lower
//     bound of the capacity (of this process's share of it): the bucket
//     was empty at the start, and refilled at most C since. The bound is
//     exact while the bucket never filled to its brim; where it did (a
//     small bucket, a long wait), the refill beyond the brim is not
//     counted, and the bound is low.
//   - Engage. Throttles are tolerated while they stay within 1% of the
//     attempts or one per 2 s, whichever is more (the throttles a service
//     can be asked to bear; below that the Limiter does not limit). Beyond
//     that the rate is cut to the measure since the first throttle, once
//     it counts 10 accepted requests or a second; before, a storm (a
//     fleet starting at full demand, or the capacity falling under a held
//     rate) cuts: 5 throttles since the measure began (at a throttle,
//     itself not counted, or at a cut), or 3 (that throttle counted, if
//     one began it) of which the latest comes a quarter of a second or
//     more after the first. A process sending a few requests a second
//     would take a second to see 5; a few throttles within milliseconds
//     may be one moment of an empty bucket. It cuts the rate offered
//     since the measure began (the attempts sent since, not their
//     answers, which lag them by a round trip), by the share of them the
//     service accepted (at least a tenth, at most a half; of so few
//     attempts, often none: a tenfold cut): one less the throttles over
//     the attempts sent up to the latest throttled one, whose throttles
//     are in by then, where their successes may not be (a throttle
//     answers sooner than a success). Only throttles of attempts sent
//     after the measure began count: responses that arrive together, to
//     attempts sent together, are one event, not a storm.
//   - Hold. After a cut the Limiter holds 95% of the capacity it
//     measured for 1.5 s, or 16 slots at low rates (at most 8 s), so
//     that the service's bucket refills a little instead of hovering at
//     empty. Slots are due evenly spaced, and a slot nobody took is
//     kept, up to two (in the hold and the probe alike): a request not
//     sent is a token left in the service's bucket, so a pause lets up to
//     three attempts through at once. This assumes the bucket holds three
//     requests; a bucket of one throttles the second and third (see Where
//     it fails). Throttles answering attempts sent before the last cut
//     say nothing new and are ignored; attempts waiting for a slot at the
//     old rate queue again at the new one. A hold that draws more throttles
//     than tolerated is over the capacity: the bucket has stayed empty
//     since the cut, so the measure since then is exact, and the rate is
//     cut to it.
//   - Probe. Then the rate doubles every 250 ms until a throttle. The
//     capacity becomes the highest of: the one measured before (a probe
//     never lowers it; a hold over the capacity does), the measure since
//     the cut, and, if lower than 5% above that measure, the rate at which
//     the throttled attempt was sent (where the bucket holds little, the
//     probe is throttled as soon as it passes C, and this is C; where it
//     holds more, the probe first spends what the hold left in it, and
//     this is above C). A probe whose accepted rate was 1.5 times the
//     measured capacity or more found capacity the measure missed (it
//     returned, or the bucket filled in the hold): the Limiter probes
//     again at once, from the empty bucket, without a hold, where the
//     measure is exact.
//   - Let go. Once the probe has grown four-fold, nobody waits for a
//     slot and a hold's time has passed without a throttle, the demand is
//     below the capacity: the Limiter stops limiting until the next
//     throttle, which measures afresh.
//
// Where it fails, with figures from the grid of benchmarks/throttled
// (docs/performance.md). Each probe costs a throttle or two, and the hold
// spaces the probes: at a limit, about one throttled attempt every 1.7 s,
// whatever the demand, which is within 1% of the successes from 100
// requests per second up, and the price of finding capacity that returns
// within about 2 s. At a few requests per second it is not:
//
//   - Pacing refuses what a wait would serve. At 5 per second a slot is
//     200 ms away, beyond the default MaxWait: a pacer at the exact
//     capacity keeping no slot refuses 22% of a Poisson demand of half
//     the capacity, 35% at 90%; keeping two, as the Limiter does, 1.4%
//     and 11% (with a MaxWait of 1 s and none kept, 0.1% and 4.8%).
//     Against a low limit, set MaxWait to a few send intervals.
//   - A bucket of about one request defeats the measure: the bound stays
//     at the rate sent, and the probe's throttle can lift it by only 5% a
//     cycle; and it throttles the slots kept over a pause. Such a
//     bucket also throttles a Poisson demand by itself (a third of the
//     first attempts at half of 5 per second, without any client
//     limiting), so the Limiter engages where the service could have
//     served every call after a retry.
//   - Processes that share one limit each measure their own share from
//     their own throttles, and a probe by one throttles the others: 50
//     processes sharing 5 per second (a tenth of a request per second
//     each) send several throttled attempts per success. Nothing pulls
//     their shares together: a probe's throttle lifts a process's
//     capacity by at most 5% above what the service accepted from it,
//     and a process whose share fell holds it for 16 of its slots. When
//     the capacity returns, the processes that hold least let go last,
//     up to 8 s later.
type Limiter struct {
	// MaxWait is the longest an attempt waits for its send slot; one that
	// would wait longer fails fast. 0 means 100 ms; a negative value, no
	// wait at all. Against a limit of a few requests per second, whose
	// send interval is near 100 ms or more, set it to a few intervals
	// (see Where it fails, above). Set it before the Limiter is shared.
	MaxWait time.Duration

	enabled   atomic.Bool  // false: it limits nothing
	measuring atomic.Bool  // a throttle came: count accepted attempts, stamp sent ones
	accepted  atomic.Int64 // attempts the service accepted since measuring began
	sent      atomic.Int64 // attempts sent (stamped) since measuring began

	mu        sync.Mutex
	clock     clockBinding  // the clock of the Retriers configured with it
	seen      time.Time     // the latest time it was told of
	capacity  float64       // the capacity it measured, per second
	hold      float64       // the rate held after the last cut, per second
	cut       time.Time     // the last cut
	holdFor   time.Duration // how long the rate is held after the cut; the probe follows
	epoch     uint64        // cuts so far: a slot of an older epoch is void
	mark      time.Time     // the start of the measure: a throttle, the service's bucket empty
	marked    int64         // accepted at mark
	sentAt    int64         // sent at mark
	throttled int64         // throttles since mark, of attempts sent after it
	stormFrom time.Time     // the first throttle since mark: the mark's own, when a throttle set it
	stormN    int64         // throttles from stormFrom on, it included (of attempts sent after mark)
	probeAt   time.Time     // the probe's first slot, once it began
	probed    int64         // accepted at probeAt; -1 before the probe began
	lastSend  time.Time     // the latest slot's due time (it may have been taken later)
	slots     [32]slotGap   // the latest slots given, a ring
	slotAt    int           // the next index of slots
}

// slotGap is a send slot and the time between its due time and the slot
// before's: one interval of the rate it was given at, or more after a
// pause.
type slotGap struct {
	at    time.Time
	since time.Duration
}

// The control law's constants: times, counts and ratios, none a rate or a
// bucket size (see Limiter).
const (
	// limiterHold is the fraction of the measured capacity held after a
	// cut, for limiterHoldTime or limiterHoldSlots slots, whichever is
	// longer, and at most limiterMaxHold. The slots space the probes of
	// a process whose share is small (one of many that share a limit),
	// so that its probes stay a small share of its attempts.
	limiterHold      = 0.95
	limiterHoldTime  = 1500 * time.Millisecond
	limiterHoldSlots = 16
	limiterMaxHold   = 8 * time.Second
	// limiterDoubling is the time the probe takes to double the rate.
	limiterDoubling = 250 * time.Millisecond
	// limiterFar: a probe whose accepted rate was this multiple of the
	// measured capacity found capacity the measure missed.
	limiterFar = 1.5
	// limiterNudge bounds how far above the measure since the cut the
	// rate at which a probe was throttled lifts the capacity.
	limiterNudge = 1.05
	// limiterMaxGrowth is how far the probe grows the held rate before
	// the Limiter stops limiting, once nobody waits.
	limiterMaxGrowth = 4
	// limiterMinAccepted is the fewest accepted attempts for a measure,
	// unless limiterMeasureAfter has passed.
	limiterMinAccepted  = 10
	limiterMeasureAfter = time.Second
	// limiterShare and limiterPer are the throttles the Limiter lets
	// pass without cutting: limiterShare of the attempts, or one per
	// limiterPer, whichever is more.
	limiterShare = 0.01
	limiterPer   = 2 * time.Second
	// limiterStorm is the number of throttles, with too few accepted
	// requests to measure by, that cut the rate offered since the measure
	// began by the share the service accepted, between limiterStormCut
	// and a half. limiterStormFew throttles (counting the one that set
	// the mark, if one did) are a storm too once the latest comes
	// limiterStormSpan or more after the first of them. Throttles close
	// together may be one moment of an empty bucket (at 100 requests a
	// second, a few in 20 ms); spread over a quarter of a second, they
	// are not, and a process sending a few requests a second (one of many
	// that share a limit) would take a second to see limiterStorm,
	// throttled all along.
	limiterStorm     = 5
	limiterStormFew  = 3
	limiterStormSpan = 250 * time.Millisecond
	limiterStormCut  = 0.1
	// limiterCredit is the most slots a pause lets through at once: the
	// slot due and limiterCredit-1 that nobody took, as a request not
	// sent leaves a token in the service's bucket. It assumes the bucket
	// holds that many requests.
	limiterCredit = 3
	// limiterMaxWait is MaxWait's default.
	limiterMaxWait = 100 * time.Millisecond
	// limiterMinRate is the lowest rate: one attempt a minute.
	limiterMinRate = 1.0 / 60
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
// times it reads, so they must come from one clock (see clockBinding;
// the real clock's time inside and outside a testing/synctest bubble is
// told apart by the readings themselves, by l.clock.sameTime).
func (l *Limiter) bind(clk Clock) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clock.bind("Limiter", clk)
}

// rateAt is the rate at now: the held rate, then the probe's; l.mu is
// held. grown is true once the probe has grown limiterMaxGrowth-fold.
func (l *Limiter) rateAt(now time.Time) (rate float64, grown bool) {
	probe := l.cut.Add(l.holdFor)
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
		if l.measuring.Load() {
			// A measure is under way: its throttles count only if
			// their attempts were sent after it began, and a storm
			// is measured against what was sent.
			l.sent.Add(1)
			return clk.Now(), 0, true
		}
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
		if send.IsZero() {
			return time.Time{}, 0, true // on another time: unstamped
		}
		if !send.After(now) {
			l.sent.Add(1)
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
			l.sent.Add(1)
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
	if !l.clock.sameTime(clk, now) {
		// Its slots are on another time: compared with now, they would
		// be decades away (or long past). Book nothing, and stamp
		// nothing, so that the attempt's outcome is not counted.
		return time.Time{}, 0, l.epoch, true
	}
	l.seen = now
	rate, grown := l.rateAt(now)
	if !l.enabled.Load() {
		return now, 0, l.epoch, true
	}
	if grown && !l.lastSend.After(now) && now.Sub(l.cut.Add(l.holdFor)) >= limiterHoldTime {
		// The probe outgrew the demand, nobody waits, and the service
		// has taken what was sent for as long as a hold: limit nothing
		// until the next throttle, which measures afresh.
		l.enabled.Store(false)
		l.measuring.Store(false)
		l.mark = time.Time{}
		return now, 0, l.epoch, true
	}
	if l.probed < 0 && now.After(l.cut.Add(l.holdFor)) {
		l.probeAt, l.probed = now, l.accepted.Load() // the probe begins
	}
	// Slots are spaced one interval of the current rate apart; lastSend
	// is the latest slot's due time, which may be before it was taken:
	// up to limiterCredit-1 slots that nobody took are kept, as the
	// tokens they leave in the service's bucket.
	interval = time.Duration(float64(time.Second) / rate)
	due := l.lastSend.Add(interval)
	if earliest := now.Add(-time.Duration(limiterCredit-1) * interval); due.Before(earliest) {
		due = earliest
	}
	send = due
	if send.Before(now) {
		send = now
	}
	if send.After(latest) {
		return time.Time{}, 0, 0, false
	}
	l.slots[l.slotAt] = slotGap{send, due.Sub(l.lastSend)}
	l.slotAt = (l.slotAt + 1) % len(l.slots)
	l.lastSend = due
	return send, interval, l.epoch, true
}

// release gives back a slot of epoch that was not used.
func (l *Limiter) release(epoch uint64, interval time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch == epoch {
		l.lastSend = l.lastSend.Add(-interval)
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
	if !l.clock.sameTime(clk, now) {
		return // on another time than the Limiter's marks and cuts
	}
	l.seen = now
	enabled := l.enabled.Load()
	if enabled && sent.Before(l.cut) {
		return // sent before the last cut: nothing new
	}
	accepted := l.accepted.Load()
	since := now.Sub(l.mark)
	if l.mark.IsZero() || since <= 0 || !enabled && since > limiterPer {
		// The first throttle in a while (while it limits nothing, the
		// first after a window in which the throttles were tolerated):
		// the service's bucket is empty now; the measure starts here.
		l.setMark(now)
		l.stormFrom, l.stormN = now, 1
		l.measuring.Store(true)
		return
	}
	if sent.Before(l.mark) {
		return // in flight when the measure began: part of that event
	}
	l.throttled++
	if l.stormN == 0 {
		l.stormFrom = now // the first throttle since a cut
	}
	l.stormN++
	took := float64(accepted - l.marked)
	measured := took >= limiterMinAccepted || since >= limiterMeasureAfter
	if enabled && sent.After(l.cut.Add(l.holdFor)) {
		l.probeFound(now, sent, accepted, took, since, measured)
		return
	}
	if allowed := max(limiterShare*(took+float64(l.throttled)), since.Seconds()/limiterPer.Seconds()); float64(l.throttled) <= allowed {
		return // no more throttles than tolerated
	}
	if measured {
		// More throttles than tolerated since the mark (or the cut):
		// what was sent exceeds the capacity, so the bucket stayed
		// empty, and what the service accepted since is the capacity.
		l.cutTo(now, took/since.Seconds(), true)
		return
	}
	if l.throttled >= limiterStorm || l.stormN >= limiterStormFew && now.Sub(l.stormFrom) >= limiterStormSpan {
		// A storm of throttles, hardly a request accepted: cut what was
		// offered since the mark by the share the service accepted,
		// and keep measuring. What was offered is what was sent: the
		// answers so far are those of the attempts sent a round trip
		// ago, and counted over the time since the mark, which
		// includes that round trip, they would make the rate offered
		// a fraction of what it was (a tenth, a fleet starting cold at
		// twice the capacity with a 40 ms round trip). The answers
		// still bound it from below: those accepted may include
		// attempts sent before the mark.
		sentN := max(float64(l.sent.Load()-l.sentAt), took+float64(l.throttled))
		offered := sentN / since.Seconds()
		if enabled {
			rate, _ := l.rateAt(now)
			offered = min(offered, rate)
		}
		share := min(max(stormShare(sentN, float64(l.throttled), since, now.Sub(sent)), limiterStormCut), 0.5)
		l.cutTo(now, offered*share/limiterHold, true)
	}
}

// stormShare is the share of the attempts sent since the mark that the
// service accepted, in a storm: sent is the attempts sent over since,
// throttled the throttles among them, and latency how long the latest
// throttle took to answer. Throttles answer sooner than successes (a
// front door refuses before the work is done), so the answers so far
// over-count the throttles: a fleet starting cold at twice the capacity,
// its throttles answered in 5 ms and its successes in 20 ms, saw a share
// of a sixth where it was a half, and cut to a third of the capacity.
// The throttles in are those of the attempts sent up to latency ago, the
// latest throttled one included: that one, and those sent evenly before
// it over since - latency; their successes may still be on the way.
func stormShare(sent, throttled float64, since, latency time.Duration) float64 {
	if latency >= since {
		return 0
	}
	return 1 - throttled/min(sent, 1+sent*float64(since-latency)/float64(since))
}

// probeFound takes in the throttle that ends a probe: the capacity is the
// highest of what was measured before, the measure since the cut, and the
// rate at which the throttled attempt was sent, bounded by the measure
// (see Limiter). A probe that went far probes again at once. l.mu is held.
func (l *Limiter) probeFound(now, sent time.Time, accepted int64, took float64, since time.Duration, measured bool) {
	capacity := l.capacity
	if measured {
		m := took / since.Seconds()
		capacity = max(capacity, m)
		if r, ok := l.sendRate(sent); ok {
			capacity = max(capacity, min(r, limiterNudge*m))
		}
	}
	far := false
	if l.probed >= 0 {
		probed := float64(accepted - l.probed)
		far = probed >= limiterMinAccepted && probed/now.Sub(l.probeAt).Seconds() >= limiterFar*l.capacity
	}
	l.cutTo(now, capacity, !far)
}

// holdTime is how long a rate is held after a cut: limiterHoldTime, or as
// long as it takes to send limiterHoldSlots at rate, or for the probe's
// throttle to be one in 1/limiterShare attempts up to limiterPer (the
// throttles tolerated), whichever is longest; at most limiterMaxHold.
func holdTime(rate float64) time.Duration {
	seconds := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	share := min(seconds(1/(limiterShare*rate)), limiterPer)
	return min(max(limiterHoldTime, share, seconds(limiterHoldSlots/rate)), limiterMaxHold)
}

// sendRate returns the rate at which the Limiter sent when it gave the slot
// at, if at is one of its latest slots: the inverse of the time between
// its due time and the slot before's (of the first of the slots given at
// at, when a pause let several go at once). l.mu is held.
func (l *Limiter) sendRate(at time.Time) (float64, bool) {
	for _, s := range l.slots {
		if s.at.Equal(at) && s.since > 0 {
			return float64(time.Second) / float64(s.since), true
		}
	}
	return 0, false
}

// setMark starts a measure at now; l.mu is held.
func (l *Limiter) setMark(now time.Time) {
	l.mark, l.marked, l.sentAt, l.throttled = now, l.accepted.Load(), l.sent.Load(), 0
	l.stormFrom, l.stormN = time.Time{}, 0
}

// cutTo holds limiterHold of capacity from now, for a hold or, when hold is
// false, none (the probe starts at once); l.mu is held. Slots given before
// are void, and a new measure starts: the service's bucket is empty.
func (l *Limiter) cutTo(now time.Time, capacity float64, hold bool) {
	l.capacity = max(capacity, limiterMinRate/limiterHold)
	l.hold = limiterHold * l.capacity
	l.cut, l.probed = now, -1
	l.holdFor = 0
	if hold {
		l.holdFor = holdTime(l.hold)
	}
	l.setMark(now)
	// No burst after a cut (no slot is kept until one goes unused): the
	// bucket is empty, and the cost of the throttles may have taken it
	// below. The first slot is two intervals away (the first of them at
	// most limiterMaxWait, so that a rate cut very low does not keep its
	// first slot far once it grows).
	l.lastSend = now.Add(min(time.Duration(float64(time.Second)/l.hold), limiterMaxWait))
	l.epoch++
	l.enabled.Store(true)
}
