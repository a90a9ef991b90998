package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// selfJudged is an error that states its own verdict, as aws-sdk-go-v2's
// clock-skew wrapper (true) and its modeled errors marked retryable do.
type selfJudged struct {
	retryable bool
	err       error
}

func (e selfJudged) Error() string        { return fmt.Sprintf("judged %v: %v", e.retryable, e.err) }
func (e selfJudged) Unwrap() error        { return e.err }
func (e selfJudged) RetryableError() bool { return e.retryable }

var errPending = errors.New("instance i-1 is pending")

func TestErrorsStateTheirOwnVerdict(t *testing.T) {
	throttled := apiError("ThrottlingException", 400)
	tests := []struct {
		name  string
		err   error
		class awsretry.Class // ClassNone: not retryable
	}{
		{"own error marked retryable", awsretry.Retryable(errPending), awsretry.ClassTransient},
		{"marked retryable, wrapped", fmt.Errorf("waiting: %w", awsretry.Retryable(errPending)), awsretry.ClassTransient},
		{"marked with a class", awsretry.RetryableAs(errPending, awsretry.ClassEventualConsistency), awsretry.ClassEventualConsistency},
		{"marked, keeps the code's class", awsretry.Retryable(throttled), awsretry.ClassThrottle},
		{"unknown class given", awsretry.RetryableAs(errPending, awsretry.Class(42)), awsretry.ClassTransient},
		{"permanent wins over a throttle code", awsretry.Permanent(throttled), awsretry.ClassNone},
		{"SDK-style verdict true on a client fault", selfJudged{true, apiError("InvalidSignatureException", 400)}, awsretry.ClassTransient},
		{"SDK-style verdict true on AuthFailure", selfJudged{true, apiError("AuthFailure", 401)}, awsretry.ClassTransient},
		{"SDK-style verdict false on a throttle", selfJudged{false, throttled}, awsretry.ClassNone},
		{"the first verdict wins", awsretry.Permanent(awsretry.Retryable(errPending)), awsretry.ClassNone},
		{"canceled beats a verdict", awsretry.Retryable(context.Canceled), awsretry.ClassNone},
	}
	c := awsretry.DefaultClassifier()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.err)
			if got.Class != tt.class || got.Retryable != (tt.class != awsretry.ClassNone) {
				t.Errorf("Classify = %+v, want class %v", got, tt.class)
			}
		})
	}
}

func TestVerdictMarks(t *testing.T) {
	for _, mark := range []func(error) error{
		awsretry.Retryable, awsretry.Permanent,
		func(err error) error { return awsretry.RetryableAs(err, awsretry.ClassThrottle) },
	} {
		if mark(nil) != nil {
			t.Error("marking nil returned an error, want nil")
		}
		err := mark(errPending)
		if !errors.Is(err, errPending) || err.Error() != errPending.Error() {
			t.Errorf("marked error %q does not unwrap to %q with the same text", err, errPending)
		}
	}
}

func TestRetryUntilRunning(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	state := []string{"pending", "pending", "running"}
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		s := state[calls]
		calls++
		if s != "running" {
			return awsretry.Retryable(fmt.Errorf("instance is %s", s))
		}
		return nil
	})
	if err != nil || calls != 3 || len(clk.Sleeps()) != 2 {
		t.Errorf("Do = %v after %d calls and waits %v, want success after 3 calls and 2 waits", err, calls, clk.Sleeps())
	}
	perm := awsretry.Permanent(apiError("RequestLimitExceeded", 503))
	calls = 0
	err = r.Do(context.Background(), func(context.Context) error { calls++; return perm })
	if err != perm || calls != 1 {
		t.Errorf("Do = %v after %d calls, want the permanent error unchanged after 1", err, calls)
	}
}

// TestMarksWinOverACustomClassifier: Retryable and Permanent say what to
// do whatever a classifier of the user's says, as they do with the default.
func TestMarksWinOverACustomClassifier(t *testing.T) {
	always := awsretry.ClassifierFunc(func(error) awsretry.Classification {
		return awsretry.Classification{Retryable: true, Class: awsretry.ClassThrottle}
	})
	never := awsretry.ClassifierFunc(func(error) awsretry.Classification { return awsretry.Classification{} })
	for _, tt := range []struct {
		name       string
		classifier awsretry.Classifier
		err        error
		calls      int
		class      awsretry.Class
	}{
		{"permanent against a classifier that retries", always, awsretry.Permanent(errPending), 1, awsretry.ClassNone},
		{"retryable against a classifier that does not", never, awsretry.Retryable(errPending), 2, awsretry.ClassTransient},
		{"retryable keeps the classifier's class", always, fmt.Errorf("w: %w", awsretry.Retryable(errPending)), 2, awsretry.ClassThrottle},
		{"the mark's class", never, awsretry.RetryableAs(errPending, awsretry.ClassEventualConsistency), 2, awsretry.ClassEventualConsistency},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var classes []awsretry.Class
			r := awsretry.MustNew(awsretry.WithClassifier(tt.classifier), awsretry.WithClock(awsretrytest.NewClock()),
				awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { classes = append(classes, a.Classification.Class) }))
			op, calls := failing(tt.err)
			_ = r.Do(context.Background(), func(context.Context) error { return op() })
			if *calls != tt.calls || (tt.calls == 2 && (len(classes) != 1 || classes[0] != tt.class)) {
				t.Errorf("%d calls, classes %v; want %d calls, class %v", *calls, classes, tt.calls, tt.class)
			}
		})
	}
}
