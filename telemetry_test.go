package awsretry_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/awsretry/awsretry"
)

// TestTelemetryOffCostsNoAllocation: with OpenTelemetry's global providers
// and no SDK installed (this test binary installs none), or with explicit
// no-op providers, Do on first-try success allocates nothing.
func TestTelemetryOffCostsNoAllocation(t *testing.T) {
	op := func(context.Context) error { return nil }
	for name, r := range map[string]*awsretry.Retrier{
		"global providers": awsretry.MustNew(),
		"no-op provider":   awsretry.MustNew(awsretry.WithTracerProvider(noop.NewTracerProvider())),
	} {
		ctx := context.Background()
		if n := testing.AllocsPerRun(1000, func() { _ = r.Do(ctx, op) }); n != 0 {
			t.Errorf("%s: Do allocates %v times per call, want 0", name, n)
		}
	}
}

// TestTelemetryOffKeepsTheCallersSpanContext: when no span is started, fn
// still sees the caller's span context, so a child span started in fn joins
// the caller's trace.
func TestTelemetryOffKeepsTheCallersSpanContext(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	_ = awsretry.MustNew().Do(ctx, func(ctx context.Context) error {
		if got := trace.SpanContextFromContext(ctx); !got.Equal(sc) {
			t.Errorf("fn's span context = %v, want the caller's %v", got, sc)
		}
		return nil
	})
}

// oddMeterProvider is a comparable struct holding a value == cannot
// compare; awsretry must neither hash nor compare it.
type oddMeterProvider struct {
	metric.MeterProvider
	tags any
}

type oddTracerProvider struct {
	trace.TracerProvider
	tags any
}

func TestProvidersOfAnyTypeAreSafe(t *testing.T) {
	mp := oddMeterProvider{MeterProvider: metricnoop.NewMeterProvider(), tags: []string{"x"}}
	tp := oddTracerProvider{TracerProvider: noop.NewTracerProvider(), tags: map[string]int{}}
	r, err := awsretry.New(awsretry.WithMeterProvider(mp), awsretry.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := r.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
}
