package awsretry_test

import (
	"context"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// BenchmarkDoFirstTrySuccess measures Do's overhead when the operation
// succeeds at once: the common case, paid on every call.
func BenchmarkDoFirstTrySuccess(b *testing.B) {
	r := awsretry.MustNew()
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Do(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDoFirstTrySuccessLimiter is BenchmarkDoFirstTrySuccess with a
// Limiter that has seen no throttle, as at half the service's capacity:
// the cost of WithLimiter when it limits nothing. "parallel" shares the
// Limiter between GOMAXPROCS goroutines.
func BenchmarkDoFirstTrySuccessLimiter(b *testing.B) {
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	b.Run("serial", func(b *testing.B) {
		r := awsretry.MustNew(awsretry.WithLimiter(new(awsretry.Limiter)))
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Do(ctx, op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		for _, name := range []string{"none", "limiter"} {
			b.Run(name, func(b *testing.B) {
				var opts []awsretry.Option
				if name == "limiter" {
					opts = append(opts, awsretry.WithLimiter(new(awsretry.Limiter)))
				}
				r := awsretry.MustNew(opts...)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := r.Do(ctx, op); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	})
}

// BenchmarkDoExhaustedFakeClock runs the seed's whole default schedule
// (10 attempts, 9 waits, 40.7s of backoff) to exhaustion under the fake
// clock.
func BenchmarkDoExhaustedFakeClock(b *testing.B) {
	ctx := context.Background()
	throttled := apiError("RequestLimitExceeded", 503)
	op := func(context.Context) error { return throttled }
	b.ReportAllocs()
	for b.Loop() {
		r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
		if err := r.Do(ctx, op); err == nil {
			b.Fatal("Do succeeded")
		}
	}
}

// BenchmarkClassify measures the default classifier on an SDK-wrapped error.
func BenchmarkClassify(b *testing.B) {
	c := awsretry.DefaultClassifier()
	err := apiError("InvalidInstanceID.NotFound", 400)
	b.ReportAllocs()
	for b.Loop() {
		if !c.Classify(err).Retryable {
			b.Fatal("not retryable")
		}
	}
}

// BenchmarkDoThreeAttempts: two throttling errors, then success, with the
// global no-op providers and zero waits: the loop's cost on failures.
func BenchmarkDoThreeAttempts(b *testing.B) {
	benchmarkThrottledTwice(b, awsretry.MustNew(awsretry.WithDelay(0), awsretry.WithClock(awsretrytest.NewClock())))
}

// BenchmarkDoThreeAttemptsRealClock: two throttling errors, then success,
// with real waits of 1ns: the real clock's cost per wait.
func BenchmarkDoThreeAttemptsRealClock(b *testing.B) {
	benchmarkThrottledTwice(b, awsretry.MustNew(awsretry.WithDelay(time.Nanosecond), awsretry.WithBackoff(1)))
}

// benchmarkThrottledTwice runs calls through r that are throttled twice,
// then succeed.
func benchmarkThrottledTwice(b *testing.B, r *awsretry.Retrier) {
	ctx := context.Background()
	throttled := apiError("RequestLimitExceeded", 503)
	b.ReportAllocs()
	for b.Loop() {
		calls := 0
		if err := r.Do(ctx, func(context.Context) error {
			calls++
			if calls < 3 {
				return throttled
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}
