package telemetrytest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// TestGlobalProvidersInstalledAfterNew: a Retrier made before the
// application installs its SDK (a package-level Retrier, say) records once
// the SDK is installed. This is the only test here that touches the global
// providers.
func TestGlobalProvidersInstalledAfterNew(t *testing.T) {
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	op := func(context.Context) error { return nil }
	_ = r.Do(context.Background(), op) // before: records nothing, and must not break later

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})

	_ = r.Do(context.Background(), op)
	if n := len(spans.Ended()); n != 1 {
		t.Errorf("%d spans after the SDK was installed, want 1", n)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == awsretry.CallsMetricName {
				found = m.Data.(metricdata.Sum[int64]).DataPoints[0].Value == 1
			}
		}
	}
	if !found {
		t.Errorf("no %s point of 1 after the SDK was installed: %+v", awsretry.CallsMetricName, rm.ScopeMetrics)
	}
}
