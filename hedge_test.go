package awsretry_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// slowOp is an operation whose attempts wait to be answered by the test:
// each attempt announces itself on started, then returns what answer
// receives for it, or its context's error when canceled.
type slowOp struct {
	mu       sync.Mutex
	started  chan int
	answers  map[int]chan error
	canceled []int
	n        int
}

func newSlowOp() *slowOp {
	return &slowOp{started: make(chan int, 16), answers: map[int]chan error{}}
}

func (o *slowOp) answer(n int) chan error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.answers[n] == nil {
		o.answers[n] = make(chan error, 1)
	}
	return o.answers[n]
}

func (o *slowOp) call(ctx context.Context) error {
	o.mu.Lock()
	o.n++
	n := o.n
	o.mu.Unlock()
	o.started <- n
	select {
	case err := <-o.answer(n):
		return err
	case <-ctx.Done():
		o.mu.Lock()
		o.canceled = append(o.canceled, n)
		o.mu.Unlock()
		return ctx.Err()
	}
}

// hedgeEnv is a Retrier that hedges, on a manual clock, with the
// attempts it records.
type hedgeEnv struct {
	clk     *awsretrytest.Clock
	r       *awsretry.Retrier
	retries chan awsretry.Attempt
}

func newHedgeEnv(t *testing.T, h awsretry.Hedge, opts ...awsretry.Option) hedgeEnv {
	clk := awsretrytest.NewManualClock()
	retries := make(chan awsretry.Attempt, 16)
	r := awsretry.MustNew(append([]awsretry.Option{awsretry.WithClock(clk), awsretry.WithHedge(h),
		awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { retries <- a })}, opts...)...)
	return hedgeEnv{clk, r, retries}
}

// do runs r.DoHedged(op) in a goroutine and returns its result channel.
func do(r *awsretry.Retrier, op func(context.Context) error) chan error {
	done := make(chan error, 1)
	go func() { done <- r.DoHedged(context.Background(), op) }()
	return done
}

// TestHedgeWinsAndCancelsTheSlowAttempt: the first attempt goes
// unanswered for the hedge delay; the hedge answers first and wins; the
// first attempt's context is canceled; both are on the span.
func TestHedgeWinsAndCancelsTheSlowAttempt(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: 50 * time.Millisecond})
	op := newSlowOp()
	done := do(e.r, op.call)
	<-op.started // attempt 1
	if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(50 * time.Millisecond)
	if n := <-op.started; n != 2 {
		t.Fatalf("attempt %d started, want the hedge, 2", n)
	}
	op.answer(2) <- nil
	if err := <-done; err != nil {
		t.Fatalf("Do = %v, want the hedge's success", err)
	}
	if !slices.Equal(op.canceled, []int{1}) {
		t.Errorf("canceled attempts %v, want [1]", op.canceled)
	}
	if len(e.retries) != 0 {
		t.Errorf("%d retries scheduled, want none: a hedge is not a retry", len(e.retries))
	}
}

// TestNoHedgeForAFastAnswer: an attempt answered before the hedge delay
// is not hedged, and the hedge timer does not outlive Do.
func TestNoHedgeForAFastAnswer(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: 50 * time.Millisecond})
	op := newSlowOp()
	op.answer(1) <- nil
	if err := e.r.DoHedged(context.Background(), op.call); err != nil || op.n != 1 {
		t.Fatalf("Do = %v after %d attempts, want success after 1", err, op.n)
	}
	if w := e.clk.Waiters(); w != 0 {
		t.Errorf("%d waits still on the clock after Do returned", w)
	}
}

// TestHedgesInFlightAreBounded: with MaxInFlight 3, attempts that never
// answer get two hedges, one per delay, then no more.
func TestHedgesInFlightAreBounded(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: time.Second, MaxInFlight: 3, Ratio: 1})
	op := newSlowOp()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.r.DoHedged(ctx, op.call) }()
	for want := 1; want <= 3; want++ {
		if n := <-op.started; n != want {
			t.Fatalf("attempt %d started, want %d", n, want)
		}
		if want < 3 {
			if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Second)
		}
	}
	// Three in flight: no timer for a fourth.
	if w := e.clk.Waiters(); w != 0 {
		t.Errorf("%d waits on the clock with 3 attempts in flight, want none", w)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || op.n != 3 {
		t.Errorf("Do = %v after %d attempts, want the context's error after 3", err, op.n)
	}
}

