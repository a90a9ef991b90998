package awsretry_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/awsretry/awsretry/awsretrytest"
)

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		opt  awsretry.Option
		want string // the option and the value, as the error names them
	}{
		{awsretry.WithTries(0), "WithTries(0)"},
		{awsretry.WithTries(-3), "WithTries(-3)"},
		{awsretry.WithDelay(-time.Second), "WithDelay(-1s)"},
		{awsretry.WithBackoff(0.5), "WithBackoff(0.5)"},
		{awsretry.WithBackoff(math.NaN()), "WithBackoff(NaN)"},
		{awsretry.WithBackoff(math.Inf(1)), "WithBackoff(+Inf)"},
		{awsretry.WithMaxDelay(-time.Nanosecond), "WithMaxDelay(-1ns)"},
		{awsretry.WithMaxElapsed(-time.Minute), "WithMaxElapsed(-1m0s)"},
		{awsretry.WithJitter(awsretry.Jitter(9)), "WithJitter(Jitter(9))"},
		{awsretry.WithRandom(nil), "WithRandom(<nil>)"},
		{awsretry.WithClock(nil), "WithClock(<nil>)"},
		{awsretry.WithClassifier(nil), "WithClassifier(<nil>)"},
		{awsretry.WithAddedCodes("A", ""), `WithAddedCodes("")`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			r, err := awsretry.New(tt.opt)
			if r != nil || err == nil || !strings.HasPrefix(err.Error(), "awsretry: "+tt.want+": ") {
				t.Fatalf("New = %v, %v; want an error starting %q", r, err, "awsretry: "+tt.want+": ")
			}
			defer func() {
				if p := recover(); p == nil || p.(error).Error() != err.Error() {
					t.Errorf("MustNew panicked with %v, want %v", p, err)
				}
			}()
			awsretry.MustNew(tt.opt)
		})
	}
}

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
