package telemetrytest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/telemetry"
)

// cutToOnePerSecond cuts l's rate on the env's clock: a throttle, a
// success half a second later, a throttle half a second after that, a
// measure of one per second and a rate of 0.95 per second; then it waits
// for the first slot after the cut (two intervals away, the first at most
// 100 ms: the service's bucket is empty), so that a slot is free. It
// returns the Retrier it used (one attempt per call).
func (e *env) cutToOnePerSecond(t *testing.T, l *awsretry.Limiter) *awsretry.Retrier {
	t.Helper()
	r := e.retrier(t, awsretry.WithLimiter(l), awsretry.WithTries(1))
	throttle := func(context.Context) error { return sdkError("ThrottlingException", 400, "req-1", "Rate exceeded") }
	_ = r.Do(context.Background(), throttle)
	e.clock.Advance(500 * time.Millisecond)
	_ = r.Do(context.Background(), func(context.Context) error { return nil })
	e.clock.Advance(500 * time.Millisecond)
	_ = r.Do(context.Background(), throttle)
	if rate := l.Rate(); math.Abs(rate-0.95) > 1e-9 {
		t.Fatalf("Rate() = %v, want 0.95", rate)
	}
	e.clock.Advance(100*time.Millisecond + time.Second*100/95)
	return r
}

// TestLimiterWaitInTheTrace: the attempt events say how long an attempt
// waited for a Limiter's send slot, apart from the backoff.
func TestLimiterWaitInTheTrace(t *testing.T) {
	e := newEnv(t)
	l := new(awsretry.Limiter)
	e.cutToOnePerSecond(t, l)

	r := e.retrier(t, awsretry.WithLimiter(l), awsretry.WithDelay(time.Second))
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		if calls++; calls == 1 {
			// A transient error: retried, and neither an accepted request
			// nor a throttle to the Limiter.
			return sdkError("InternalError", 500, "req-2", "We encountered an internal error")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ended := e.spans.Ended()
	span := ended[len(ended)-1]
	var waits []float64
	for _, ev := range span.Events() {
		w := 0.0
		for _, a := range ev.Attributes {
			if a.Key == telemetry.RateWaitKey {
				w = a.Value.AsFloat64()
			}
		}
		waits = append(waits, w)
	}
	// The first attempt takes the slot there is; the second, after a
	// backoff of 1 s, waits for the next slot, 1/0.95 s after the first.
	want := []float64{0, 1/0.95 - 1}
	if len(waits) != 2 || waits[0] != want[0] || math.Abs(waits[1]-want[1]) > 1e-6 {
		t.Errorf("%s on the attempt events = %v, want %v", telemetry.RateWaitKey, waits, want)
	}
}

// TestLimiterRefusalInTheTrace: a call the Limiter refuses ends its span
// with the outcome rate_limited and no attempt.
func TestLimiterRefusalInTheTrace(t *testing.T) {
	e := newEnv(t)
	l := &awsretry.Limiter{MaxWait: 100 * time.Millisecond}
	cutter := e.cutToOnePerSecond(t, l)
	_ = cutter.Do(context.Background(), func(context.Context) error { return nil }) // the slot there is

	err := cutter.Do(context.Background(), func(context.Context) error { return nil })
	if !strings.Contains(fmt.Sprint(err), "rate limited") {
		t.Fatalf("Do = %v, want a refusal", err)
	}
	span := e.spans.Ended()[len(e.spans.Ended())-1]
	if got, want := fmt.Sprint(span.Attributes()), fmt.Sprint([]attribute.KeyValue{
		telemetry.AttemptsKey.Int(0), telemetry.OutcomeKey.String("rate_limited"), semconv.ErrorTypeKey.String("_OTHER"),
	}); got != want || len(span.Events()) != 0 || span.Status().Description != "rate_limited: _OTHER" {
		t.Errorf("span attributes %s, %d events, status %q; want %s, none, %q",
			got, len(span.Events()), span.Status().Description, want, "rate_limited: _OTHER")
	}

	// A retry the Limiter refuses: the call ends with the error it was
	// retrying.
	e.clock.Advance(1100 * time.Millisecond) // a slot for the first attempt
	retrier := e.retrier(t, awsretry.WithLimiter(l), awsretry.WithDelay(time.Millisecond))
	err = retrier.Do(context.Background(), func(context.Context) error {
		return sdkError("ServiceUnavailable", 503, "req-2", "try again")
	})
	var re *awsretry.RetryError
	if !errors.As(err, &re) || re.Reason != awsretry.ReasonRateLimited || re.Attempts != 1 {
		t.Fatalf("Do = %v, want a refusal after 1 attempt", err)
	}
	span = e.spans.Ended()[len(e.spans.Ended())-1]
	if desc := span.Status().Description; desc != "rate_limited: ServiceUnavailable" || len(span.Events()) != 1 {
		t.Errorf("status %q, %d events; want %q, 1", desc, len(span.Events()), "rate_limited: ServiceUnavailable")
	}
}
