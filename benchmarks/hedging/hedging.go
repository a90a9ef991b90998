// Package hedging simulates hedged reads against a service with a slow
// tail (issue 20), to compare awsretry's WithHedge with no hedging and
// with failsafe-go's hedge policy and its budget, on the same workload in
// the same run.
//
// The service answers every request after a latency of its own, drawn
// independently for each request: a log-normal body (by default median
// 8 ms, p99 25 ms, as issue 20 suggests for a fast read such as a
// DynamoDB GetItem or a small S3 GetObject);
// 1% of requests are 10 times slower than the body draw (a slow replica or
// disk); 0.1% stall for 5 s (a connection that stalls). A request honours
// its context: a hedge that loses is canceled and stops at once, as when
// the SDK closes its connection. Every request the service sees is
// counted.
//
// Calls arrive in one process as a Poisson process (open loop) at Rate
// calls per second, all sharing one Retrier (or one failsafe-go executor
// and its budget). The run has two phases: a steady one, then a global
// slowdown in which every request takes Slowdown (200 ms) more, to show
// hedging backing off when hedges cannot help. Each phase begins with a
// stretch that is not measured: the warm-up fills the latency window and
// the budgets, the settling stretch lets them forget the steady phase.
//
// Every random draw comes from streams derived from the seed and the
// call's and attempt's numbers, so that each policy meets the same
// arrivals and, attempt for attempt, the same latencies. Everything waits
// with package time: inside a testing/synctest bubble a run of minutes of
// virtual time takes seconds.
package hedging

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/budget"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/awsretry/awsretry"
)

// Service is the service's latency model.
type Service struct {
	// Median and P99 are the body's log-normal latency's median and 99th
	// percentile.
	Median, P99 time.Duration
	// SlowShare of the requests take SlowFactor times their body draw.
	SlowShare, SlowFactor float64
	// StallShare of the requests stall for Stall.
	StallShare float64
	Stall      time.Duration
	// Slowdown is added to every request that starts in the slowdown
	// phase.
	Slowdown time.Duration
}

// DefaultService is the model of issue 20: a log-normal body of median
// 8 ms and p99 25 ms (sigma 0.49), 1% of requests 10 times slower, 0.1%
// stalled for 5 s, and a global slowdown of 200 ms.
var DefaultService = Service{
	Median: 8 * time.Millisecond, P99: 25 * time.Millisecond,
	SlowShare: 0.01, SlowFactor: 10,
	StallShare: 0.001, Stall: 5 * time.Second,
	Slowdown: 200 * time.Millisecond,
}

// z99 is the standard normal's 99th percentile.
const z99 = 2.3263478740408408

// Sigma is the body's log-normal shape: ln(P99/Median)/z(0.99).
func (s Service) Sigma() float64 {
	return math.Log(float64(s.P99)/float64(s.Median)) / z99
}

// Config describes one run.
type Config struct {
	// Service is the latency model; its zero value means DefaultService.
	Service Service
	// Rate is the calls per second; 0 means 5,000.
	Rate float64
	// Warmup, Steady, Settle and Slowdown are the phases' lengths: the
	// steady phase is measured from Warmup for Steady; the slowdown
	// starts then, and is measured from Settle after its start for
	// Slowdown. 0 means the defaults of Full.
	Warmup, Steady, Settle, Slowdown time.Duration
	// Bin is the width of the time series' bins; 0 means 1 s.
	Bin time.Duration
	// Seed selects the random streams.
	Seed uint64
}

// Full is the whole workload's timing. The latency window of awsretry's
// percentile delay and its hedge budget's window are both 10 s: the
// warm-up and the settling stretch are one window each, so that when a
// phase's measurement begins, both windows hold that phase's traffic
// alone (awsretry's histogram keeps two halves of 5 s; its budget counts
// calls and hedges over the last 10 s). Each measured stretch is 30 s,
// three budget windows, 150,000 calls at 5,000 calls a second, 150 of
// them beyond the p99.9.
var Full = Config{
	Rate:   5000,
	Warmup: 10 * time.Second, Steady: 30 * time.Second,
	Settle: 10 * time.Second, Slowdown: 30 * time.Second,
	Bin: time.Second,
}

