package awssdk_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/awssdk"
	"github.com/awsretry/awsretry/examples/awsfake"
	"github.com/awsretry/awsretry/telemetry"
)

// meter is a real OpenTelemetry metrics SDK read by hand.
type meter struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newMeter(t *testing.T) meter {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return meter{reader, mp}
}

// calls returns the awsretry.calls points recorded, by outcome.
func (m meter) calls(t *testing.T) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if metric.Name != telemetry.CallsMetricName {
				continue
			}
			for _, p := range metric.Data.(metricdata.Sum[int64]).DataPoints {
				o, _ := p.Attributes.Value(telemetry.OutcomeKey)
				out[o.AsString()] += p.Value
			}
		}
	}
	return out
}

// finalizeIDs is an API option that records the IDs of the Finalize step
// as the operation runs them.
func finalizeIDs(ids *[]string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		*ids = stack.Finalize.List()
		return nil
	}
}

// TestAPIOptionAppliedLastWins: APIOption over a config built with
// WithRetrier replaces the config's Retrier for that call, and applying
// the adapter twice counts each call once.
func TestAPIOptionAppliedLastWins(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "ec2:DescribeInstances"
	throttled := awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"}
	clk := awsretrytest.NewClock()
	configMeter, callMeter := newMeter(t), newMeter(t)
	onConfig := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(1), awsretry.WithMeterProvider(configMeter.mp))
	perCall := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(3), awsretry.WithMeterProvider(callMeter.mp))
	client := ec2.NewFromConfig(adapterConfig(t, srv.URL, onConfig))

	var ids []string
	srv.Script(op, throttled, throttled)
	_, err := client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}, func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, awssdk.APIOption(perCall), finalizeIDs(&ids))
	})
	if err != nil || srv.Calls(op) != 3 {
		t.Fatalf("err %v after %d requests; want the per-call Retrier's success after 3", err, srv.Calls(op))
	}
	for _, id := range []string{"awsretry.Operation", "Retry"} {
		if n := count(ids, id); n != 1 {
			t.Errorf("the Finalize step holds %d %s middlewares, want 1: %q", n, id, ids)
		}
	}
	if got := configMeter.calls(t); len(got) != 0 {
		t.Errorf("the config's Retrier recorded calls %v it never made", got)
	}
	if got := callMeter.calls(t); !mapsEqual(got, map[string]int64{"success": 1}) {
		t.Errorf("the per-call Retrier recorded %v, want one success", got)
	}

	// The two documented setups together, the same Retrier twice.
	twice := newMeter(t)
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithMeterProvider(twice.mp))
	both := ec2.NewFromConfig(adapterConfig(t, srv.URL, r), func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, awssdk.APIOption(r), awssdk.APIOption(r), finalizeIDs(&ids))
	})
	srv.Script(op, throttled)
	if _, err := both.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	if got := twice.calls(t); !mapsEqual(got, map[string]int64{"success": 1}) || count(ids, "awsretry.Operation") != 1 {
		t.Errorf("recorded %v with Finalize step %q; want one success and one awsretry.Operation", got, ids)
	}
}

// TestAPIOptionAttemptTimeoutAppliedLastWins: the per-call Retrier's
// attempt timeout, not the config's, bounds the attempts.
func TestAPIOptionAttemptTimeoutAppliedLastWins(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "dynamodb:GetItem"
	onConfig := awsretry.MustNew(awsretry.WithTries(1), awsretry.WithAttemptTimeout(time.Millisecond))
	perCall := awsretry.MustNew(awsretry.WithTries(1), awsretry.WithAttemptTimeout(time.Minute))
	cfg := adapterConfig(t, srv.URL, onConfig)
	cfg.APIOptions = append(cfg.APIOptions, awssdk.APIOption(perCall))
	srv.Script(op, awsfake.Reply{Delay: 50 * time.Millisecond}) // a slow answer
	if err := awsfake.NewClients(cfg).Call(context.Background(), op); err != nil {
		t.Errorf("err %v; want the per-call Retrier's minute, not the config's millisecond", err)
	}
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// retryerAlone is awsfake's configuration with Retryer(r) as its clients'
// retryer, and nothing else of the adapter's.
func retryerAlone(url string, r *awsretry.Retrier) aws.Config {
	cfg := awsfake.Config(url)
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer { return awssdk.Retryer(r) }
	return cfg
}

// TestRetryerAlonePaysTheBudget: given alone to a client, the Retryer
// puts the Budget's reward back on successes, as Do does, and its
// refusal gives the Budget's real figures.
func TestRetryerAlonePaysTheBudget(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "ec2:DescribeInstances"
	budget, err := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{Capacity: 10})
	if err != nil {
		t.Fatal(err)
	}
	r := awsretry.MustNew(awsretry.WithDelay(0), awsretry.WithTries(10), awsretry.WithBudget(budget))
	clients := awsfake.NewClients(retryerAlone(srv.URL, r))
	throttled := awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"}
	for range 3 {
		srv.Script(op, throttled)
	}
	// Two retries of 5 drain the bucket; the third is refused.
	err = clients.Call(context.Background(), op)
	var quota ratelimit.QuotaExceededError
	if !errors.As(err, &quota) || quota.Available != 0 || quota.Requested != 5 || budget.Tokens() != 0 {
		t.Fatalf("err %v (quota %+v), %d tokens; want a refusal with 0 available, 5 requested, and an empty bucket", err, quota, budget.Tokens())
	}
	for range 50 {
		if err := clients.Call(context.Background(), op); err != nil {
			t.Fatal(err)
		}
	}
	if got := budget.Tokens(); got != 10 {
		t.Errorf("%d tokens after 50 first-try successes, want the full 10", got)
	}
}

