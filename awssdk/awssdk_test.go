package awssdk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/tracing/smithyoteltracing"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/awssdk"
	"github.com/awsretry/awsretry/examples/awsfake"
	"github.com/awsretry/awsretry/telemetry"
)

// tracing is a real OpenTelemetry SDK recording spans in memory.
type tracing struct {
	spans *tracetest.SpanRecorder
	tp    *sdktrace.TracerProvider
}

func newTracing(t *testing.T) tracing {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tracing{spans, tp}
}

// events returns the attempt events of the ended span named name.
func (tr tracing) events(t *testing.T, name string) []attribute.Set {
	t.Helper()
	var sets []attribute.Set
	for _, s := range tr.spans.Ended() {
		if s.Name() != name {
			continue
		}
		for _, ev := range s.Events() {
			if ev.Name == telemetry.AttemptEventName {
				sets = append(sets, attribute.NewSet(ev.Attributes...))
			}
		}
	}
	return sets
}

// outcome is what one call came to, under Do or through the adapter.
type outcome struct {
	requests int
	waits    []time.Duration
	events   []string // each attempt event's attributes, encoded
	err      error
}

// throughDo makes the call of c inside r.Do, with a client making one
// attempt per call.
func throughDo(t *testing.T, srv *awsfake.Server, c awsfake.Case, opts ...awsretry.Option) outcome {
	tr := newTracing(t)
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(append([]awsretry.Option{awsretry.WithClock(clk), awsretry.WithTracerProvider(tr.tp)}, opts...)...)
	clients := awsfake.NewClients(awsfake.Config(srv.URL))
	before := srv.Calls(c.Op)
	err := r.Do(context.Background(), func(ctx context.Context) error { return clients.Call(ctx, c.Op) })
	return outcome{srv.Calls(c.Op) - before, clk.Sleeps(), encode(tr.events(t, telemetry.DefaultSpanName)), err}
}

// throughAdapter makes the call of c through a client whose retries are
// r's, under a span of the test's own.
func throughAdapter(t *testing.T, srv *awsfake.Server, c awsfake.Case, opts ...awsretry.Option) outcome {
	tr := newTracing(t)
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(append([]awsretry.Option{awsretry.WithClock(clk), awsretry.WithTracerProvider(tr.tp)}, opts...)...)
	clients := awsfake.NewClients(adapterConfig(t, srv.URL, r))
	before := srv.Calls(c.Op)
	ctx, span := tr.tp.Tracer("test").Start(context.Background(), "caller")
	err := clients.Call(ctx, c.Op)
	span.End()
	return outcome{srv.Calls(c.Op) - before, clk.Sleeps(), encode(tr.events(t, "caller")), err}
}

// adapterConfig is awsfake's configuration with r as its clients' retryer,
// as awssdk.WithRetrier makes it.
func adapterConfig(t testing.TB, url string, r *awsretry.Retrier) aws.Config {
	t.Helper()
	cfg := awsfake.Config(url)
	cfg.RetryMaxAttempts = 0 // the Retrier's tries decide
	opts, err := loadOptions(awssdk.WithRetrier(r))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = opts.Retryer
	cfg.APIOptions = opts.APIOptions
	return cfg
}

// encode renders each attribute set, without the request id (each call
// gets its own).
func encode(sets []attribute.Set) []string {
	var out []string
	for _, s := range sets {
		kvs := slices.DeleteFunc(s.ToSlice(), func(kv attribute.KeyValue) bool { return kv.Key == "aws.request_id" })
		set := attribute.NewSet(kvs...)
		out = append(out, set.Encoded(attribute.DefaultEncoder()))
	}
	return out
}

// differs are the cases the adapter cannot handle as Do does, and why.
var differs = map[string]string{
	"closed mid-body/s3:GetObject": "the SDK returns S3's object body as a stream that the caller reads after the call: " +
		"Do retries a read inside it, a retryer inside the client cannot (TestObjectBodyIsTheCallersToRetry)",
}

