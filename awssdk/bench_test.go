package awssdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/examples/awsfake"
)

// noBackoff waits nothing between attempts, so that the benchmark measures
// the retry machinery, not the schedule.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// BenchmarkThrottledTwice is one DynamoDB GetItem against a local endpoint
// that throttles it twice, then answers: three attempts, no waits, with the
// SDK's standard retryer and with a Retrier through the adapter.
func BenchmarkThrottledTwice(b *testing.B) {
	srv := awsfake.NewServer()
	defer srv.Close()
	// The retry buckets are large enough never to run dry here: each call
	// takes two retries' cost and gives back one.
	standard := func(limiter retry.RateLimiter) aws.Config {
		cfg := awsfake.Config(srv.URL)
		cfg.RetryMaxAttempts = 0
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts, o.Backoff, o.RateLimiter = 3, noBackoff{}, limiter
			})
		}
		return cfg
	}
	budget, err := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{Capacity: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		cfg  aws.Config
	}{
		{"retry budget=none/retryer=standard", standard(ratelimit.None)},
		{"retry budget=none/retryer=adapter", adapterConfig(b, srv.URL, awsretry.MustNew(awsretry.WithTries(3), awsretry.WithDelay(0)))},
		{"retry budget=bucket/retryer=standard", standard(ratelimit.NewTokenRateLimit(1 << 40))},
		{"retry budget=bucket/retryer=adapter", adapterConfig(b, srv.URL,
			awsretry.MustNew(awsretry.WithTries(3), awsretry.WithDelay(0), awsretry.WithBudget(budget)))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			clients := awsfake.NewClients(bc.cfg)
			throttled := awsfake.Reply{Status: 400, Code: "ThrottlingException"}
			b.ReportAllocs()
			for b.Loop() {
				srv.Script("dynamodb:GetItem", throttled, throttled)
				if err := clients.Call(context.Background(), "dynamodb:GetItem"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRunInstances is one EC2 RunInstances against a local endpoint
// that answers at once: through the SDK alone (its standard retryer,
// filling the token), and inside Do around a client configured with
// InsideDo (the token pinned to the Do call's Scope): the cost of making
// the call safe to retry around.
func BenchmarkRunInstances(b *testing.B) {
	srv := awsfake.NewServer()
	defer srv.Close()
	sdk := awsfake.Config(srv.URL)
	sdk.RetryMaxAttempts = 0
	r := awsretry.MustNew(awsretry.WithScope())
	for _, bc := range []struct {
		name string
		call func(context.Context, awsfake.Clients) error
		cfg  aws.Config
	}{
		{"SDK alone", func(ctx context.Context, c awsfake.Clients) error { return c.Call(ctx, "ec2:RunInstances") }, sdk},
		{"Do with InsideDo", func(ctx context.Context, c awsfake.Clients) error {
			return r.Do(ctx, func(ctx context.Context) error { return c.Call(ctx, "ec2:RunInstances") })
		}, insideDo(b, srv.URL)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			clients := awsfake.NewClients(bc.cfg)
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.call(context.Background(), clients); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
