package awsretry

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope name of the tracer and the meter
// that record retries: this module's import path.
const ScopeName = "github.com/awsretry/awsretry"

// Version is this library's version, recorded as the instrumentation scope
// version.
const Version = "0.1.0-dev"

// DefaultSpanName is the name of the span Do starts, unless WithSpanName
// sets another.
const DefaultSpanName = "awsretry.Do"

// The names of what awsretry records. Attribute keys of its own are in the
// "awsretry." namespace; the others are OpenTelemetry semantic conventions.
const (
	// AttemptEventName is the span event recorded for each attempt.
	AttemptEventName = "awsretry.attempt"

	// AttemptsMetricName counts attempts (unit {attempt}), by
	// OutcomeKey (success, retried, not_retried) and error.type.
	AttemptsMetricName = "awsretry.attempts"
	// DelayMetricName is a histogram of the waits before retries, in
	// seconds, by error.type.
	DelayMetricName = "awsretry.retry.delay"
	// CallsMetricName counts Do calls (unit {call}) by OutcomeKey (success,
	// non_retryable, exhausted, canceled, elapsed, deadline, budget, panic)
	// and error.type.
	CallsMetricName = "awsretry.calls"

	// AttemptKey is the 1-based attempt number, on attempt events.
	AttemptKey = attribute.Key("awsretry.attempt")
	// AttemptsKey is the number of attempts made, on the span.
	AttemptsKey = attribute.Key("awsretry.attempts")
	// ErrorCodeKey is the error code found by the classifier, on attempt
	// events; at most 128 bytes.
	ErrorCodeKey = attribute.Key("awsretry.error_code")
	// WillRetryKey says whether another attempt follows, on attempt events.
	WillRetryKey = attribute.Key("awsretry.will_retry")
	// DelayKey is the wait before the next attempt in seconds, on attempt
	// events that are followed by a retry.
	DelayKey = attribute.Key("awsretry.delay_seconds")
	// OutcomeKey is the outcome of a Do call (on the span and the calls
	// metric) or of an attempt (on the attempts metric).
	OutcomeKey = attribute.Key("awsretry.outcome")
	// ClassKey is the Class of a retryable error (throttle, transient,
	// eventual_consistency), on attempt events.
	ClassKey = attribute.Key("awsretry.class")
	// RetryAfterKey is the server's retry hint in seconds, on attempt
	// events whose error carried one; DelayKey holds the wait chosen.
	RetryAfterKey = attribute.Key("awsretry.retry_after_seconds")
	// StopReasonKey says why a retryable error was not retried, on its
	// attempt event: exhausted, elapsed, deadline, budget, or canceled
	// (the context ended during the attempt).
	StopReasonKey = attribute.Key("awsretry.stop_reason")
)

// maxCodeLen bounds the length of error codes and error types recorded in
// spans, and maxMessageLen the length of error messages (when enabled).
const (
	maxCodeLen    = 128
	maxMessageLen = 1024
)

// otherErrorType is what metrics report for an error code outside the known
// set, so that codes chosen by a server or an attacker cannot multiply time
// series.
const otherErrorType = "_OTHER"

// Attempt describes one failed attempt; the WithOnRetry hook receives it.
type Attempt struct {
	// Number is the attempt's number, starting at 1.
	Number int
	// Err is the error the attempt returned.
	Err error
	// Classification is the Classifier's verdict on Err.
	Classification Classification
	// Delay is the wait before the next attempt.
	Delay time.Duration
}

// outcome is an outcome of an attempt or of a Do call, as recorded.
type outcome string

// Attempt outcomes.
const (
	attemptSucceeded  outcome = "success"
	attemptRetried    outcome = "retried"
	attemptNotRetried outcome = "not_retried"
)

// Call outcomes: success, non_retryable, and the RetryError reasons.
const (
	callSucceeded    outcome = "success"
	callNonRetryable outcome = "non_retryable"
	callPanicked     outcome = "panic"
)

// telemetry records what Do does: spans, metrics, logs and the user's hook.
// It is built by New and immutable afterwards.
type telemetry struct {
	spanName string
	// tracerProvider is the provider given with WithTracerProvider; nil
	// means the global one, looked up on each Do so that a provider set
	// after New is used.
	tracerProvider trace.TracerProvider
	tracer         trace.Tracer // for tracerProvider; nil if it is a no-op

	// instruments are those of the provider given with WithMeterProvider;
	// nil means the global provider's, looked up on each Do like the
	// tracer.
	instruments *instruments

	extraCodes map[string]struct{} // codes metrics report by name besides commonCodeSet
	messages   bool                // record error messages
	logger     *slog.Logger
	onRetry    func(context.Context, Attempt)
}

