package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
)

// hangs is an operation that never answers on its own: it returns when its
// context ends, wrapping the context's error as the SDK does for a request
// cut off mid-send (*smithy.CanceledError). After hanging n times it
// answers at once. It records each attempt's deadline.
func hangs(n int) (func(context.Context) error, *[]time.Duration) {
	var deadlines []time.Duration
	return func(ctx context.Context) error {
		d, _ := ctx.Deadline()
		deadlines = append(deadlines, time.Until(d))
		if len(deadlines) > n {
			return nil
		}
		<-ctx.Done()
		return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: &smithy.CanceledError{Err: ctx.Err()}}
	}, &deadlines
}

// The attempt timeout is a context deadline on real time: inside a
// synctest bubble, real time is fake, so these tests wait for nothing.

func TestAttemptTimeoutRetriesAHungAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []awsretry.Attempt
		r := awsretry.MustNew(awsretry.WithAttemptTimeout(2*time.Second), awsretry.WithDelay(time.Second),
			awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { events = append(events, a) }))
		op, deadlines := hangs(2)
		start := time.Now()
		if err := r.Do(context.Background(), op); err != nil {
			t.Fatalf("Do = %v, want success on the third attempt", err)
		}
		// Two hung attempts of 2s, waits of 1s and 1.1s.
		if took, want := time.Since(start), 6100*time.Millisecond; took != want {
			t.Errorf("Do took %v, want %v", took, want)
		}
		if len(*deadlines) != 3 || (*deadlines)[0] != 2*time.Second {
			t.Errorf("attempt deadlines %v, want 3 attempts with 2s each", *deadlines)
		}
		for _, a := range events {
			if !a.Classification.Retryable || a.Classification.Class != awsretry.ClassTimeout {
				t.Errorf("attempt %d classified %+v, want retryable timeout", a.Number, a.Classification)
			}
		}
	})
}

func TestCallersDeadlineEndsDoDespiteAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := awsretry.MustNew(awsretry.WithAttemptTimeout(10*time.Second), awsretry.WithDelay(time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		op, deadlines := hangs(100)
		err := r.Do(ctx, op)
		// The caller's deadline (3s) is sooner than the attempt's (10s):
		// the attempt gets 3s, and its failure is the caller's, so Do
		// returns it unchanged, as without an attempt timeout.
		var canceled *smithy.CanceledError
		if !errors.As(err, &canceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Do = %v, want the operation's error from the caller's deadline", err)
		}
		var rerr *awsretry.RetryError
		if errors.As(err, &rerr) || len(*deadlines) != 1 || (*deadlines)[0] != 3*time.Second {
			t.Errorf("Do = %v after attempts with deadlines %v, want one attempt of 3s and the error unchanged", err, *deadlines)
		}
	})
}

func TestAttemptTimeoutLeavesOtherErrorsAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := awsretry.MustNew(awsretry.WithAttemptTimeout(time.Second), awsretry.WithTries(3))
		calls := 0
		// The operation ignores its context and fails its own way after the
		// deadline: not a timeout of the attempt's context, so the error is
		// classified as it is.
		err := r.Do(context.Background(), func(context.Context) error {
			calls++
			time.Sleep(2 * time.Second)
			return errPlain
		})
		if err != errPlain || calls != 1 {
			t.Errorf("Do = %v after %d calls, want %v unchanged after 1", err, calls, errPlain)
		}
	})
}

// TestPermanentWinsOverAttemptTimeout: an operation that gives up on its
// own when its attempt times out, saying so with Permanent, is not
// retried.
func TestPermanentWinsOverAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := awsretry.MustNew(awsretry.WithAttemptTimeout(time.Second), awsretry.WithTries(3))
		calls := 0
		err := r.Do(context.Background(), func(ctx context.Context) error {
			calls++
			<-ctx.Done()
			return awsretry.Permanent(fmt.Errorf("the job cannot finish in time: %w", ctx.Err()))
		})
		var rerr *awsretry.RetryError
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &rerr) || calls != 1 {
			t.Errorf("Do = %v after %d calls, want the operation's error unchanged after 1", err, calls)
		}
	})
}

func TestAttemptTimeoutExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := awsretry.MustNew(awsretry.WithAttemptTimeout(time.Second), awsretry.WithTries(2), awsretry.WithDelay(0))
		op, _ := hangs(100)
		err := r.Do(context.Background(), op)
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonExhausted || rerr.Attempts != 2 {
			t.Fatalf("Do = %v, want a RetryError exhausted after 2 attempts", err)
		}
		if rerr.ContextErr != nil {
			t.Errorf("ContextErr = %v, want nil: the caller's context is live", rerr.ContextErr)
		}
	})
}

func TestAttemptTimeoutOption(t *testing.T) {
	if _, err := awsretry.New(awsretry.WithAttemptTimeout(-time.Second)); err == nil ||
		err.Error() != "awsretry: WithAttemptTimeout(-1s): timeout must not be negative (0 means none)" {
		t.Errorf("New = %v, want an error naming WithAttemptTimeout(-1s)", err)
	}
	op := func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); ok {
			return fmt.Errorf("deadline set without WithAttemptTimeout")
		}
		return nil
	}
	if err := awsretry.MustNew(awsretry.WithAttemptTimeout(0)).Do(context.Background(), op); err != nil {
		t.Error(err)
	}
}
