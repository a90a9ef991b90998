package telemetrytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/telemetry"
)

// sdkError returns an error shaped as aws-sdk-go-v2 returns it for an AWS
// error response: a *smithy.OperationError around the SDK's
// *awshttp.ResponseError (status and request id) around the
// *smithy.GenericAPIError the protocol deserializer made.
func sdkError(code string, status int, requestID, message string) error {
	return &smithy.OperationError{
		ServiceID:     "EC2",
		OperationName: "DescribeInstances",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
				Err:      &smithy.GenericAPIError{Code: code, Message: message, Fault: smithy.FaultServer},
			},
			RequestID: requestID,
		},
	}
}

// env is a real OpenTelemetry SDK, recording spans and metrics in memory,
// and a fake clock.
type env struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	clock  *awsretrytest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), clock: awsretrytest.NewClock()}
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	e.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.reader))
	t.Cleanup(func() {
		_ = e.tp.Shutdown(context.Background())
		_ = e.mp.Shutdown(context.Background())
	})
	return e
}

// retrier returns a Retrier recording to the env's SDK, on its fake clock.
func (e *env) retrier(t *testing.T, opts ...awsretry.Option) *awsretry.Retrier {
	t.Helper()
	r, err := awsretry.New(append([]awsretry.Option{
		awsretry.WithTracerProvider(e.tp),
		awsretry.WithMeterProvider(e.mp),
		awsretry.WithClock(e.clock),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// onlySpan returns the one ended span.
func (e *env) onlySpan(t *testing.T) sdktrace.ReadOnlySpan {
	t.Helper()
	ended := e.spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1", len(ended))
	}
	return ended[0]
}

// metrics collects awsretry's metrics by name.
func (e *env) metrics(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	byName := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != telemetry.ScopeName || sm.Scope.Version != telemetry.Version {
			t.Errorf("metrics under scope %+v, want %s %s", sm.Scope, telemetry.ScopeName, telemetry.Version)
		}
		for _, m := range sm.Metrics {
			byName[m.Name] = m
		}
	}
	return byName
}

func set(kvs ...attribute.KeyValue) attribute.Set { return attribute.NewSet(kvs...) }

// delayBuckets mirrors the histogram's documented boundaries.
var delayBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 600}

// delayPoint is the histogram point of the given waits, in seconds.
func delayPoint(attrs attribute.Set, waits ...float64) metricdata.HistogramDataPoint[float64] {
	counts := make([]uint64, len(delayBuckets)+1)
	p := metricdata.HistogramDataPoint[float64]{Attributes: attrs, Bounds: delayBuckets, BucketCounts: counts}
	for _, w := range waits {
		counts[sort.SearchFloat64s(delayBuckets, w)]++
		p.Count++
		p.Sum += w
	}
	p.Min, p.Max = metricdata.NewExtrema(waits[0]), metricdata.NewExtrema(waits[len(waits)-1])
	return p
}

func counter(name, unit string, points ...metricdata.DataPoint[int64]) metricdata.Metrics {
	return metricdata.Metrics{
		Name: name,
		Unit: unit,
		Data: metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: points},
	}
}

