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
// An operation's error is classified (by default by its AWS error code, see
// AWSClassifier). A non-retryable error is returned unchanged; when Do gives
// up on a retryable one it returns a *RetryError that says why. Waits run on
// the Retrier's Clock: package awsretrytest has a fake one under which the
// whole default schedule runs without any real wait.
package awsretry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Retrier calls an operation until it succeeds, fails with an error that is
// not retryable, or a limit is reached. Make one with New or MustNew; the
// zero Retrier is not usable. A Retrier is immutable and safe for concurrent
// use by many goroutines.
type Retrier struct {
	tries          int
	attemptTimeout time.Duration // 0: none
	schedule       schedule
	maxElapsed     time.Duration
	clock          Clock
	classifier     Classifier
	telemetry      *telemetry
	budget         *Budget // nil: no budget
	realClock      bool    // the clock is RealClock, on which context deadlines run
}

// New returns a Retrier configured by opts on top of the defaults: 10
// attempts, a 3s first wait, backoff 1.1, no jitter, no cap, no elapsed-time
// limit, the real clock and the default AWS classifier. An invalid option
// value makes New return an error that names the option and the value.
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
	classifier := c.classifier
	switch {
	case classifier != nil && len(c.codeOptions) > 0:
		return nil, fmt.Errorf("awsretry: New: WithClassifier cannot be combined with %s, which configures the default classifier",
			c.codeOptions[0])
	case classifier == nil && len(c.codeOptions) > 0:
		rules := c.rules
		rules.Codes = slices.Concat(rules.Codes, c.addedCodes)
		classifier = NewAWSClassifier(rules)
	case classifier == nil:
		classifier = defaultClassifier
	}
	t, err := newTelemetry(&c, classifier)
	if err != nil {
		return nil, err
	}
	return &Retrier{
		tries:          c.tries,
		attemptTimeout: c.attemptTimeout,
		schedule:       c.schedule,
		maxElapsed:     c.maxElapsed,
		clock:          c.clock,
		classifier:     classifier,
		telemetry:      t,
		budget:         c.budget,
		realClock:      isRealClock(c.clock),
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

// Do calls fn until it returns nil or an error that is not retryable, waiting
// between attempts according to the Retrier's schedule. fn receives ctx, or
// rather the context of the span Do starts in it.
//
// Do returns nil on success, fn's error unchanged when it is not retryable,
// and a *RetryError when it stops retrying a retryable error: all attempts
// failed (ReasonExhausted); ctx ended before an attempt or during a wait
// (ReasonCanceled: fn is not called once ctx is done, and a wait returns as
// soon as ctx ends); the next wait would pass the elapsed-time limit
// (ReasonElapsed) or ctx's deadline (ReasonDeadline); or the shared Budget
// could not pay for the retry (ReasonBudget). A panic in fn propagates
// unchanged, after the span is ended with an error status.
func (r *Retrier) Do(ctx context.Context, fn func(context.Context) error) error {
	switch {
	case r == nil || r.classifier == nil:
		return errZeroRetrier
	case fn == nil:
		return errNilOperation
	case ctx == nil:
		return errNilContext
	}
	ctx, obs := r.telemetry.start(ctx)
	defer obs.endIfPanicking(ctx)
	var (
		start     time.Time
		lastErr   error
		scheduled time.Duration // the schedule's previous wait, for decorrelated jitter
		lastCost  int64         // tokens the last retry took from the budget
		timer     *time.Timer   // the real clock's timer, reused by every wait of this call
	)
	if r.maxElapsed > 0 {
		start = r.clock.Now()
	}
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			rerr := canceled(ctx, attempt-1, lastErr)
			obs.canceled(ctx, rerr)
			return rerr
		}
		obs.attempts = attempt
		err, timedOut := r.attempt(ctx, fn)
		if err == nil {
			r.budget.succeeded(attempt == 1, lastCost)
			obs.succeeded(ctx, attempt)
			return nil
		}
		a := Attempt{Number: attempt, Err: err, Classification: r.classifier.Classify(err)}
		if timedOut {
			a.Classification.Retryable, a.Classification.Class = true, ClassTimeout
		}
		if !a.Classification.Retryable {
			obs.failed(ctx, a, callNonRetryable, err)
			return err
		}
		lastErr = err
		if attempt >= r.tries {
			return obs.gaveUp(ctx, a, &RetryError{Reason: ReasonExhausted, Attempts: attempt, Err: err})
		}
		if ctx.Err() != nil { // it ended during the attempt: no retry to schedule
			return obs.gaveUp(ctx, a, canceled(ctx, attempt, err))
		}
		scheduled = r.schedule.wait(attempt, scheduled)
		wait := r.honourHint(scheduled, a.Classification.RetryAfter)
		if reason := r.limitBefore(ctx, start, wait); reason != "" {
			rerr := &RetryError{Reason: reason, Attempts: attempt, Err: err}
			if reason == ReasonDeadline {
				rerr.ContextErr = context.DeadlineExceeded
			}
			return obs.gaveUp(ctx, a, rerr)
		}
		var paid bool
		if lastCost, paid = r.budget.take(a.Classification.Class); !paid {
			return obs.gaveUp(ctx, a, &RetryError{Reason: ReasonBudget, Attempts: attempt, Err: err})
		}
		a.Delay = wait
		obs.retrying(ctx, a)
		if r.sleep(ctx, wait, &timer) != nil {
			rerr := canceled(ctx, attempt, err)
			obs.canceled(ctx, rerr)
			return rerr
		}
	}
}

