// Package throttled simulates a fleet of clients pressing on a throttled
// service, to compare how retry policies share a service limit: awsretry's
// schedules, its retry Budget and adaptive Limiter, and aws-sdk-go-v2's
// standard retryer and adaptive mode, driven through the SDK's own retry
// middleware.
//
// The service admits C requests per second: a token bucket refilled at C
// per second, holding at most Burst seconds' worth. A request that finds a
// token succeeds after a latency of its own; one that finds none is
// answered ThrottlingException, faster, and still costs the service
// ThrottleCost of a token (throttling is cheaper than serving, not free),
// so wasted attempts show in the goodput too. C halves for a third of the
// run, then recovers.
//
// N clients each start calls as a Poisson process (open loop: a call starts
// whether or not the previous ones have ended), their rates summing to
// Demand x C; each call has a deadline and runs through the policy of the
// client's process: all clients in one process by default, sharing one
// Retrier (and its Budget and Limiter) or one SDK retryer. Everything waits
// with package time: inside a testing/synctest bubble a two-minute run takes
// about a second of real time, and every random draw comes from per-client
// streams derived from the seed.
package throttled

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/smithy-go"
)

// Config describes one run. The zero value of a field stands for the
// default of the same name.
type Config struct {
	// Capacity is C, the requests per second the service admits outside
	// the step.
	Capacity float64
	// Burst is how many seconds of capacity the service's bucket holds.
	Burst float64
	// ThrottleCost is the fraction of a token a throttled request costs.
	ThrottleCost float64
	// Clients is N, the number of clients.
	Clients int
	// Demand is the clients' total call rate, in multiples of C.
	Demand float64
	// Duration is how long calls start; StepStart and StepEnd bound the
	// time during which the capacity is halved.
	Duration, StepStart, StepEnd time.Duration
	// Deadline is each call's context deadline.
	Deadline time.Duration
	// Seed selects the random streams.
	Seed uint64
	// Processes is how many processes the clients run in: the clients of
	// one process share one Client of the policy (one Retrier, Budget and
	// Limiter, or one SDK retryer), as goroutines of a process share one
	// SDK client. 0 means 1: the clients are one process's goroutines;
	// Clients means each client is a process of its own.
	Processes int
}

// The defaults: 50 clients on a service of 100 requests per second with a
// one-second burst, halved from 40 s to 80 s of a 120 s run, calls with a
// 10 s deadline. The deadline is short so that the sweep stays under two
// minutes: aws-sdk-go-v2's adaptive mode, shared by one process, queues
// every call beyond the capacity until its deadline, and each queued call
// wakes for every token (each computes the same wait), so that simulating
// 5C with 30 s deadlines, 15000 queued calls, takes six minutes. The
// deadline changes how long the SDK's excess calls wait, not its goodput
// or throttles; awsretry's policies fail fast and do not meet it.
const (
	DefaultCapacity     = 100
	DefaultBurst        = 1
	DefaultThrottleCost = 0.1
	DefaultClients      = 50
	DefaultDuration     = 120 * time.Second
	DefaultStepStart    = 40 * time.Second
	DefaultStepEnd      = 80 * time.Second
	DefaultDeadline     = 10 * time.Second
)

func (c Config) withDefaults() Config {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Capacity, DefaultCapacity)
	def(&c.Burst, DefaultBurst)
	def(&c.ThrottleCost, DefaultThrottleCost)
	def(&c.Demand, 1)
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Processes <= 0 {
		c.Processes = 1
	}
	if c.Duration == 0 {
		c.Duration, c.StepStart, c.StepEnd = DefaultDuration, DefaultStepStart, DefaultStepEnd
	}
	if c.Deadline == 0 {
		c.Deadline = DefaultDeadline
	}
	return c
}

// capacityAt is the service's capacity at t since the start.
func (c Config) capacityAt(t time.Duration) float64 {
	if t >= c.StepStart && t < c.StepEnd {
		return c.Capacity / 2
	}
	return c.Capacity
}

// ErrThrottled is the service's answer beyond its capacity, as DynamoDB
// and most JSON services report it.
var ErrThrottled error = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}

// service is the throttled service: a token bucket and its latencies.
type service struct {
	cfg   Config
	start time.Time

	mu      sync.Mutex
	tokens  float64
	updated time.Time
	sent    int // requests received
	served  int
	refused int
	// refusedAt counts the refusals of each second.
	refusedAt []int
}

func newService(cfg Config, start time.Time) *service {
	return &service{cfg: cfg, start: start, tokens: cfg.Capacity * cfg.Burst, updated: start}
}