func (c Config) withDefaults() (Config, error) {
	if c.Service == (Service{}) {
		c.Service = DefaultService
	}
	if c.Rate == 0 {
		c.Rate = Full.Rate
	}
	for _, d := range []*time.Duration{&c.Warmup, &c.Steady, &c.Settle, &c.Slowdown, &c.Bin} {
		if *d < 0 {
			return c, fmt.Errorf("hedging: negative duration %v", *d)
		}
	}
	if c.Warmup == 0 && c.Steady == 0 && c.Settle == 0 && c.Slowdown == 0 {
		c.Warmup, c.Steady, c.Settle, c.Slowdown = Full.Warmup, Full.Steady, Full.Settle, Full.Slowdown
	}
	if c.Bin == 0 {
		c.Bin = Full.Bin
	}
	s := c.Service
	if !(c.Rate > 0) || s.Median <= 0 || s.P99 < s.Median || s.SlowShare < 0 || s.StallShare < 0 ||
		s.SlowShare+s.StallShare > 1 || s.SlowFactor < 1 || s.Stall < 0 || s.Slowdown < 0 || c.Steady <= 0 || c.Slowdown <= 0 {
		return c, fmt.Errorf("hedging: invalid config %+v", c)
	}
	return c, nil
}

// SlowFrom is when the slowdown begins, since the run's start.
func (c Config) SlowFrom() time.Duration { return c.Warmup + c.Steady }

// Duration is how long calls arrive for.
func (c Config) Duration() time.Duration { return c.SlowFrom() + c.Settle + c.Slowdown }

// Phase is a measured stretch of a run.
type Phase int

// The phases, in the order of a run.
const (
	Steady Phase = iota
	Slowdown
)

// Phases lists the phases in the order they are reported.
var Phases = []Phase{Steady, Slowdown}

// String names the phase: "steady" or "slowdown".
func (p Phase) String() string {
	if p == Slowdown {
		return "slowdown"
	}
	return "steady"
}

// phaseOf returns the phase measured at t since the start, or false in
// the warm-up and the settling stretch.
func (c Config) phaseOf(t time.Duration) (Phase, bool) {
	switch {
	case t >= c.Warmup && t < c.SlowFrom():
		return Steady, true
	case t >= c.SlowFrom()+c.Settle && t < c.Duration():
		return Slowdown, true
	}
	return 0, false
}

// service is the simulated service.
type service struct {
	cfg      Config
	sigma    float64
	start    time.Time
	requests atomic.Int64
}

// latency is the latency of attempt k of call i, started at t since the
// run's start: the same for every policy.
func (s *service) latency(i, k int, t time.Duration) time.Duration {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)<<8|uint64(k&0xff)))
	m := s.cfg.Service
	u := rng.Float64()
	body := float64(m.Median) * math.Exp(s.sigma*rng.NormFloat64())
	var d time.Duration
	switch {
	case u < m.StallShare:
		d = m.Stall
	case u < m.StallShare+m.SlowShare:
		d = time.Duration(m.SlowFactor * body)
	default:
		d = time.Duration(body)
	}
	if t >= s.cfg.SlowFrom() {
		d += m.Slowdown
	}
	return d
}

