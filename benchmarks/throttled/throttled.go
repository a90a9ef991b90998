// Package throttled simulates a fleet of clients pressing on a throttled
// service, to compare how retry policies share a service limit: awsretry's
// schedules, its retry Budget and adaptive Limiter, and aws-sdk-go-v2's
// standard retryer and adaptive mode, driven through the SDK's own retry
// middleware.
//
// The service admits C(t) requests per second: a token bucket refilled at
// C(t), holding at most Burst seconds' worth (and at least one request), as
// AWS's API limits are token buckets per account and API whose sizes the
// client cannot see (EC2's DescribeHosts holds 5 s of its refill rate,
// DynamoDB banks up to 300 s of unused capacity). A request that finds a
// token succeeds after a latency of its own; one that finds none is
// answered ThrottlingException, faster, and still costs the service
// ThrottleCost of a token (refusing is cheaper than serving, not free), so
// wasted attempts show in the goodput too. C(t) follows a Shape: halved and
// restored as a step, ramped down and up, or constant with the fleet
// starting cold against an empty bucket.
//
// N clients each start calls as a Poisson process (open loop: a call starts
// whether or not the previous ones have ended), their rates summing to
// Demand x C; each call has a deadline and runs through the policy of the
// client's process: all clients in one process, sharing one Retrier (and
// its Budget and Limiter) or one SDK retryer, or each client a process of
// its own, sharing only the service's limit. Everything waits with package
// time: inside a testing/synctest bubble a two-minute run takes a fraction
// of a second to a few seconds of real time, and every random draw comes
// from per-client streams derived from the seed.
package throttled

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
)

// Shape is how the service's capacity moves during a run.
type Shape string

const (
	// Step: C for 40 s, C/2 until 80 s (plus the run's Offset), then C
	// again until 120 s. The bucket starts full.
	Step Shape = "step"
	// Ramp: C for 30 s, down to C/2 linearly over 20 s, C/2 until 70 s
	// (plus Offset), up to C linearly over 20 s, then C until 120 s. The
	// bucket starts full.
	Ramp Shape = "ramp"
	// Cold: C throughout a 30 s run, and the fleet starts with new
	// clients against an empty bucket, as when a fleet is redeployed
	// into a service its predecessor held at its limit.
	Cold Shape = "cold"
)

// Shapes lists the shapes in the order they are reported.
var Shapes = []Shape{Step, Ramp, Cold}

// Config describes one run.
type Config struct {
	// Shape is how the capacity moves; "" means Step.
	Shape Shape
	// Capacity is C, the requests per second the service admits outside
	// the step or ramp. It must be positive.
	Capacity float64
	// Burst is how many seconds of the current capacity the service's
	// bucket holds; the bucket holds at least one request. It must be
	// positive.
	Burst float64
	// ThrottleCost is the fraction of a token a throttled request costs
	// the service.
	ThrottleCost float64
	// Clients is N, the number of clients; 0 means DefaultClients.
	Clients int
	// Processes is how many processes the clients run in: the clients of
	// one process share one Client of the policy (one Retrier, Budget and
	// Limiter, or one SDK retryer), as goroutines of a process share one
	// SDK client. 0 means 1; Clients means each client is a process of
	// its own.
	Processes int
	// Demand is the clients' total call rate, in multiples of C. It must
	// be positive.
	Demand float64
	// Deadline is each call's context deadline; 0 means DefaultDeadline.
	Deadline time.Duration
	// Seed selects the random streams.
	Seed uint64
	// Offset delays the capacity's return (the end of the step, the
	// start of the ramp up), so that runs under several seeds meet the
	// control law at several phases of its cycle.
	Offset time.Duration
	// Scale shortens every time of the shape by this factor (0 means 1),
	// for quick tests.
	Scale float64
	// Sample, if set, is read at the end of every second of the run, for
	// Result.Timeline: the rate a Limiter holds, say.
	Sample func() float64
}

// The defaults: 50 clients, calls with a 10 s deadline. The deadline is
// short so that the grid stays within reach: aws-sdk-go-v2's adaptive
// mode, shared by one process, queues every call beyond the capacity until
// its deadline, and each queued call wakes for every token (each computes
// the same wait). The deadline changes how long the SDK's excess calls
// wait, not its goodput or throttles; awsretry's policies fail fast and do
// not meet it.
const (
	DefaultClients  = 50
	DefaultDeadline = 10 * time.Second
)