// admit decides on a request arriving now: it refills the bucket since the
// last request, at the capacity of each moment, and takes a token or the
// cost of a refusal. The bucket never holds more than Burst seconds of the
// current capacity; refusals can take it below zero, down to minus that.
func (s *service) admit(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := s.updated; t.Before(now); {
		// Refill piecewise, so that the step of capacity is exact.
		since := t.Sub(s.start)
		next := now
		for _, edge := range []time.Duration{s.cfg.StepStart, s.cfg.StepEnd} {
			if e := s.start.Add(edge); e.After(t) && e.Before(next) {
				next = e
			}
		}
		s.tokens += s.cfg.capacityAt(since) * next.Sub(t).Seconds()
		t = next
	}
	s.updated = now
	limit := s.cfg.capacityAt(now.Sub(s.start)) * s.cfg.Burst
	s.tokens = min(s.tokens, limit)
	s.sent++
	if s.tokens >= 1 {
		s.tokens--
		s.served++
		return true
	}
	s.tokens = max(s.tokens-s.cfg.ThrottleCost, -limit)
	s.refused++
	if sec := int(now.Sub(s.start) / time.Second); sec >= 0 {
		for len(s.refusedAt) <= sec {
			s.refusedAt = append(s.refusedAt, 0)
		}
		s.refusedAt[sec]++
	}
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

// outcomeOf is one call as the run records it.
type callRecord struct {
	client    int
	start     time.Duration // since the run's start
	took      time.Duration
	ok        bool
	attempts  int
	throttled int
}

// Run simulates cfg with policy. Call it inside a testing/synctest bubble:
// outside one its waits are real.
func Run(ctx context.Context, cfg Config, policy Policy) (Result, error) {
	cfg = cfg.withDefaults()
	start := time.Now()
	svc := newService(cfg, start)
	var (
		mu      sync.Mutex
		records []callRecord
		wg      sync.WaitGroup
	)
	perClient := cfg.Demand * cfg.Capacity / float64(cfg.Clients)
	processes := make([]Client, cfg.Processes)
	for id := range processes {
		var err error
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
				if at >= cfg.Duration {
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
						}
						return err
					})
					rec.ok = err == nil
					rec.took = time.Since(start) - at
					mu.Lock()
					records = append(records, rec)
					mu.Unlock()
				})
			}
		})
	}
	wg.Wait()
	res := summarise(cfg, records)
	res.RefusedPerSecond = svc.refusedAt
	return res, nil
}

// Result is what one run measured.
type Result struct {
	// Calls, Succeeded and Failed count the calls started, and how they
	// ended.
	Calls, Succeeded, Failed int
	// Goodput is the successful calls that ended within the run, per
	// second, as a fraction of the capacity available on average.
	Goodput float64
	// ThrottledPerSuccess is the throttled attempts per successful call.
	ThrottledPerSuccess float64
	// AttemptsPerCall is the attempts sent per call.
	AttemptsPerCall float64
	// P50 and P99 are percentiles of the successful calls' latency;
	// FailP50 the median time a failed call took to fail.
	P50, P99, FailP50 time.Duration
	// Recovery is the time after the capacity returned until goodput
	// over one second reached 90% of what the service and the demand
	// allow; -1 if it never did. The window is a second long, so a
	// goodput that returned at once scores 1 s.
	Recovery time.Duration
	// Fairness is Jain's index of the clients' successful calls: 1 when
	// all got the same, 1/N when one got everything.
	Fairness float64
	// RefusedPerSecond counts the service's refusals in each second.
	RefusedPerSecond []int
}

func summarise(cfg Config, records []callRecord) Result {
	var r Result
	r.Calls = len(records)
	var ok, failed []time.Duration
	perClient := make([]float64, cfg.Clients)
	throttled, attempts := 0, 0
	const bin = 100 * time.Millisecond
	bins := make([]int, int(cfg.Duration/bin)+1)
	for _, rec := range records {
		attempts += rec.attempts
		throttled += rec.throttled
		if !rec.ok {
			r.Failed++
			failed = append(failed, rec.took)
			continue
		}
		r.Succeeded++
		ok = append(ok, rec.took)
		end := rec.start + rec.took
		if end < cfg.Duration {
			bins[end/bin]++
			perClient[rec.client]++
		}
	}
	// The capacity available: C outside the step, C/2 inside, and the
	// bucket the service starts with.
	available := cfg.Capacity*cfg.Duration.Seconds() - cfg.Capacity/2*(cfg.StepEnd-cfg.StepStart).Seconds() +
		cfg.Capacity*cfg.Burst
	done := 0
	for _, n := range bins {
		done += n
	}
	r.Goodput = float64(done) / available
	if r.Succeeded > 0 {
		r.ThrottledPerSuccess = float64(throttled) / float64(r.Succeeded)
	}
	if r.Calls > 0 {
		r.AttemptsPerCall = float64(attempts) / float64(r.Calls)
	}
	r.P50, r.P99 = percentile(ok, 0.5), percentile(ok, 0.99)
	r.FailP50 = percentile(failed, 0.5)
	r.Fairness = jain(perClient)

	// Recovery: the end of the first one-second window, from StepEnd on,
	// whose successes reach 90% of min(C, demand).
	target := 0.9 * min(cfg.Capacity, cfg.Demand*cfg.Capacity)
	r.Recovery = -1
	perWindow := int(time.Second / bin)
	for i := int(cfg.StepEnd / bin); i+perWindow <= len(bins); i++ {
		sum := 0
		for _, n := range bins[i : i+perWindow] {
			sum += n
		}
		if float64(sum) >= target {
			r.Recovery = time.Duration(i+perWindow)*bin - cfg.StepEnd
			break
		}
	}
	return r
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
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
