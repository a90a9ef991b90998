// Package awssdk puts an awsretry Retrier inside aws-sdk-go-v2's clients, as
// their retryer: every call of every client made from one aws.Config is
// retried as the Retrier's Do would retry it, with the same classification,
// schedule, server hints, cap, budget, attempt timeout, clock and
// telemetry, and no wrapping of each call.
//
//	cfg, err := config.LoadDefaultConfig(ctx, awssdk.WithRetrier(r))
//
// or, for one client, dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
// o.APIOptions = append(o.APIOptions, awssdk.APIOption(r)) }).
//
// It works with the SDK's own retry loop rather than around it: the SDK
// still makes each attempt (cloning and signing the request, correcting
// for clock skew, opening its RetryLoop and Attempt spans); the Retrier
// decides whether and when to retry. The waits run on the Retrier's Clock,
// so a test with awsretrytest.NewClock runs hours of backoff at once. Each
// attempt is an awsretry.attempt event, with the same attributes as under
// Do, on the span of the SDK operation when the client has a tracer
// provider, else on the caller's span; the metrics are Do's.
//
// Use one layer or the other for a call: a client configured this way,
// called inside Retrier.Do, multiplies the attempts.
package awssdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/internal/bridge"
)

// WithRetrier makes every client of the aws.Config being loaded retry as r
// does: its retryer is Retryer(r) and its API options include
// APIOption(r).
func WithRetrier(r *awsretry.Retrier) config.LoadOptionsFunc {
	return func(o *config.LoadOptions) error {
		if r == nil {
			return errNilRetrier
		}
		o.Retryer = func() aws.Retryer { return Retryer(r) }
		o.APIOptions = append(o.APIOptions, APIOption(r))
		return nil
	}
}

// APIOption returns the API option (for aws.Config.APIOptions, or a
// client's or a call's Options.APIOptions) that gives each operation its
// own retryer driven by r: the SDK's retry middleware is rebuilt around it,
// with the client's settings (clock-skew correction, retry logging, its
// meter), and two middlewares of r's see the operation begin and end and,
// under WithAttemptTimeout, give each attempt its deadline.
func APIOption(r *awsretry.Retrier) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if r == nil {
			return errNilRetrier
		}
		m, ok := stack.Finalize.Get(retryID)
		if !ok {
			return nil // an operation without retries
		}
		sdk, ok := m.(*retry.Attempt)
		if !ok {
			return fmt.Errorf("awssdk: the %q middleware is a %T, not the SDK's *retry.Attempt", retryID, m)
		}
		p := bridge.Of(r)
		op := &operation{policy: p}
		op.releaseAttempt = op.release
		attempt := retry.NewAttemptMiddleware(op, smithyhttp.RequestCloner, func(a *retry.Attempt) {
			a.LogAttempts = sdk.LogAttempts
			a.OperationMeter = sdk.OperationMeter
			a.ClientSkew = sdk.ClientSkew
			a.DisableClockSkewCorrection = sdk.DisableClockSkewCorrection
		})
		if _, err := stack.Finalize.Swap(retryID, attempt); err != nil {
			return err
		}
		// Another APIOption applied before this one (a config's, then a
		// client's or a call's) left its middlewares: this one replaces
		// them, so that the last applied wins and one applied twice
		// counts each call once.
		for _, id := range []string{operationID, attemptTimeoutID} {
			if _, ok := stack.Finalize.Get(id); ok {
				if _, err := stack.Finalize.Remove(id); err != nil {
					return err
				}
			}
		}
		if err := stack.Finalize.Insert(begin{op}, retryID, middleware.Before); err != nil {
			return err
		}
		if p.AttemptTimeout() > 0 {
			return stack.Finalize.Insert(attemptTimeout{op}, retryID, middleware.After)
		}
		return nil
	}
}

// The IDs of the SDK's retry middleware and of the adapter's.
const (
	retryID          = "Retry"
	operationID      = "awsretry.Operation"
	attemptTimeoutID = "awsretry.AttemptTimeout"
)