// TestHedgeFailureWaitsForTheOthers: an attempt that fails retryably
// while a hedge is in flight does not end the call; the hedge's success
// does. When every attempt fails, the schedule retries as without hedging.
func TestHedgeFailureWaitsForTheOthers(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: 50 * time.Millisecond}, awsretry.WithDelay(time.Second), awsretry.WithBackoff(1),
		awsretry.WithTries(4))
	op := newSlowOp()
	done := do(e.r, op.call)
	<-op.started
	if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(50 * time.Millisecond)
	<-op.started                                        // the hedge, 2
	op.answer(1) <- apiError("ServiceUnavailable", 503) // attempt 1 fails; 2 carries on
	op.answer(2) <- apiError("ServiceUnavailable", 503) // and fails: nothing in flight, retry after 1 s
	retry := <-e.retries
	if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Second)
	if n := <-op.started; n != 3 {
		t.Fatalf("attempt %d started after the wait, want 3", n)
	}
	op.answer(3) <- nil
	if err := <-done; err != nil {
		t.Fatalf("Do = %v, want success on attempt 3", err)
	}
	// The attempt retried is the one that failed last, 1 or 2.
	if len(e.retries) != 0 || retry.Number > 2 || retry.Delay != time.Second {
		t.Errorf("retried attempt %d after %v, then %d more; want attempt 1 or 2 after 1s, once", retry.Number, retry.Delay, len(e.retries))
	}
}

// TestHedgeBudgetStopsWastedHedges: hedges that never win are held to the
// Ratio of calls (plus one a window); hedges that win pay for themselves.
// In a testing/synctest bubble, on the real clock: the first attempt of
// each call answers after first, a hedge after hedge.
func TestHedgeBudgetStopsWastedHedges(t *testing.T) {
	for _, tc := range []struct {
		name         string
		first, hedge time.Duration
		maxHedges    int
	}{
		{"hedges lose", 20 * time.Millisecond, time.Second, 3}, // 10% of 20 calls, and the floor
		{"hedges win", time.Second, time.Millisecond, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := awsretry.MustNew(awsretry.WithHedge(awsretry.Hedge{Delay: 10 * time.Millisecond, Ratio: 0.1}))
				var attempts atomic.Int32
				for range 20 {
					var n atomic.Int32
					err := r.DoHedged(context.Background(), func(ctx context.Context) error {
						d := tc.hedge
						if n.Add(1) == 1 {
							d = tc.first
						}
						attempts.Add(1)
						select {
						case <-time.After(d):
							return nil
						case <-ctx.Done():
							return ctx.Err()
						}
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				hedges := int(attempts.Load()) - 20
				if hedges > tc.maxHedges || tc.maxHedges == 20 && hedges != 20 {
					t.Errorf("%d hedges in 20 calls, want at most %d", hedges, tc.maxHedges)
				}
			})
		})
	}
}

