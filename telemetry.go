package awsretry

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awsretry/awsretry/telemetry"
)

// The telemetry of Do: an observer that the loop calls twice, when it starts
// and when it schedules a retry, and whose deferred end derives the outcome
// of the call from what Do returns. Spans and events are in trace.go,
// metrics and their cardinality guard in metrics.go, logs in logs.go.

const defaultSpanName = telemetry.DefaultSpanName

// observer records what the Do calls of one Retrier do: spans, metrics,
// logs and the user's hook. It is built by New and immutable afterwards.
type observer struct {
	tracers     tracers
	instruments instrumentSource
	codes       codeReporter // the codes metrics report by name
	messages    bool         // record error messages
	logger      *slog.Logger
	onRetry     func(context.Context, Attempt)
}

func newObserver(c *config, classifier Classifier) (*observer, error) {
	o := &observer{
		tracers:  tracersOf(c.tracerProvider),
		codes:    reportsCode(classifier),
		messages: c.errorMessages,
		logger:   c.logger,
		onRetry:  c.onRetry,
	}
	in, err := instrumentsOf(c.meterProvider)
	if err != nil {
		return nil, fmt.Errorf("awsretry: WithMeterProvider: %w", err)
	}
	o.instruments = in
	if c.budget != nil {
		if err := c.budget.observe(c.meterProvider); err != nil {
			return nil, fmt.Errorf("awsretry: WithBudget: its metrics: %w", err)
		}
	}
	return o, nil
}

// recorder records one Do call. It lives on Do's stack.
type recorder struct {
	ctx       context.Context // the context fn receives
	o         *observer
	in        *instruments // nil: no metrics
	span      spanRecorder
	announced int // the last attempt recorded as retried
}

// start begins recording a Do call in c: it starts the span (a child of
// ctx's span) and returns the context fn is to receive.
func (o *observer) start(ctx context.Context, name string, c *recorder) context.Context {
	c.o, c.in = o, o.instruments.current()
	c.ctx, c.span = o.tracers.start(ctx, name)
	return c.ctx
}

// retrying records a failed attempt that will be retried after a.Delay,
// and calls the user's hook.
func (c *recorder) retrying(ctx context.Context, a *Attempt) {
	c.announced = a.Number
	if c.span.span != nil {
		c.span.attempt(c.o, a, true, "")
	}
	if c.in != nil {
		c.in.retried(ctx, c.o, a)
	}
	if c.o.logger != nil {
		c.o.logRetry(ctx, a)
	}
	if c.o.onRetry != nil {
		c.o.onRetry(ctx, *a)
	}
}

// attemptEnded records an attempt of a hedged call that ends neither the
// call nor in a retry of its own: a failure while other attempts are in
// flight (they carry on for it), or an attempt canceled because another
// won (a.lost).
func (c *recorder) attemptEnded(ctx context.Context, a *Attempt) {
	o := attemptLost
	if !a.lost {
		o = attemptRetried
	}
	if c.span.span != nil {
		c.span.attempt(c.o, a, !a.lost, o)
	}
	if c.in != nil {
		c.in.attemptEnded(ctx, c.o, a, o)
	}
}

// hedgeEnded counts a hedge's end, o being won, lost or failed; an
// attempt that is not a hedge (delay 0) is not counted.
func (c *recorder) hedgeEnded(ctx context.Context, delay time.Duration, o outcome) {
	if delay > 0 && c.in != nil {
		c.in.hedged(ctx, o)
	}
}

// outcome is an outcome of an attempt or of a Do call, as recorded.
type outcome string

// Attempt outcomes.
const (
	attemptSucceeded  outcome = "success"
	attemptRetried    outcome = "retried"
	attemptNotRetried outcome = "not_retried"
	attemptLost       outcome = "lost" // canceled when another attempt of a hedged call won
)

// Call outcomes: success, non_retryable, panic and the RetryError reasons.
const (
	callSucceeded    outcome = "success"
	callNonRetryable outcome = "non_retryable"
	callPanicked     outcome = "panic"
)

// end records the end of a Do call, from what Do returns: nil is a
// success, a *RetryError of Do's own is its reason, any other error is
// non-retryable, and a loop that did not return is a panic (or
// runtime.Goexit) in fn, which goes on unchanged once the span is ended.
func (c *recorder) end(p *progress, errp *error) {
	err := *errp
	if err == nil && p.returned && c.span.span == nil && c.in == nil {
		return // a success, and nothing to record it in
	}
	c.finish(p, outcomeOf(p, err), err)
}