// The tracer and the instruments of the global providers, shared by every
// Retrier that uses the globals, and replaced when the globals change.
var (
	globalTracer      atomic.Pointer[providerTracer]
	globalInstruments atomic.Pointer[providerInstruments]
)

// providerTracer caches the tracer of a global TracerProvider.
type providerTracer struct {
	provider trace.TracerProvider
	tracer   trace.Tracer // nil when provider records nothing
}

// providerInstruments caches the instruments of a global MeterProvider.
type providerInstruments struct {
	provider metric.MeterProvider
	*instruments
}

// cacheable reports whether a provider can be remembered and compared with
// ==: pointers (the SDK's providers, OpenTelemetry's global placeholder)
// and empty structs (the no-op providers). Other types could hold values
// that == panics on, so they are looked up afresh on each call.
func cacheable(provider any) bool {
	t := reflect.TypeOf(provider)
	return t.Kind() == reflect.Pointer || t.Kind() == reflect.Struct && t.NumField() == 0
}

var spanStartOptions = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}

// delayBuckets are the delay histogram's bucket boundaries in seconds, from
// the 5 ms waits of fast retry loops to the minutes of long backoffs.
var delayBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 600}

// instruments are the metric instruments a Retrier made from one
// MeterProvider.
type instruments struct {
	attempts metric.Int64Counter
	delays   metric.Float64Histogram
	calls    metric.Int64Counter
}

func newInstruments(mp metric.MeterProvider) (*instruments, error) {
	meter := mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version), metric.WithSchemaURL(semconv.SchemaURL))
	var in instruments
	var err error
	if in.attempts, err = meter.Int64Counter(AttemptsMetricName, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts made by awsretry, by outcome and error type.")); err != nil {
		return nil, err
	}
	if in.delays, err = meter.Float64Histogram(DelayMetricName, metric.WithUnit("s"),
		metric.WithDescription("Waits before retries, by error type."),
		metric.WithExplicitBucketBoundaries(delayBuckets...)); err != nil {
		return nil, err
	}
	if in.calls, err = meter.Int64Counter(CallsMetricName, metric.WithUnit("{call}"),
		metric.WithDescription("Calls of awsretry's Do, by final outcome and error type.")); err != nil {
		return nil, err
	}
	return &in, nil
}

// noopInstruments record nothing; they stand in when a global provider
// fails to make instruments.
var noopInstruments, _ = newInstruments(metricnoop.NewMeterProvider())

// newTelemetry builds the telemetry of a Retrier from its configuration.
func newTelemetry(c *config, classifier Classifier) (*telemetry, error) {
	t := &telemetry{
		spanName:       c.spanName,
		tracerProvider: c.tracerProvider,
		extraCodes:     extraCodes(classifier),
		messages:       c.errorMessages,
		logger:         c.logger,
		onRetry:        c.onRetry,
	}
	if t.tracerProvider != nil {
		t.tracer = tracerOf(t.tracerProvider)
	}
	if c.meterProvider != nil {
		in, err := newInstruments(c.meterProvider)
		if err != nil {
			return nil, fmt.Errorf("awsretry: WithMeterProvider: %w", err)
		}
		t.instruments = in
	}
	return t, nil
}

// currentInstruments returns the instruments to use for one Do call.
func (t *telemetry) currentInstruments() *instruments {
	if t.instruments != nil {
		return t.instruments
	}
	mp := otel.GetMeterProvider()
	if cached := globalInstruments.Load(); cached != nil && cached.provider == mp {
		return cached.instruments
	}
	in, err := newInstruments(mp)
	if err != nil {
		otel.Handle(err)
		in = noopInstruments
	}
	if cacheable(mp) {
		globalInstruments.Store(&providerInstruments{provider: mp, instruments: in})
	}
	return in
}

// tracerOf returns the awsretry tracer of tp, or nil when tp records
// nothing: the no-op provider, or the global provider before an SDK is
// installed. Skipping Start then saves the allocations of a new context and
// span; fn still receives the caller's context, with its span context.
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	switch tp.(type) {
	case noop.TracerProvider, *noop.TracerProvider:
		return nil
	}
	if isDelegatingGlobal(tp) {
		return nil
	}
	return tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version), trace.WithSchemaURL(semconv.SchemaURL))
}

