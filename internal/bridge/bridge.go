// Package bridge lets the nested module awssdk drive a Retrier from
// aws-sdk-go-v2's own retry loop, deciding, waiting and recording as Do
// does, without widening package awsretry's API. Package awsretry
// implements it; only modules of this repository can import it.
package bridge

import (
	"context"
	"time"
)

// Policy is a Retrier, as aws-sdk-go-v2's retry loop needs it.
type Policy interface {
	// Tries is the number of attempts (WithTries).
	Tries() int
	// AttemptTimeout is WithAttemptTimeout's deadline; 0 for none.
	AttemptTimeout() time.Duration
	// Retryable reports whether the Retrier would retry err.
	Retryable(err error) bool
	// Start begins an operation, recording its attempts as events of the
	// span in ctx (the Retrier starts no span of its own).
	Start(ctx context.Context) Operation

	// AttemptContext returns the context of an attempt under ctx, with
	// AttemptTimeout's deadline if there is one, and the function that
	// ends the attempt with its error: the deadline then no longer
	// applies, and after a success the context stays live for the caller
	// to read a body the attempt returned (see awsretry's attempt
	// context).
	AttemptContext(ctx context.Context) (context.Context, func(err error))

	// For the retryer used without an operation: the schedule's wait
	// after failed attempt n with err (before any server hint); a retry's cost
	// taken from the Budget, with the function that refunds it once a
	// later attempt succeeds, or, when ok is false, the tokens the Budget
	// had and the retry's cost; and the reward of a successful attempt.
	Delay(n int, err error) time.Duration
	Take(err error) (refund func(), available, cost int, ok bool)
	Succeeded()
}

// Operation is one operation's attempts, made by another retry loop.
type Operation interface {
	// Attempt notes that an attempt begins, once the Retrier's Limiter,
	// if it has one, lets it go: it waits on the Retrier's clock for a
	// send slot, or returns the *awsretry.RetryError that refuses the
	// attempt (reason rate_limited, or canceled).
	Attempt(ctx context.Context) error
	// Succeeded notes that the attempt under way succeeded.
	Succeeded()
	// Retryable classifies the failed attempt's error, as Do would.
	Retryable(err error) bool
	// Retry decides on the failed attempt: it returns nil once it has
	// recorded the retry and waited on the Retrier's clock, or the
	// *awsretry.RetryError that says why not (the attempts are exhausted,
	// the context ended, a limit, the Budget).
	Retry(ctx context.Context, err error) error
	// Quota returns, after Retry refused a retry for the Budget, the
	// tokens the Budget had and the retry's cost.
	Quota() (available, requested int)
	// End records the end of the operation: attemptErr is nil after a
	// success, else the last attempt's error, and reason the
	// awsretry.Reason the loop stopped for ("" when the error was not
	// retryable, "panic" when the loop panicked).
	End(attemptErr error, reason string)
}

// Of returns r's Policy; r is a *awsretry.Retrier. Package awsretry sets
// it when it is initialised.
var Of func(r any) Policy

// CallToken returns the idempotency token for a call named call made in
// the Do call of ctx, and false when ctx is not in a Do call of a Retrier
// made WithScope: the same token for the call at the same position among
// the calls of that name in every attempt of the Do call.
var CallToken func(ctx context.Context, call string) (token string, ok bool)