// TestHedgePanicPropagates: a panic in a hedge comes out of Do, after
// the other attempt is canceled and has returned.
func TestHedgePanicPropagates(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: time.Millisecond})
	op := newSlowOp()
	panics := make(chan any, 1)
	go func() {
		defer func() { panics <- recover() }()
		_ = e.r.DoHedged(context.Background(), func(ctx context.Context) error {
			if err := op.call(ctx); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	<-op.started
	if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Millisecond)
	<-op.started
	op.answer(2) <- nil // the hedge panics
	if v := <-panics; v != "boom" || !slices.Equal(op.canceled, []int{1}) {
		t.Errorf("recovered %v with canceled attempts %v, want boom and [1]", v, op.canceled)
	}
}

// TestHedgeDelayFollowsLatency: with a Percentile, the hedge delay is that
// percentile of recent answered attempts, never below Delay.
func TestHedgeDelayFollowsLatency(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: 10 * time.Millisecond, Percentile: 0.9})
	// 20 calls answered after 100 ms each.
	for range 20 {
		op := newSlowOp()
		done := do(e.r, op.call)
		<-op.started
		if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Millisecond) // below the floor: the first call's delay is 10 ms; later ones about 100 ms
		op.answer(1) <- nil
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// The latencies recorded are 1 ms: the delay stays at its floor.
	// Now a call waits: its hedge delay is 10 ms.
	op := newSlowOp()
	done := do(e.r, op.call)
	<-op.started
	if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(9 * time.Millisecond)
	select {
	case n := <-op.started:
		t.Fatalf("attempt %d started before the 10 ms floor", n)
	default:
	}
	e.clk.Advance(time.Millisecond)
	<-op.started
	op.answer(2) <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestHedgeOptionErrors(t *testing.T) {
	for _, h := range []awsretry.Hedge{
		{},
		{Delay: -1},
		{Delay: time.Second, Percentile: 0.3},
		{Delay: time.Second, Percentile: 1},
		{Delay: time.Second, MaxInFlight: 1},
		{Delay: time.Second, Ratio: -1},
	} {
		if _, err := awsretry.New(awsretry.WithHedge(h)); err == nil || !strings.HasPrefix(err.Error(), "awsretry: WithHedge(") {
			t.Errorf("WithHedge(%+v): %v, want an error naming the option", h, err)
		}
	}
}

// TestDoNeverHedges: on a Retrier WithHedge, Do runs one attempt at a time
// however long it goes unanswered; only DoHedged hedges.
func TestDoNeverHedges(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: 50 * time.Millisecond})
	op := newSlowOp()
	done := make(chan error, 1)
	go func() { done <- e.r.Do(context.Background(), op.call) }()
	<-op.started
	e.clk.Advance(time.Second) // no hedge timer to fire
	select {
	case n := <-op.started:
		t.Fatalf("attempt %d started while the first was in flight: Do hedged", n)
	default:
	}
	op.answer(1) <- nil
	if err := <-done; err != nil || op.n != 1 {
		t.Fatalf("Do = %v after %d attempts, want success after 1", err, op.n)
	}
}

// TestDoValueHedgedReturnsTheWinner: the hedge wins with its value; the
// slow attempt, canceled, returns after it with no value, which must not
// replace the winner's (DoValue's shared result did, hedged through Do).
func TestDoValueHedgedReturnsTheWinner(t *testing.T) {
	e := newHedgeEnv(t, awsretry.Hedge{Delay: 50 * time.Millisecond})
	op := newSlowOp()
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := awsretry.DoValueHedged(context.Background(), e.r, func(ctx context.Context) (string, error) {
			if err := op.call(ctx); err != nil {
				return "", err
			}
			return "the hedge's item", nil
		})
		done <- result{v, err}
	}()
	<-op.started
	if err := e.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(50 * time.Millisecond)
	<-op.started
	op.answer(2) <- nil
	if got := <-done; got.err != nil || got.v != "the hedge's item" {
		t.Fatalf("DoValueHedged = %q, %v; want the hedge's item", got.v, got.err)
	}
}

// TestDoKeepsTheOperationOffTheHeap: a closure that captures a variable,
// passed to Do (and DoValue) on a Retrier that can hedge, is not moved to
// the heap: a first-try success allocates nothing. Hedging lives in
// DoHedged, which hands the operation to other goroutines.
func TestDoKeepsTheOperationOffTheHeap(t *testing.T) {
	r := awsretry.MustNew(awsretry.WithHedge(awsretry.Hedge{Delay: time.Second}))
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		n := 0
		if err := r.Do(ctx, func(context.Context) error { n++; return nil }); err != nil || n != 1 {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Do with a capturing closure: %v allocations, want 0", allocs)
	}
}
