package awsretry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

func TestRetryErrorMessage(t *testing.T) {
	tests := []struct {
		err  *awsretry.RetryError
		want string
	}{
		{&awsretry.RetryError{Reason: awsretry.ReasonExhausted, Attempts: 10, Err: errPlain},
			"awsretry: gave up after 10 attempts: plain error"},
		{&awsretry.RetryError{Reason: awsretry.ReasonCanceled, Attempts: 1, Err: errPlain, ContextErr: context.Canceled},
			"awsretry: canceled after 1 attempt: context canceled: plain error"},
		{&awsretry.RetryError{Reason: awsretry.ReasonElapsed, Attempts: 4, Err: errPlain},
			"awsretry: elapsed-time limit reached after 4 attempts: plain error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorsAreNeverLost(t *testing.T) {
	// Whatever stops Do, the last error of the operation is reachable.
	last := apiError("RequestLimitExceeded", 503)
	ctx, cancel := context.WithCancel(context.Background())
	for _, opts := range [][]awsretry.Option{
		{awsretry.WithTries(2)},
		{awsretry.WithMaxElapsed(time.Second)},
		{awsretry.WithBudget(mustTokenBucket(awsretry.TokenBucketConfig{Capacity: 1}))},
		{awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { cancel() })},
	} {
		err := awsretry.MustNew(append(opts, awsretry.WithClock(awsretrytest.NewClock()))...).
			Do(ctx, func(context.Context) error { return last })
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Err != last || !errors.Is(err, last) {
			t.Errorf("Do = %v, want a RetryError wrapping the last error", err)
		}
	}
}