// fixedRandom always draws r.
type fixedRandom float64

func (r fixedRandom) Float64() float64 { return float64(r) }

// TestRetryerAloneDecorrelatedJitter: the client's retryer, asked for the
// n-th wait alone, gives Do's n-th wait under decorrelated jitter (here
// with a fixed random draw), not the first wait again.
func TestRetryerAloneDecorrelatedJitter(t *testing.T) {
	opts := []awsretry.Option{awsretry.WithDelay(100 * time.Millisecond), awsretry.WithJitter(awsretry.JitterDecorrelated),
		awsretry.WithRandom(fixedRandom(0.9)), awsretry.WithTries(6)}
	clk := awsretrytest.NewClock()
	err := awsretry.MustNew(append(opts, awsretry.WithClock(clk))...).Do(context.Background(), func(context.Context) error {
		return awsretry.Retryable(errors.New("again"))
	})
	if err == nil {
		t.Fatal("Do succeeded")
	}
	do := clk.Sleeps()
	retryer := awssdk.Retryer(awsretry.MustNew(opts...))
	var alone []time.Duration
	for n := 1; n <= len(do); n++ {
		d, err := retryer.RetryDelay(n, errors.New("again"))
		if err != nil {
			t.Fatal(err)
		}
		alone = append(alone, d)
	}
	if !slices.Equal(alone, do) || do[1] == do[0] {
		t.Errorf("RetryDelay(1..%d) = %v, Do waited %v", len(do), alone, do)
	}
}

// TestExhaustedIsARetryError: when the attempts run out inside the
// client, the caller gets a RetryError of reason exhausted, as from Do,
// with the SDK's MaxAttemptsError and the last attempt's error inside.
func TestExhaustedIsARetryError(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "ec2:DescribeInstances"
	for range 2 {
		srv.Script(op, awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"})
	}
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithTries(2))
	err := awsfake.NewClients(adapterConfig(t, srv.URL, r)).Call(context.Background(), op)
	var rerr *awsretry.RetryError
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonExhausted || rerr.Attempts != 2 || !errors.As(err, &maxErr) {
		t.Fatalf("err %v: want a RetryError exhausted after 2 attempts, with the SDK's MaxAttemptsError", err)
	}
	if c := awsretry.DefaultClassifier().Classify(rerr.Err); c.Code != "RequestLimitExceeded" {
		t.Errorf("the RetryError's Err has code %q, want the last attempt's RequestLimitExceeded", c.Code)
	}
}

// TestCanceledDuringAnAttemptSameAsDo: a call whose context ends while
// its attempt hangs records the outcome canceled, through the adapter and
// inside Do alike, and returns the attempt's error.
func TestCanceledDuringAnAttemptSameAsDo(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "dynamodb:GetItem"
	run := func(adapter bool) (map[string]int64, error) {
		m := newMeter(t)
		r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithMeterProvider(m.mp))
		srv.Script(op, awsfake.Reply{Fault: awsfake.FaultHang})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var err error
		if adapter {
			err = awsfake.NewClients(adapterConfig(t, srv.URL, r)).Call(ctx, op)
		} else {
			clients := awsfake.NewClients(awsfake.Config(srv.URL))
			err = r.Do(ctx, func(ctx context.Context) error { return clients.Call(ctx, op) })
		}
		return m.calls(t), err
	}
	do, doErr := run(false)
	adapter, adapterErr := run(true)
	want := map[string]int64{"canceled": 1}
	if !mapsEqual(do, want) || !mapsEqual(adapter, want) {
		t.Errorf("calls recorded: Do %v, adapter %v; want %v for both", do, adapter, want)
	}
	for _, err := range []error{doErr, adapterErr} {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want the context's deadline", err)
		}
	}
}