// isDelegatingGlobal reports whether tp is OpenTelemetry's global provider
// before otel.SetTracerProvider: a placeholder whose spans record nothing.
// Once a provider is set, otel.GetTracerProvider returns that provider
// instead, so the placeholder never starts recording under our feet.
func isDelegatingGlobal(tp trace.TracerProvider) bool {
	t := reflect.TypeOf(tp)
	return t.Kind() == reflect.Pointer && t.Elem().Name() == "tracerProvider" &&
		t.Elem().PkgPath() == "go.opentelemetry.io/otel/internal/global"
}

// currentTracer returns the tracer to use for one Do call, nil for none.
func (t *telemetry) currentTracer() trace.Tracer {
	if t.tracerProvider != nil {
		return t.tracer
	}
	tp := otel.GetTracerProvider()
	// Only cacheable providers are stored, so == cannot panic here.
	if cached := globalTracer.Load(); cached != nil && cached.provider == tp {
		return cached.tracer
	}
	tracer := tracerOf(tp)
	if cacheable(tp) {
		globalTracer.Store(&providerTracer{provider: tp, tracer: tracer})
	}
	return tracer
}

// callTelemetry records one Do call. It lives on Do's stack.
type callTelemetry struct {
	t        *telemetry
	in       *instruments
	span     trace.Span // nil when tracing is off
	attempts int        // the attempt under way
	ended    bool       // the call's end was recorded
}

// start begins recording a Do call: it starts the span (a child of ctx's
// span) and returns the context fn is to receive.
func (t *telemetry) start(ctx context.Context) (context.Context, callTelemetry) {
	c := callTelemetry{t: t, in: t.currentInstruments()}
	if tracer := t.currentTracer(); tracer != nil {
		ctx, c.span = tracer.Start(ctx, t.spanName, spanStartOptions...)
	}
	return ctx, c
}

// succeeded records a successful attempt and the end of the call.
func (c *callTelemetry) succeeded(ctx context.Context, attempt int) {
	c.ended = true
	if c.span != nil {
		if c.span.IsRecording() {
			c.span.AddEvent(AttemptEventName, trace.WithAttributes(AttemptKey.Int(attempt), WillRetryKey.Bool(false)))
			c.span.SetAttributes(AttemptsKey.Int(attempt), OutcomeKey.String(string(callSucceeded)))
		}
		c.span.End()
	}
	in := c.in
	if in.attempts.Enabled(ctx) {
		in.attempts.Add(ctx, 1, metricAttributes(attemptSucceeded, ""))
	}
	if in.calls.Enabled(ctx) {
		in.calls.Add(ctx, 1, metricAttributes(callSucceeded, ""))
	}
}

// retrying records a failed attempt that will be retried after a.Delay,
// and calls the user's hook.
func (c *callTelemetry) retrying(ctx context.Context, a Attempt) {
	c.attemptEvent(a, true, "")
	t, in := c.t, c.in
	if in.attempts.Enabled(ctx) || in.delays.Enabled(ctx) {
		errType := t.metricErrorType(a.Err, a.Classification)
		in.attempts.Add(ctx, 1, metricAttributes(attemptRetried, errType))
		in.delays.Record(ctx, a.Delay.Seconds(), metricAttributes("", errType))
	}
	if t.logger != nil {
		t.log(ctx, slog.LevelInfo, "awsretry: retrying", a.Err,
			slog.Int("attempt", a.Number),
			slog.String("error_type", errorType(a.Err, a.Classification)),
			slog.String("class", a.Classification.Class.String()),
			slog.Duration("delay", a.Delay))
	}
	if t.onRetry != nil {
		t.onRetry(ctx, a)
	}
}

// failed records a failed attempt that is not retried, and the end of the
// call with outcome o; err is the error Do returns.
func (c *callTelemetry) failed(ctx context.Context, a Attempt, o outcome, err error) {
	c.attemptEvent(a, false, o)
	c.stopped(ctx, a, o, err, a.Number)
}

// gaveUp records the last attempt, which is not retried, and the end of the
// call with rerr's reason; it returns rerr.
func (c *callTelemetry) gaveUp(ctx context.Context, a Attempt, rerr *RetryError) error {
	c.failed(ctx, a, outcome(rerr.Reason), rerr)
	return rerr
}

// canceled records the end of a call whose context ended before an attempt
// or during a wait; the last attempt, if any, was recorded already.
func (c *callTelemetry) canceled(ctx context.Context, rerr *RetryError) {
	c.stopped(ctx, Attempt{Err: rerr.ContextErr}, outcome(rerr.Reason), rerr, rerr.Attempts)
}

