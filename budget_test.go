package awsretry_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

func TestBudgetDefaults(t *testing.T) {
	b := mustTokenBucket(awsretry.TokenBucketConfig{})
	if b.Tokens() != 500 {
		t.Errorf("tokens %d, want a full 500", b.Tokens())
	}
	// One retry of each class, then success: the last retry's cost comes back.
	for _, tt := range []struct {
		code string
		cost int
	}{
		{"ThrottlingException", 5},        // throttle
		{"InternalError", 14},             // transient
		{"InvalidInstanceID.NotFound", 5}, // eventual consistency
	} {
		b := mustTokenBucket(awsretry.TokenBucketConfig{})
		op, _ := failing(apiError(tt.code, 400), apiError(tt.code, 400))
		var during []int
		r := awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(awsretrytest.NewClock()),
			awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { during = append(during, b.Tokens()) }))
		if err := r.Do(context.Background(), func(context.Context) error { return op() }); err != nil {
			t.Fatal(err)
		}
		if want := []int{500 - tt.cost, 500 - 2*tt.cost}; len(during) != 2 || during[0] != want[0] || during[1] != want[1] {
			t.Errorf("%s: tokens during the retries %v, want %v", tt.code, during, want)
		}
		if got := b.Tokens(); got != 500-tt.cost {
			t.Errorf("%s: %d tokens after success, want %d (the last retry's cost refunded)", tt.code, got, 500-tt.cost)
		}
	}
}

func TestBudgetRewardNeverAboveCapacity(t *testing.T) {
	b := mustTokenBucket(awsretry.TokenBucketConfig{Capacity: 10, Reward: 3})
	r := awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(awsretrytest.NewClock()))
	op, _ := failing(apiError("ThrottlingException", 400)) // takes 5, refunds 5
	_ = r.Do(context.Background(), func(context.Context) error { return op() })
	if b.Tokens() != 10 {
		t.Fatalf("%d tokens, want 10", b.Tokens())
	}
	// Drain 5, then first-try successes add 3, 3 (capped at 10).
	op, _ = failing(apiError("ThrottlingException", 400), apiError("ThrottlingException", 400), errPlain)
	_ = r.Do(context.Background(), func(context.Context) error { return op() })
	if b.Tokens() != 0 {
		t.Fatalf("%d tokens after two retries and a failure, want 0", b.Tokens())
	}
	for _, want := range []int{3, 6, 9, 10, 10} {
		_ = r.Do(context.Background(), func(context.Context) error { return nil })
		if b.Tokens() != want {
			t.Errorf("%d tokens, want %d", b.Tokens(), want)
		}
	}
}

func TestBudgetStopsRetries(t *testing.T) {
	b := mustTokenBucket(awsretry.TokenBucketConfig{Capacity: 12})
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(clk))
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error { calls++; return apiError("RequestLimitExceeded", 503) })
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonBudget || calls != 3 || rerr.Attempts != 3 {
		t.Fatalf("Do = %v after %d calls, want budget after 3 attempts (12 tokens pay two retries of 5)", err, calls)
	}
	if !strings.Contains(err.Error(), "retry budget exhausted") || len(clk.Sleeps()) != 2 || b.Tokens() != 2 {
		t.Errorf("err %q, waits %v, tokens %d", err, clk.Sleeps(), b.Tokens())
	}
	b = mustTokenBucket(awsretry.TokenBucketConfig{Capacity: 1, Costs: map[awsretry.Class]int{awsretry.ClassThrottle: 0}})
	calls = 0
	_ = awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(awsretrytest.NewClock())).Do(context.Background(),
		func(context.Context) error { calls++; return apiError("RequestLimitExceeded", 503) })
	if calls != 10 {
		t.Errorf("free throttle retries: %d calls, want 10", calls)
	}
}

func TestInvalidTokenBucketConfig(t *testing.T) {
	for _, tt := range []struct {
		config awsretry.TokenBucketConfig
		want   string
	}{
		{awsretry.TokenBucketConfig{Capacity: -1}, "TokenBucketConfig.Capacity (-1)"},
		{awsretry.TokenBucketConfig{Costs: map[awsretry.Class]int{awsretry.ClassTransient: -1}}, "TokenBucketConfig.Costs (transient: -1)"},
		{awsretry.TokenBucketConfig{Costs: map[awsretry.Class]int{awsretry.Class(7): 1}}, "TokenBucketConfig.Costs (Class(7))"},
		{awsretry.TokenBucketConfig{Reward: -2}, "TokenBucketConfig.Reward (-2)"},
	} {
		if _, err := awsretry.NewTokenBucket(tt.config); err == nil || !strings.HasPrefix(err.Error(), "awsretry: NewTokenBucket: "+tt.want+": ") {
			t.Errorf("NewTokenBucket = %v, want an error naming %s", err, tt.want)
		}
	}
	if _, err := awsretry.New(awsretry.WithBudget(nil)); err == nil {
		t.Error("WithBudget(nil) accepted")
	}
}