// call is attempt k of call i: it answers after its latency, or returns
// ctx's error as soon as ctx ends.
func (s *service) call(ctx context.Context, i, k int) error {
	s.requests.Add(1)
	timer := time.NewTimer(s.latency(i, k, time.Since(s.start)))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Caller makes one call, all its attempts, through a policy: attempt
// makes one request.
type Caller func(ctx context.Context, attempt func(context.Context) error) error

// Policy is a hedging policy under test.
type Policy struct {
	// Name labels the policy in tables and charts.
	Name string
	// Library is "awsretry", "failsafe-go" or "" (no hedging).
	Library string
	// Rule is how the hedge delay is chosen ("fixed 25ms", "p95", ...),
	// which pairs each awsretry policy with its failsafe-go counterpart.
	Rule string
	// New returns the process's Caller; it runs inside the bubble, so
	// that what it builds reads the bubble's time.
	New func() (Caller, error)
}

// FixedDelay is the fixed hedge delay of DefaultService: its body's p99,
// the service's p99 as a dashboard shows it outside incidents. "The Tail
// at Scale" and failsafe-go's documentation advise the p95 or the p99.
const FixedDelay = 25 * time.Millisecond

// PercentileFloor is the floor of awsretry's percentile delay: a few
// milliseconds, below the body's median, so that the percentile decides.
const PercentileFloor = 5 * time.Millisecond

// Policies returns the policies compared, in the order they are reported:
// no hedging; awsretry with the fixed delay fixed (FixedDelay for
// DefaultService), and with the p95 and the p99 of recent latency (its
// defaults otherwise: Ratio 0.01, MaxInFlight 2); and failsafe-go's hedge
// policy with the same fixed delay and with its own p95 and p99
// (NewBuilderWithDelayQuantile), each with one hedge at most and its
// Budget as its documentation shows it (budget.New(): hedges at most 20%
// of the executions in flight, at least 3). A ratio other than 0 is
// awsretry's Hedge.Ratio, for experiments; 0 keeps its default.
func Policies(fixed time.Duration, ratio float64) []Policy {
	rule := fmt.Sprintf("fixed %v", fixed)
	return []Policy{
		{Name: "no hedging", New: func() (Caller, error) {
			return func(ctx context.Context, attempt func(context.Context) error) error { return attempt(ctx) }, nil
		}},
		awsretryPolicy(rule, awsretry.Hedge{Delay: fixed, Ratio: ratio}),
		awsretryPolicy("p95", awsretry.Hedge{Delay: PercentileFloor, Percentile: 0.95, Ratio: ratio}),
		awsretryPolicy("p99", awsretry.Hedge{Delay: PercentileFloor, Percentile: 0.99, Ratio: ratio}),
		failsafePolicy(rule, func() hedgepolicy.Builder[any] {
			return hedgepolicy.NewBuilderWithDelay[any](fixed)
		}),
		// Its quantile is a moving estimate (Jambon's windowless moving
		// percentile): age 5,000 executions (about a second here), and
		// hedging from the 100th execution on.
		failsafePolicy("p95", func() hedgepolicy.Builder[any] {
			return hedgepolicy.NewBuilderWithDelayQuantile[any](0.95, 5000, 100)
		}),
		failsafePolicy("p99", func() hedgepolicy.Builder[any] {
			return hedgepolicy.NewBuilderWithDelayQuantile[any](0.99, 5000, 100)
		}),
	}
}

// awsretryPolicy is one Retrier WithHedge(h), its other settings the
// defaults, for the process; rule names its delay.
func awsretryPolicy(rule string, h awsretry.Hedge) Policy {
	name := "awsretry " + rule
	if h.Percentile > 0 {
		name += fmt.Sprintf(" (floor %v)", h.Delay)
	}
	if h.Ratio > 0 {
		name += fmt.Sprintf(", Ratio %g", h.Ratio)
	}
	return Policy{Name: name, Library: "awsretry", Rule: rule, New: func() (Caller, error) {
		r, err := awsretry.New(awsretry.WithHedge(h))
		if err != nil {
			return nil, err
		}
		return r.DoHedged, nil
	}}
}

// failsafePolicy is one failsafe-go executor of the hedge policy builder
// makes, with one hedge at most and the default Budget, for the process;
// rule names its delay.
func failsafePolicy(rule string, builder func() hedgepolicy.Builder[any]) Policy {
	return Policy{Name: "failsafe-go " + rule + " + budget", Library: "failsafe-go", Rule: rule, New: func() (Caller, error) {
		hp := builder().WithMaxHedges(1).WithBudget(budget.New()).Build()
		executor := failsafe.With[any](hp)
		return func(ctx context.Context, attempt func(context.Context) error) error {
			return executor.WithContext(ctx).RunWithExecution(func(e failsafe.Execution[any]) error {
				return attempt(e.Context())
			})
		}, nil
	}}
}

// record is one call as the run records it.
type record struct {
	start    time.Duration // since the run's start
	took     time.Duration
	hedgedAt time.Duration // when the second attempt started, since the call's start; 0: never
	requests int32
	winner   int32 // the first attempt to succeed, from 1; 0: none did
	failed   bool
}

// Run simulates cfg with policy. Call it inside a testing/synctest bubble:
// outside one its waits are real.
func Run(ctx context.Context, cfg Config, policy Policy) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	caller, err := policy.New()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	svc := &service{cfg: cfg, sigma: cfg.Service.Sigma(), start: start}
	duration := cfg.Duration()
	records := make([]record, int(cfg.Rate*duration.Seconds()*1.05)+16)
	arrivals := rand.New(rand.NewPCG(cfg.Seed, 1<<63))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		more []record // beyond records' capacity
	)
	at := 0.0 // seconds
	n := 0
	for i := 0; ; i++ {
		at += arrivals.ExpFloat64() / cfg.Rate
		offset := time.Duration(at * float64(time.Second))
		if offset >= duration {
			break
		}
		time.Sleep(time.Until(start.Add(offset)))
		n++
		wg.Go(func() {
			var attempts, winner atomic.Int32
			var hedgedAt atomic.Int64
			begun := time.Now()
			err := caller(ctx, func(actx context.Context) error {
				k := attempts.Add(1)
				if k == 2 {
					hedgedAt.Store(int64(time.Since(begun)))
				}
				err := svc.call(actx, i, int(k))
				if err == nil {
					winner.CompareAndSwap(0, k)
				}
				return err
			})
			rec := record{start: begun.Sub(start), took: time.Since(begun), hedgedAt: time.Duration(hedgedAt.Load()),
				requests: attempts.Load(), winner: winner.Load(), failed: err != nil}
			if i < len(records) {
				records[i] = rec
				return
			}
			mu.Lock()
			more = append(more, rec)
			mu.Unlock()
		})
	}
	wg.Wait()
	all := append(records[:min(n, len(records))], more...)
	res := summarise(cfg, policy, all)
	res.ServiceRequests = svc.requests.Load()
	res.Virtual = time.Since(start)
	return res, nil
}

