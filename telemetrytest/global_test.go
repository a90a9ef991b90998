package telemetrytest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/telemetry"
)

// sdk is a recording SDK installed as the global providers.
type sdk struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func installSDK(t *testing.T) sdk {
	s := sdk{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return s
}

// calls returns the value of the awsretry.calls point, 0 if none.
func (s sdk) calls(t *testing.T) int64 {
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == telemetry.CallsMetricName {
				return m.Data.(metricdata.Sum[int64]).DataPoints[0].Value
			}
		}
	}
	return 0
}

// oddMeterProvider and oddTracerProvider are comparable structs holding a
// value that == panics on: awsretry must never compare or hash them.
type oddMeterProvider struct {
	metric.MeterProvider
	tags any
}

type oddTracerProvider struct {
	trace.TracerProvider
	tags any
}

// TestGlobalProviders: a Retrier made before the application installs its
// SDK (a package-level Retrier, say) records once the SDK is installed,
// and follows the global providers when they change again. Global
// providers of any type are safe. This is the only test here that touches
// the global providers.
func TestGlobalProviders(t *testing.T) {
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	op := func(context.Context) error { return nil }
	_ = r.Do(context.Background(), op) // before: records nothing, and must not break later

	a := installSDK(t)
	_ = r.Do(context.Background(), op)
	if n := len(a.spans.Ended()); n != 1 || a.calls(t) != 1 {
		t.Errorf("after the SDK was installed: %d spans and %d calls counted, want 1 and 1", n, a.calls(t))
	}

	b := installSDK(t)
	_ = r.Do(context.Background(), op)
	if len(a.spans.Ended()) != 1 || a.calls(t) != 1 || len(b.spans.Ended()) != 1 || b.calls(t) != 1 {
		t.Errorf("after a second SDK was installed: first %d spans, %d calls; second %d spans, %d calls; want 1, 1, 1, 1",
			len(a.spans.Ended()), a.calls(t), len(b.spans.Ended()), b.calls(t))
	}

	otel.SetMeterProvider(oddMeterProvider{MeterProvider: metricnoop.NewMeterProvider(), tags: []string{"x"}})
	otel.SetTracerProvider(oddTracerProvider{TracerProvider: tracenoop.NewTracerProvider(), tags: map[string]int{}})
	for range 3 {
		if err := r.Do(context.Background(), op); err != nil {
			t.Fatal(err)
		}
	}
}
