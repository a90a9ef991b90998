package awsretry

import (
	"context"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Hedge configures hedged attempts (WithHedge): when an attempt of
// DoHedged or DoValueHedged has gone unanswered for the hedge delay,
// another starts, concurrently; the
// first to succeed wins and the others' contexts are canceled. A retry
// answers a failure; a hedge answers a request that is merely slow (a
// read stuck behind a slow disk, a connection that stalls).
//
// Hedge only operations that are safe to run twice: reads, or writes made
// idempotent by a token (see Scope). Do never hedges: the call says that
// its operation is safe, by DoHedged. Hedges are paid for by a budget of
// their own: the hedges that did not win may not exceed Ratio (0.9%) of
// the calls over the last 10 s, plus one, and a hedge that wins pays for
// itself. So hedging
// stops when it stops helping: when every request is slow (a global
// slowdown), a hedge is as slow as the attempt it doubles, wins nothing,
// and the budget holds hedges to Ratio of the calls.
type Hedge struct {
	// Delay is how long an attempt may go unanswered before a hedge
	// starts, > 0: the hedge delay, or with Percentile its floor.
	Delay time.Duration
	// Percentile, when not 0, takes the hedge delay from the latency of
	// recent attempts the service answered: that percentile of them, in
	// (0.5, 1), over about the last 10 s, never below Delay. So the delay
	// follows the service when everything slows down. 0.95 hedges the
	// slowest 5% of attempts, if the budget lets it.
	Percentile float64
	// MaxInFlight is the most attempts of one call in flight at once,
	// counting the first: 2 (the default, for 0) sends at most one hedge
	// at a time.
	MaxInFlight int
	// Ratio is the share of calls that hedges which do not win may
	// amount to: 0 means 0.009, so that when hedging wins nothing (a
	// global slowdown) the extra requests stay under 1%, with room for
	// the few hedges that still win.
	Ratio float64
}

// The defaults of Hedge.
const (
	defaultHedgeInFlight = 2
	// defaultHedgeRatio leaves room under 1% of extra requests, when
	// hedging wins nothing (a global slowdown), for the hedges that still
	// win: up to 0.1% of the calls, those a stall would otherwise hold.
	defaultHedgeRatio = 0.009
	hedgeWindow       = 10 * time.Second
	// hedgeFloor is the hedges per second allowed whatever the traffic
	// (one per window), so that a Retrier making fewer than 1/Ratio calls
	// a window can hedge at all.
	hedgeFloor = 0.1
)

// hedging is a Retrier's hedging: its settings, its budget and the recent
// latencies it takes the delay from. It is shared by the Retrier's calls.
type hedging struct {
	delay       time.Duration
	percentile  float64
	maxInFlight int
	budget      *shareBudget // hedges as a share of calls; a hedge that wins is given back
	latencies   latencies
}

// hedgingOf returns the hedging of c's WithHedge, or nil.
func hedgingOf(c *config) *hedging {
	if c.hedge == nil {
		return nil
	}
	return newHedging(c.hedge)
}

func newHedging(h *Hedge) *hedging {
	g := &hedging{delay: h.Delay, percentile: h.Percentile, maxInFlight: h.MaxInFlight}
	if g.maxInFlight == 0 {
		g.maxInFlight = defaultHedgeInFlight
	}
	ratio := h.Ratio
	if ratio == 0 {
		ratio = defaultHedgeRatio
	}
	g.budget = &shareBudget{ratio: ratio, window: hedgeWindow, floor: hedgeFloor * hedgeWindow.Seconds()}
	return g
}

// hedgeDelay returns the delay after which an unanswered attempt is
// hedged, at now: Delay, or the Percentile of recent latency, but never a
// delay that more calls exceed than the budget can hedge. The budget pays
// for Ratio of the calls in hedges that lose, and hedges that win are
// free, so it sustains Ratio/(1-w) hedges a call, w being the share of
// recent hedges that won; a lower percentile would hedge the calls that
// exceed it first come, first served, and leave the slowest unhedged once
// the budget ran dry. Hedging the slowest that the budget affords sends
// them to the calls a hedge helps most.
func (g *hedging) hedgeDelay(now time.Time) time.Duration {
	if g.percentile == 0 {
		return g.delay
	}
	won := min(g.latencies.winRate(now), 0.9)
	affordable := g.budget.ratio / (1 - won)
	q := max(g.percentile, 1-affordable)
	q = math.Ceil(q*1000) / 1000 // a few quantiles, each computed at most every window/100
	return max(g.delay, g.latencies.percentile(now, q))
}

// doHedged is DoHedged for a Retrier WithHedge: Do's body, with the hedged
// loop. It is apart from Do so that what a hedged call shares with its
// goroutines (fn among them) does not move Do's locals, or the closure the
// caller passes to Do, to the heap.
func (r *Retrier) doHedged(ctx context.Context, fn func(context.Context) error) (err error) {
	rec, prog := new(recorder), new(progress)
	ctx = r.observer.start(ctx, r.spanName, rec)
	defer rec.end(prog, &err)
	if r.scoped {
		ctx, prog.scope = withScope(ctx)
	}
	err = r.hedged(ctx, fn, prog, rec)
	prog.returned = true
	return err
}

// hedged is DoHedged's loop for a Retrier WithHedge: it starts an attempt, and
// while the attempt is unanswered after the hedge delay, a hedge, up to
// MaxInFlight at once; the first success ends the call, and the attempts
// still in flight are canceled. A failed attempt is classified as in
// loop: a non-retryable error ends the call; a retryable one waits for the
// attempts still in flight, or when none is left, is retried as loop
// retries it (decide, pay the Budget, record, wait).
func (r *Retrier) hedged(ctx context.Context, fn func(context.Context) error, p *progress, rec *recorder) error {
	g := r.hedge
	g.budget.answers.Add(1) // one call: hedges are a share of calls
	run := hedgeRun{r: r, fn: fn, p: p, rec: rec, results: make(chan hedgeResult, r.tries), attempts: new(sync.WaitGroup)}
	defer run.stop()
	var (
		start   = r.elapsedStart()
		waits   waits
		sleeper sleeper
		paid    int64 // tokens the last retry took from the Budget
	)
	for {
		if ctx.Err() != nil {
			return canceled(ctx, p.attempts, p.last.Err)
		}
		if !run.launch(ctx, 0, &sleeper) {
			return r.refused(ctx, p, paid)
		}
		for run.inFlight > 0 {
			select {
			case res := <-run.results:
				err, done := run.ended(ctx, res, paid)
				if done {
					return err
				}
				if err == nil || run.inFlight > 0 {
					run.rearm(ctx) // the attempts in flight stand for the retry
					continue
				}
				run.disarm()
				if rerr := r.retry(ctx, err, &p.last, start, &waits, &sleeper, rec, &paid); rerr != nil {
					return rerr
				}
			case <-run.fired:
				run.hedge(ctx, &sleeper)
			}
		}
	}
}

// hedgeRun is the attempts of one hedged call.
type hedgeRun struct {
	r       *Retrier
	fn      func(context.Context) error
	p       *progress
	rec     *recorder
	results chan hedgeResult // buffered for every attempt the call may make: a send never blocks

	// The goroutines of the attempts and of the hedge timer are given
	// what they need, not the run: the run is its loop's alone.
	inFlight int
	running  map[int]*hedgeAttempt // the attempts in flight, by number
	attempts *sync.WaitGroup

	fired  chan struct{}      // the hedge timer's; nil while none is armed
	cancel context.CancelFunc // stops the armed timer
	slept  chan struct{}      // closed when the armed timer's goroutine has returned
}

// hedgeAttempt is an attempt in flight.
type hedgeAttempt struct {
	cancel  context.CancelFunc
	delay   time.Duration // the hedge delay it started after; 0 for an attempt that is not a hedge
	sent    time.Time     // when the Limiter let it go
	started time.Time
}

// hedgeResult is what an attempt came to.
type hedgeResult struct {
	n        int
	err      error
	panicked bool
	value    any  // the panic's
	goexit   bool // fn called runtime.Goexit
	took     time.Duration
}

// launch starts an attempt, a hedge after delay when delay > 0, once the
// Limiter lets it go, and arms the hedge timer. It reports false when the
// Limiter refused the attempt.
func (h *hedgeRun) launch(ctx context.Context, delay time.Duration, s *sleeper) bool {
	r, p := h.r, h.p
	var sent time.Time
	if r.limiter != nil {
		var ok bool
		if sent, p.rateWait, ok = r.limiter.acquire(ctx, r.clock, s); !ok {
			return false
		}
	}
	p.attempts++
	n := p.attempts
	p.scope.begin(n)
	actx, cancel := context.WithCancel(ctx)
	a := &hedgeAttempt{cancel: cancel, delay: delay, sent: sent, started: r.clock.Now()}
	if h.running == nil {
		h.running = map[int]*hedgeAttempt{}
	}
	h.running[n] = a
	h.inFlight++
	h.attempts.Add(1)
	go runAttempt(r, h.fn, actx, n, a.started, h.attempts, h.results)
	h.arm(ctx)
	return true
}

// runAttempt makes attempt n of a hedged call, started at started, and
// sends what it came to on results, a panic or runtime.Goexit of fn
// included.
func runAttempt(r *Retrier, fn func(context.Context) error, ctx context.Context, n int, started time.Time,
	wg *sync.WaitGroup, results chan<- hedgeResult) {
	defer wg.Done()
	res := hedgeResult{n: n}
	returned := false
	defer func() {
		if !returned {
			if v := recover(); v != nil {
				res.panicked, res.value = true, v
			} else {
				res.goexit = true
			}
		}
		res.took = r.clock.Now().Sub(started)
		results <- res
	}()
	res.err = r.attempt(ctx, fn)
	returned = true
}

// hedge starts a hedge, if the call may still make an attempt, fewer than
// MaxInFlight are in flight, the hedge budget pays and the Limiter lets it
// go; else it waits for what is in flight.
func (h *hedgeRun) hedge(ctx context.Context, s *sleeper) {
	h.disarm() // it fired
	r, g := h.r, h.r.hedge
	if h.inFlight >= g.maxInFlight || h.p.attempts >= r.tries {
		return
	}
	if _, ok := g.budget.take(r.clock); !ok {
		return
	}
	delay := h.delayNow()
	if !h.launch(ctx, delay, s) {
		g.budget.giveBack()
		return
	}
	g.latencies.hedged(r.clock.Now(), true, false)
}

// delayNow is the hedge delay now.
func (h *hedgeRun) delayNow() time.Duration {
	return h.r.hedge.hedgeDelay(h.r.clock.Now())
}

// arm starts the hedge timer for the attempts in flight, replacing an
// armed one, unless no hedge could be sent when it fires (MaxInFlight in
// flight, or no attempt left).
func (h *hedgeRun) arm(ctx context.Context) {
	h.disarm()
	if h.inFlight >= h.r.hedge.maxInFlight || h.p.attempts >= h.r.tries {
		return
	}
	tctx, cancel := context.WithCancel(ctx)
	h.fired, h.cancel, h.slept = make(chan struct{}, 1), cancel, make(chan struct{})
	go sleepThenFire(h.r.clock, tctx, h.delayNow(), h.slept, h.fired)
}

// rearm arms the hedge timer again if none is armed: an attempt ended
// while others are in flight.
func (h *hedgeRun) rearm(ctx context.Context) {
	if h.fired == nil {
		h.arm(ctx)
	}
}

// disarm stops the armed timer and waits for its goroutine: its wait is
// off the clock when disarm returns.
func (h *hedgeRun) disarm() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.slept
	h.fired, h.cancel, h.slept = nil, nil, nil
}

