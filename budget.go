package awsretry

import (
	"fmt"
	"sync/atomic"
)

// Budget is a token bucket that bounds how many retries a fleet of callers
// may make: a retry library is a load amplifier, and during an outage ten
// attempts per call multiply the load on a struggling service by ten. Share
// one Budget between the Retriers (and goroutines) that call the same
// dependency, with WithBudget.
//
// The bucket starts full. Each retry takes tokens, as many as its Class
// costs; when the bucket cannot pay, Do stops with a *RetryError of reason
// ReasonBudget instead of retrying. A call that succeeds on its first attempt
// puts back a reward (1 token), and one that succeeds after retries gives back
// the cost of its last retry; the bucket never holds more than its capacity.
// So retries flow freely while most calls succeed, and dry up when a
// dependency is down (the default bucket pays for 100 throttling retries in
// a row), until successes refill it.
//
// The defaults follow aws-sdk-go-v2's standard retryer: 500 tokens, 5 per
// retry of a throttling error (and of eventual consistency or an
// unclassified error), 14 per retry of a transient error, a connection
// failure or a timeout (its 2026 rule), and a reward of 1. A Budget is safe for concurrent use and lock-free.
// Make one with NewBudget: the zero Budget has no capacity and charges
// nothing, so it never refuses a retry.
type Budget struct {
	tokens   atomic.Int64
	capacity int64
	costs    [classCount]int64
	reward   int64
}

// classCount is the number of Class values.
const classCount = int(ClassTimeout) + 1

// The default budget parameters, in tokens, as in aws-sdk-go-v2's standard
// retryer.
const (
	// DefaultBudgetCapacity is the tokens a Budget holds when full: 500.
	DefaultBudgetCapacity = 500
	// DefaultBudgetRetryCost is the tokens a retry takes, except of a
	// transient error: 5.
	DefaultBudgetRetryCost = 5
	// DefaultBudgetTransientCost is the tokens a retry of a transient error,
	// a connection failure or a timeout takes: 14, as in the SDK's 2026
	// retry behaviour.
	DefaultBudgetTransientCost = 14
	// DefaultBudgetReward is the tokens a first-try success puts back: 1.
	DefaultBudgetReward = 1
)

// BudgetOption configures a Budget.
type BudgetOption interface {
	applyBudget(*Budget) error
}

type budgetOptionFunc func(*Budget) error

func (f budgetOptionFunc) applyBudget(b *Budget) error { return f(b) }

// BudgetCapacity sets the number of tokens the bucket holds when full, and
// starts with: n >= 1. Default 500.
func BudgetCapacity(n int) BudgetOption {
	return budgetOptionFunc(func(b *Budget) error {
		if n < 1 {
			return optionError("BudgetCapacity", n, "capacity must be at least 1")
		}
		b.capacity = int64(n)
		return nil
	})
}

// BudgetCost sets the tokens a retry of an error of class c takes: cost >= 0
// (0 makes that class free). Defaults: 14 for ClassTransient,
// ClassConnection and ClassTimeout, 5 for the others.
func BudgetCost(c Class, cost int) BudgetOption {
	return budgetOptionFunc(func(b *Budget) error {
		if c < ClassNone || int(c) >= classCount {
			return optionError("BudgetCost", c, "unknown class")
		}
		if cost < 0 {
			return optionError("BudgetCost", fmt.Sprintf("%v, %d", c, cost), "cost must not be negative")
		}
		b.costs[c] = int64(cost)
		return nil
	})
}

// BudgetReward sets the tokens a first-try success puts back: n >= 0.
// Default 1.
func BudgetReward(n int) BudgetOption {
	return budgetOptionFunc(func(b *Budget) error {
		if n < 0 {
			return optionError("BudgetReward", n, "reward must not be negative")
		}
		b.reward = int64(n)
		return nil
	})
}

// NewBudget returns a full Budget configured by opts on top of the defaults.
// An invalid option makes it return an error naming the option and value.
func NewBudget(opts ...BudgetOption) (*Budget, error) {
	b := &Budget{capacity: DefaultBudgetCapacity, reward: DefaultBudgetReward}
	for c := range b.costs {
		b.costs[c] = DefaultBudgetRetryCost
	}
	b.costs[ClassTransient] = DefaultBudgetTransientCost
	b.costs[ClassConnection] = DefaultBudgetTransientCost
	b.costs[ClassTimeout] = DefaultBudgetTransientCost
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("awsretry: NewBudget: nil BudgetOption")
		}
		if err := opt.applyBudget(b); err != nil {
			return nil, err
		}
	}
	b.tokens.Store(b.capacity)
	return b, nil
}

// MustNewBudget is like NewBudget but panics if an option is invalid.
func MustNewBudget(opts ...BudgetOption) *Budget {
	b, err := NewBudget(opts...)
	if err != nil {
		panic(err)
	}
	return b
}

// Tokens returns the tokens in the bucket now.
func (b *Budget) Tokens() int { return int(b.tokens.Load()) }

// Capacity returns the tokens the bucket holds when full.
func (b *Budget) Capacity() int { return int(b.capacity) }

// take removes the cost of a retry of class c and returns it, or returns
// false when the bucket cannot pay. A nil Budget pays for everything.
func (b *Budget) take(c Class) (int64, bool) {
	if b == nil {
		return 0, true
	}
	cost := b.costs[ClassNone]
	if c >= ClassNone && int(c) < classCount {
		cost = b.costs[c]
	}
	for {
		have := b.tokens.Load()
		if have < cost {
			return 0, false
		}
		if b.tokens.CompareAndSwap(have, have-cost) {
			return cost, true
		}
	}
}

// succeeded puts tokens back after a successful call: the reward after a
// first-try success, else the cost of the last retry.
func (b *Budget) succeeded(firstTry bool, lastCost int64) {
	if b == nil {
		return
	}
	n := lastCost
	if firstTry {
		n = b.reward
	}
	if n == 0 {
		return
	}
	for {
		have := b.tokens.Load()
		next := min(have+n, b.capacity)
		if next == have || b.tokens.CompareAndSwap(have, next) {
			return
		}
	}
}
