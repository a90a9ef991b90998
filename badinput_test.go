package awsretry_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// TestTypedNilOptionsAreRejected: a nil pointer or function in an
// interface is not nil, and would crash inside Do; New names it instead.
func TestTypedNilOptionsAreRejected(t *testing.T) {
	tests := []struct {
		opt  awsretry.Option
		want string
	}{
		{awsretry.WithClock((*awsretrytest.Clock)(nil)), "WithClock((*awsretrytest.Clock)(nil))"},
		{awsretry.WithClock((*awsretry.RealClock)(nil)), "WithClock((*awsretry.RealClock)(nil))"},
		{awsretry.WithClassifier(awsretry.ClassifierFunc(nil)), "WithClassifier((awsretry.ClassifierFunc)(nil))"},
		{awsretry.WithClassifier((*awsretry.AWSClassifier)(nil)), "WithClassifier((*awsretry.AWSClassifier)(nil))"},
		{awsretry.WithRandom((*rand.Rand)(nil)), "WithRandom((*rand.Rand)(nil))"},
		{awsretry.WithTracerProvider((*tracenoop.TracerProvider)(nil)), "WithTracerProvider((*noop.TracerProvider)(nil))"},
		{awsretry.WithMeterProvider((*metricnoop.MeterProvider)(nil)), "WithMeterProvider((*noop.MeterProvider)(nil))"},
		{awsretry.WithBudget(nil), "WithBudget(<nil>)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			r, err := awsretry.New(tt.opt)
			if r != nil || err == nil || !strings.HasPrefix(err.Error(), "awsretry: "+tt.want+": ") {
				t.Errorf("New = %v, %v; want an error starting %q", r, err, "awsretry: "+tt.want+": ")
			}
		})
	}
}

// TestUnusableCallsFailClearly: Do on a nil or zero Retrier, with a nil
// operation or a nil context, returns an error that says so, instead of
// dereferencing nil deep inside.
func TestUnusableCallsFailClearly(t *testing.T) {
	ok := func(context.Context) error { return nil }
	var nilRetrier *awsretry.Retrier
	r := awsretry.MustNew()
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"nil Retrier", func() error { return nilRetrier.Do(context.Background(), ok) }, "nil or zero Retrier"},
		{"zero Retrier", func() error { return new(awsretry.Retrier).Do(context.Background(), ok) }, "nil or zero Retrier"},
		{"nil operation", func() error { return r.Do(context.Background(), nil) }, "nil operation"},
		//lint:ignore SA1012 a nil context is the bad input under test
		{"nil context", func() error { return r.Do(nil, ok) }, "nil context"},
		{"DoValue nil operation", func() error {
			_, err := awsretry.DoValue[int](context.Background(), r, nil)
			return err
		}, "nil operation"},
		{"DoValue nil Retrier", func() error {
			_, err := awsretry.DoValue(context.Background(), nilRetrier, func(context.Context) (int, error) { return 1, nil })
			return err
		}, "nil or zero Retrier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil || !strings.HasPrefix(err.Error(), "awsretry: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an awsretry error saying %q", err, tt.want)
			}
		})
	}
}

// TestHostileErrorValues: error values the types allow but no real client
// builds (a typed nil in the chain, a response error without a response,
// an Unwrap cycle) are classified as not retryable, without a crash.
func TestHostileErrorValues(t *testing.T) {
	for name, err := range hostileErrors() {
		t.Run(name, func(t *testing.T) {
			r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
			calls := 0
			got := r.Do(context.Background(), func(context.Context) error { calls++; return err })
			if got != err || calls != 1 {
				t.Errorf("Do = %v after %d calls, want the error unchanged after 1", got, calls)
			}
		})
	}
}