// sleepThenFire sends on fired once clk has slept d, unless ctx ends
// first, and closes slept when it returns.
func sleepThenFire(clk Clock, ctx context.Context, d time.Duration, slept chan<- struct{}, fired chan<- struct{}) {
	defer close(slept)
	if clk.Sleep(ctx, d) == nil {
		fired <- struct{}{}
	}
}

// ended takes in attempt res.n's end. It returns the call's end (done),
// or for a retryable failure its error, to retry once nothing is in
// flight.
func (h *hedgeRun) ended(ctx context.Context, res hedgeResult, paid int64) (err error, done bool) {
	r, p := h.r, h.p
	a := h.running[res.n]
	delete(h.running, res.n)
	h.inFlight--
	switch {
	case res.panicked:
		h.stop()
		panic(res.value)
	case res.goexit:
		h.stop()
		runtime.Goexit()
	}
	if res.err == nil {
		r.hedge.latencies.add(r.clock.Now(), res.took)
		if a.delay > 0 {
			r.hedge.budget.giveBack() // a hedge that wins pays for itself
			r.hedge.latencies.hedged(r.clock.Now(), false, true)
		}
		p.winner, p.winnerDelay = res.n, a.delay
		h.rec.hedgeEnded(ctx, a.delay, "won")
		if r.budget != nil && !r.budget.answer() {
			r.budget.refundBucket(res.n, paid)
		}
		r.limiter.observe(r.clock, a.sent, nil)
		h.cancelOthers(ctx)
		return nil, true
	}
	var last Attempt
	r.classify(ctx, &last, res.n, res.err)
	last.RateWait, last.hedgeDelay = p.rateWait, a.delay
	if last.answered() {
		r.hedge.latencies.add(r.clock.Now(), res.took)
	}
	r.ended(a.sent, res.n, paid, &last)
	h.rec.hedgeEnded(ctx, a.delay, "failed")
	if !last.Classification.Retryable {
		p.last = last
		p.canceled = endedBy(ctx, res.err)
		h.cancelOthers(ctx)
		return res.err, true
	}
	if h.inFlight > 0 {
		// The attempts in flight carry on for it: record it as an
		// attempt that ended, not retried itself.
		h.rec.attemptEnded(ctx, &last)
		return nil, false
	}
	p.last = last
	return res.err, false
}

