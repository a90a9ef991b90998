package awsretry

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/awsretry/awsretry/internal/bridge"
)

// A Retrier driven by another retry loop: aws-sdk-go-v2's, through the
// nested module awssdk and package internal/bridge. The other loop makes
// the attempts; the Retrier paces them with its Limiter, classifies,
// decides, waits on its clock, pays its Budget and records, with the same
// pieces as Do.

func init() {
	bridge.Of = func(r any) bridge.Policy { return policy{r.(*Retrier)} }
	bridge.CallToken = callToken
}

// policy is a Retrier as package bridge presents it.
type policy struct{ r *Retrier }

func (p policy) Tries() int                    { return p.r.tries }
func (p policy) AttemptTimeout() time.Duration { return p.r.attemptTimeout }
func (p policy) Retryable(err error) bool      { return p.r.classifier.Classify(err).Retryable }

// Delay replays the schedule's waits up to the n-th, for err's class: the
// client's retryer is asked for the n-th wait alone, with no state of the
// operation's, and decorrelated jitter draws each wait from the one
// before. Replayed, the n-th wait has the distribution Do's n-th wait has
// (and with a fixed Random, Do's very value).
func (p policy) Delay(n int, err error) time.Duration {
	class := p.r.classifier.Classify(err).Class
	first := n
	if p.r.schedule.jitter == JitterDecorrelated {
		first = 1
	}
	var w waits
	var d time.Duration
	for i := first; i <= n; i++ {
		d = w.next(&p.r.schedule, i, class, 0)
	}
	return d
}

func (p policy) Take(err error) (refund func(), available, cost int, ok bool) {
	class := p.r.classifier.Classify(err).Class
	paid, ok := p.r.budget.take(p.r.clock, class)
	if !ok {
		return nil, p.r.budget.Tokens(), int(p.r.budget.cost(class)), false
	}
	return func() { p.r.budget.retryAnswered(paid) }, 0, 0, true
}

func (p policy) Succeeded() { p.r.budget.answered(1, 0, true) }

// Start begins an operation that records its attempts on the span in ctx.
func (p policy) Start(ctx context.Context) bridge.Operation {
	op := &operation{r: p.r, start: p.r.elapsedStart()}
	r := p.r
	op.rec = recorder{ctx: ctx, o: r.observer, in: r.observer.instruments.current(),
		span: spanRecorder{span: trace.SpanFromContext(ctx), borrowed: true}}
	if !op.rec.span.span.SpanContext().IsValid() {
		op.rec.span.span = nil
	}
	return op
}

// AttemptContext gives an attempt the Retrier's attempt timeout, as Do
// does: see startAttempt.
func (p policy) AttemptContext(ctx context.Context) (context.Context, func(err error)) {
	if p.r.attemptTimeout <= 0 {
		return ctx, func(error) {}
	}
	a := startAttempt(ctx, p.r.attemptTimeout)
	return a.ctx, func(err error) { a.end(err == nil) }
}

// callToken returns the idempotency token of a call named call in the Do
// call of ctx: the Scope's token for the call's name and its position among
// the attempt's calls of that name.
func callToken(ctx context.Context, call string) (string, bool) {
	s, ok := ScopeFrom(ctx)
	if !ok {
		return "", false
	}
	return s.Token(call + "#" + strconv.Itoa(s.occurrence(call))), true
}

// operation is one operation's retries, as Do's loop keeps them.
type operation struct {
	r          *Retrier
	rec        recorder
	prog       progress
	waits      waits
	sleeper    sleeper
	start      time.Time
	paid       int64     // tokens the last retry took from the budget
	sent       time.Time // when the Limiter let the attempt under way go
	classified int       // the attempt prog.last describes
	quota      [2]int    // the tokens in the Budget and the cost of the retry it refused
}

// Quota returns the tokens the Budget had, and the cost of the retry it
// refused.
func (op *operation) Quota() (available, requested int) { return op.quota[0], op.quota[1] }

func (op *operation) Attempt(ctx context.Context) error {
	if op.r.limiter != nil {
		var ok bool
		if op.sent, op.prog.rateWait, ok = op.r.limiter.acquire(ctx, op.r.clock, &op.sleeper); !ok {
			err := op.r.refused(ctx, &op.prog, op.paid)
			op.paid = 0 // given back
			return err
		}
	}
	op.prog.attempts++
	return nil
}

func (op *operation) Succeeded() { op.r.ended(op.sent, op.prog.attempts, op.paid, nil) }

// Retryable classifies the failed attempt's error into prog.last, and
// tells the Limiter the first time.
func (op *operation) Retryable(err error) bool {
	first := op.classified != op.prog.attempts
	op.r.classify(op.rec.ctx, &op.prog.last, op.prog.attempts, err)
	op.prog.last.RateWait = op.prog.rateWait
	op.classified = op.prog.attempts
	if first {
		op.r.ended(op.sent, op.prog.attempts, op.paid, &op.prog.last)
	}
	return op.prog.last.Classification.Retryable
}

// Retry is the rest of Do's loop for a failed attempt: decide, pay, record,
// wait (Retrier.retry).
func (op *operation) Retry(ctx context.Context, err error) error {
	n := op.prog.attempts
	if op.classified != n {
		op.Retryable(err)
	}
	if !op.prog.last.Classification.Retryable {
		return giveUp(ctx, ReasonExhausted, n, err) // not asked by aws-sdk-go-v2, which checks first
	}
	if rerr := op.r.retry(ctx, err, &op.prog.last, op.start, &op.waits, &op.sleeper, &op.rec, &op.paid); rerr != nil {
		if rerr.Reason == ReasonBudget {
			op.quota = [2]int{op.r.budget.Tokens(), int(op.r.budget.cost(op.prog.last.Classification.Class))}
		}
		return rerr
	}
	return nil
}

// End records the end of the operation, as Do's deferred end does.
func (op *operation) End(attemptErr error, reason string) {
	p := &op.prog
	p.returned = true
	if reason == string(callPanicked) {
		op.rec.finish(p, callPanicked, nil)
		return
	}
	if attemptErr == nil && reason == "" {
		op.rec.finish(p, callSucceeded, nil)
		return
	}
	if p.attempts > 0 && op.classified != p.attempts && reason != string(ReasonCanceled) {
		op.Retryable(attemptErr) // the last attempt, not classified by Retry
	}
	o := outcome(reason)
	if reason == "" {
		o = callNonRetryable
	}
	op.rec.finish(p, o, attemptErr)
}
