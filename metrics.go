package awsretry

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/awsretry/awsretry/telemetry"
)

// The metrics of Do calls and attempts, and the guard that keeps their
// attribute values few.

// instruments are the metric instruments of one MeterProvider. A nil or
// zero *instruments records nothing.
type instruments struct {
	attempts metric.Int64Counter
	delays   metric.Float64Histogram
	calls    metric.Int64Counter
	refusals metric.Int64Counter // a Budget's
	hedges   metric.Int64Counter
}

// delayBuckets are the delay histogram's bucket boundaries in seconds, from
// the 5 ms waits of fast retry loops to the minutes of long backoffs.
var delayBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 600}

func newInstruments(mp metric.MeterProvider) (*instruments, error) {
	meter := meterOf(mp)
	var in instruments
	var err error
	if in.attempts, err = meter.Int64Counter(telemetry.AttemptsMetricName, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts made by awsretry, by outcome and error type.")); err != nil {
		return nil, err
	}
	if in.delays, err = meter.Float64Histogram(telemetry.DelayMetricName, metric.WithUnit("s"),
		metric.WithDescription("Waits before retries, by error type."),
		metric.WithExplicitBucketBoundaries(delayBuckets...)); err != nil {
		return nil, err
	}
	if in.calls, err = meter.Int64Counter(telemetry.CallsMetricName, metric.WithUnit("{call}"),
		metric.WithDescription("Calls of awsretry's Do, by final outcome and error type.")); err != nil {
		return nil, err
	}
	if in.refusals, err = meter.Int64Counter(telemetry.BudgetRefusalsMetricName, metric.WithUnit("{retry}"),
		metric.WithDescription("Retries a retry Budget refused, by budget.")); err != nil {
		return nil, err
	}
	if in.hedges, err = meter.Int64Counter(telemetry.HedgesMetricName, metric.WithUnit("{attempt}"),
		metric.WithDescription("Hedged attempts made by awsretry, by outcome: won, lost, failed.")); err != nil {
		return nil, err
	}
	return &in, nil
}

// meter returns the awsretry meter of mp.
func meterOf(mp metric.MeterProvider) metric.Meter {
	return mp.Meter(telemetry.ScopeName, metric.WithInstrumentationVersion(telemetry.Version), metric.WithSchemaURL(semconv.SchemaURL))
}

// noopInstruments record nothing; they stand in when a global provider
// fails to make instruments.
var noopInstruments, _ = newInstruments(metricnoop.NewMeterProvider())

// instrumentSource gives each Do call its instruments: those of the
// provider given with WithMeterProvider, or the global provider's, looked
// up on each call so that a provider installed (or replaced) after New is
// used.
type instrumentSource struct {
	explicit *instruments
}

func instrumentsOf(mp metric.MeterProvider) (instrumentSource, error) {
	switch mp.(type) {
	case nil:
		return instrumentSource{}, nil
	case metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return instrumentSource{explicit: &instruments{}}, nil // records nothing
	}
	if mp == meterPlaceholder {
		return instrumentSource{}, nil // the global one, before an SDK
	}
	in, err := newInstruments(mp)
	return instrumentSource{explicit: in}, err
}

// meterPlaceholder is OpenTelemetry's global meter provider as it is until
// an SDK is installed: a placeholder whose instruments record nothing (they
// start delegating when one is). Once otel.SetMeterProvider installs a
// provider, otel.GetMeterProvider returns that one instead. So while the
// global provider is still this value, Do records no metric at all.
var meterPlaceholder = recordsNothing(otel.GetMeterProvider())

// recordsNothing returns mp if its instruments are not enabled, and nil
// otherwise (an SDK with readers, installed before this package was
// initialised).
func recordsNothing(mp metric.MeterProvider) metric.MeterProvider {
	in, err := newInstruments(mp)
	ctx := context.Background()
	if err != nil || in.attempts.Enabled(ctx) || in.delays.Enabled(ctx) || in.calls.Enabled(ctx) {
		return nil
	}
	return mp
}

// globalInstruments are the instruments of the last global provider seen,
// shared by every Retrier that follows the global provider. Those of
// OpenTelemetry's placeholder, before an SDK is installed, delegate to the
// SDK's once it is, and say they are not Enabled until then.
var globalInstruments perProvider[metric.MeterProvider, *instruments]

// current returns the instruments for one Do call; nil records nothing.
func (s instrumentSource) current() *instruments {
	if s.explicit != nil {
		return s.explicit
	}
	mp := otel.GetMeterProvider()
	if mp == meterPlaceholder {
		return nil
	}
	return globalInstruments.get(mp, func(mp metric.MeterProvider) *instruments {
		in, err := newInstruments(mp)
		if err != nil {
			otel.Handle(err)
			return noopInstruments
		}
		return in
	})
}

// The attribute sets of a success, the most frequent: built once.
var (
	succeededAttempt = metricAttributes(attemptSucceeded, "")
	succeededCall    = metricAttributes(callSucceeded, "")
)

// succeeded counts a successful last attempt and call.
func (in *instruments) succeeded(ctx context.Context) {
	if in == nil || in.calls == nil {
		return
	}
	if in.attempts.Enabled(ctx) {
		in.attempts.Add(ctx, 1, succeededAttempt)
	}
	if in.calls.Enabled(ctx) {
		in.calls.Add(ctx, 1, succeededCall)
	}
}

// retried counts a retried attempt and its wait.
func (in *instruments) retried(ctx context.Context, o *observer, a *Attempt) {
	if in == nil || in.calls == nil {
		return
	}
	attempts, delays := in.attempts.Enabled(ctx), in.delays.Enabled(ctx)
	if !attempts && !delays {
		return
	}
	errType := o.metricErrorType(a)
	if attempts {
		in.attempts.Add(ctx, 1, metricAttributes(attemptRetried, errType))
	}
	if delays {
		in.delays.Record(ctx, a.Delay.Seconds(), metricAttributes("", errType))
	}
}