// Grace is how long after the capacity last fell short of Demand/0.9 a
// refused call still counts as part of the recovery, not as a call refused
// while the service had room: the recovery goal's worst case, 4 s.
const Grace = 4 * time.Second

func (c Config) withDefaults() (Config, error) {
	if c.Shape == "" {
		c.Shape = Step
	}
	if !slices.Contains(Shapes, c.Shape) {
		return c, fmt.Errorf("throttled: unknown shape %q", c.Shape)
	}
	if !(c.Capacity > 0) || !(c.Burst > 0) || !(c.Demand > 0) || c.ThrottleCost < 0 {
		return c, fmt.Errorf("throttled: capacity %v, burst %v, demand %v, throttle cost %v: want the first three positive, the last not negative",
			c.Capacity, c.Burst, c.Demand, c.ThrottleCost)
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Processes <= 0 {
		c.Processes = 1
	}
	if c.Deadline == 0 {
		c.Deadline = DefaultDeadline
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	return c, nil
}

// point is a corner of the capacity's curve: capacity C times factor at
// at; the curve is linear between corners, and a step is two corners at
// the same time.
type point struct {
	at     time.Duration
	factor float64
}

// timeline returns the capacity's corners, the run's duration and the
// time the capacity is back in full.
func (c Config) timeline() (corners []point, duration, returned time.Duration) {
	s := func(seconds float64) time.Duration { return time.Duration(seconds * c.Scale * float64(time.Second)) }
	switch c.Shape {
	case Ramp:
		up := s(70) + c.Offset
		return []point{{0, 1}, {s(30), 1}, {s(50), 0.5}, {up, 0.5}, {up + s(20), 1}}, s(120), up + s(20)
	case Cold:
		return []point{{0, 1}}, s(30), -1
	default:
		back := s(80) + c.Offset
		return []point{{0, 1}, {s(40), 1}, {s(40), 0.5}, {back, 0.5}, {back, 1}}, s(120), back
	}
}

// capacity is the service's capacity as a function of the time since the
// start.
type capacity struct {
	c       float64
	corners []point
}

// at is the capacity at t; at a step, the value after it.
func (k capacity) at(t time.Duration) float64 {
	i := after(k.corners, t)
	if i == len(k.corners) {
		return k.c * k.corners[len(k.corners)-1].factor
	}
	if i == 0 {
		return k.c * k.corners[0].factor
	}
	a, b := k.corners[i-1], k.corners[i]
	f := a.factor + (b.factor-a.factor)*float64(t-a.at)/float64(b.at-a.at)
	return k.c * f
}

// after returns the index of the first corner after t.
func after(corners []point, t time.Duration) int {
	i := 0
	for i < len(corners) && corners[i].at <= t {
		i++
	}
	return i
}

// refill is the integral of the capacity from t0 to t1: the tokens the
// bucket gains, exact on the piecewise-linear curve.
func (k capacity) refill(t0, t1 time.Duration) float64 {
	total := 0.0
	for t := t0; t < t1; {
		next := t1
		for _, p := range k.corners {
			if p.at > t && p.at < next {
				next = p.at
			}
		}
		total += (k.at(t) + k.before(next)) / 2 * (next - t).Seconds()
		t = next
	}
	return total
}

// before is the capacity just before t (at a step, the value before it).
func (k capacity) before(t time.Duration) float64 {
	if t <= 0 {
		return k.at(0)
	}
	return k.at(t - 1)
}

// ErrThrottled is the service's answer beyond its capacity, as DynamoDB
// and most JSON services report it.
var ErrThrottled error = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}

// service is the throttled service: a token bucket and its latencies.
type service struct {
	cfg   Config
	cap   capacity
	start time.Time

	mu      sync.Mutex
	tokens  float64
	updated time.Duration // since start
	served  int
	refused int
}

func newService(cfg Config, k capacity, start time.Time) *service {
	s := &service{cfg: cfg, cap: k, start: start}
	if cfg.Shape != Cold {
		s.tokens = s.limit(0)
	}
	return s
}

// limit is the most the bucket holds at t: Burst seconds of the capacity
// then, and at least one request.
func (s *service) limit(t time.Duration) float64 {
	return max(s.cap.at(t)*s.cfg.Burst, 1)
}

// admit decides on a request arriving now: it refills the bucket since the
// last request, at the capacity of each moment, and takes a token or the
// cost of a refusal. Refusals can take the bucket below zero, down to
// minus its size.
func (s *service) admit(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := now.Sub(s.start)
	if t > s.updated {
		s.tokens += s.cap.refill(s.updated, t)
		s.updated = t
	}
	limit := s.limit(t)
	s.tokens = min(s.tokens, limit)
	if s.tokens >= 1 {
		s.tokens--
		s.served++
		return true
	}
	s.tokens = max(s.tokens-s.cfg.ThrottleCost, -limit)
	s.refused++
	return false
}

// call is one request to the service from a client whose latencies come
// from rng: it is admitted or throttled on arrival, then answers after a
// log-normal latency (median 20 ms when served, 5 ms when throttled), or
// when ctx ends.
func (s *service) call(ctx context.Context, rng *lockedRandom) error {
	ok := s.admit(time.Now())
	median := 20 * time.Millisecond
	if !ok {
		median = 5 * time.Millisecond
	}
	latency := time.Duration(float64(median) * math.Exp(0.3*rng.NormFloat64()))
	t := time.NewTimer(latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	if !ok {
		return ErrThrottled
	}
	return nil
}

// Client is what a policy gives each client: a function that makes one
// call (all its attempts) through the policy, attempting with attempt.
type Client func(ctx context.Context, attempt func(context.Context) error) error

// Policy is a retry policy under test.
type Policy struct {
	// Name labels the policy in tables and charts.
	Name string
	// New returns the Client of process id; it runs inside the bubble,
	// so that what it builds reads the bubble's time.
	New func(id int, seed uint64) (Client, error)
}

// callRecord is one call as the run records it.
type callRecord struct {
	client    int
	start     time.Duration // since the run's start
	took      time.Duration
	ok        bool
	refused   bool // refused by the client's own rate limiter
	attempts  int
	throttled int
}

// Refused reports whether err ended a call because the client's own rate
// limiter refused an attempt: awsretry's rate_limited, or aws-sdk-go-v2's
// adaptive mode with FailOnNoAttemptTokens finding no attempt token.
func Refused(err error) bool {
	var re *awsretry.RetryError
	if errors.As(err, &re) {
		return re.Reason == awsretry.ReasonRateLimited
	}
	return err != nil && strings.Contains(err.Error(), "unable to get attempt token")
}

// Run simulates cfg with policy. Call it inside a testing/synctest bubble:
// outside one its waits are real.
func Run(ctx context.Context, cfg Config, policy Policy) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	corners, duration, _ := cfg.timeline()
	k := capacity{c: cfg.Capacity, corners: corners}
	start := time.Now()
	svc := newService(cfg, k, start)
	var (
		mu       sync.Mutex
		records  []callRecord
		wg       sync.WaitGroup
		timeline = make([]Second, int(duration/time.Second)+1)
	)
	second := func() int { return min(int(time.Since(start)/time.Second), len(timeline)-1) }
	if cfg.Sample != nil {
		wg.Go(func() {
			for i := range timeline {
				time.Sleep(time.Until(start.Add(time.Duration(i+1) * time.Second)))
				v := cfg.Sample()
				mu.Lock()
				timeline[i].Sample = v
				mu.Unlock()
			}
		})
	}
	perClient := cfg.Demand * cfg.Capacity / float64(cfg.Clients)
	processes := make([]Client, cfg.Processes)
	for id := range processes {
		if processes[id], err = policy.New(id, cfg.Seed); err != nil {
			return Result{}, err
		}
	}
	for id := range cfg.Clients {
		client := processes[id%cfg.Processes]
		arrivals := rand.New(rand.NewPCG(cfg.Seed, uint64(3*id)))
		latencies := &lockedRandom{rng: rand.New(rand.NewPCG(cfg.Seed, uint64(3*id+1)))}
		wg.Go(func() {
			for {
				gap := time.Duration(arrivals.ExpFloat64() / perClient * float64(time.Second))
				time.Sleep(gap)
				at := time.Since(start)
				if at >= duration {
					return
				}
				wg.Go(func() {
					rec := callRecord{client: id, start: at}
					cctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
					defer cancel()
					err := client(cctx, func(actx context.Context) error {
						rec.attempts++
						err := svc.call(actx, latencies)
						if err == ErrThrottled {
							rec.throttled++
							mu.Lock()
							timeline[second()].Throttled++
							mu.Unlock()
						}
						return err
					})
					rec.ok = err == nil
					rec.refused = Refused(err)
					rec.took = time.Since(start) - at
					mu.Lock()
					records = append(records, rec)
					sec := &timeline[second()]
					switch {
					case rec.ok:
						sec.Succeeded++
					case rec.refused:
						sec.Refused++
					default:
						sec.Failed++
					}
					mu.Unlock()
				})
			}
		})
	}
	wg.Wait()
	res := summarise(cfg, records)
	for i := range timeline {
		timeline[i].Capacity = k.at(time.Duration(i) * time.Second)
	}
	res.Timeline = timeline
	return res, nil
}

// Second is what happened in one second of a run.
type Second struct {
	// Capacity is the service's capacity at the second's start.
	Capacity float64
	// Succeeded, Refused and Failed count the calls that ended in the
	// second, as they ended (Failed: otherwise than refused); Throttled
	// counts the throttled attempts.
	Succeeded, Refused, Failed, Throttled int
	// Sample is Config.Sample at the second's end.
	Sample float64
}

// Result is what one run measured.
type Result struct {
	// Calls, Succeeded and Failed count the calls started, and how they
	// ended; Refused counts the failed calls that the client's own rate
	// limiter refused, and RefusedWithRoom those of them that started
	// while the service had room: the capacity had been at least
	// Demand/0.9 for Grace or since the start.
	Calls, Succeeded, Failed, Refused, RefusedWithRoom int
	// Goodput is the successful calls that ended within the run over
	// Ideal, the most a clairvoyant client could have had served with
	// the same arrivals and deadlines (see ideal).
	Goodput, Ideal float64
	// WithRoom is the share of the calls started while the service had
	// room that succeeded (1 if there were none).
	WithRoom float64
	// ThrottledPerSuccess is the throttled attempts per successful call;
	// ThrottledPerSecond, per second of the run.
	ThrottledPerSuccess, ThrottledPerSecond float64
	// AttemptsPerCall is the attempts sent per call.
	AttemptsPerCall float64
	// P50 and P99 are percentiles of the successful calls' latency;
	// FailP50 and FailP99 of the time failed calls took to fail.
	P50, P99, FailP50, FailP99 time.Duration
	// Recovery is the time after the capacity returned in full until
	// goodput over one second reached 90% of what the service and the
	// demand allow; -1 if it never did, 0 for the shape Cold, which has
	// no return. The window is a second long, so a goodput that returned
	// at once scores 1 s.
	Recovery time.Duration
	// Fairness is Jain's index of the clients' successful calls: 1 when
	// all got the same, 1/N when one got everything.
	Fairness float64
	// Timeline is the run second by second.
	Timeline []Second
}

func summarise(cfg Config, records []callRecord) Result {
	corners, duration, returned := cfg.timeline()
	k := capacity{c: cfg.Capacity, corners: corners}
	var r Result
	r.Calls = len(records)
	var ok, failed []time.Duration
	perClient := make([]float64, cfg.Clients)
	throttled, attempts := 0, 0
	const bin = 100 * time.Millisecond
	bins := make([]int, int(duration/bin)+1)
	room := withRoom(cfg, k, duration)
	roomCalls, roomOK := 0, 0
	starts := make([]time.Duration, 0, len(records))
	for _, rec := range records {
		starts = append(starts, rec.start)
		attempts += rec.attempts
		throttled += rec.throttled
		hadRoom := room(rec.start)
		if hadRoom {
			roomCalls++
		}
		if !rec.ok {
			r.Failed++
			failed = append(failed, rec.took)
			if rec.refused {
				r.Refused++
				if hadRoom {
					r.RefusedWithRoom++
				}
			}
			continue
		}
		if hadRoom {
			roomOK++
		}
		r.Succeeded++
		ok = append(ok, rec.took)
		end := rec.start + rec.took
		if end < duration {
			bins[end/bin]++
			perClient[rec.client]++
		}
	}
	r.WithRoom = 1
	if roomCalls > 0 {
		r.WithRoom = float64(roomOK) / float64(roomCalls)
	}
	r.Ideal = ideal(cfg, k, duration, starts)
	done := 0
	for _, n := range bins {
		done += n
	}
	if r.Ideal > 0 {
		r.Goodput = float64(done) / r.Ideal
	}
	if r.Succeeded > 0 {
		r.ThrottledPerSuccess = float64(throttled) / float64(r.Succeeded)
	}
	r.ThrottledPerSecond = float64(throttled) / duration.Seconds()
	if r.Calls > 0 {
		r.AttemptsPerCall = float64(attempts) / float64(r.Calls)
	}
	r.P50, r.P99 = percentile(ok, 0.5), percentile(ok, 0.99)
	r.FailP50, r.FailP99 = percentile(failed, 0.5), percentile(failed, 0.99)
	r.Fairness = jain(perClient)

	// Recovery: the end of the first one-second window, from the
	// capacity's return on, whose successes reach 90% of min(C, demand).
	if returned < 0 {
		return r
	}
	target := 0.9 * min(cfg.Capacity, cfg.Demand*cfg.Capacity)
	r.Recovery = -1
	perWindow := int(time.Second / bin)
	first := int((returned + bin - 1) / bin)
	for i := first; i+perWindow <= len(bins); i++ {
		sum := 0
		for _, n := range bins[i : i+perWindow] {
			sum += n
		}
		if float64(sum) >= target {
			r.Recovery = time.Duration(i+perWindow)*bin - returned
			break
		}
	}
	return r
}

// withRoom returns whether a call starting at t started while the service
// had room: the capacity had been at least Demand/0.9 since t - Grace (or
// since the start).
func withRoom(cfg Config, k capacity, duration time.Duration) func(t time.Duration) bool {
	need := cfg.Demand * cfg.Capacity / 0.9
	// short[i] is the last 10 ms step at or before i*10ms at which the
	// capacity fell short.
	const step = 10 * time.Millisecond
	n := int(duration/step) + 1
	lastShort := make([]time.Duration, n)
	last := time.Duration(-1 << 62)
	for i := range n {
		t := time.Duration(i) * step
		if k.at(t) < need-1e-9 || k.before(t) < need-1e-9 {
			last = t
		}
		lastShort[i] = last
	}
	return func(t time.Duration) bool {
		i := min(int(t/step)+1, n-1) // the step just after t, so that a fall within it counts
		return t-lastShort[i] > Grace
	}
}

// ideal is how many of the calls that started at starts a clairvoyant
// client could have had served within the run: each call needs one token,
// may wait for it until its deadline, and is served as soon as a token is
// there, oldest first; nothing is ever throttled. It is computed in 10 ms
// steps on the fluid bucket.
func ideal(cfg Config, k capacity, duration time.Duration, starts []time.Duration) float64 {
	const step = 10 * time.Millisecond
	n := int(duration/step) + 1
	arrivals := make([]float64, n)
	for _, s := range starts {
		arrivals[min(int(s/step), n-1)]++
	}
	limit := func(t time.Duration) float64 { return max(k.at(t)*cfg.Burst, 1) }
	tokens := 0.0
	if cfg.Shape != Cold {
		tokens = limit(0)
	}
	waiting := make([]float64, n) // calls that arrived in each step, not yet served
	oldest := 0
	served := 0.0
	deadline := int(cfg.Deadline / step)
	for i := range n {
		t := time.Duration(i) * step
		tokens = min(tokens+k.refill(t, t+step), limit(t+step))
		waiting[i] = arrivals[i]
		for oldest < i-deadline {
			waiting[oldest] = 0
			oldest++
		}
		for j := oldest; j <= i && tokens > 0; j++ {
			take := min(tokens, waiting[j])
			waiting[j] -= take
			tokens -= take
			served += take
		}
		for oldest < i && waiting[oldest] == 0 {
			oldest++
		}
	}
	return served
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

func jain(xs []float64) float64 {
	var sum, squares float64
	for _, x := range xs {
		sum += x
		squares += x * x
	}
	if squares == 0 {
		return 0
	}
	return sum * sum / (float64(len(xs)) * squares)
}