// cancelOthers cancels the attempts still in flight once the call has
// ended, waits for each to return, and records it as lost.
func (h *hedgeRun) cancelOthers(ctx context.Context) {
	for _, a := range h.running {
		a.cancel()
	}
	for h.inFlight > 0 {
		res := <-h.results
		a := h.running[res.n]
		delete(h.running, res.n)
		h.inFlight--
		// It ran at least this long: the slow attempts a hedge beat
		// are the tail the hedge delay's percentile must see.
		h.r.hedge.latencies.add(h.r.clock.Now(), res.took)
		lost := Attempt{Number: res.n, Err: res.err, lost: true, hedgeDelay: a.delay}
		if res.err != nil {
			lost.Classification = h.r.classifier.Classify(res.err)
		}
		h.rec.attemptEnded(ctx, &lost)
		h.rec.hedgeEnded(ctx, a.delay, "lost")
		if res.panicked {
			h.stop()
			panic(res.value)
		}
	}
}

// stop cancels whatever is still running and waits for it: no goroutine
// of the call outlives DoHedged.
func (h *hedgeRun) stop() {
	for _, a := range h.running {
		a.cancel()
	}
	h.disarm()
	h.attempts.Wait()
}

// latencies keeps the latency of recent attempts the service answered,
// for the adaptive hedge delay: a histogram of each half of the window,
// on logarithmic buckets, added to lock-free; the delay is computed from
// the last two halves at most every window/100.
type latencies struct {
	current atomic.Pointer[latencyHistogram]
	since   atomic.Int64 // the current half's start, in Unix nanoseconds of the Retrier's clock

	mu       sync.Mutex // rotation of the halves, and the delay's computation
	prev     *latencyHistogram
	computed time.Time     // when delay was computed
	delay    time.Duration // the last quantile computed
	q        float64       // of which quantile
}