// Result is what one run measured.
type Result struct {
	// Policy and Seed identify the run; Library and Rule are the
	// policy's.
	Policy, Library, Rule string
	Seed                  uint64
	// Phases are the measured phases, in the order of Phases.
	Phases []PhaseResult
	// Series is the time series, one point per bin of the run.
	Series []Point
	// Calls, Requests and Failed count every call of the run, the
	// requests the calls made, and the calls that failed.
	Calls, Requests, Failed int64
	// ServiceRequests is the requests the service saw.
	ServiceRequests int64
	// Virtual is the virtual time the run took, stalls included.
	Virtual time.Duration
}

// PhaseResult is what a run measured in one phase, over the calls that
// started in it.
type PhaseResult struct {
	Phase Phase
	// Calls counts the calls; Hedged those that made a second request,
	// Won those a hedge won.
	Calls, Hedged, Won int64
	// Requests counts the requests the calls made.
	Requests int64
	// P50, P99 and P999 are percentiles of the calls' latency.
	P50, P99, P999 time.Duration
}

// Extra is the extra requests per call: requests/calls - 1.
func (p PhaseResult) Extra() float64 { return ratio(p.Requests, p.Calls) - 1 }

// LostShare is the hedges that did not win, per call.
func (p PhaseResult) LostShare() float64 { return ratio(p.Requests-p.Calls-p.Won, p.Calls) }

// WonShare is the share of the hedges sent that won.
func (p PhaseResult) WonShare() float64 { return ratio(p.Won, p.Requests-p.Calls) }