func assertMetric(t *testing.T, got map[string]metricdata.Metrics, want metricdata.Metrics) {
	t.Helper()
	m, ok := got[want.Name]
	if !ok {
		t.Errorf("no metric %s", want.Name)
		return
	}
	m.Description = ""
	metricdatatest.AssertEqual(t, want, m, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestScriptedRetriesAreTracedAndMeasured is the scenario:
// RequestLimitExceeded, then InvalidInstanceID.NotFound, then success.
func TestScriptedRetriesAreTracedAndMeasured(t *testing.T) {
	e := newEnv(t)
	r := e.retrier(t)
	results := []error{
		sdkError("RequestLimitExceeded", 503, "req-1", "Request limit exceeded."),
		sdkError("InvalidInstanceID.NotFound", 400, "req-2", "The instance ID 'i-0abc' does not exist"),
		nil,
	}
	calls := 0
	if err := r.Do(context.Background(), func(context.Context) error {
		calls++
		return results[calls-1]
	}); err != nil || calls != 3 {
		t.Fatalf("Do = %v after %d calls, want success after 3", err, calls)
	}

	span := e.onlySpan(t)
	if span.Name() != telemetry.DefaultSpanName || span.SpanKind() != trace.SpanKindInternal {
		t.Errorf("span %q of kind %v, want %q, internal", span.Name(), span.SpanKind(), telemetry.DefaultSpanName)
	}
	if span.InstrumentationScope().Name != telemetry.ScopeName || span.InstrumentationScope().Version != telemetry.Version {
		t.Errorf("span scope %+v, want %s %s", span.InstrumentationScope(), telemetry.ScopeName, telemetry.Version)
	}
	if span.Status().Code != codes.Unset {
		t.Errorf("span status %+v, want unset", span.Status())
	}
	if got, want := set(span.Attributes()...), set(
		telemetry.AttemptsKey.Int(3), telemetry.OutcomeKey.String("success"),
	); !got.Equals(&want) {
		t.Errorf("span attributes %v, want %v", got.Encoded(attribute.DefaultEncoder()), want.Encoded(attribute.DefaultEncoder()))
	}
	wantEvents := []attribute.Set{
		set(telemetry.AttemptKey.Int(1), telemetry.WillRetryKey.Bool(true),
			attribute.String("error.type", "RequestLimitExceeded"), telemetry.ErrorCodeKey.String("RequestLimitExceeded"),
			telemetry.ClassKey.String("throttle"), telemetry.DelayKey.Float64(3),
			attribute.Int("http.response.status_code", 503), attribute.String("aws.request_id", "req-1")),
		set(telemetry.AttemptKey.Int(2), telemetry.WillRetryKey.Bool(true),
			attribute.String("error.type", "InvalidInstanceID.NotFound"), telemetry.ErrorCodeKey.String("InvalidInstanceID.NotFound"),
			telemetry.ClassKey.String("eventual_consistency"), telemetry.DelayKey.Float64(3.3),
			attribute.Int("http.response.status_code", 400), attribute.String("aws.request_id", "req-2")),
		set(telemetry.AttemptKey.Int(3), telemetry.WillRetryKey.Bool(false)),
	}
	assertEvents(t, span, wantEvents)

	got := e.metrics(t)
	assertMetric(t, got, counter(telemetry.AttemptsMetricName, "{attempt}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("retried"), attribute.String("error.type", "RequestLimitExceeded")), Value: 1},
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("retried"), attribute.String("error.type", "InvalidInstanceID.NotFound")), Value: 1},
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("success")), Value: 1},
	))
	assertMetric(t, got, metricdata.Metrics{
		Name: telemetry.DelayMetricName,
		Unit: "s",
		Data: metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: []metricdata.HistogramDataPoint[float64]{
			delayPoint(set(attribute.String("error.type", "RequestLimitExceeded")), 3),
			delayPoint(set(attribute.String("error.type", "InvalidInstanceID.NotFound")), 3.3),
		}},
	})
	assertMetric(t, got, counter(telemetry.CallsMetricName, "{call}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("success")), Value: 1},
	))
}

func assertEvents(t *testing.T, span sdktrace.ReadOnlySpan, want []attribute.Set) {
	t.Helper()
	events := span.Events()
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d", len(events), len(want))
	}
	for i, ev := range events {
		if ev.Name != telemetry.AttemptEventName {
			t.Errorf("event %d named %q, want %q", i+1, ev.Name, telemetry.AttemptEventName)
		}
		if got := set(ev.Attributes...); !got.Equals(&want[i]) {
			t.Errorf("event %d attributes\n got %s\nwant %s", i+1,
				got.Encoded(attribute.DefaultEncoder()), want[i].Encoded(attribute.DefaultEncoder()))
		}
	}
}

func TestExhaustionIsAnErrorSpan(t *testing.T) {
	e := newEnv(t)
	err := e.retrier(t).Do(context.Background(), func(context.Context) error {
		return sdkError("RequestLimitExceeded", 503, "req", "slow down")
	})
	if !errors.As(err, new(*awsretry.RetryError)) {
		t.Fatalf("Do = %v, want a RetryError", err)
	}
	span := e.onlySpan(t)
	if span.Status().Code != codes.Error || span.Status().Description != "exhausted: RequestLimitExceeded" {
		t.Errorf("span status %+v, want error %q", span.Status(), "exhausted: RequestLimitExceeded")
	}
	if got, want := set(span.Attributes()...), set(telemetry.AttemptsKey.Int(10), telemetry.OutcomeKey.String("exhausted"),
		attribute.String("error.type", "RequestLimitExceeded")); !got.Equals(&want) {
		t.Errorf("span attributes %s", got.Encoded(attribute.DefaultEncoder()))
	}
	events := span.Events()
	if len(events) != 10 {
		t.Fatalf("%d events, want 10", len(events))
	}
	last := set(events[9].Attributes...)
	if v, _ := last.Value(telemetry.WillRetryKey); v.AsBool() || last.HasValue(telemetry.DelayKey) {
		t.Errorf("last event %s says a retry follows", last.Encoded(attribute.DefaultEncoder()))
	}
	if v, _ := last.Value(telemetry.StopReasonKey); v.AsString() != "exhausted" {
		t.Errorf("last event's stop reason %q, want exhausted", v.AsString())
	}
	got := e.metrics(t)
	throttled := attribute.String("error.type", "RequestLimitExceeded")
	assertMetric(t, got, counter(telemetry.AttemptsMetricName, "{attempt}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("retried"), throttled), Value: 9},
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("not_retried"), throttled), Value: 1},
	))
	assertMetric(t, got, counter(telemetry.CallsMetricName, "{call}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("exhausted"), throttled), Value: 1},
	))
}

func TestNonRetryableAndElapsedOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		opts    []awsretry.Option
		err     error
		outcome string
		errType string
	}{
		{"non-retryable", nil, sdkError("AccessDenied", 403, "r", "no"), "non_retryable", "AccessDenied"},
		{"elapsed", []awsretry.Option{awsretry.WithMaxElapsed(5 * time.Second)}, sdkError("InternalError", 500, "r", "oops"), "elapsed", "InternalError"},
		{"plain error", nil, errors.New("boom"), "non_retryable", "*errors.errorString"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_ = e.retrier(t, tt.opts...).Do(context.Background(), func(context.Context) error { return tt.err })
			span := e.onlySpan(t)
			if want := tt.outcome + ": " + tt.errType; span.Status().Code != codes.Error || span.Status().Description != want {
				t.Errorf("span status %+v, want error %q", span.Status(), want)
			}
			metricType := tt.errType
			if strings.HasPrefix(metricType, "*") {
				metricType = "_OTHER"
			}
			assertMetric(t, e.metrics(t), counter(telemetry.CallsMetricName, "{call}",
				metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String(tt.outcome), attribute.String("error.type", metricType)), Value: 1},
			))
		})
	}
}

func TestCanceledDuringWait(t *testing.T) {
	e := newEnv(t)
	clk := awsretrytest.NewManualClock()
	r := e.retrier(t, awsretry.WithClock(clk))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Do(ctx, func(context.Context) error { return sdkError("ThrottlingException", 400, "r", "") })
	}()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	span := e.onlySpan(t)
	if span.Status().Description != "canceled: context canceled" || len(span.Events()) != 1 {
		t.Errorf("span status %+v with %d events, want canceled after 1 event", span.Status(), len(span.Events()))
	}
	got := e.metrics(t)
	assertMetric(t, got, counter(telemetry.CallsMetricName, "{call}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("canceled"), attribute.String("error.type", "context canceled")), Value: 1},
	))
	assertMetric(t, got, counter(telemetry.AttemptsMetricName, "{attempt}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("retried"), attribute.String("error.type", "ThrottlingException")), Value: 1},
	))
}

// TestSpansNest proves the parent/child chain: the caller's span, then the
// Do span, then a span fn starts (as an SDK call's instrumentation would).
func TestSpansNest(t *testing.T) {
	e := newEnv(t)
	r := e.retrier(t).Named("ec2.DescribeInstances")
	tracer := e.tp.Tracer("caller")
	ctx, parent := tracer.Start(context.Background(), "handler")
	calls := 0
	_ = r.Do(ctx, func(ctx context.Context) error {
		calls++
		_, child := tracer.Start(ctx, "DescribeInstances", trace.WithSpanKind(trace.SpanKindClient))
		child.End()
		if calls == 1 {
			return sdkError("RequestLimitExceeded", 503, "r", "")
		}
		return nil
	})
	parent.End()

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range e.spans.Ended() {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	do := byName["ec2.DescribeInstances"]
	if len(do) != 1 || len(byName["DescribeInstances"]) != 2 {
		t.Fatalf("spans %v, want one Do span and two attempt spans", byName)
	}
	if do[0].Parent().SpanID() != parent.SpanContext().SpanID() || do[0].SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("the Do span's parent is %v, want the caller's span %v", do[0].Parent().SpanID(), parent.SpanContext().SpanID())
	}
	for _, child := range byName["DescribeInstances"] {
		if child.Parent().SpanID() != do[0].SpanContext().SpanID() {
			t.Errorf("an attempt's span has parent %v, want the Do span %v", child.Parent().SpanID(), do[0].SpanContext().SpanID())
		}
	}
}

// secret is text that must not leave the process unless asked for: an
// account id and an ARN, as AWS error messages carry them.
const secret = "arn:aws:iam::123456789012:role/deploy"