// latencyBuckets are the buckets' upper bounds: 100 µs to about 2 h,
// 2% apart; a percentile is interpolated within its bucket. Under a
// slowdown that adds 200 ms to every request, a bucket 12% wide would
// span 25 ms, more than the spread of the answers in it.
var latencyBuckets = func() []time.Duration {
	var b []time.Duration
	for d := 100 * time.Microsecond; d < 2*time.Hour; d = d * 102 / 100 {
		b = append(b, d)
	}
	return b
}()

// latencyBucketsMax bounds len(latencyBuckets)+1, for percentile's counts.
const latencyBucketsMax = 1024

type latencyHistogram struct {
	counts []atomic.Int64 // per bucket of latencyBuckets, and one beyond
	sent   atomic.Int64   // hedges sent
	won    atomic.Int64   // hedges that won
}

func newLatencyHistogram() *latencyHistogram {
	return &latencyHistogram{counts: make([]atomic.Int64, len(latencyBuckets)+1)}
}

// add records an answer of latency d at now.
func (l *latencies) add(now time.Time, d time.Duration) {
	c := l.current.Load()
	if c == nil || now.UnixNano()-l.since.Load() >= int64(hedgeWindow/2) {
		c = l.rotate(now)
	}
	i := sort.Search(len(latencyBuckets), func(i int) bool { return latencyBuckets[i] >= d })
	c.counts[i].Add(1)
}