// stopped records the end of a failed call. last is the attempt that ended
// it, or, with Number 0, the context's error.
func (c *callTelemetry) stopped(ctx context.Context, last Attempt, o outcome, err error, attempts int) {
	c.ended = true
	t := c.t
	errType := errorType(last.Err, last.Classification)
	if c.span != nil {
		if c.span.IsRecording() {
			c.span.SetAttributes(AttemptsKey.Int(attempts), OutcomeKey.String(string(o)), semconv.ErrorTypeKey.String(errType))
			c.span.SetStatus(codes.Error, string(o)+": "+errType)
		}
		c.span.End()
	}
	in := c.in
	attemptsOn, callsOn := last.Number > 0 && in.attempts.Enabled(ctx), in.calls.Enabled(ctx)
	if attemptsOn || callsOn {
		metricType := t.metricErrorType(last.Err, last.Classification)
		if attemptsOn {
			in.attempts.Add(ctx, 1, metricAttributes(attemptNotRetried, metricType))
		}
		if callsOn {
			in.calls.Add(ctx, 1, metricAttributes(o, metricType))
		}
	}
	if t.logger != nil {
		level := slog.LevelWarn
		if o == callNonRetryable {
			level = slog.LevelInfo
		}
		t.log(ctx, level, "awsretry: giving up", err,
			slog.String("outcome", string(o)),
			slog.Int("attempts", attempts),
			slog.String("error_type", errType))
	}
}

// endIfPanicking records the end of a call that did not end normally: fn
// panicked (or called runtime.Goexit). It does not recover: the panic goes
// on, unchanged, once the span is ended with an error status.
func (c *callTelemetry) endIfPanicking(ctx context.Context) {
	if c.ended {
		return
	}
	c.ended = true
	if c.span != nil {
		if c.span.IsRecording() {
			c.span.SetAttributes(AttemptsKey.Int(c.attempts), OutcomeKey.String(string(callPanicked)))
			c.span.SetStatus(codes.Error, string(callPanicked)+": the operation panicked")
		}
		c.span.End()
	}
	if c.in.calls.Enabled(ctx) {
		c.in.calls.Add(ctx, 1, metricAttributes(callPanicked, ""))
	}
}

// attemptEvent adds the span event of a failed attempt; o is the call's
// outcome when the attempt ends it.
func (c *callTelemetry) attemptEvent(a Attempt, willRetry bool, o outcome) {
	if c.span == nil || !c.span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs,
		AttemptKey.Int(a.Number),
		WillRetryKey.Bool(willRetry),
		semconv.ErrorTypeKey.String(errorType(a.Err, a.Classification)))
	if a.Classification.Code != "" {
		attrs = append(attrs, ErrorCodeKey.String(truncate(a.Classification.Code, maxCodeLen)))
	}
	if a.Classification.Class != ClassNone {
		attrs = append(attrs, ClassKey.String(a.Classification.Class.String()))
	}
	if a.Classification.RetryAfter > 0 {
		attrs = append(attrs, RetryAfterKey.Float64(a.Classification.RetryAfter.Seconds()))
	}
	if willRetry {
		attrs = append(attrs, DelayKey.Float64(a.Delay.Seconds()))
	} else if a.Classification.Retryable {
		attrs = append(attrs, StopReasonKey.String(string(o)))
	}
	status, id := responseDetails(a.Err)
	if status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(status))
	}
	if id != "" {
		attrs = append(attrs, semconv.AWSRequestIDKey.String(truncate(id, maxCodeLen)))
	}
	if c.t.messages {
		attrs = append(attrs, semconv.ExceptionMessageKey.String(message(a.Err)))
	}
	c.span.AddEvent(AttemptEventName, trace.WithAttributes(attrs...))
}

// log writes one record; the error's message only when messages are on.
func (t *telemetry) log(ctx context.Context, level slog.Level, msg string, err error, attrs ...slog.Attr) {
	if !t.logger.Enabled(ctx, level) {
		return
	}
	if t.messages && err != nil {
		attrs = append(attrs, slog.String("error", message(err)))
	}
	t.logger.LogAttrs(ctx, level, msg, attrs...)
}

// errorType is the error.type recorded in spans and logs: the error code if
// there is one; "connection" or "timeout" for a transport failure or an
// attempt that timed out; "context canceled" or "context deadline
// exceeded" for other context errors; otherwise the error's Go type (seen
// through Retryable's and Permanent's marks); at most maxCodeLen bytes.
func errorType(err error, c Classification) string {
	if c.Code != "" {
		return truncate(c.Code, maxCodeLen)
	}
	if err == nil {
		return otherErrorType
	}
	if t, ok := transportErrorType(c); ok {
		return t
	}
	if t, ok := contextErrorType(err); ok {
		return t
	}
	for {
		v, ok := err.(*verdictError)
		if !ok {
			break
		}
		err = v.err
	}
	return truncate(reflect.TypeOf(err).String(), maxCodeLen)
}