// Point is a bin of the time series, over the calls that started in it.
type Point struct {
	// At is the bin's start, since the run's start.
	At time.Duration
	// P99 is the 99th percentile of the calls' latency.
	P99 time.Duration
	// Extra is the extra requests per call.
	Extra float64
	// Delay is the median delay after which the bin's hedges started; 0
	// when none was sent.
	Delay time.Duration
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func summarise(cfg Config, policy Policy, records []record) *Result {
	res := &Result{Policy: policy.Name, Library: policy.Library, Rule: policy.Rule, Seed: cfg.Seed, Calls: int64(len(records))}
	lat := make([][]time.Duration, len(Phases))
	res.Phases = make([]PhaseResult, len(Phases))
	for i, p := range Phases {
		res.Phases[i].Phase = p
	}
	bins := int((cfg.Duration() + cfg.Bin - 1) / cfg.Bin)
	binLat := make([][]time.Duration, bins)
	binDelay := make([][]time.Duration, bins)
	binCalls := make([]int64, bins)
	binReqs := make([]int64, bins)
	for _, r := range records {
		res.Requests += int64(r.requests)
		if r.failed {
			res.Failed++
		}
		if b := int(r.start / cfg.Bin); b < bins {
			binLat[b] = append(binLat[b], r.took)
			binCalls[b]++
			binReqs[b] += int64(r.requests)
			if r.hedgedAt > 0 {
				binDelay[b] = append(binDelay[b], r.hedgedAt)
			}
		}
		phase, ok := cfg.phaseOf(r.start)
		if !ok {
			continue
		}
		p := &res.Phases[phase]
		p.Calls++
		p.Requests += int64(r.requests)
		if r.requests > 1 {
			p.Hedged++
		}
		if r.winner > 1 {
			p.Won++
		}
		lat[phase] = append(lat[phase], r.took)
	}
	for i := range res.Phases {
		slices.Sort(lat[i])
		p := &res.Phases[i]
		p.P50, p.P99, p.P999 = Quantile(lat[i], 0.5), Quantile(lat[i], 0.99), Quantile(lat[i], 0.999)
	}
	for b := range bins {
		slices.Sort(binLat[b])
		slices.Sort(binDelay[b])
		res.Series = append(res.Series, Point{
			At:    time.Duration(b) * cfg.Bin,
			P99:   Quantile(binLat[b], 0.99),
			Extra: ratio(binReqs[b], binCalls[b]) - 1,
			Delay: Quantile(binDelay[b], 0.5),
		})
	}
	return res
}

// Quantile returns the q-quantile of sorted by nearest rank: the smallest
// value that at least q of the values do not exceed; 0 for none.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// BoundPoint is what hedging once after a fixed delay, with no budget,
// would make of a phase's draws (see Bound).
type BoundPoint struct {
	// Delay is the hedge delay; 0 means no hedging.
	Delay time.Duration
	// P99 and P999 are percentiles of the calls' latency.
	P99, P999 time.Duration
	// Extra is the hedges per call, and Lost those that did not win.
	Extra, Lost float64
}

// Bound computes, without goroutines or budgets, the latency of calls
// that hedge once after each of delays and are never refused: a call
// takes min(first, delay+second), where first and second are its first
// two attempts' latencies as Run draws them in phase, for the first
// calls calls of cfg's seed. It is the frontier the policies here move
// along: what one hedge after a fixed delay buys for a given share of
// extra requests when no budget refuses it. The first point is no
// hedging.
func Bound(cfg Config, phase Phase, calls int, delays []time.Duration) ([]BoundPoint, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	svc := &service{cfg: cfg, sigma: cfg.Service.Sigma()}
	var at time.Duration // a time of the phase
	if phase == Slowdown {
		at = cfg.SlowFrom()
	}
	first, second := make([]time.Duration, calls), make([]time.Duration, calls)
	for i := range calls {
		first[i], second[i] = svc.latency(i, 1, at), svc.latency(i, 2, at)
	}
	sorted := slices.Clone(first)
	slices.Sort(sorted)
	points := []BoundPoint{{P99: Quantile(sorted, 0.99), P999: Quantile(sorted, 0.999)}}
	for _, d := range delays {
		took := make([]time.Duration, calls)
		hedges, lost := 0, 0
		for i := range calls {
			took[i] = first[i]
			if first[i] <= d {
				continue
			}
			hedges++
			if h := d + second[i]; h < first[i] {
				took[i] = h
			} else {
				lost++
			}
		}
		slices.Sort(took)
		points = append(points, BoundPoint{Delay: d, P99: Quantile(took, 0.99), P999: Quantile(took, 0.999),
			Extra: float64(hedges) / float64(calls), Lost: float64(lost) / float64(calls)})
	}
	return points, nil
}
