package telemetrytest

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/telemetry"
)

// TestHedgeIsTraced: a call whose first attempt is slow, hedged after
// 50 ms; the hedge answers first. On the span: the first attempt, lost,
// and the hedge, with the delay after which it started; in the metrics,
// a hedge that won. In a synctest bubble, on the real clock.
func TestHedgeIsTraced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		r, err := awsretry.New(awsretry.WithTracerProvider(e.tp), awsretry.WithMeterProvider(e.mp),
			awsretry.WithHedge(awsretry.Hedge{Delay: 50 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		attempts := make(chan struct{}, 2)
		err = r.DoHedged(context.Background(), func(ctx context.Context) error {
			attempts <- struct{}{}
			d := 10 * time.Millisecond // the hedge
			if len(attempts) == 1 {
				d = time.Second // the first attempt
			}
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		span := e.onlySpan(t)
		assertEvents(t, span, []attribute.Set{
			set(telemetry.AttemptKey.Int(1), telemetry.WillRetryKey.Bool(false), telemetry.LostKey.Bool(true),
				attribute.String("error.type", "context canceled")),
			set(telemetry.AttemptKey.Int(2), telemetry.WillRetryKey.Bool(false), telemetry.HedgeDelayKey.Float64(0.05)),
		})
		attrs := attribute.NewSet(span.Attributes()...)
		if v, _ := attrs.Value(telemetry.AttemptsKey); v.AsInt64() != 2 {
			t.Errorf("span attribute %s = %d, want 2", telemetry.AttemptsKey, v.AsInt64())
		}
		m := e.metrics(t)
		assertMetric(t, m, counter(telemetry.HedgesMetricName, "{attempt}",
			metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("won")), Value: 1}))
		assertMetric(t, m, counter(telemetry.AttemptsMetricName, "{attempt}",
			metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("lost"), attribute.String("error.type", "context canceled")), Value: 1},
			metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("success")), Value: 1}))
	})
}