// mustBudget returns a Budget of a valid config.
func mustTokenBucket(c awsretry.TokenBucketConfig) *awsretry.Budget {
	b, err := awsretry.NewTokenBucket(c)
	if err != nil {
		panic(err)
	}
	return b
}

// overload runs calls through r from goroutines, each call against a
// dependency that throttles while healthy is false, and returns the
// attempts made.
func overload(r *awsretry.Retrier, goroutines, calls int, healthy *atomic.Bool) int64 {
	var attempts atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for next.Add(1) <= int64(calls) {
				_ = r.Do(context.Background(), func(context.Context) error {
					attempts.Add(1)
					if healthy.Load() {
						return nil
					}
					return apiError("RequestLimitExceeded", 503)
				})
			}
		})
	}
	wg.Wait()
	return attempts.Load()
}

// TestOverloadAmplification: a dependency that throttles every call, 50
// goroutines, 10,000 calls. Without a budget every call makes 10 attempts;
// with the default budget the bucket drains after 100 retries and the
// amplification falls to about 1. When the dependency heals, first-try
// successes refill the bucket.
func TestOverloadAmplification(t *testing.T) {
	const goroutines, calls = 50, 10_000
	var healthy atomic.Bool
	free := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	unbounded := float64(overload(free, goroutines, calls, &healthy)) / calls

	b := mustTokenBucket(awsretry.TokenBucketConfig{})
	bounded := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithBudget(b))
	amplification := float64(overload(bounded, goroutines, calls, &healthy)) / calls
	t.Logf("amplification (attempts per call): %.3f without a budget, %.4f with the default budget", unbounded, amplification)
	if unbounded != 10 {
		t.Errorf("without a budget: %.3f attempts per call, want 10", unbounded)
	}
	if amplification > 1.1 {
		t.Errorf("with the default budget: %.4f attempts per call, want at most 1.1", amplification)
	}
	if b.Tokens() >= 5 {
		t.Errorf("%d tokens left after the outage, want fewer than one retry's cost", b.Tokens())
	}

	healthy.Store(true)
	healed := float64(overload(bounded, goroutines, 1000, &healthy)) / 1000
	t.Logf("after healing: %.3f attempts per call, %d of %d tokens", healed, b.Tokens(), 500)
	if healed != 1 || b.Tokens() != 500 {
		t.Errorf("after 1000 first-try successes: %.3f attempts per call, %d tokens; want 1 and a full bucket", healed, b.Tokens())
	}
}

// TestTenThousandGoroutinesShareARetrierAndABudget: each call fails once
// and then succeeds; a retry takes 5 tokens and its success gives them
// back, so however the goroutines interleave, the bucket ends full, and
// each call either succeeded or was refused by the budget.
func TestTenThousandGoroutinesShareARetrierAndABudget(t *testing.T) {
	b := mustTokenBucket(awsretry.TokenBucketConfig{})
	r := awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithJitter(awsretry.JitterFull))
	var wg sync.WaitGroup
	var succeeded, refused atomic.Int64
	for range 10_000 {
		wg.Go(func() {
			op, _ := failing(apiError("ThrottlingException", 400))
			err := r.Do(context.Background(), func(context.Context) error { return op() })
			var rerr *awsretry.RetryError
			switch {
			case err == nil:
				succeeded.Add(1)
			case errors.As(err, &rerr) && rerr.Reason == awsretry.ReasonBudget:
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if succeeded.Load()+refused.Load() != 10_000 || b.Tokens() != 500 {
		t.Errorf("%d succeeded, %d refused, %d tokens; want 10000 in all and a full bucket",
			succeeded.Load(), refused.Load(), b.Tokens())
	}
}

// BenchmarkBudgetParallel measures contention on one Budget: every call
// retries once and succeeds, taking and refunding tokens. Compare with
// BenchmarkNoBudgetParallel.
func BenchmarkBudgetParallel(b *testing.B) {
	benchmarkRetryOnceParallel(b, awsretry.WithBudget(mustTokenBucket(awsretry.TokenBucketConfig{})))
}

// BenchmarkNoBudgetParallel is BenchmarkBudgetParallel without a budget.
func BenchmarkNoBudgetParallel(b *testing.B) { benchmarkRetryOnceParallel(b) }

func benchmarkRetryOnceParallel(b *testing.B, opts ...awsretry.Option) {
	throttled := apiError("ThrottlingException", 400)
	r := awsretry.MustNew(append(opts, awsretry.WithDelay(0), awsretry.WithClock(zeroClock{}))...)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			failed := false
			_ = r.Do(context.Background(), func(context.Context) error {
				if !failed {
					failed = true
					return throttled
				}
				return nil
			})
		}
	})
}