// TestSameAsDo runs awsfake's classification cases and faults through a
// client configured with the adapter, and the same calls inside Do around a
// client making one attempt: the same requests, waits and attempt events.
func TestSameAsDo(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	opts := []awsretry.Option{awsretry.WithDelay(time.Second), awsretry.WithTries(3), awsretry.WithAttemptTimeout(200 * time.Millisecond),
		awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { _ = srv.Restart() })} // after a refused connection
	for _, c := range awsfake.AllCases() {
		t.Run(c.Name, func(t *testing.T) {
			if reason, ok := differs[c.Name]; ok {
				t.Skip(reason)
			}
			c.Arrange(srv)
			do := throughDo(t, srv, c, opts...)
			c.Arrange(srv)
			adapter := throughAdapter(t, srv, c, opts...)
			if do.requests != c.Requests || adapter.requests != c.Requests {
				t.Errorf("requests: Do %d, adapter %d; want %d", do.requests, adapter.requests, c.Requests)
			}
			if !slices.Equal(do.waits, adapter.waits) {
				t.Errorf("waits: Do %v, adapter %v", do.waits, adapter.waits)
			}
			if !slices.Equal(do.events, adapter.events) {
				t.Errorf("events differ\n   Do %q\nadapter %q", do.events, adapter.events)
			}
			if (do.err == nil) != (adapter.err == nil) {
				t.Errorf("errors: Do %v, adapter %v", do.err, adapter.err)
			}
		})
	}
}

// TestSeedScheduleOnTheFakeClock: the seed's defaults through the adapter,
// a call throttled until the attempts run out: the fake clock records the
// seed's 40.7 s of waits, and the call returns at once.
func TestSeedScheduleOnTheFakeClock(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	for range 10 {
		srv.Script("dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ThrottlingException", Header: awsfake.Header("X-Amz-Retry-After", "100")})
	}
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	clients := awsfake.NewClients(adapterConfig(t, srv.URL, r))
	start := time.Now()
	err := clients.Call(context.Background(), "dynamodb:GetItem")
	took := time.Since(start)
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &maxErr) || srv.Calls("dynamodb:GetItem") != 10 {
		t.Fatalf("err %v after %d requests, want the SDK's MaxAttemptsError after 10", err, srv.Calls("dynamodb:GetItem"))
	}
	want := []time.Duration{3 * time.Second, 3300 * time.Millisecond, 3630 * time.Millisecond, 3993 * time.Millisecond,
		4392300 * time.Microsecond, 4831530 * time.Microsecond, 5314683 * time.Microsecond,
		5846151300 * time.Nanosecond, 6430766430 * time.Nanosecond}
	if got := clk.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("waits %v, want the seed's %v", got, want)
	}
	t.Logf("10 attempts and 40.7 s of waits on the fake clock took %v of real time", took)
	if took > 10*time.Second {
		t.Errorf("the call took %v of real time: the SDK slept", took)
	}
}

// TestBudgetStopsTheSDKLoop: when the Budget cannot pay, the SDK's loop
// stops with an error in which errors.As finds both the SDK's quota error
// and awsretry's RetryError.
func TestBudgetStopsTheSDKLoop(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	for range 5 {
		srv.Script("ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"})
	}
	budget, err := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{Capacity: 12}) // two retries of 5
	if err != nil {
		t.Fatal(err)
	}
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithBudget(budget))
	err = awsfake.NewClients(adapterConfig(t, srv.URL, r)).Call(context.Background(), "ec2:DescribeInstances")
	var quota ratelimit.QuotaExceededError
	var rerr *awsretry.RetryError
	if !errors.As(err, &quota) || !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonBudget {
		t.Fatalf("err %v: want the SDK's QuotaExceededError and a RetryError of reason budget", err)
	}
	if quota.Available != 2 || quota.Requested != 5 || srv.Calls("ec2:DescribeInstances") != 3 {
		t.Errorf("quota %+v after %d requests; want 2 available, 5 requested, after 3", quota, srv.Calls("ec2:DescribeInstances"))
	}
}

// TestCancelDuringAWait: a call waiting on the Retrier's clock returns as
// soon as its context is canceled.
func TestCancelDuringAWait(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.Script("s3:GetObject", awsfake.Reply{Status: 503, Code: "SlowDown"})
	clk := awsretrytest.NewManualClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	clients := awsfake.NewClients(adapterConfig(t, srv.URL, r))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- clients.Call(ctx, "s3:GetObject") }()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || srv.Calls("s3:GetObject") != 1 {
			t.Errorf("err %v after %d requests, want context.Canceled after 1", err, srv.Calls("s3:GetObject"))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not return after its context was canceled")
	}
}

