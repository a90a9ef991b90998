package awsretry

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/awsretry/awsretry/telemetry"
)

// The span of a Do call and the event of each attempt.

// tracers gives each Do call its tracer: the one of the provider given with
// WithTracerProvider, or the global provider's, looked up on each call so
// that a provider installed (or replaced) after New is used.
type tracers struct {
	explicit bool
	tracer   trace.Tracer // the explicit provider's; nil if it records nothing
}

// globalTracer is the tracer of the last global provider seen, shared by
// every Retrier that follows the global provider.
var globalTracer perProvider[trace.TracerProvider, trace.Tracer]

func tracersOf(tp trace.TracerProvider) tracers {
	if tp == nil || tp == globalPlaceholder {
		return tracers{}
	}
	return tracers{explicit: true, tracer: tracerOf(tp)}
}

// globalPlaceholder is OpenTelemetry's global tracer provider as it is
// until an SDK is installed: a placeholder whose spans record nothing (its
// tracers start delegating when one is). Once otel.SetTracerProvider
// installs a provider, otel.GetTracerProvider returns that one instead. So
// while the global provider is still this value, Do starts no span at all,
// and costs no allocation.
var globalPlaceholder = placeholder(otel.GetTracerProvider())

// placeholder returns tp if its spans record nothing, and nil if it is a
// real SDK (one installed before this package was initialised). It asks tp
// for a span under a remote parent that is not sampled: an SDK makes a span
// of its own (a new span id, recording or not), the placeholder hands back
// its parent's span context and records nothing.
func placeholder(tp trace.TracerProvider) trace.TracerProvider {
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, Remote: true})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), parent)
	_, span := tp.Tracer(telemetry.ScopeName).Start(ctx, "awsretry.placeholder")
	defer span.End()
	if span.IsRecording() || !span.SpanContext().Equal(parent) {
		return nil
	}
	return tp
}

// tracerOf returns the awsretry tracer of tp, or nil when tp is the no-op
// provider: skipping Start then saves the allocations of a new context and
// span, and fn receives the caller's context, with its span context.
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	switch tp.(type) {
	case noop.TracerProvider, *noop.TracerProvider:
		return nil
	}
	return tp.Tracer(telemetry.ScopeName, trace.WithInstrumentationVersion(telemetry.Version), trace.WithSchemaURL(semconv.SchemaURL))
}

// current returns the tracer for one Do call, nil for none.
func (t *tracers) current() trace.Tracer {
	if t.explicit {
		return t.tracer
	}
	tp := otel.GetTracerProvider()
	if tp == globalPlaceholder {
		return nil
	}
	return globalTracer.get(tp, tracerOf)
}

var spanStartOptions = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}

// start starts the span of a Do call named name, if tracing is on.
func (t *tracers) start(ctx context.Context, name string) (context.Context, spanRecorder) {
	tracer := t.current()
	if tracer == nil {
		return ctx, spanRecorder{}
	}
	ctx, span := tracer.Start(ctx, name, spanStartOptions...)
	return ctx, spanRecorder{span: span}
}

// spanRecorder records a Do call in its span; with no span it does
// nothing.
type spanRecorder struct {
	span trace.Span
	// borrowed: the span is another's (the SDK's or the caller's, when
	// aws-sdk-go-v2's retry loop drives the Retrier): it gets the attempt
	// events, but its attributes, status and end are not the Retrier's.
	borrowed bool
}

// recording reports whether anything recorded reaches a span.
func (s spanRecorder) recording() bool { return s.span != nil && s.span.IsRecording() }

