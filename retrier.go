// Package awsretry retries operations, AWS API calls first of all, with
// exponential backoff, on a clock that tests can control.
//
// It is the Go successor of the Python awsretry decorator and keeps its
// defaults: 10 attempts, a first wait of 3 seconds multiplied by 1.1 after
// each retry (3s, 3.3s, 3.63s, ... 6.43s: about 40.7s of waits in all), and
// the same retryable AWS error codes, including the `^\w+.NotFound` rule for
// eventual consistency.
//
//	r := awsretry.MustNew()
//	err := r.Do(ctx, func(ctx context.Context) error {
//		_, err := client.DescribeInstances(ctx, input)
//		return err
//	})
//
// Each call of Do runs one loop: attempt, classify the error (by default by
// its AWS error code, its HTTP status or its transport failure, see
// AWSClassifier), decide whether to give up or how long to wait, wait. A
// non-retryable error is returned unchanged; when Do gives up on a
// retryable one it returns a *RetryError that says why. Waits run on the
// Retrier's Clock: package awsretrytest has a fake one under which the
// whole default schedule runs without any real wait. Every attempt is
// visible in OpenTelemetry (package telemetry names what is recorded).
package awsretry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Retrier calls an operation until it succeeds, fails with an error that is
// not retryable, or a limit is reached. Make one with New or MustNew; the
// zero Retrier is not usable (Do says so). A Retrier is immutable and safe
// for concurrent use by many goroutines: share one per policy.
type Retrier struct {
	tries          int
	attemptTimeout time.Duration // 0: none
	maxElapsed     time.Duration // 0: none
	schedule       schedule
	clock          Clock
	classifier     Classifier
	budget         *Budget  // nil: no budget
	limiter        *Limiter // nil: no rate limit
	observer       *observer
	spanName       string
	scoped         bool // WithScope: each Do call has a Scope
	// backoffOnRefusal: a retry the Budget refuses waits its wait before
	// Do returns (WithBackoffOnRefusal).
	backoffOnRefusal bool
	hedge            *hedging // WithHedge; nil: no hedging
}

// New returns a Retrier configured by opts on top of the defaults: 10
// attempts, a 3s first wait, backoff 1.1, no jitter, no cap, no limits, the
// real clock and the default AWS classifier. An invalid option value makes
// New return an error that names the option and the value.
func New(opts ...Option) (*Retrier, error) {
	c := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("awsretry: New: nil Option")
		}
		if err := opt.apply(&c); err != nil {
			return nil, err
		}
	}
	c.resolveClasses()
	if c.limiter != nil {
		if err := c.limiter.bind(c.clock); err != nil {
			return nil, optionError("WithLimiter", fmt.Sprintf("%p", c.limiter), err.Error())
		}
	}
	if c.budget != nil {
		if err := c.budget.bind(c.clock); err != nil {
			return nil, optionError("WithBudget", fmt.Sprintf("%p", c.budget), err.Error())
		}
	}
	hedge := hedgingOf(&c)
	if hedge != nil {
		_ = hedge.budget.bind(c.clock) // its own: bound to no other clock
	}
	classifier := c.classifier()
	obs, err := newObserver(&c, classifier)
	if err != nil {
		return nil, err
	}
	return &Retrier{
		tries:            c.tries,
		attemptTimeout:   c.attemptTimeout,
		maxElapsed:       c.maxElapsed,
		schedule:         c.schedule,
		clock:            c.clock,
		classifier:       classifier,
		budget:           c.budget,
		limiter:          c.limiter,
		observer:         obs,
		spanName:         defaultSpanName,
		scoped:           c.scope,
		backoffOnRefusal: c.backoffOnRefusal,
		hedge:            hedge,
	}, nil
}

// MustNew is like New but panics if an option is invalid. It suits
// package-level Retriers whose options are constants.
func MustNew(opts ...Option) *Retrier {
	r, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return r
}

// Named returns a Retrier with r's policy whose Do calls start spans named
// name, so that one policy can serve many kinds of operation:
//
//	var policy = awsretry.MustNew(awsretry.WithBudget(budget))
//	var runInstances = policy.Named("ec2.RunInstances")
//
// Give a name per kind of operation, not per call: span names should have
// few distinct values. The empty name means the default,
// telemetry.DefaultSpanName ("awsretry.Do"). Named allocates a small copy of
// r; keep it in a variable on hot paths.
func (r *Retrier) Named(name string) *Retrier {
	if r == nil {
		return nil
	}
	n := *r
	n.spanName = name
	if name == "" {
		n.spanName = defaultSpanName
	}
	return &n
}

