package telemetrytest

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// recordingRetrier returns a Retrier whose spans are recorded (sampled, with
// no exporter) and whose metrics are aggregated by the SDK (a ManualReader
// that is never collected), on a fake clock.
func recordingRetrier(b *testing.B) *awsretry.Retrier {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return awsretry.MustNew(awsretry.WithTracerProvider(tp), awsretry.WithMeterProvider(mp),
		awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithDelay(0))
}

// BenchmarkDoSuccessRecording: first-try success with a recording SDK.
func BenchmarkDoSuccessRecording(b *testing.B) {
	r := recordingRetrier(b)
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Do(ctx, op)
	}
}

// BenchmarkDoThreeAttemptsRecording: two SDK-shaped throttling errors, then
// success, with a recording SDK: three events, five metric points.
func BenchmarkDoThreeAttemptsRecording(b *testing.B) {
	r := recordingRetrier(b)
	ctx := context.Background()
	throttled := sdkError("RequestLimitExceeded", 503, "req", "Request limit exceeded.")
	b.ReportAllocs()
	for b.Loop() {
		calls := 0
		if err := r.Do(ctx, func(context.Context) error {
			calls++
			if calls < 3 {
				return throttled
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}
