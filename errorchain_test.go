package awsretry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/awsretry/awsretry/awsretrytest"
)

// documentedBound is the number of errors a walk of an error's tree visits
// at most, as docs/classification.md and the AWSClassifier doc comment
// state it. Change them together.
const documentedBound = 1024

// throttleErr is the throttle the trees below hide.
func throttleErr() error { return &smithy.GenericAPIError{Code: "ThrottlingException"} }

// joinWith returns errors.Join of n plain errors, the one at index at
// replaced by target.
func joinWith(n, at int, target error) error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = fmt.Errorf("error %d", i)
	}
	errs[at] = target
	return errors.Join(errs...)
}

// chainWith returns a chain of depth errors, each wrapping the next, the
// last one target.
func chainWith(depth int, target error) error {
	err := target
	for i := 1; i < depth; i++ {
		err = fmt.Errorf("layer %d: %w", i, err)
	}
	return err
}

// TestWideJoinIsWalkedWhole: an errors.Join of 100 errors is read whole,
// so a throttle at index 80 is retried as one; the walk once stopped after
// 64 errors.
func TestWideJoinIsWalkedWhole(t *testing.T) {
	joined := joinWith(100, 80, throttleErr())
	if !errors.As(joined, new(*smithy.GenericAPIError)) {
		t.Fatal("errors.As does not find the throttle: the test is wrong")
	}
	got := DefaultClassifier().Classify(joined)
	if want := (Classification{Retryable: true, Code: "ThrottlingException", Class: ClassThrottle}); got != want {
		t.Errorf("Classify = %+v, want %+v", got, want)
	}

	op := 0
	err := MustNew(WithClock(awsretrytest.NewClock())).Do(context.Background(), func(context.Context) error {
		if op++; op == 1 {
			return joined
		}
		return nil
	})
	if err != nil || op != 2 {
		t.Errorf("Do returned %T after %d calls, want nil after 2 (the join retried)", err, op)
	}

	// The other walks of the tree read as far.
	if !chainHas(joinWith(100, 80, context.Canceled), context.Canceled) {
		t.Error("chainHas does not find context.Canceled at index 80 of 100")
	}
	if _, ok := findError[*smithy.GenericAPIError](joined); !ok {
		t.Error("findError does not find the throttle at index 80 of 100")
	}
}

// TestChainWalkBound pins the documented bound: a walk visits at most 1,024
// errors in all, in the order errors.As visits them, so an error beyond
// (the 1,025th of a join, the bottom of a chain 2,000 deep) is not seen,
// where errors.As would see it.
func TestChainWalkBound(t *testing.T) {
	if maxChain != documentedBound {
		t.Errorf("maxChain = %d, documented as %d", maxChain, documentedBound)
	}
	tests := []struct {
		name  string
		err   func(target error) error
		found bool
	}{
		// The join itself is the first error visited.
		{"join, last of 1,023", func(e error) error { return joinWith(documentedBound-1, documentedBound-2, e) }, true},
		{"join, last of 1,024", func(e error) error { return joinWith(documentedBound, documentedBound-1, e) }, false},
		{"chain, 1,024 deep", func(e error) error { return chainWith(documentedBound, e) }, true},
		{"chain, 1,025 deep", func(e error) error { return chainWith(documentedBound+1, e) }, false},
		{"chain, 2,000 deep", func(e error) error { return chainWith(2000, e) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(throttleErr())
			if !errors.As(err, new(*smithy.GenericAPIError)) {
				t.Fatal("errors.As does not find the throttle: the test is wrong")
			}
			want := Classification{}
			if tt.found {
				want = Classification{Retryable: true, Code: "ThrottlingException", Class: ClassThrottle}
			}
			if got := DefaultClassifier().Classify(err); got != want {
				t.Errorf("Classify = %+v, want %+v", got, want)
			}
			if _, ok := findError[*smithy.GenericAPIError](err); ok != tt.found {
				t.Errorf("findError found %v, want %v", ok, tt.found)
			}
			if got := chainHas(tt.err(context.Canceled), context.Canceled); got != tt.found {
				t.Errorf("chainHas = %v, want %v", got, tt.found)
			}
		})
	}
}

// selfLoop is an error whose Unwrap returns itself, counting the calls.
type selfLoop struct{ unwraps int }

func (e *selfLoop) Error() string { return "self loop" }
func (e *selfLoop) Unwrap() error { e.unwraps++; return e }
func (e *selfLoop) calls() int    { return e.unwraps }
func (e *selfLoop) reset()        { e.unwraps = 0 }

// selfJoin is an error whose Unwrap returns itself width times, counting
// the calls: a tree of width^depth errors, were the walk not bounded.
type selfJoin struct{ width, unwraps int }

func (e *selfJoin) Error() string { return "self join" }
func (e *selfJoin) calls() int    { return e.unwraps }
func (e *selfJoin) reset()        { e.unwraps = 0 }

func (e *selfJoin) Unwrap() []error {
	e.unwraps++
	errs := make([]error, e.width)
	for i := range errs {
		errs[i] = e
	}
	return errs
}

// TestUnwrapCyclesEnd: an error whose Unwrap leads back to itself, alone or
// in a join, does not hang any walk: each visits at most maxChain errors,
// calling Unwrap once per error visited.
func TestUnwrapCyclesEnd(t *testing.T) {
	type counted interface {
		error
		calls() int
		reset()
	}
	cycles := map[string]counted{
		"Unwrap() error returns itself":               &selfLoop{},
		"Unwrap() []error returns itself twice":       &selfJoin{width: 2},
		"Unwrap() []error returns itself 1,000 times": &selfJoin{width: 1000},
	}
	walks := map[string]struct {
		fn    func(error)
		walks int // of the tree
	}{
		"Classify":        {func(err error) { DefaultClassifier().Classify(err) }, 1},
		"chainHas":        {func(err error) { chainHas(err, context.Canceled) }, 1},
		"findError":       {func(err error) { findError[*smithy.GenericAPIError](err) }, 1},
		"mayHaveActed":    {func(err error) { mayHaveActed(err, ClassNone) }, 1},
		"responseDetails": {func(err error) { responseDetails(err) }, 2}, // the facts, then the request id
	}
	for name, err := range cycles {
		for walk, w := range walks {
			t.Run(name+"/"+walk, func(t *testing.T) {
				err.reset()
				done := make(chan struct{})
				go func() { defer close(done); w.fn(err) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("the walk did not end in 10s")
				}
				if limit := w.walks * maxChain; err.calls() > limit {
					t.Errorf("Unwrap called %d times, want at most %d", err.calls(), limit)
				}
			})
		}
		t.Run(name+"/Do", func(t *testing.T) {
			calls := 0
			got := MustNew(WithClock(awsretrytest.NewClock())).Do(context.Background(), func(context.Context) error {
				calls++
				return err
			})
			if got != err || calls != 1 {
				t.Errorf("Do = %v after %d calls, want the cycle unchanged after one call", got, calls)
			}
		})
	}
}