// Attempt describes one failed attempt, as Do classified it. The
// WithOnRetry hook receives it.
type Attempt struct {
	// Number is the attempt's number, starting at 1.
	Number int
	// Err is the error the attempt returned.
	Err error
	// Classification is the Classifier's verdict on Err (ClassTimeout when
	// the attempt overran WithAttemptTimeout).
	Classification Classification
	// Delay is the wait before the next attempt.
	Delay time.Duration
	// RateWait is the time the attempt waited for a send slot of the
	// Retrier's Limiter (WithLimiter) before it was made.
	RateWait time.Duration
	// Ambiguous reports that the attempt's request may have reached the
	// service and been acted on although the attempt failed: it timed
	// out, its connection failed after the request was sent (a reset, a
	// connection closed before or during the response), or the service
	// answered with a 5xx other than a throttle, or a success whose body
	// was cut short. Retrying such an attempt repeats what it did unless
	// the request carries an idempotency token the service honours (see
	// Scope). It is false where the request cannot have been sent (a
	// failed dial or DNS lookup) or the service answered that it did
	// nothing (a throttle, a 4xx), and for errors that tell neither.
	Ambiguous bool

	hedgeDelay time.Duration // a hedge's: the delay after which it started; 0 for an attempt that is not a hedge
	lost       bool          // canceled when another attempt of its call won
}

// answered reports whether the service answered the failed attempt: an
// error of its own (with a code) that is neither a throttle, a transient
// or transport failure, a timeout, a 5xx, nor a body cut short. Such an
// answer is a sign of the service's health for a Budget, as a success is.
func (a *Attempt) answered() bool {
	switch a.Classification.Class {
	case ClassThrottle, ClassTransient, ClassConnection, ClassTimeout:
		return false
	}
	return a.Classification.Code != "" && !a.Ambiguous
}

// Do calls fn until it returns nil or an error that is not retryable, waiting
// between attempts according to the Retrier's schedule. fn receives ctx, or
// rather the context of the span Do starts in it (with the attempt's
// deadline, under WithAttemptTimeout).
//
// Do returns nil on success, fn's error unchanged when it is not retryable,
// and a *RetryError when it stops retrying a retryable error: all attempts
// failed (ReasonExhausted); ctx ended before an attempt or during a wait
// (ReasonCanceled: fn is not called once ctx is done, and a wait returns as
// soon as ctx ends); the next wait would pass the elapsed-time limit
// (ReasonElapsed) or ctx's deadline (ReasonDeadline); the shared Budget
// could not pay for the retry (ReasonBudget); or the shared Limiter had no
// send slot within its MaxWait (ReasonRateLimited). A panic in fn propagates
// unchanged, after the span is ended with an error status. Do on a nil or
// zero Retrier, with a nil fn or a nil ctx, returns an error saying so.
func (r *Retrier) Do(ctx context.Context, fn func(context.Context) error) (err error) {
	if err := r.usable(ctx, fn); err != nil {
		return err
	}
	var (
		rec  recorder
		prog progress
	)
	ctx = r.observer.start(ctx, r.spanName, &rec)
	defer rec.end(&prog, &err)
	if r.scoped {
		ctx, prog.scope = withScope(ctx)
	}
	err = r.loop(ctx, fn, &prog, &rec)
	prog.returned = true
	return err
}

// progress is what one Do call has done, for the recorder's end of the
// call.
type progress struct {
	attempts int           // attempts started
	last     Attempt       // the last failed attempt; Number 0 if none
	rateWait time.Duration // the last attempt's wait for a Limiter's slot
	returned bool          // the loop returned; false while fn panics
	canceled bool          // the last attempt failed because the caller's context ended
	scope    *Scope        // the call's Scope, under WithScope
	// winner is the successful attempt of a hedged call (0: the last),
	// and winnerDelay the hedge delay it started after (0: not a hedge).
	winner      int
	winnerDelay time.Duration
}

