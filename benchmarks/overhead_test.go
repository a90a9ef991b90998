package benchmarks

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	avast "github.com/avast/retry-go/v4"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretrysdk "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	sethvargo "github.com/sethvargo/go-retry"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/awsretry/awsretry"
)

// The policy every library runs: at most 10 attempts, exponential backoff
// doubling from the scenario's wait and capped at it, no jitter; so every
// wait is 0 or 1 ns. With 0, each library shows what it does with a zero
// wait; with 1 ns, each takes its real waiting path (a timer), and the
// timer has always expired by the time it is waited on. Either way the
// loop is measured, not a sleep.
const maxAttempts = 10

// throttled is the error every failed attempt returns, in every library:
// the shape of an AWS throttling error. awsretry and the SDK classify it
// by its code; the other libraries retry any error.
var throttled error = &smithy.GenericAPIError{
	Code:    "RequestLimitExceeded",
	Message: "Request limit exceeded.",
	Fault:   smithy.FaultServer,
}

// operation is the operation retried: it fails with throttled `failures`
// times, then succeeds; with failures < 0 it always fails.
type operation struct {
	failures int
	calls    int
}

func (o *operation) call() error {
	o.calls++
	if o.failures < 0 || o.calls <= o.failures {
		return throttled
	}
	return nil
}

// scenario is one of the operations of the comparison: (a) first-try
// success, (b) three failures then success, (c) exhaustion after 10
// attempts; (b) and (c) with waits of 0 and of 1 ns. (a) builds the 1 ns
// policies, which some libraries build per call.
type scenario struct {
	name      string
	failures  int
	wait      time.Duration
	wantCalls int
	wantErr   bool
}

var scenarios = []scenario{
	{name: "success", failures: 0, wait: time.Nanosecond, wantCalls: 1},
	{name: "3fail-wait0", failures: 3, wantCalls: 4},
	{name: "3fail-wait1ns", failures: 3, wait: time.Nanosecond, wantCalls: 4},
	{name: "exhausted-wait0", failures: -1, wantCalls: maxAttempts, wantErr: true},
	{name: "exhausted-wait1ns", failures: -1, wait: time.Nanosecond, wantCalls: maxAttempts, wantErr: true},
}

// library builds, once per benchmark, a function that makes one retried
// call of op. Whatever a library lets us build once is built here; what
// it needs per call is built in the returned function.
type library struct {
	name  string
	build func(tb testing.TB, op *operation, wait time.Duration) func() error
}

var libraries = []library{
	{"awsretry", buildAWSRetry},
	{"awsretry-otel", buildAWSRetryRecording},
	{"cenkalti", buildCenkalti},
	{"avast", buildAvast},
	{"sethvargo", buildSethvargo},
	{"failsafe", buildFailsafe},
	{"awssdk", buildAWSSDK},
}

func awsretryOptions(wait time.Duration) []awsretry.Option {
	return []awsretry.Option{
		awsretry.WithTries(maxAttempts),
		awsretry.WithDelay(wait),
		awsretry.WithBackoff(2),
		awsretry.WithMaxDelay(wait),
	}
}

// buildAWSRetry: the default classifier, the real clock and no
// OpenTelemetry SDK (the global no-op providers), as a user who configures
// no telemetry gets.
func buildAWSRetry(tb testing.TB, op *operation, wait time.Duration) func() error {
	r := awsretry.MustNew(awsretryOptions(wait)...)
	return awsretryCall(r, op)
}

// buildAWSRetryRecording: as buildAWSRetry with the OpenTelemetry SDK
// recording: every span sampled and recorded (no exporter), metrics
// aggregated by a ManualReader that is never collected.
func buildAWSRetryRecording(tb testing.TB, op *operation, wait time.Duration) func() error {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tb.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	r := awsretry.MustNew(append(awsretryOptions(wait),
		awsretry.WithTracerProvider(tp), awsretry.WithMeterProvider(mp))...)
	return awsretryCall(r, op)
}

func awsretryCall(r *awsretry.Retrier, op *operation) func() error {
	ctx := context.Background()
	fn := func(context.Context) error { return op.call() }
	return func() error { return r.Do(ctx, fn) }
}

// buildCenkalti: backoff.ExponentialBackOff is stateful and not safe for
// concurrent use, so each call gets a new one, as concurrent callers must.
// Retry also allocates its own default ExponentialBackOff and timer on
// every call, whatever options it is given.
func buildCenkalti(tb testing.TB, op *operation, wait time.Duration) func() error {
	ctx := context.Background()
	fn := func() (struct{}, error) { return struct{}{}, op.call() }
	return func() error {
		b := &backoff.ExponentialBackOff{InitialInterval: wait, Multiplier: 2, MaxInterval: wait}
		_, err := backoff.Retry(ctx, fn, backoff.WithBackOff(b), backoff.WithMaxTries(maxAttempts))
		return err
	}
}

// buildAvast: the options are built once; Do builds its configuration from
// them on every call. LastErrorOnly returns the last error, as the other
// libraries do, instead of the list of all errors. BackOffDelay turns a
// zero delay into 1 ns, so the zero wait uses FixedDelay.
func buildAvast(tb testing.TB, op *operation, wait time.Duration) func() error {
	delayType := avast.BackOffDelay
	if wait == 0 {
		delayType = avast.FixedDelay
	}
	opts := []avast.Option{
		avast.Attempts(maxAttempts),
		avast.Delay(wait),
		avast.MaxDelay(wait),
		avast.DelayType(delayType),
		avast.LastErrorOnly(true),
		avast.Context(context.Background()),
	}
	fn := op.call
	return func() error { return avast.Do(fn, opts...) }
}