// zeroClock is a Clock whose waits take no time and record nothing.
type zeroClock struct{}

func (zeroClock) Now() time.Time                                   { return awsretrytest.Epoch }
func (zeroClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func TestNilBudgetTokens(t *testing.T) {
	var b *awsretry.Budget
	if n := b.Tokens(); n != 0 {
		t.Errorf("a nil Budget's Tokens() = %d, want 0", n)
	}
}

// TestBudgetAtExtremes: capacities, costs and rewards up to math.MaxInt
// (a natural "practically unlimited") neither overflow nor refuse what the
// bucket can pay. Each case makes the calls of ops in turn (a throttled
// attempt retried once, or a first-try success) and checks the tokens
// after each.
func TestBudgetAtExtremes(t *testing.T) {
	const huge = math.MaxInt
	retryOnce := func(r *awsretry.Retrier) error {
		op, _ := failing(apiError("ThrottlingException", 400))
		return r.Do(context.Background(), func(context.Context) error { return op() })
	}
	firstTry := func(r *awsretry.Retrier) error {
		return r.Do(context.Background(), func(context.Context) error { return nil })
	}
	drain := func(r *awsretry.Retrier) error { // two retries paid, then a failure: nothing back
		op, _ := failing(apiError("ThrottlingException", 400), apiError("ThrottlingException", 400), errPlain)
		return r.Do(context.Background(), func(context.Context) error { return op() })
	}
	type step struct {
		name string
		do   func(*awsretry.Retrier) error
		want int // tokens after it
	}
	for _, tt := range []struct {
		name   string
		config awsretry.TokenBucketConfig
		steps  []step
	}{
		{"Capacity MaxInt", awsretry.TokenBucketConfig{Capacity: huge}, []step{
			{"first-try success", firstTry, huge},
			{"a retry, refunded", retryOnce, huge},
			{"first-try success", firstTry, huge},
		}},
		{"Reward MaxInt", awsretry.TokenBucketConfig{Reward: huge}, []step{
			{"first-try success at full", firstTry, 500},
			{"two retries and a failure", drain, 490},
			{"first-try success", firstTry, 500},
		}},
		{"Capacity and Reward MaxInt", awsretry.TokenBucketConfig{Capacity: huge, Reward: huge}, []step{
			{"first-try success at full", firstTry, huge},
			{"two retries and a failure", drain, huge - 10},
			{"first-try success", firstTry, huge},
		}},
		{"Capacity and cost MaxInt", awsretry.TokenBucketConfig{Capacity: huge, Costs: map[awsretry.Class]int{awsretry.ClassThrottle: huge}}, []step{
			{"a retry, refunded", retryOnce, huge},
			{"first-try success at full", firstTry, huge},
		}},
	} {
		b := mustTokenBucket(tt.config)
		r := awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(awsretrytest.NewClock()))
		for i, s := range tt.steps {
			err := s.do(r)
			if err != nil && !errors.Is(err, errPlain) {
				t.Errorf("%s, step %d (%s): %v", tt.name, i+1, s.name, err)
			}
			if got := b.Tokens(); got != s.want {
				t.Errorf("%s, step %d (%s): %d tokens, want %d", tt.name, i+1, s.name, got, s.want)
			}
		}
	}

	// A cost of MaxInt is more than a bucket of 500 can pay: refused,
	// taking nothing; a bucket of MaxInt pays it once, and then nothing.
	b := mustTokenBucket(awsretry.TokenBucketConfig{Costs: map[awsretry.Class]int{awsretry.ClassThrottle: huge}})
	err := retryOnce(awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(awsretrytest.NewClock())))
	var re *awsretry.RetryError
	if !errors.As(err, &re) || re.Reason != awsretry.ReasonBudget || b.Tokens() != 500 {
		t.Errorf("a retry costing MaxInt from 500 tokens: %v, %d tokens; want a refusal of reason budget and 500", err, b.Tokens())
	}
	b = mustTokenBucket(awsretry.TokenBucketConfig{Capacity: huge, Costs: map[awsretry.Class]int{awsretry.ClassThrottle: huge}})
	var during []int
	r := awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(awsretrytest.NewClock()),
		awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { during = append(during, b.Tokens()) }))
	calls := 0
	err = r.Do(context.Background(), func(context.Context) error { calls++; return apiError("ThrottlingException", 400) })
	if !errors.As(err, &re) || re.Reason != awsretry.ReasonBudget || calls != 2 || len(during) != 1 || during[0] != 0 || b.Tokens() != 0 {
		t.Errorf("retries costing MaxInt from MaxInt tokens: %v after %d calls, tokens during %v, %d after; want one retry paid (0 left), the next refused",
			err, calls, during, b.Tokens())
	}
}