// loop is the retry loop of Do: attempt, classify, decide, wait.
func (r *Retrier) loop(ctx context.Context, fn func(context.Context) error, p *progress, rec *recorder) error {
	var (
		start   = r.elapsedStart()
		waits   waits
		sleeper sleeper
		paid    int64 // tokens the last retry took from the budget
	)
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			return canceled(ctx, n-1, p.last.Err)
		}
		var sent time.Time // when the Limiter let the attempt go, if there is one
		if r.limiter != nil {
			var ok bool
			if sent, p.rateWait, ok = r.limiter.acquire(ctx, r.clock, &sleeper); !ok {
				return r.refused(ctx, p, paid)
			}
		}
		p.attempts = n
		p.scope.begin(n)
		err := r.attempt(ctx, fn)
		if err == nil {
			if b := r.budget; b != nil && !b.answer() {
				b.refundBucket(n, paid)
			}
			if r.limiter != nil {
				r.limiter.observe(r.clock, sent, nil)
			}
			return nil
		}
		r.classify(ctx, &p.last, n, err)
		p.last.RateWait = p.rateWait
		r.ended(sent, n, paid, &p.last)
		if !p.last.Classification.Retryable {
			p.canceled = endedBy(ctx, err)
			return err
		}
		if rerr := r.retry(ctx, err, &p.last, start, &waits, &sleeper, rec, &paid); rerr != nil {
			return rerr
		}
	}
}

// retry is the loop's step after failed attempt a, classified retryable:
// decide, pay the Budget (*paid is what the retry took), record, wait. It
// returns the RetryError that ends the call instead, if any. Do's loop and
// the operations of another retry loop (driven.go) share it.
func (r *Retrier) retry(ctx context.Context, err error, a *Attempt, start time.Time, w *waits, s *sleeper, rec *recorder, paid *int64) *RetryError {
	wait, reason := r.decide(ctx, a.Number, start, w, a.Classification)
	if reason == "" {
		var ok bool
		if *paid, ok = r.budget.take(r.clock, a.Classification.Class); !ok {
			reason = ReasonBudget
			rec.in.budgetRefused(ctx, r.budget)
		}
	}
	if reason == ReasonBudget && r.backoffOnRefusal && s.sleep(ctx, r.clock, wait) != nil {
		return canceled(ctx, a.Number, err)
	}
	if reason != "" {
		return giveUp(ctx, reason, a.Number, err)
	}
	a.Delay = wait
	rec.retrying(ctx, a)
	if s.sleep(ctx, r.clock, wait) != nil {
		return canceled(ctx, a.Number, err)
	}
	return nil
}

// refused ends a call whose next attempt the Limiter refused: it gives
// the Budget back paid, what that retry took, and returns the RetryError.
func (r *Retrier) refused(ctx context.Context, p *progress, paid int64) error {
	r.budget.giveBack(paid)
	return rateLimited(ctx, p.attempts, p.last.Err)
}

// ended tells the shared policies how attempt n, sent when the Limiter let
// it go and after retries that took paid from the Budget, ended: a success
// when a is nil, else failed attempt a. The Limiter learns from every
// attempt; the Budget from those the service answered.
func (r *Retrier) ended(sent time.Time, n int, paid int64, a *Attempt) {
	if a == nil {
		r.limiter.observe(r.clock, sent, nil)
		r.budget.answered(n, paid, true)
		return
	}
	r.limiter.observe(r.clock, sent, &a.Classification)
	if a.answered() {
		r.budget.answered(n, paid, !a.Classification.Retryable)
	}
}

// usable reports why Do cannot start, if it cannot.
func (r *Retrier) usable(ctx context.Context, fn func(context.Context) error) error {
	switch {
	case r == nil || r.classifier == nil:
		return errZeroRetrier
	case fn == nil:
		return errNilOperation
	case ctx == nil:
		return errNilContext
	}
	return nil
}

// attempt calls fn once, under the attempt timeout if there is one, and
// returns its error.
func (r *Retrier) attempt(ctx context.Context, fn func(context.Context) error) error {
	if r.attemptTimeout <= 0 {
		return fn(ctx)
	}
	return r.attemptWithTimeout(ctx, fn)
}

func (r *Retrier) attemptWithTimeout(ctx context.Context, fn func(context.Context) error) error {
	a := startAttempt(ctx, r.attemptTimeout)
	succeeded := false
	defer func() { a.end(succeeded) }() // also when fn panics
	err := fn(a.ctx)
	succeeded = err == nil
	return err
}