// hedged records at now a hedge sent, and whether it won.
func (l *latencies) hedged(now time.Time, sent, won bool) {
	c := l.current.Load()
	if c == nil || now.UnixNano()-l.since.Load() >= int64(hedgeWindow/2) {
		c = l.rotate(now)
	}
	if sent {
		c.sent.Add(1)
	}
	if won {
		c.won.Add(1)
	}
}

// winRate returns the share of the hedges sent over the current and the
// previous half window that won; 0 when none was sent.
func (l *latencies) winRate(now time.Time) float64 {
	if l.current.Load() != nil && now.UnixNano()-l.since.Load() >= int64(hedgeWindow/2) {
		l.rotate(now)
	}
	l.mu.Lock()
	halves := [2]*latencyHistogram{l.current.Load(), l.prev}
	l.mu.Unlock()
	var sent, won int64
	for _, h := range halves {
		if h != nil {
			sent += h.sent.Load()
			won += h.won.Load()
		}
	}
	if sent == 0 {
		return 0
	}
	return float64(won) / float64(sent)
}

// rotate starts a new half of the window when the current one is over,
// and returns the current half.
func (l *latencies) rotate(now time.Time) *latencyHistogram {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.current.Load()
	age := now.UnixNano() - l.since.Load()
	switch {
	case c == nil:
	case age < int64(hedgeWindow/2):
		return c
	case age < int64(hedgeWindow):
		l.prev = c
	default:
		l.prev = nil // a whole window without an answer
	}
	c = newLatencyHistogram()
	l.current.Store(c)
	l.since.Store(now.UnixNano())
	return c
}

// percentile returns the q-th quantile of the latencies of the current
// and the previous half window, interpolated within its bucket, as
// computed at most window/100 ago; 0 when none was recorded.
func (l *latencies) percentile(now time.Time, q float64) time.Duration {
	if l.current.Load() != nil && now.UnixNano()-l.since.Load() >= int64(hedgeWindow/2) {
		l.rotate(now)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := now.Sub(l.computed); q == l.q && d >= 0 && d < hedgeWindow/100 {
		return l.delay
	}
	var counts [latencyBucketsMax]int64
	var total int64
	for _, h := range []*latencyHistogram{l.current.Load(), l.prev} {
		if h == nil {
			continue
		}
		for i := range h.counts {
			n := h.counts[i].Load()
			counts[i] += n
			total += n
		}
	}
	l.computed, l.q, l.delay = now, q, 0
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i := range len(latencyBuckets) + 1 {
		if seen+counts[i] < rank {
			seen += counts[i]
			continue
		}
		if i == len(latencyBuckets) {
			l.delay = maxDuration
			break
		}
		// Between the bucket's bounds, as far as the rank is into its
		// count: the bucket's upper bound would put the delay up to a
		// bucket's width late, and hedge fewer calls than the percentile
		// asks.
		var lo time.Duration
		if i > 0 {
			lo = latencyBuckets[i-1]
		}
		hi := latencyBuckets[i]
		l.delay = lo + time.Duration(float64(hi-lo)*float64(rank-seen)/float64(counts[i]))
		break
	}
	return l.delay
}