func TestNoErrorMessagesByDefault(t *testing.T) {
	for _, messages := range []bool{false, true} {
		e := newEnv(t)
		var logs bytes.Buffer
		r := e.retrier(t, awsretry.WithTries(2), awsretry.WithErrorMessages(messages),
			awsretry.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		_ = r.Do(context.Background(), func(context.Context) error {
			return sdkError("ThrottlingException", 400, "r", "User "+secret+" is not authorized")
		})
		var recorded strings.Builder
		span := e.onlySpan(t)
		recorded.WriteString(span.Status().Description)
		for _, kv := range span.Attributes() {
			recorded.WriteString(kv.Value.String())
		}
		for _, ev := range span.Events() {
			for _, kv := range ev.Attributes {
				recorded.WriteString(kv.Value.String())
			}
		}
		if strings.Contains(recorded.String(), secret) != messages {
			t.Errorf("WithErrorMessages(%v): span holds the message = %v", messages, !messages)
		}
		if strings.Contains(logs.String(), secret) != messages {
			t.Errorf("WithErrorMessages(%v): logs hold the message = %v:\n%s", messages, !messages, logs.String())
		}
	}
}

func TestUnknownCodesAreBoundedInMetrics(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("X", 300) + ".NotFound"
	r := e.retrier(t, awsretry.WithTries(2), awsretry.WithAddedCodes("ConcurrentTagAccess"))
	for _, code := range []string{"Evil1", "Evil2", long, "ConcurrentTagAccess"} {
		_ = r.Do(context.Background(), func(context.Context) error { return sdkError(code, 400, "r", "") })
	}
	spans := e.spans.Ended()
	lastEvent := set(spans[2].Events()[1].Attributes...)
	if v, _ := lastEvent.Value(telemetry.ErrorCodeKey); v.AsString() != long[:128] {
		t.Errorf("span code %q, want the code truncated to 128 bytes", v.AsString())
	}
	assertMetric(t, e.metrics(t), counter(telemetry.CallsMetricName, "{call}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("non_retryable"), attribute.String("error.type", "_OTHER")), Value: 2},
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("exhausted"), attribute.String("error.type", "_OTHER")), Value: 1},
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("exhausted"), attribute.String("error.type", "ConcurrentTagAccess")), Value: 1},
	))
}

func TestOnRetryHook(t *testing.T) {
	e := newEnv(t)
	var got []awsretry.Attempt
	r := e.retrier(t, awsretry.WithTries(4), awsretry.WithOnRetry(func(ctx context.Context, a awsretry.Attempt) {
		if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
			t.Error("the hook's context carries no span")
		}
		got = append(got, a)
	}))
	_ = r.Do(context.Background(), func(context.Context) error { return sdkError("InternalError", 500, "r", "") })
	if len(got) != 3 {
		t.Fatalf("hook called %d times for 4 attempts, want 3 (never after the last)", len(got))
	}
	for i, a := range got {
		wantDelay := []time.Duration{3 * time.Second, 3300 * time.Millisecond, 3630 * time.Millisecond}[i]
		if a.Number != i+1 || a.Delay != wantDelay || a.Classification.Code != "InternalError" || !a.Classification.Retryable || a.Err == nil {
			t.Errorf("hook call %d got %+v", i+1, a)
		}
	}
}

func TestLogger(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	r := e.retrier(t, awsretry.WithTries(3), awsretry.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	_ = r.Do(context.Background(), func(context.Context) error { return sdkError("InternalError", 500, "r", "") })
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		records = append(records, rec)
	}
	if len(records) != 3 {
		t.Fatalf("%d log records, want 3:\n%s", len(records), logs.String())
	}
	for i, want := range []map[string]any{
		{"level": "INFO", "msg": "awsretry: retrying", "attempt": 1.0, "error_type": "InternalError", "class": "transient", "delay": 3e9},
		{"level": "INFO", "msg": "awsretry: retrying", "attempt": 2.0, "error_type": "InternalError", "class": "transient", "delay": 3.3e9},
		{"level": "WARN", "msg": "awsretry: giving up", "outcome": "exhausted", "attempts": 3.0, "error_type": "InternalError"},
	} {
		for k, v := range want {
			if records[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v", i+1, k, records[i][k], v)
			}
		}
	}
}

func TestSampledOutSpanRecordsNothing(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(spans))
	r := awsretry.MustNew(awsretry.WithTracerProvider(tp), awsretry.WithClock(awsretrytest.NewClock()))
	_ = r.Do(context.Background(), func(context.Context) error { return sdkError("InternalError", 500, "r", "") })
	if n := len(spans.Ended()); n != 0 {
		t.Errorf("%d spans recorded with a NeverSample sampler", n)
	}
}