// finish records the end of a call with outcome o; err is the error it
// ended with.
func (c *recorder) finish(p *progress, o outcome, err error) {
	ctx := c.ctx
	switch o {
	case callSucceeded:
		c.span.succeeded(p.attempts, p.winner, p.winnerDelay, p.rateWait)
		c.in.succeeded(ctx)
	case callPanicked:
		c.span.panicked(p.attempts)
		c.in.panicked(ctx)
	default:
		// The last attempt ends the call, unless it was already recorded
		// as retried: the context ended during the wait that followed it,
		// or before the first attempt (the context's error then ended the
		// call), or the Limiter refused the next attempt (the error being
		// retried ended it).
		last := &p.last
		switch {
		case last.Number > c.announced:
			c.span.attempt(c.o, last, false, o)
			c.in.notRetried(ctx, c.o, last)
		case o != outcome(ReasonRateLimited):
			last = &Attempt{Err: contextErrOf(err)}
		}
		c.span.failed(p.attempts, o, last)
		c.in.ended(ctx, o, c.o, last)
		c.o.logEnd(ctx, o, p.attempts, last, err)
	}
}

func outcomeOf(p *progress, err error) outcome {
	switch {
	case !p.returned:
		return callPanicked
	case err == nil:
		return callSucceeded
	}
	// err has a pointer type here, so comparing it cannot panic; fn's own
	// *RetryError (of a nested Do) returned unchanged is non-retryable.
	if rerr, ok := err.(*RetryError); ok && err != p.last.Err {
		return outcome(rerr.Reason)
	}
	if p.canceled {
		// The caller's context ended during the attempt: Do returns the
		// attempt's error as it is, and the call's outcome is that.
		return outcome(ReasonCanceled)
	}
	return callNonRetryable
}

// contextErrOf is the context's error behind a RetryError of reason
// canceled (or err itself, when it is the context's error).
func contextErrOf(err error) error {
	if rerr, ok := err.(*RetryError); ok {
		return rerr.ContextErr
	}
	if err == context.Canceled || err == context.DeadlineExceeded {
		return err
	}
	return nil
}

// The bounds on what telemetry records: error codes, error types and
// request ids at most maxCodeLen bytes, error messages (when enabled) at
// most maxMessageLen.
const (
	maxCodeLen    = 128
	maxMessageLen = 1024
)

// otherErrorType is what metrics report for an error code outside the known
// set, so that codes chosen by a server or an attacker cannot multiply time
// series.
const otherErrorType = "_OTHER"

// errorType is the error.type recorded in spans and logs: the error code if
// there is one; "connection" or "timeout" for a transport failure or an
// attempt that timed out; "context canceled" or "context deadline
// exceeded" for other context errors; the HTTP status of an error response
// without a code ("429"); otherwise the error's Go type (seen through
// Retryable's and Permanent's marks); at most maxCodeLen bytes.
func errorType(a *Attempt) string {
	c := a.Classification
	if c.Code != "" {
		return truncate(c.Code, maxCodeLen)
	}
	if a.Err == nil {
		return otherErrorType
	}
	if t, ok := transportErrorType(c); ok {
		return t
	}
	if t, ok := contextErrorType(a.Err); ok {
		return t
	}
	if status, _ := responseDetails(a.Err); status >= 400 {
		return strconv.Itoa(status) // as OpenTelemetry's HTTP conventions do
	}
	return truncate(reflect.TypeOf(unmarked(a.Err)).String(), maxCodeLen)
}

// transportErrorType is the error type of a failure without a code that
// the classifier put in ClassConnection or ClassTimeout: the class's name,
// which the OpenTelemetry conventions use for error.type ("timeout").
func transportErrorType(c Classification) (string, bool) {
	if c.Code == "" && (c.Class == ClassConnection || c.Class == ClassTimeout) {
		return c.Class.String(), true
	}
	return "", false
}

// contextErrorType is the error type of context errors, wrapped or not.
func contextErrorType(err error) (string, bool) {
	switch {
	case chainHas(err, context.Canceled):
		return context.Canceled.Error(), true
	case chainHas(err, context.DeadlineExceeded):
		return context.DeadlineExceeded.Error(), true
	}
	return "", false
}

// message is err's text, at most maxMessageLen bytes, or a note saying it
// could not be read when Error panics (a typed nil).
func message(err error) (text string) {
	defer func() {
		if recover() != nil {
			text = "(Error panicked)"
		}
	}()
	return truncate(err.Error(), maxMessageLen)
}

// truncate shortens s to at most n bytes without splitting a UTF-8
// sequence, and replaces invalid UTF-8 (a server's code or message is any
// bytes) with U+FFFD, as OpenTelemetry's string attributes must be valid.
func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		// Replace first, on a prefix a little longer than n: cutting
		// first would walk back over stray continuation bytes.
		s = strings.ToValidUTF8(s[:min(len(s), n+utf8.UTFMax)], "\uFFFD")
	}
	return cut(s, n)
}

// cut shortens s to at most n bytes, at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