// attempt calls fn once, under the attempt timeout if there is one. It
// reports whether fn failed because it overran that timeout while ctx was
// still live: the context error, wrapped or not, from the attempt's own
// deadline.
func (r *Retrier) attempt(ctx context.Context, fn func(context.Context) error) (err error, timedOut bool) {
	if r.attemptTimeout <= 0 {
		return fn(ctx), false
	}
	actx, cancel := context.WithTimeout(ctx, r.attemptTimeout)
	defer cancel()
	err = fn(actx)
	timedOut = err != nil && actx.Err() != nil && ctx.Err() == nil && chainHas(err, context.DeadlineExceeded)
	return err, timedOut
}

// sleep waits for d on the Retrier's clock. On the real clock it reuses
// *timer across the waits of one Do call, so that a call allocates one timer
// however many times it waits.
func (r *Retrier) sleep(ctx context.Context, d time.Duration, timer **time.Timer) error {
	if !r.realClock {
		return r.clock.Sleep(ctx, d)
	}
	return sleepOn(ctx, d, timer)
}

// honourHint moves the schedule's wait towards the server's hint, within
// [wait, wait+5s], and caps it. The schedule itself never sees the hint, so
// a hint cannot compound through decorrelated jitter.
func (r *Retrier) honourHint(wait, hint time.Duration) time.Duration {
	if hint <= 0 {
		return wait
	}
	return r.schedule.capped(withHint(wait, hint))
}

// limitBefore returns the reason not to wait d before the next attempt, if
// any: the elapsed-time limit, or a context deadline (on the real clock)
// that would pass during the wait.
func (r *Retrier) limitBefore(ctx context.Context, start time.Time, d time.Duration) Reason {
	if r.maxElapsed > 0 && saturatingAdd(r.clock.Now().Sub(start), d) > r.maxElapsed {
		return ReasonElapsed
	}
	if r.realClock {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
			return ReasonDeadline
		}
	}
	return ""
}

func isRealClock(c Clock) bool {
	switch c.(type) {
	case RealClock, *RealClock:
		return true
	}
	return false
}

// canceled builds the RetryError for a context that ended.
func canceled(ctx context.Context, attempts int, lastErr error) *RetryError {
	e := &RetryError{Reason: ReasonCanceled, Attempts: attempts, Err: lastErr, ContextErr: ctx.Err()}
	if cause := context.Cause(ctx); cause != e.ContextErr {
		e.Cause = cause
	}
	return e
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