func TestServerHintIsRecorded(t *testing.T) {
	e := newEnv(t)
	throttled := sdkError("SlowDown", 503, "req-9", "")
	var respErr *smithyhttp.ResponseError
	if !errors.As(throttled, &respErr) {
		t.Fatal("no response error")
	}
	respErr.Response.Header.Set("X-Amz-Retry-After", "4500")
	calls := 0
	_ = e.retrier(t, awsretry.WithDelay(time.Second)).Do(context.Background(), func(context.Context) error {
		calls++
		if calls == 1 {
			return throttled
		}
		return nil
	})
	first := set(e.onlySpan(t).Events()[0].Attributes...)
	after, _ := first.Value(telemetry.RetryAfterKey)
	delay, _ := first.Value(telemetry.DelayKey)
	if after.AsFloat64() != 4.5 || delay.AsFloat64() != 4.5 {
		t.Errorf("retry_after %v, delay %v; want 4.5 and 4.5", after.AsFloat64(), delay.AsFloat64())
	}
}

func TestPanicEndsTheSpanWithAnError(t *testing.T) {
	e := newEnv(t)
	r := e.retrier(t)
	want := errors.New("boom")
	func() {
		defer func() {
			if got := recover(); got != want {
				t.Errorf("recovered %v, want the value fn panicked with", got)
			}
		}()
		calls := 0
		_ = r.Do(context.Background(), func(context.Context) error {
			calls++
			if calls == 2 {
				panic(want)
			}
			return sdkError("ThrottlingException", 400, "r", "")
		})
	}()
	span := e.onlySpan(t)
	if span.Status().Code != codes.Error || span.Status().Description != "panic: the operation panicked" {
		t.Errorf("span status %+v, want an error for the panic", span.Status())
	}
	if got, want := set(span.Attributes()...), set(telemetry.AttemptsKey.Int(2), telemetry.OutcomeKey.String("panic")); !got.Equals(&want) {
		t.Errorf("span attributes %s", got.Encoded(attribute.DefaultEncoder()))
	}
	assertMetric(t, e.metrics(t), counter(telemetry.CallsMetricName, "{call}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("panic")), Value: 1},
	))
}

func TestBudgetRefusalIsRecorded(t *testing.T) {
	e := newEnv(t)
	r := e.retrier(t, awsretry.WithBudget(mustTokenBucket(awsretry.TokenBucketConfig{Capacity: 5})))
	_ = r.Do(context.Background(), func(context.Context) error { return sdkError("RequestLimitExceeded", 503, "r", "") })
	span := e.onlySpan(t)
	events := span.Events()
	if len(events) != 2 || span.Status().Description != "budget: RequestLimitExceeded" {
		t.Fatalf("%d events, status %+v; want 2 events and a budget error", len(events), span.Status())
	}
	last := set(events[1].Attributes...)
	if v, _ := last.Value(telemetry.StopReasonKey); v.AsString() != "budget" {
		t.Errorf("last event's stop reason %q, want budget", v.AsString())
	}
	assertMetric(t, e.metrics(t), counter(telemetry.CallsMetricName, "{call}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("budget"), attribute.String("error.type", "RequestLimitExceeded")), Value: 1},
	))
}

// TestAttributeValuesAreBounded: a hostile server controls the request id,
// the code and the message; none grows a span without bound, and none
// puts invalid UTF-8 in it.
func TestAttributeValuesAreBounded(t *testing.T) {
	for _, huge := range []string{strings.Repeat("é", 5000), "Bad\xffCode" + strings.Repeat("\xc3", 5000)} {
		e := newEnv(t)
		_ = e.retrier(t, awsretry.WithTries(1), awsretry.WithErrorMessages(true)).Do(context.Background(), func(context.Context) error {
			return sdkError(huge, 503, huge, huge)
		})
		for _, kv := range e.onlySpan(t).Events()[0].Attributes {
			if s := kv.Value.AsString(); len(s) > 1024 || !utf8.ValidString(s) {
				t.Errorf("%s is %d bytes (valid UTF-8: %v), want at most 1024 of valid UTF-8", kv.Key, len(s), utf8.ValidString(s))
			}
		}
		if d := e.onlySpan(t).Status().Description; len(d) > 200 || !utf8.ValidString(d) {
			t.Errorf("status description is %d bytes (valid UTF-8: %v)", len(d), utf8.ValidString(d))
		}
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
