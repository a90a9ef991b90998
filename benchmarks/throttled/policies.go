package throttled

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsretry/awsretry"
)

// lockedRandom is a seeded source safe for the concurrent calls of one
// client.
type lockedRandom struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func (l *lockedRandom) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.Float64()
}

func (l *lockedRandom) NormFloat64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.NormFloat64()
}

func jitterSource(id int, seed uint64) *lockedRandom {
	return &lockedRandom{rng: rand.New(rand.NewPCG(seed, uint64(3*id+2)))}
}

// awsretryPolicy is a process whose calls run in r.Do, with one Retrier
// for the process.
func awsretryPolicy(name string, opts func(id int, seed uint64) []awsretry.Option) Policy {
	return Policy{Name: name, New: func(id int, seed uint64) (Client, error) {
		r, err := awsretry.New(opts(id, seed)...)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, attempt func(context.Context) error) error { return r.Do(ctx, attempt) }, nil
	}}
}

// fullJitter is exponential backoff from 100 ms, doubling, capped at 20 s
// (the SDK's cap), with full jitter.
func fullJitter(id int, seed uint64) []awsretry.Option {
	return []awsretry.Option{awsretry.WithDelay(100 * time.Millisecond), awsretry.WithBackoff(2),
		awsretry.WithMaxDelay(20 * time.Second), awsretry.WithJitter(awsretry.JitterFull),
		awsretry.WithRandom(jitterSource(id, seed))}
}

// sdkPolicy is a client whose calls run through aws-sdk-go-v2's own retry
// middleware with the retryer newRetryer makes, one per process: the same
// loop, token buckets, sleeps and clock reads as in a real client (the
// SDK reads time.Now and sleeps on timers, which the bubble fakes).
func sdkPolicy(name string, newRetryer func() aws.RetryerV2) Policy {
	return Policy{Name: name, New: func(int, uint64) (Client, error) {
		attemptMiddleware := retry.NewAttemptMiddleware(newRetryer(), func(r interface{}) interface{} { return r })
		return func(ctx context.Context, attempt func(context.Context) error) error {
			_, _, err := attemptMiddleware.HandleFinalize(ctx, middleware.FinalizeInput{Request: struct{}{}},
				middleware.FinalizeHandlerFunc(func(ctx context.Context, _ middleware.FinalizeInput) (
					middleware.FinalizeOutput, middleware.Metadata, error,
				) {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, attempt(ctx)
				}))
			return err
		}, nil
	}}
}

// Policies are the policies compared, in the order they are reported.
var Policies = []Policy{
	awsretryPolicy("awsretry default", func(int, uint64) []awsretry.Option { return nil }),
	awsretryPolicy("awsretry full jitter", fullJitter),
	awsretryPolicy("awsretry full jitter + Budget", func(id int, seed uint64) []awsretry.Option {
		budget, _ := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{})
		return append(fullJitter(id, seed), awsretry.WithBudget(budget))
	}),
	awsretryPolicy("awsretry Limiter", func(id int, seed uint64) []awsretry.Option {
		budget, _ := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{})
		return append(fullJitter(id, seed), awsretry.WithBudget(budget), awsretry.WithLimiter(new(awsretry.Limiter)))
	}),
	sdkPolicy("SDK standard", func() aws.RetryerV2 { return retry.NewStandard() }),
	sdkPolicy("SDK adaptive", func() aws.RetryerV2 { return retry.NewAdaptiveMode() }),
	sdkPolicy("SDK adaptive, fail fast", func() aws.RetryerV2 {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) { o.FailOnNoAttemptTokens = true })
	}),
}