// objectSize is larger than loopback's socket buffers and the client's:
// most of the object is still to come when GetObject returns.
const objectSize = 8 << 20

// readObject reads a GetObject's body to the end and checks its bytes.
func readObject(t *testing.T, out *s3.GetObjectOutput) {
	t.Helper()
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil || !bytes.Equal(got, awsfake.Object(objectSize)) {
		t.Errorf("read %d of %d bytes after GetObject returned: %v", len(got), objectSize, err)
	}
}

// TestAttemptTimeoutLeavesTheObjectBody: an S3 object's body, read by the
// caller after GetObject returned, is not cut off by the attempt timeout,
// through the adapter and through DoValue.
func TestAttemptTimeoutLeavesTheObjectBody(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.SetObject(objectSize)
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithAttemptTimeout(30*time.Second))
	input := &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("key")}
	t.Run("adapter", func(t *testing.T) {
		out, err := awsfake.S3(adapterConfig(t, srv.URL, r)).GetObject(context.Background(), input)
		if err != nil {
			t.Fatal(err)
		}
		readObject(t, out)
	})
	t.Run("DoValue", func(t *testing.T) {
		client := awsfake.S3(awsfake.Config(srv.URL))
		out, err := awsretry.DoValue(context.Background(), r, func(ctx context.Context) (*s3.GetObjectOutput, error) {
			return client.GetObject(ctx, input)
		})
		if err != nil {
			t.Fatal(err)
		}
		readObject(t, out)
	})
}

// TestAttemptTimeoutCutsAStalledBody: a body that stalls while the attempt
// reads it (the SDK's deserializer, or the operation inside Do) is still
// cut off at the attempt's deadline, and retried.
func TestAttemptTimeoutCutsAStalledBody(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithAttemptTimeout(100*time.Millisecond))
	stall := awsfake.Reply{Fault: awsfake.FaultStallBody}
	t.Run("adapter", func(t *testing.T) {
		srv.Script("dynamodb:GetItem", stall)
		if err := awsfake.NewClients(adapterConfig(t, srv.URL, r)).Call(context.Background(), "dynamodb:GetItem"); err != nil ||
			srv.Calls("dynamodb:GetItem") != 2 {
			t.Errorf("err %v after %d requests, want success after 2", err, srv.Calls("dynamodb:GetItem"))
		}
	})
	t.Run("Do", func(t *testing.T) {
		srv.Script("s3:GetObject", stall)
		clients := awsfake.NewClients(awsfake.Config(srv.URL))
		if err := r.Do(context.Background(), func(ctx context.Context) error { return clients.Call(ctx, "s3:GetObject") }); err != nil ||
			srv.Calls("s3:GetObject") != 2 {
			t.Errorf("err %v after %d requests, want success after 2", err, srv.Calls("s3:GetObject"))
		}
	})
}

// TestHTTPClientTimeoutSameAsSDK: a client whose http.Client has a Timeout
// (a common setting), against a server that never answers the first
// request: the SDK's own retryer retries the timeout, and so do Do around
// a one-attempt client and the adapter: a deadline that is not the
// caller's is a timeout, not the caller's cancellation.
func TestHTTPClientTimeoutSameAsSDK(t *testing.T) {
	const op = "dynamodb:GetItem"
	withTimeout := func(cfg aws.Config) aws.Config {
		cfg.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
		return cfg
	}
	r := func() *awsretry.Retrier {
		return awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithTries(3))
	}
	for _, m := range []struct {
		name string
		call func(url string) error
	}{
		{"the SDK's own retryer", func(url string) error {
			cfg := withTimeout(awsfake.Config(url))
			cfg.RetryMaxAttempts = 0
			cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond) }
			return awsfake.NewClients(cfg).Call(context.Background(), op)
		}},
		{"Do around a one-attempt client", func(url string) error {
			clients := awsfake.NewClients(withTimeout(awsfake.Config(url)))
			return r().Do(context.Background(), func(ctx context.Context) error { return clients.Call(ctx, op) })
		}},
		{"awssdk.WithRetrier", func(url string) error {
			return awsfake.NewClients(withTimeout(adapterConfig(t, url, r()))).Call(context.Background(), op)
		}},
	} {
		srv := awsfake.NewServer()
		srv.Script(op, awsfake.Reply{Fault: awsfake.FaultHang})
		err := m.call(srv.URL)
		if err != nil || srv.Calls(op) != 2 {
			t.Errorf("%s: err %v after %d requests, want success after 2", m.name, err, srv.Calls(op))
		}
		srv.Close()
	}
}