// transportErrorType is the error type of a failure without a code that
// the classifier put in ClassConnection or ClassTimeout: the class's name,
// which the OpenTelemetry conventions use for error.type ("timeout").
func transportErrorType(c Classification) (string, bool) {
	if c.Code == "" && (c.Class == ClassConnection || c.Class == ClassTimeout) {
		return c.Class.String(), true
	}
	return "", false
}

// metricErrorType is the error.type recorded in metrics: the error code if it
// is in the known set, the context error's text for context errors, and
// _OTHER for any other code and for other errors without one.
func (t *telemetry) metricErrorType(err error, c Classification) string {
	if _, known := commonCodeSet[c.Code]; known {
		return c.Code
	}
	if _, known := t.extraCodes[c.Code]; known {
		return c.Code
	}
	if t, ok := transportErrorType(c); ok {
		return t
	}
	if c.Code == "" && err != nil {
		if t, ok := contextErrorType(err); ok {
			return t
		}
	}
	return otherErrorType
}

// contextErrorType is the error type of context errors, wrapped or not.
func contextErrorType(err error) (string, bool) {
	switch {
	case chainHas(err, context.Canceled):
		return context.Canceled.Error(), true
	case chainHas(err, context.DeadlineExceeded):
		return context.DeadlineExceeded.Error(), true
	}
	return "", false
}

// notFoundCodes are frequent eventual-consistency codes, reported by name
// in metrics like the default retryable codes and the known client faults.
var notFoundCodes = []string{
	"ResourceNotFoundException", "InvalidInstanceID.NotFound", "InvalidVolume.NotFound",
	"InvalidGroup.NotFound", "InvalidAMIID.NotFound", "InvalidSubnetID.NotFound",
	"InvalidVpcID.NotFound", "InvalidSnapshot.NotFound", "InvalidNetworkInterfaceID.NotFound",
}

// commonCodeSet holds the codes metrics report by name for every Retrier:
// the default retryable codes, the known client faults and notFoundCodes.
var commonCodeSet = func() map[string]struct{} {
	set := make(map[string]struct{})
	for _, code := range slices.Concat(DefaultCodes(), clientFaultCodes, notFoundCodes) {
		set[code] = struct{}{}
	}
	return set
}()

// extraCodes returns the codes of classifier, if it lists them, that metrics
// report by name besides commonCodeSet; nil when there are none.
func extraCodes(classifier Classifier) map[string]struct{} {
	if classifier == Classifier(defaultClassifier) {
		return nil // its codes are all in commonCodeSet
	}
	lister, ok := classifier.(interface{ Codes() []string })
	if !ok {
		return nil
	}
	var extra map[string]struct{}
	for _, code := range lister.Codes() {
		if _, common := commonCodeSet[code]; common || len(code) > maxCodeLen {
			continue
		}
		if extra == nil {
			extra = make(map[string]struct{})
		}
		extra[code] = struct{}{}
	}
	return extra
}

// metricKey identifies a precomputed metric attribute set.
type metricKey struct {
	outcome outcome // empty for the delay histogram
	errType string  // empty on success
}

var metricOptions struct {
	sync.RWMutex
	m map[metricKey]metric.MeasurementOption
}

// metricAttributes returns the measurement option carrying the attribute
// set {outcome, error.type}, built once per combination. The combinations
// are bounded: error types are known codes or _OTHER.
func metricAttributes(o outcome, errType string) metric.MeasurementOption {
	key := metricKey{o, errType}
	metricOptions.RLock()
	opt, ok := metricOptions.m[key]
	metricOptions.RUnlock()
	if ok {
		return opt
	}
	attrs := make([]attribute.KeyValue, 0, 2)
	if o != "" {
		attrs = append(attrs, OutcomeKey.String(string(o)))
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	opt = metric.WithAttributeSet(attribute.NewSet(attrs...))
	metricOptions.Lock()
	if metricOptions.m == nil {
		metricOptions.m = make(map[metricKey]metric.MeasurementOption)
	}
	metricOptions.m[key] = opt
	metricOptions.Unlock()
	return opt
}

// message is err's text, at most maxMessageLen bytes, or a note saying it
// could not be read when Error panics (a typed nil).
func message(err error) (text string) {
	defer func() {
		if recover() != nil {
			text = "(Error panicked)"
		}
	}()
	return truncate(err.Error(), maxMessageLen)
}

// truncate shortens s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