// TestRetryerAlone: given only as the clients' retryer, the adapter still
// decides which errors are retried and how many attempts are made, and the
// SDK sleeps the Retrier's schedule.
func TestRetryerAlone(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	r := awsretry.MustNew(awsretry.WithDelay(time.Millisecond), awsretry.WithTries(3))
	cfg := awsfake.Config(srv.URL)
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer { return awssdk.Retryer(r) }
	clients := awsfake.NewClients(cfg)

	srv.Script("ec2:DescribeInstances", awsfake.Reply{Status: 400, Code: "InvalidInstanceID.NotFound"}) // the NotFound rule: the SDK alone would not retry
	if err := clients.Call(context.Background(), "ec2:DescribeInstances"); err != nil || srv.Calls("ec2:DescribeInstances") != 2 {
		t.Errorf("err %v after %d requests, want success after 2", err, srv.Calls("ec2:DescribeInstances"))
	}
	for range 3 {
		srv.Script("dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ThrottlingException"})
	}
	var maxErr *retry.MaxAttemptsError
	if err := clients.Call(context.Background(), "dynamodb:GetItem"); !errors.As(err, &maxErr) || srv.Calls("dynamodb:GetItem") != 3 {
		t.Errorf("err %v after %d requests, want MaxAttemptsError after 3", err, srv.Calls("dynamodb:GetItem"))
	}
	srv.Script("s3:GetObject", awsfake.Reply{Status: 403, Code: "AccessDenied"})
	if err := clients.Call(context.Background(), "s3:GetObject"); err == nil || srv.Calls("s3:GetObject") != 1 {
		t.Errorf("err %v after %d requests, want AccessDenied after 1", err, srv.Calls("s3:GetObject"))
	}
}

// TestObjectBodyIsTheCallersToRetry: S3 hands GetObject's body to the caller
// as a stream; when the connection closes while the caller reads it, the
// SDK's call has succeeded already, so no retryer inside the client sees
// the failure: the call succeeds, the read fails. Do, around both the call
// and the read, retries it (awsfake's TestFaultsAreRetried).
func TestObjectBodyIsTheCallersToRetry(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.Script("s3:GetObject", awsfake.Reply{Fault: awsfake.FaultCloseMidBody})
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	err := awsfake.NewClients(adapterConfig(t, srv.URL, r)).Call(context.Background(), "s3:GetObject")
	if !errors.Is(err, io.ErrUnexpectedEOF) || srv.Calls("s3:GetObject") != 1 {
		t.Errorf("err %v after %d requests, want the read's io.ErrUnexpectedEOF after 1", err, srv.Calls("s3:GetObject"))
	}
}

// inProcess is an http.RoundTripper that serves each request with an
// awsfake.Handler in the calling goroutine: no socket, so that the call can
// run inside a testing/synctest bubble.
type inProcess struct{ h *awsfake.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// TestNoTimePasses proves that the SDK does not sleep when the adapter
// drives it: inside a synctest bubble, any timer or sleep of the SDK's
// would move time.Now, and the server's x-amz-retry-after (100 ms) would
// make the SDK's own retry middleware sleep if the adapter left it there.
func TestNoTimePasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := awsfake.NewHandler()
		for range 10 {
			h.Script("dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ThrottlingException", Header: awsfake.Header("X-Amz-Retry-After", "100")})
		}
		clk := awsretrytest.NewClock()
		cfg := adapterConfig(t, "http://awsfake.invalid", awsretry.MustNew(awsretry.WithClock(clk)))
		cfg.HTTPClient = &http.Client{Transport: inProcess{h}}
		start := time.Now()
		err := awsfake.NewClients(cfg).Call(context.Background(), "dynamodb:GetItem")
		if !errors.As(err, new(*retry.MaxAttemptsError)) || h.Calls("dynamodb:GetItem") != 10 {
			t.Fatalf("err %v after %d requests, want the SDK's MaxAttemptsError after 10", err, h.Calls("dynamodb:GetItem"))
		}
		if passed := time.Since(start); passed != 0 {
			t.Errorf("%v passed in the bubble: something slept", passed)
		}
		if got := len(clk.Sleeps()); got != 9 {
			t.Errorf("%d waits on the fake clock, want 9", got)
		}
	})
}