// classify records failed attempt n in a: the classifier's verdict on err,
// or ClassTimeout when the attempt ran out of time while ctx, the caller's
// context, was still live (it overran WithAttemptTimeout, or a deadline of
// its own, such as an http.Client's Timeout), unless err states that it is
// permanent (Permanent, or RetryableError() false); and whether the
// attempt was ambiguous.
func (r *Retrier) classify(ctx context.Context, a *Attempt, n int, err error) {
	a.Number, a.Err, a.Delay = n, err, 0
	// The default classifier's walk of the chain also gives the facts the
	// ambiguity is read from; any other classifier's leaves a second walk.
	var f errorFacts
	gathered := false
	if aws, ok := r.classifier.(*AWSClassifier); ok {
		a.Classification, gathered = aws.classify(err, &f)
	} else {
		a.Classification = r.classifier.Classify(err)
		gathered = f.gatherSafely(err)
	}
	if ctx.Err() == nil {
		deadline := f.deadline
		if !gathered {
			deadline = chainHas(err, context.DeadlineExceeded)
		}
		if deadline && !saysPermanent(err) {
			a.Classification.Retryable, a.Classification.Class = true, ClassTimeout
		}
	}
	a.Ambiguous = gathered && f.mayHaveActed(a.Classification.Class)
}

// endedBy reports whether err, an attempt's error, is ctx's own: the
// caller's context ended during the attempt.
func endedBy(ctx context.Context, err error) bool {
	cerr := ctx.Err()
	return cerr != nil && chainHas(err, cerr)
}

// decide returns the wait before attempt n+1, whose failure was classified
// c (the schedule's for c's class, moved towards the server's hint), or
// the reason to give up instead: the
// attempts are exhausted, ctx ended during the attempt, or the wait would
// pass the elapsed-time limit or ctx's deadline.
func (r *Retrier) decide(ctx context.Context, n int, start time.Time, waits *waits, c Classification) (time.Duration, Reason) {
	switch {
	case n >= r.tries:
		return 0, ReasonExhausted
	case ctx.Err() != nil:
		return 0, ReasonCanceled
	}
	wait := waits.next(&r.schedule, n, c.Class, c.RetryAfter)
	if r.maxElapsed > 0 && saturatingAdd(r.clock.Now().Sub(start), wait) > r.maxElapsed {
		return 0, ReasonElapsed
	}
	if deadline, ok := ctx.Deadline(); ok && isRealClock(r.clock) && time.Until(deadline) < wait {
		return 0, ReasonDeadline
	}
	return wait, ""
}

// elapsedStart returns the time the elapsed-time limit counts from, when
// there is a limit.
func (r *Retrier) elapsedStart() time.Time {
	if r.maxElapsed > 0 {
		return r.clock.Now()
	}
	return time.Time{}
}

// DoHedged is Do for an operation that is safe to run twice at once (a
// read, or a write an idempotency token protects): on a Retrier WithHedge,
// an attempt left unanswered for the hedge delay gets a concurrent twin,
// the first success wins and the others are canceled (see Hedge); on a
// Retrier without WithHedge it is Do. Do itself never hedges, so that only
// a call its caller declared safe runs twice at once, and so that the
// operation passed to Do stays on the caller's stack: hedging hands fn to
// other goroutines, so a closure passed to DoHedged is allocated on the
// heap (one or two allocations a call).
func (r *Retrier) DoHedged(ctx context.Context, fn func(context.Context) error) error {
	if r == nil || r.hedge == nil {
		return r.Do(ctx, fn) // Do checks its arguments
	}
	if err := r.usable(ctx, fn); err != nil {
		return err
	}
	return r.doHedged(ctx, fn)
}

// DoValueHedged is DoValue for an operation safe to run twice at once: see
// DoHedged. It returns the value of the first attempt to succeed; a value
// another attempt returned as well (two answers arriving together) is
// dropped, so an output that holds a resource, such as an S3 object's
// body, should be read inside fn.
func DoValueHedged[T any](ctx context.Context, r *Retrier, fn func(context.Context) (T, error)) (T, error) {
	var (
		mu  sync.Mutex
		v   T
		won bool
	)
	if fn == nil {
		return v, errNilOperation
	}
	err := r.DoHedged(ctx, func(ctx context.Context) error {
		x, err := fn(ctx)
		if err == nil {
			mu.Lock()
			if !won {
				v, won = x, true
			}
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// DoValue is Do for an operation that returns a value. It returns the value
// of the successful attempt, or the zero value and the error Do would return.
func DoValue[T any](ctx context.Context, r *Retrier, fn func(context.Context) (T, error)) (T, error) {
	var v T
	if fn == nil {
		return v, errNilOperation
	}
	err := r.Do(ctx, func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}
