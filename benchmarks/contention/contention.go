// Package contention reproduces the simulation of Marc Brooker's
// "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015) with
// awsretry Retriers as the clients' retry loops.
//
// N clients start together and each makes one optimistic-concurrency update
// of one shared versioned record: read the version, then write
// conditionally on it. A write whose version is stale fails with a
// ConditionalCheckFailedException, which the client's Retrier retries after
// its backoff. Every message crosses a network whose one-way delay is
// |Normal(10 ms, 2 ms)|, so an attempt (read request, read response, write
// request, write response) takes about 40 ms. The simulation counts the
// writes the record receives (Brooker's "calls") and the time until the
// last client has succeeded (his "completion time").
//
// Run waits with package time: inside a testing/synctest bubble all of it
// runs in virtual time, so a sweep that covers hours of simulated backoff
// takes seconds of real time. Every random draw comes from a per-client
// PCG stream derived from the seed, so a run is reproducible.
package contention

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
)

// Policy is a backoff policy under test: awsretry's multiplier and jitter
// on top of the simulation's base and cap.
type Policy struct {
	// Name labels the policy in tables and charts.
	Name string
	// Backoff is the multiplier (WithBackoff); decorrelated jitter ignores it.
	Backoff float64
	// Jitter is the jitter mode (WithJitter).
	Jitter awsretry.Jitter
}

// Policies are the policies of the experiment, in the order they are
// reported: the Python awsretry's default multiplier 1.1 without jitter,
// Brooker's exponential doubling without jitter, and his three jittered
// variants.
var Policies = []Policy{
	{Name: "seed default (x1.1, no jitter)", Backoff: 1.1, Jitter: awsretry.JitterNone},
	{Name: "exponential x2, no jitter", Backoff: 2, Jitter: awsretry.JitterNone},
	{Name: "full jitter", Backoff: 2, Jitter: awsretry.JitterFull},
	{Name: "equal jitter", Backoff: 2, Jitter: awsretry.JitterEqual},
	{Name: "decorrelated jitter", Backoff: 2, Jitter: awsretry.JitterDecorrelated},
}

// Config describes one simulation run. The zero values of the durations
// stand for Brooker's parameters (see the constants).
type Config struct {
	// Clients is the number of clients, each making one update.
	Clients int
	// Policy is the backoff policy every client's Retrier uses.
	Policy Policy
	// Seed selects the random streams; equal configs give equal results.
	Seed uint64
	// NetMean and NetStdDev parametrise the one-way network delay,
	// |Normal(NetMean, NetStdDev)|. Zero means DefaultNetMean and
	// DefaultNetStdDev.
	NetMean, NetStdDev time.Duration
	// Base is the first wait (WithDelay) and Cap the longest wait
	// (WithMaxDelay). Zero means DefaultBase and DefaultCap.
	Base, Cap time.Duration
}

// Brooker's parameters.
const (
	// DefaultNetMean is the mean one-way network delay.
	DefaultNetMean = 10 * time.Millisecond
	// DefaultNetStdDev is the standard deviation of the network delay.
	DefaultNetStdDev = 2 * time.Millisecond
	// DefaultBase is the first wait.
	DefaultBase = 5 * time.Millisecond
	// DefaultCap is the longest wait.
	DefaultCap = 2 * time.Second
)

// maxTries bounds each client's attempts. It is far above what any policy
// needs at 190 clients, so that every client finishes; reaching it is an
// error.
const maxTries = 100_000

// Result is what one run measured.
type Result struct {
	// Calls is the number of writes the record received, successful or not.
	Calls int
	// Conflicts is the number of writes rejected for a stale version.
	Conflicts int
	// Completion is the time from the start until the last client succeeded.
	Completion time.Duration
}

// ErrConflict is the error of a write whose version is stale, shaped as
// DynamoDB reports a failed condition. The Retriers retry its code.
var ErrConflict error = &smithy.GenericAPIError{
	Code:    "ConditionalCheckFailedException",
	Message: "The conditional request failed",
	Fault:   smithy.FaultClient,
}

// record is the shared row: a version that each successful write increments.
type record struct {
	mu        sync.Mutex
	version   int
	calls     int
	conflicts int
}

func (r *record) read() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

// write stores a new version if version is still the current one.
func (r *record) write(version int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if version != r.version {
		r.conflicts++
		return false
	}
	r.version++
	return true
}

// network draws one-way delays for one client.
type network struct {
	rng       *rand.Rand
	mean, dev float64
}

func (n *network) delay() time.Duration {
	return time.Duration(math.Abs(n.rng.NormFloat64()*n.dev + n.mean))
}

// Run simulates cfg. It returns an error if a client could not complete
// its update within maxTries attempts or ctx ended. Call it inside a
// testing/synctest bubble: outside one its waits are real.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Clients < 1 {
		return Result{}, fmt.Errorf("contention: %d clients", cfg.Clients)
	}
	rec := &record{}
	start := time.Now()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		last     time.Time
		firstErr error
	)
	for id := range cfg.Clients {
		r, net, err := cfg.client(id)
		if err != nil {
			return Result{}, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.Do(ctx, func(context.Context) error { return update(rec, net) })
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("contention: client %d: %w", id, err)
			}
			if now := time.Now(); now.After(last) {
				last = now
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return Result{}, firstErr
	}
	return Result{Calls: rec.calls, Conflicts: rec.conflicts, Completion: last.Sub(start)}, nil
}

// update is one attempt: read the version, then write conditionally on it.
func update(rec *record, net *network) error {
	time.Sleep(net.delay()) // read request
	v := rec.read()
	time.Sleep(net.delay()) // read response
	time.Sleep(net.delay()) // write request
	ok := rec.write(v)
	time.Sleep(net.delay()) // write response
	if !ok {
		return ErrConflict
	}
	return nil
}

func (cfg Config) withDefaults() Config {
	if cfg.NetMean == 0 {
		cfg.NetMean = DefaultNetMean
	}
	if cfg.NetStdDev == 0 {
		cfg.NetStdDev = DefaultNetStdDev
	}
	if cfg.Base == 0 {
		cfg.Base = DefaultBase
	}
	if cfg.Cap == 0 {
		cfg.Cap = DefaultCap
	}
	return cfg
}

// conflictRules retry the conditional-write conflicts of the simulation,
// and nothing else.
var conflictRules = awsretry.AWSRules{Codes: []string{"ConditionalCheckFailedException"}}

// client builds client id's Retrier and network, each with its own random
// stream, so that the draws of one client do not depend on the order in
// which goroutines run.
func (cfg Config) client(id int) (*awsretry.Retrier, *network, error) {
	jitter := rand.New(rand.NewPCG(cfg.Seed, uint64(2*id)))
	conflicts, err := awsretry.NewAWSClassifier(conflictRules)
	if err != nil {
		return nil, nil, err
	}
	r, err := awsretry.New(
		awsretry.WithTries(maxTries),
		awsretry.WithDelay(cfg.Base),
		awsretry.WithMaxDelay(cfg.Cap),
		awsretry.WithBackoff(cfg.Policy.Backoff),
		awsretry.WithJitter(cfg.Policy.Jitter),
		// Each Retrier serves one goroutine, so an unlocked source is safe.
		awsretry.WithRandom(jitter),
		awsretry.WithClassifier(conflicts),
	)
	if err != nil {
		return nil, nil, err
	}
	net := &network{
		rng:  rand.New(rand.NewPCG(cfg.Seed, uint64(2*id+1))),
		mean: float64(cfg.NetMean),
		dev:  float64(cfg.NetStdDev),
	}
	return r, net, nil
}