// notRetried counts a failed attempt that ends its call.
func (in *instruments) notRetried(ctx context.Context, o *observer, a *Attempt) {
	if in == nil || in.calls == nil || !in.attempts.Enabled(ctx) {
		return
	}
	in.attempts.Add(ctx, 1, metricAttributes(attemptNotRetried, o.metricErrorType(a)))
}

// ended counts a failed call that ended with outcome out; last is the
// attempt that ended it, or the context's error.
func (in *instruments) ended(ctx context.Context, out outcome, o *observer, last *Attempt) {
	if in == nil || in.calls == nil || !in.calls.Enabled(ctx) {
		return
	}
	in.calls.Add(ctx, 1, metricAttributes(out, o.metricErrorType(last)))
}

// attemptEnded counts an attempt of a hedged call that ended neither the
// call nor in a retry of its own, with outcome o (lost, or retried when
// other attempts carry on for it).
func (in *instruments) attemptEnded(ctx context.Context, ob *observer, a *Attempt, o outcome) {
	if in == nil || in.calls == nil || !in.attempts.Enabled(ctx) {
		return
	}
	in.attempts.Add(ctx, 1, metricAttributes(o, ob.metricErrorType(a)))
}

// hedged counts a hedge's end with outcome o.
func (in *instruments) hedged(ctx context.Context, o outcome) {
	if in == nil || in.hedges == nil || !in.hedges.Enabled(ctx) {
		return
	}
	in.hedges.Add(ctx, 1, metricAttributes(o, ""))
}

// budgetRefused counts a retry b refused.
func (in *instruments) budgetRefused(ctx context.Context, b *Budget) {
	if in == nil || in.refusals == nil || !in.refusals.Enabled(ctx) {
		return
	}
	in.refusals.Add(ctx, 1, b.meters.attributes)
}

// panicked counts a call whose operation panicked.
func (in *instruments) panicked(ctx context.Context) {
	if in == nil || in.calls == nil || !in.calls.Enabled(ctx) {
		return
	}
	in.calls.Add(ctx, 1, metricAttributes(callPanicked, ""))
}

// metricErrorType is the error.type recorded in metrics, from a bounded
// set: the error code if the Retrier's classifier reports it by name (see
// reportsCode); "connection" or "timeout" for a transport failure without a
// code; the context error's text for context errors; _OTHER for any other
// code and any other error without one.
func (o *observer) metricErrorType(a *Attempt) string {
	c := a.Classification
	if c.Code != "" && o.codes.reports(c.Code) {
		return c.Code
	}
	if t, ok := transportErrorType(c); ok {
		return t
	}
	if c.Code == "" && a.Err != nil {
		if t, ok := contextErrorType(a.Err); ok {
			return t
		}
	}
	return otherErrorType
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
// are bounded: error types are reported codes, a few fixed names or _OTHER.
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
		attrs = append(attrs, telemetry.OutcomeKey.String(string(o)))
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

// codeLister is a classifier of this package that knows which codes it
// retries.
type codeLister interface {
	listsCode(code string) bool
}

// codeReporter tells which error codes the metrics of a Retrier report by
// name: the common codes and, for the classifiers of this package, the
// codes they retry, at most maxCodeLen bytes long. Any other code is
// reported as _OTHER, so that codes a server chooses cannot multiply time
// series.
type codeReporter struct {
	lister codeLister // nil: a classifier of the user's
}

func reportsCode(c Classifier) codeReporter {
	lister, _ := c.(codeLister)
	return codeReporter{lister}
}

func (r codeReporter) reports(code string) bool {
	if _, ok := commonCodes[code]; ok {
		return true
	}
	return r.lister != nil && len(code) <= maxCodeLen && r.lister.listsCode(code)
}

// budgetMeters are a Budget's metrics: its refusals, counted by each
// Retrier's instruments, and its tokens, a gauge observed on each
// MeterProvider of the Retriers configured with it, registered once per
// provider.
type budgetMeters struct {
	name       string
	attributes metric.MeasurementOption // {awsretry.budget=name}, or the empty set; set by observe

	mu        sync.Mutex
	providers []metric.MeterProvider // those the gauge is registered on
}

// observe registers the gauge of b's tokens on mp (the global provider
// when nil), once per provider: a Retrier made per call must not pile up
// callbacks.
func (b *Budget) observe(mp metric.MeterProvider) error {
	m := &b.meters
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.attributes == nil {
		var attrs []attribute.KeyValue
		if m.name != "" {
			attrs = append(attrs, telemetry.BudgetKey.String(truncate(m.name, maxCodeLen)))
		}
		m.attributes = metric.WithAttributeSet(attribute.NewSet(attrs...))
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if _, noop := mp.(metricnoop.MeterProvider); noop || !selfComparable(mp) {
		return nil
	}
	for _, p := range m.providers {
		if p == mp {
			return nil
		}
	}
	meter := meterOf(mp)
	gauge, err := meter.Int64ObservableGauge(telemetry.BudgetTokensMetricName, metric.WithUnit("{token}"),
		metric.WithDescription("What a retry Budget would pay for now: a token bucket's tokens, or the retries a share budget would allow."))
	if err != nil {
		return err
	}
	attrs := m.attributes
	if _, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(gauge, int64(b.Tokens()), attrs)
		return nil
	}, gauge); err != nil {
		return err
	}
	m.providers = append(m.providers, mp)
	return nil
}