// buildSethvargo: the library's backoffs count attempts inside, so each
// call builds its own chain, as concurrent callers must. An error is
// retried only if wrapped with RetryableError: the wrapped error is made
// once, so the wrapping costs nothing per attempt. NewExponential panics
// on a zero base, so the zero wait uses a BackoffFunc that returns 0.
func buildSethvargo(tb testing.TB, op *operation, wait time.Duration) func() error {
	ctx := context.Background()
	retryable := sethvargo.RetryableError(throttled)
	fn := func(context.Context) error {
		if op.call() != nil {
			return retryable
		}
		return nil
	}
	return func() error {
		var next sethvargo.Backoff = sethvargo.BackoffFunc(func() (time.Duration, bool) { return 0, false })
		if wait > 0 {
			next = sethvargo.WithCappedDuration(wait, sethvargo.NewExponential(wait))
		}
		return sethvargo.Do(ctx, sethvargo.WithMaxRetries(maxAttempts-1, next), fn)
	}
}

// buildFailsafe: the policy and the executor are built once and shared;
// failsafe-go makes the per-call state itself.
func buildFailsafe(tb testing.TB, op *operation, wait time.Duration) func() error {
	policy := retrypolicy.NewBuilder[any]().
		WithMaxAttempts(maxAttempts).
		WithBackoff(wait, wait).
		ReturnLastFailure().
		Build()
	exec := failsafe.With[any](policy)
	fn := op.call
	return func() error { return exec.Run(fn) }
}

// buildAWSSDK runs the retry decisions of aws-sdk-go-v2's Standard retryer
// (MaxAttempts 10, the default retryables, throttles and backoff) in the
// loop its retry middleware (aws/retry.Attempt) runs: GetAttemptToken
// before the first attempt, the release of the previous retry token and
// of the attempt token after each attempt, IsErrorRetryable, the
// MaxAttemptsError after the last attempt, GetRetryToken on the token
// bucket, RetryDelay, and a sleep on a new timer as sdk.SleepWithContext
// does. Not measured: the rest of the middleware (request cloning, context
// values, spans, metrics, attempt results), so this is a lower bound of
// the SDK's cost.
//
// Differences, each forced by the SDK's API: the middleware's later
// attempts find their number in the context (an unexported key) and get a
// no-op attempt token, so only the first attempt calls GetAttemptToken
// here; RetryDelay's value (rand*2^attempt seconds, up to 20 s) is
// computed but the sleep is the scenario's, like every other library's; the token
// bucket holds 2^62 tokens instead of 500, so that millions of failing
// calls in a row do not empty it (the bucket's locking is measured all the
// same).
func buildAWSSDK(tb testing.TB, op *operation, wait time.Duration) func() error {
	s := awsretrysdk.NewStandard(func(o *awsretrysdk.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.RateLimiter = ratelimit.NewTokenRateLimit(math.MaxInt64 / 2)
	})
	ctx := context.Background()
	nop := func(error) error { return nil }
	return func() error {
		releaseRetryToken := nop
		for attempt := 1; ; attempt++ {
			releaseAttemptToken := nop
			if attempt == 1 {
				var err error
				if releaseAttemptToken, err = s.GetAttemptToken(ctx); err != nil {
					return err
				}
			}
			err := op.call()
			_ = releaseRetryToken(err)
			_ = releaseAttemptToken(err)
			if err == nil {
				return nil
			}
			if !s.IsErrorRetryable(err) {
				return err
			}
			if attempt >= s.MaxAttempts() {
				return &awsretrysdk.MaxAttemptsError{Attempt: attempt, Err: err}
			}
			var tokenErr error
			if releaseRetryToken, tokenErr = s.GetRetryToken(ctx, err); tokenErr != nil {
				return errors.Join(err, tokenErr)
			}
			if _, err := s.RetryDelay(attempt, err); err != nil {
				return err
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
}

// sleep is aws-sdk-go-v2's internal sdk.SleepWithContext.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// BenchmarkOverhead measures one retried call in each library, for each
// scenario. The names are op=SCENARIO/lib=LIBRARY, for benchstat's
// -row /op -col /lib.
func BenchmarkOverhead(b *testing.B) {
	for _, sc := range scenarios {
		for _, lib := range libraries {
			b.Run("op="+sc.name+"/lib="+lib.name, func(b *testing.B) {
				op := &operation{failures: sc.failures}
				call := lib.build(b, op, sc.wait)
				b.ReportAllocs()
				for b.Loop() {
					op.calls = 0
					err := call()
					if (err != nil) != sc.wantErr || op.calls != sc.wantCalls {
						b.Fatalf("%d calls, error %v; want %d calls, error %t", op.calls, err, sc.wantCalls, sc.wantErr)
					}
				}
			})
		}
	}
}

// TestOverheadScenarios checks, in short mode too, that every library
// runs every scenario as intended: the number of calls, success or
// failure, and the error returned after exhaustion is the operation's.
func TestOverheadScenarios(t *testing.T) {
	for _, sc := range scenarios {
		for _, lib := range libraries {
			t.Run(sc.name+"/"+lib.name, func(t *testing.T) {
				op := &operation{failures: sc.failures}
				call := lib.build(t, op, sc.wait)
				for range 3 { // state must not leak from one call to the next
					op.calls = 0
					err := call()
					if op.calls != sc.wantCalls {
						t.Errorf("%d calls, want %d", op.calls, sc.wantCalls)
					}
					if (err != nil) != sc.wantErr {
						t.Fatalf("error %v, want error: %t", err, sc.wantErr)
					}
					if err != nil && !errors.Is(err, throttled) {
						t.Errorf("error %v does not wrap the operation's error", err)
					}
				}
			})
		}
	}
}