// attempt adds the event of a failed attempt; o is the call's outcome when
// the attempt ends it, or attemptRetried for an attempt of a hedged call
// that others carry on for.
func (s spanRecorder) attempt(obs *observer, a *Attempt, willRetry bool, o outcome) {
	if !s.recording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 13)
	attrs = append(attrs,
		telemetry.AttemptKey.Int(a.Number),
		telemetry.WillRetryKey.Bool(willRetry),
		semconv.ErrorTypeKey.String(errorType(a)))
	if a.hedgeDelay > 0 {
		attrs = append(attrs, telemetry.HedgeDelayKey.Float64(a.hedgeDelay.Seconds()))
	}
	if a.lost {
		attrs = append(attrs, telemetry.LostKey.Bool(true))
	}
	c := a.Classification
	if c.Code != "" {
		attrs = append(attrs, telemetry.ErrorCodeKey.String(truncate(c.Code, maxCodeLen)))
	}
	if c.Class != ClassNone {
		attrs = append(attrs, telemetry.ClassKey.String(c.Class.String()))
	}
	if c.RetryAfter > 0 {
		attrs = append(attrs, telemetry.RetryAfterKey.Float64(c.RetryAfter.Seconds()))
	}
	if a.RateWait > 0 {
		attrs = append(attrs, telemetry.RateWaitKey.Float64(a.RateWait.Seconds()))
	}
	if a.Ambiguous {
		attrs = append(attrs, telemetry.AmbiguousKey.Bool(true))
	}
	switch {
	case o == attemptRetried || a.lost:
		// An attempt of a hedged call that others carry on for, or that
		// lost to another: no wait of its own, no reason to stop.
	case willRetry:
		attrs = append(attrs, telemetry.DelayKey.Float64(a.Delay.Seconds()))
	case c.Retryable:
		attrs = append(attrs, telemetry.StopReasonKey.String(string(o)))
	}
	status, id := responseDetails(a.Err)
	if status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(status))
	}
	if id != "" {
		attrs = append(attrs, semconv.AWSRequestIDKey.String(truncate(id, maxCodeLen)))
	}
	if obs.messages {
		attrs = append(attrs, semconv.ExceptionMessageKey.String(message(a.Err)))
	}
	s.span.AddEvent(telemetry.AttemptEventName, trace.WithAttributes(attrs...))
}

// succeeded records the successful attempt and ends the span: the
// attempt's number is winner, or the last of attempts when 0; delay is
// the hedge delay after which it started, if it was a hedge.
func (s spanRecorder) succeeded(attempts, winner int, delay, rateWait time.Duration) {
	if s.span == nil {
		return
	}
	if s.span.IsRecording() {
		if winner == 0 {
			winner = attempts
		}
		attrs := []attribute.KeyValue{telemetry.AttemptKey.Int(winner), telemetry.WillRetryKey.Bool(false)}
		if delay > 0 {
			attrs = append(attrs, telemetry.HedgeDelayKey.Float64(delay.Seconds()))
		}
		if rateWait > 0 {
			attrs = append(attrs, telemetry.RateWaitKey.Float64(rateWait.Seconds()))
		}
		s.span.AddEvent(telemetry.AttemptEventName, trace.WithAttributes(attrs...))
		if !s.borrowed {
			s.span.SetAttributes(telemetry.AttemptsKey.Int(attempts), telemetry.OutcomeKey.String(string(callSucceeded)))
		}
	}
	if !s.borrowed {
		s.span.End()
	}
}

// failed ends the span of a failed call with an error status; last is the
// attempt that ended it, or the context's error.
func (s spanRecorder) failed(attempts int, o outcome, last *Attempt) {
	if s.span == nil || s.borrowed {
		return
	}
	if s.span.IsRecording() {
		errType := errorType(last)
		s.span.SetAttributes(telemetry.AttemptsKey.Int(attempts), telemetry.OutcomeKey.String(string(o)), semconv.ErrorTypeKey.String(errType))
		s.span.SetStatus(codes.Error, string(o)+": "+errType)
	}
	s.span.End()
}

// panicked ends the span of a call whose fn panicked.
func (s spanRecorder) panicked(attempts int) {
	if s.span == nil || s.borrowed {
		return
	}
	if s.span.IsRecording() {
		s.span.SetAttributes(telemetry.AttemptsKey.Int(attempts), telemetry.OutcomeKey.String(string(callPanicked)))
		s.span.SetStatus(codes.Error, string(callPanicked)+": the operation panicked")
	}
	s.span.End()
}

// perProvider remembers the value (tracer, instruments) made for the last
// global provider seen, for the Do calls that follow.
type perProvider[P comparable, V any] struct {
	last atomic.Pointer[madeFor[P, V]]
}

type madeFor[P comparable, V any] struct {
	provider P
	value    V
}

// get returns the value made for p, making it with make when p is not the
// provider remembered.
func (c *perProvider[P, V]) get(p P, make func(P) V) V {
	// Only providers that compare equal to themselves are remembered, and
	// comparing such a value with any other never panics: a comparison
	// panics only where both sides hold the same incomparable type, and
	// the remembered side would then have panicked against itself.
	if m := c.last.Load(); m != nil && m.provider == p {
		return m.value
	}
	v := make(p)
	if selfComparable(p) {
		c.last.Store(&madeFor[P, V]{provider: p, value: v})
	}
	return v
}

// selfComparable reports whether v == v holds without panicking: false for
// a struct holding a map or a slice in an interface field, say.
func selfComparable(v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	w := v
	return v == w
}