var errNilRetrier = errors.New("awssdk: nil *awsretry.Retrier")

// Retryer returns an aws.RetryerV2 that decides as r does: which errors
// are retried (r's classifier), how many attempts (WithTries) and what a
// retry costs (WithBudget): a retry takes its cost, a successful attempt
// puts back the Budget's reward, and one after a retry also gives back
// that retry's cost (as the SDK's standard retryer does: without the
// operation's state it cannot tell a first attempt from a later one, where
// Do and WithRetrier put back one or the other). Given alone to a client
// (config.WithRetryer, Options.Retryer), it cannot tell one operation from
// another, for the SDK's retryer interface does not say: the SDK then
// sleeps r's schedule itself, on real time (a decorrelated jitter's wait
// drawn afresh from the start of the schedule for each retry, which keeps
// each wait's distribution but not its tie to the wait before), and no
// attempt is recorded. WithRetrier and APIOption give each operation its
// own retryer, which waits on r's Clock and records every attempt.
func Retryer(r *awsretry.Retrier) aws.RetryerV2 {
	if r == nil {
		return nil
	}
	o := &operation{policy: bridge.Of(r)}
	o.releaseAttempt = o.release
	return o
}

// operation is the retryer of one operation (with op set by begin), or of
// a client (op nil).
type operation struct {
	policy         bridge.Policy
	op             bridge.Operation
	releaseAttempt func(error) error // release, made once
}

// IsErrorRetryable classifies err as the Retrier's Do would.
func (o *operation) IsErrorRetryable(err error) bool {
	if o.op != nil {
		return o.op.Retryable(err)
	}
	return o.policy.Retryable(err)
}

// MaxAttempts is the Retrier's number of attempts.
func (o *operation) MaxAttempts() int { return o.policy.Tries() }

// RetryDelay is 0 for an operation's retryer, which waited in
// GetRetryToken. For a client's retryer it is the Retrier's schedule
// without the server's hint: the SDK's middleware then moves it towards
// x-amz-retry-after by its own rule (within [delay, delay+5s], the
// Retrier's rule too, but without WithMaxDelay's cap) and sleeps it on
// real time.
func (o *operation) RetryDelay(attempt int, err error) (time.Duration, error) {
	if o.op != nil {
		return 0, nil
	}
	return o.policy.Delay(attempt, err), nil
}

// GetRetryToken decides on a failed attempt: an operation's retryer records
// it and waits on the Retrier's clock, or refuses the retry with a
// *awsretry.RetryError saying why (wrapping the SDK's
// ratelimit.QuotaExceededError when the Budget cannot pay). A client's
// retryer pays the Budget only.
func (o *operation) GetRetryToken(ctx context.Context, err error) (func(error) error, error) {
	if o.op == nil {
		refund, available, cost, ok := o.policy.Take(err)
		if !ok {
			return nil, fmt.Errorf("failed to get rate limit token, %w", quotaError(available, cost))
		}
		return func(err error) error {
			if err == nil {
				refund()
			}
			return nil
		}, nil
	}
	if rerr := o.op.Retry(ctx, err); rerr != nil {
		var retryErr *awsretry.RetryError
		if errors.As(rerr, &retryErr) && retryErr.Reason == awsretry.ReasonBudget {
			return nil, fmt.Errorf("failed to get rate limit token, %w: %w", quotaError(o.op.Quota()), rerr)
		}
		return nil, rerr
	}
	// The wait is over: the SDK must not wait again for the server's hint.
	dropRetryAfter(err)
	return nopRelease, nil
}

// quotaError is the SDK's error for a retry the Budget refused.
func quotaError(available, requested int) ratelimit.QuotaExceededError {
	return ratelimit.QuotaExceededError{Available: uint(max(available, 0)), Requested: uint(max(requested, 0))}
}

// GetInitialToken is GetAttemptToken without a context.
func (o *operation) GetInitialToken() func(error) error {
	if o.op == nil {
		return o.releaseAttempt
	}
	return nopRelease
}

