package awsretry

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// The context of one attempt under WithAttemptTimeout. Its deadline bounds
// the attempt, not what the caller does with the attempt's result: an S3
// object's body (or any stream a successful call hands back) is read from
// a connection whose context is the attempt's, after the attempt has
// returned. So the deadline ends with a successful attempt, and the
// context stays live, canceled by the caller's context only. A failed
// attempt's context is canceled when the attempt returns, as
// context.WithTimeout's would be.

// attemptContext is the context an attempt receives. Cancellation and its
// cause come from a context.WithCancelCause context (so that context.Cause,
// which net/http reports, names the deadline), detached from the caller's
// context and tied to it with context.AfterFunc, so that once the attempt
// has succeeded nothing of the caller's context holds the attempt's: see
// attempt.end.
type attemptContext struct {
	context.Context                 // the canceller: Done, Value, and the cause
	caller          context.Context // the context of the Do call
	deadline        time.Time
	state           atomic.Int32 // attemptRunning, attemptExpired or attemptEnded
}

// The states of an attemptContext.
const (
	attemptRunning int32 = iota // under way: its deadline applies
	attemptExpired              // its deadline passed while it was under way
	attemptEnded                // it returned before its deadline
)

// Deadline is the attempt's deadline, or the caller's if sooner, while the
// attempt is under way; the caller's once it has succeeded.
func (c *attemptContext) Deadline() (time.Time, bool) {
	d, ok := c.caller.Deadline()
	if c.state.Load() != attemptEnded && (!ok || c.deadline.Before(d)) {
		return c.deadline, true
	}
	return d, ok
}

// Err is context.DeadlineExceeded once the attempt's deadline passed,
// else the caller's context's error, once the context is done.
func (c *attemptContext) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	if c.state.Load() == attemptExpired {
		return context.DeadlineExceeded
	}
	if err := c.caller.Err(); err != nil {
		return err
	}
	return context.Canceled // ended with a failed attempt
}

// attempt is the running attempt of an attemptContext, and what it takes
// to end it.
type attempt struct {
	ctx    *attemptContext
	cancel context.CancelCauseFunc
	timer  *time.Timer
	detach func() bool // stops the caller's context from canceling ctx
}

// startAttempt returns an attempt of at most d under the caller's context
// ctx.
func startAttempt(ctx context.Context, d time.Duration) attempt {
	canceller, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	c := &attemptContext{Context: canceller, caller: ctx, deadline: time.Now().Add(d)}
	detach := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	timer := time.AfterFunc(d, func() {
		if c.state.CompareAndSwap(attemptRunning, attemptExpired) {
			cancel(context.DeadlineExceeded)
		}
	})
	return attempt{ctx: c, cancel: cancel, timer: timer, detach: detach}
}

// end ends the attempt; succeeded says whether it returned without an
// error.
//
// A failed attempt's context is canceled and let go, as
// context.WithTimeout's cancel does. A successful attempt's context stays
// live: its deadline no longer applies, and only the caller's context can
// cancel it, so that the caller can read a body the attempt returned. The
// caller's context then holds a registration (context.AfterFunc) that
// would keep the attempt's context, until the caller's context ends; it is
// released as soon as nothing else refers to the attempt's context (the
// body was read and dropped), by a cleanup that runs after the garbage
// collector finds it unreachable. So a long-lived caller's context (a
// server's base context) does not accumulate one per successful attempt.
func (a attempt) end(succeeded bool) {
	a.timer.Stop()
	if !a.ctx.state.CompareAndSwap(attemptRunning, attemptEnded) || !succeeded {
		// Expired, or failed.
		a.detach()
		a.cancel(context.Canceled)
		return
	}
	if a.ctx.caller.Done() != nil {
		runtime.AddCleanup(a.ctx, func(detach func() bool) { detach() }, a.detach)
	}
}
