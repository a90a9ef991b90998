package awsretry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Reason says why Do gave up on a retryable error.
type Reason string

// The reasons a [RetryError] carries.
const (
	// ReasonExhausted: every attempt allowed by WithTries failed with a
	// retryable error.
	ReasonExhausted Reason = "exhausted"
	// ReasonCanceled: the context was canceled or its deadline passed,
	// before an attempt or during a wait.
	ReasonCanceled Reason = "canceled"
	// ReasonElapsed: the next wait would have taken Do past the limit set
	// with WithMaxElapsed, so Do stopped instead of waiting.
	ReasonElapsed Reason = "elapsed"
	// ReasonDeadline: the context's deadline would pass during the next
	// wait, so Do stopped at once instead of sleeping in vain. The
	// RetryError's ContextErr is context.DeadlineExceeded, as it would have
	// been at the deadline. (With the default RealClock only: the deadline
	// is on real time.)
	ReasonDeadline Reason = "deadline"
	// ReasonBudget: the shared retry Budget could not pay for the retry.
	ReasonBudget Reason = "budget"
	// ReasonRateLimited: the Retrier's Limiter would have made the next
	// attempt wait longer than its MaxWait (or past the context's
	// deadline), so Do did not make it. Attempts may be 0.
	ReasonRateLimited Reason = "rate_limited"
)

// RetryError is returned by Do when it stops retrying an error that was
// retryable (the attempts ran out, the elapsed-time limit or the context's
// deadline was too close for the next wait, or the Budget could not pay),
// when the Limiter refused an attempt, even the first (Attempts 0, Err
// nil), and when the context ended before an attempt or during a wait,
// even before the first attempt (Attempts 0, Err nil). A non-retryable error is
// returned as it is, never wrapped in a RetryError.
//
// errors.Is and errors.As see through a RetryError to both the last error
// returned by the operation and the context's error, so
// errors.Is(err, context.Canceled) and errors.As(err, &apiErr) both work.
type RetryError struct {
	// Reason says why Do stopped.
	Reason Reason
	// Attempts is the number of times the operation was called. It is 0 when
	// the context had ended before the first attempt.
	Attempts int
	// Err is the error the last attempt returned; nil when there was no
	// attempt.
	Err error
	// ContextErr is the context's error (context.Canceled or
	// context.DeadlineExceeded) when Reason is ReasonCanceled, and
	// context.DeadlineExceeded when it is ReasonDeadline; nil otherwise.
	ContextErr error
	// Cause is context.Cause of the context when it differs from ContextErr
	// (set with context.WithCancelCause and friends); nil otherwise.
	Cause error
}

// Error describes the reason, the attempt count and the errors behind it.
func (e *RetryError) Error() string {
	var b strings.Builder
	b.WriteString("awsretry: ")
	switch e.Reason {
	case ReasonExhausted:
		b.WriteString("gave up")
	case ReasonCanceled:
		b.WriteString("canceled")
	case ReasonElapsed:
		b.WriteString("elapsed-time limit reached")
	case ReasonDeadline:
		b.WriteString("context deadline too close for the next wait")
	case ReasonBudget:
		b.WriteString("retry budget exhausted")
	case ReasonRateLimited:
		b.WriteString("rate limited by the client's Limiter")
	default:
		b.WriteString(string(e.Reason))
	}
	b.WriteString(" after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	for _, err := range []error{e.ContextErr, e.Cause, e.Err} {
		if err != nil {
			b.WriteString(": ")
			b.WriteString(err.Error())
		}
	}
	return b.String()
}

// Unwrap returns the non-nil errors among Err, ContextErr and Cause, for
// errors.Is and errors.As.
func (e *RetryError) Unwrap() []error {
	errs := make([]error, 0, 3)
	for _, err := range []error{e.Err, e.ContextErr, e.Cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// giveUp returns the RetryError of a call that stops retrying err after
// attempts attempts, for reason.
func giveUp(ctx context.Context, reason Reason, attempts int, err error) *RetryError {
	if reason == ReasonCanceled {
		return canceled(ctx, attempts, err)
	}
	e := &RetryError{Reason: reason, Attempts: attempts, Err: err}
	if reason == ReasonDeadline {
		e.ContextErr = context.DeadlineExceeded
	}
	return e
}

// rateLimited returns the RetryError of a call whose Limiter had no token
// for the next attempt in time, or whose context ended while it waited.
func rateLimited(ctx context.Context, attempts int, lastErr error) *RetryError {
	if ctx.Err() != nil {
		return canceled(ctx, attempts, lastErr)
	}
	return &RetryError{Reason: ReasonRateLimited, Attempts: attempts, Err: lastErr}
}

// canceled returns the RetryError of a call whose context ended.
func canceled(ctx context.Context, attempts int, lastErr error) *RetryError {
	e := &RetryError{Reason: ReasonCanceled, Attempts: attempts, Err: lastErr, ContextErr: ctx.Err()}
	if cause := context.Cause(ctx); cause != e.ContextErr {
		e.Cause = cause
	}
	return e
}

// The errors of calls that cannot start.
var (
	errZeroRetrier  = errors.New("awsretry: Do on a nil or zero Retrier: make one with New or MustNew")
	errNilOperation = errors.New("awsretry: Do with a nil operation")
	errNilContext   = errors.New("awsretry: Do with a nil context: pass context.Background() or a request's context")
)

// optionError reports an invalid option value, naming the option and value.
func optionError(option string, value any, problem string) error {
	return fmt.Errorf("awsretry: %s(%v): %s", option, value, problem)
}