// GetAttemptToken notes that an attempt begins, once the Retrier's
// Limiter lets it go: an operation's retryer waits for a send slot on the
// Retrier's clock, or refuses the attempt with a *awsretry.RetryError
// (reason rate_limited). The release tells the Limiter of a success; a
// client's retryer's puts back the Budget's reward.
func (o *operation) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if o.op == nil {
		return o.releaseAttempt, nil
	}
	if err := o.op.Attempt(ctx); err != nil {
		return nil, err
	}
	return o.releaseAttempt, nil
}

// release is the release of an attempt token.
func (o *operation) release(err error) error {
	switch {
	case err != nil:
	case o.op != nil:
		o.op.Succeeded()
	default:
		o.policy.Succeeded()
	}
	return nil
}

func nopRelease(error) error { return nil }

// dropRetryAfter removes the x-amz-retry-after header of a retried
// attempt's response, which the Retrier has honoured already: the SDK's
// retry middleware would otherwise sleep for it again, on real time. The
// response belongs to an attempt that is over.
func dropRetryAfter(err error) {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re != nil && re.Response != nil && re.Response.Response != nil && re.Response.Header != nil {
		re.Response.Header.Del("X-Amz-Retry-After")
	}
}

// begin sees an operation begin and end, around the SDK's retry loop.
type begin struct{ o *operation }

func (begin) ID() string { return operationID }

func (b begin) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	out middleware.FinalizeOutput, md middleware.Metadata, err error,
) {
	b.o.op = b.o.policy.Start(ctx)
	ended := false
	defer func() {
		if !ended {
			b.o.op.End(errPanicked, "panic")
		}
	}()
	out, md, err = next.HandleFinalize(ctx, in)
	reason, attemptErr := why(ctx, err)
	b.o.op.End(attemptErr, reason)
	ended = true
	return out, md, exhausted(err)
}

// why maps what the SDK's retry loop returned to the attempt's error and
// the reason the loop stopped: a refusal of the Retrier's (its
// RetryError), the attempts exhausted (the SDK's MaxAttemptsError), the
// context ended, or "" for an error that was not retryable.
func why(ctx context.Context, err error) (reason string, attemptErr error) {
	if err == nil {
		return "", nil
	}
	var retryErr *awsretry.RetryError
	if errors.As(err, &retryErr) {
		return string(retryErr.Reason), retryErr.Err
	}
	var maxErr *retry.MaxAttemptsError
	if errors.As(err, &maxErr) {
		return string(awsretry.ReasonExhausted), maxErr.Err
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return string(awsretry.ReasonCanceled), err
	}
	return "", err
}

// exhausted returns err, or, when it is the SDK's MaxAttemptsError, a
// *awsretry.RetryError of reason exhausted wrapping it, as Do returns when
// the attempts run out: every way the adapter gives up is then a
// RetryError, and errors.As still finds the SDK's error and the last
// attempt's.
func exhausted(err error) error {
	maxErr, ok := err.(*retry.MaxAttemptsError)
	if !ok {
		return err
	}
	return &awsretry.RetryError{Reason: awsretry.ReasonExhausted, Attempts: maxErr.Attempt, Err: maxErr}
}

// attemptTimeout gives each attempt WithAttemptTimeout's deadline, inside
// the SDK's retry loop, as Do gives it: the deadline bounds the attempt,
// and a body the caller reads after a successful attempt is not cut off.
type attemptTimeout struct{ o *operation }

func (attemptTimeout) ID() string { return attemptTimeoutID }

func (t attemptTimeout) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	out middleware.FinalizeOutput, md middleware.Metadata, err error,
) {
	actx, end := t.o.policy.AttemptContext(ctx)
	returned := false
	defer func() {
		if !returned {
			end(errPanicked)
		}
	}()
	out, md, err = next.HandleFinalize(actx, in)
	returned = true
	end(err)
	return out, md, err
}

var errPanicked = errors.New("awssdk: the operation panicked")