// TestEventsOnTheSDKsSpan: with a tracer provider on the client, the SDK
// traces the operation itself; the attempt events go to its operation span,
// the parent of its RetryLoop span.
func TestEventsOnTheSDKsSpan(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.Script("dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ProvisionedThroughputExceededException"})
	tr := newTracing(t)
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithTracerProvider(tr.tp))
	cfg := adapterConfig(t, srv.URL, r)
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.TracerProvider = smithyoteltracing.Adapt(tr.tp) })
	if err := (awsfake.Clients{DynamoDB: client}).Call(context.Background(), "dynamodb:GetItem"); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range tr.spans.Ended() {
		names = append(names, s.Name())
		if len(s.Events()) == 0 {
			continue
		}
		if s.Name() != "DynamoDB.GetItem" {
			t.Errorf("span %q has the attempt events, want the operation span DynamoDB.GetItem", s.Name())
		}
	}
	events := encode(tr.events(t, "DynamoDB.GetItem"))
	want := []string{
		"awsretry.attempt=1,awsretry.class=throttle,awsretry.delay_seconds=3,awsretry.error_code=ProvisionedThroughputExceededException,awsretry.will_retry=true,error.type=ProvisionedThroughputExceededException,http.response.status_code=400",
		"awsretry.attempt=2,awsretry.will_retry=false",
	}
	if !slices.Equal(events, want) {
		t.Errorf("events on DynamoDB.GetItem %q, want %q (spans: %q)", events, want, names)
	}
}

// TestLimiterPacesTheSDKLoop: a Retrier's Limiter paces the attempts the
// SDK makes through the adapter, learns from them, and refuses an attempt
// whose send slot is too far away before the SDK sends it.
func TestLimiterPacesTheSDKLoop(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	clk := awsretrytest.NewClock()
	l := new(awsretry.Limiter)
	once := awsfake.NewClients(adapterConfig(t, srv.URL,
		awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithLimiter(l), awsretry.WithTries(1))))
	const op = "ec2:DescribeInstances"
	call := func(clients awsfake.Clients) error { return clients.Call(context.Background(), op) }
	throttled := awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"}

	// A throttle, a success half a second later, a throttle half a second
	// after that: the Limiter measures one accepted per second.
	srv.Script(op, throttled)
	_ = call(once)
	clk.Advance(500 * time.Millisecond)
	if err := call(once); err != nil {
		t.Fatal(err)
	}
	clk.Advance(500 * time.Millisecond)
	srv.Script(op, throttled)
	_ = call(once)
	if rate := l.Rate(); rate != 0.95 {
		t.Fatalf("Rate() = %v after the SDK's attempts, want 0.95", rate)
	}

	// After a cut the service's bucket is empty: the first slot is two
	// intervals away (the first at most 100 ms). At that slot a call is
	// sent; the next is refused, its slot a second away.
	clk.Advance(100*time.Millisecond + time.Second*100/95)
	if err := call(once); err != nil {
		t.Fatal(err)
	}
	sent := srv.Calls(op)
	err := call(once)
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonRateLimited || rerr.Attempts != 0 {
		t.Fatalf("err %v: want a RetryError of reason rate_limited after 0 attempts", err)
	}
	if srv.Calls(op) != sent {
		t.Errorf("the refused attempt reached the server")
	}

	// With room to wait, an attempt waits for its slot on the Retrier's
	// clock inside the SDK's loop, and the wait is on its event.
	l.MaxWait = 10 * time.Second
	tr := newTracing(t)
	retrying := awsfake.NewClients(adapterConfig(t, srv.URL, awsretry.MustNew(awsretry.WithClock(clk),
		awsretry.WithLimiter(l), awsretry.WithDelay(time.Millisecond), awsretry.WithTracerProvider(tr.tp))))
	srv.Script(op, throttled)
	ctx, span := tr.tp.Tracer("test").Start(context.Background(), "call")
	err = retrying.Call(ctx, op)
	span.End()
	if err != nil {
		t.Fatal(err)
	}
	events := tr.events(t, "call")
	if len(events) != 2 {
		t.Fatalf("%d attempt events, want 2", len(events))
	}
	if v, ok := events[0].Value(telemetry.RateWaitKey); !ok || v.AsFloat64() < 0.9 || v.AsFloat64() > 1.1 {
		t.Errorf("the first attempt's %s = %v, want about 1 s", telemetry.RateWaitKey, v.AsFloat64())
	}
}
