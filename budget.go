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
// puts back a reward, and one that succeeds after retries gives back the
// cost of its last retry; the bucket never holds more than its capacity.
// So retries flow freely while most calls succeed, and dry up when a
// dependency is down (the default bucket pays for 100 throttling retries in
// a row), until successes refill it.
//
// Make one with NewTokenBucket. A Budget is safe for concurrent use and
// lock-free. The zero Budget has no capacity and charges nothing, so it
// never refuses a retry.
type Budget struct {
	tokens   atomic.Int64
	capacity int64
	costs    [classCount]int64
	reward   int64
}

// TokenBucketConfig configures a Budget made by NewTokenBucket. Its zero value is aws-sdk-go-v2's
// standard retryer's bucket: 500 tokens, 5 per retry (14 for a transient
// error, a connection failure or a timeout, as in its 2026 retry
// behaviour), and 1 back per first-try success.
type TokenBucketConfig struct {
	// Capacity is the tokens the bucket holds when full, and starts with.
	// 0 means 500. Any value up to math.MaxInt works (refunds saturate
	// at the capacity), so math.MaxInt is a bucket that practically never
	// runs dry.
	Capacity int
	// Costs are the tokens a retry of an error of each class takes; 0
	// makes a class free. A class not listed costs its default: 14 for
	// ClassTransient, ClassConnection and ClassTimeout, 5 for the others.
	Costs map[Class]int
	// Reward is the tokens a first-try success puts back. 0 means 1.
	Reward int
}

// The defaults of TokenBucketConfig, in tokens, as in aws-sdk-go-v2's standard
// retryer.
const (
	defaultBudgetCapacity      = 500
	defaultBudgetRetryCost     = 5
	defaultBudgetTransientCost = 14
	defaultBudgetReward        = 1
)

// classCount is the number of Class values.
const classCount = int(ClassTimeout) + 1

// NewTokenBucket returns a full Budget configured by c. A negative value, or a
// cost for an unknown class, makes it return an error that names the field
// and the value.
func NewTokenBucket(c TokenBucketConfig) (*Budget, error) {
	b := &Budget{capacity: defaultBudgetCapacity, reward: defaultBudgetReward}
	for class := range b.costs {
		b.costs[class] = defaultBudgetRetryCost
	}
	for _, class := range []Class{ClassTransient, ClassConnection, ClassTimeout} {
		b.costs[class] = defaultBudgetTransientCost
	}
	switch {
	case c.Capacity < 0:
		return nil, budgetError("Capacity", c.Capacity, "must not be negative (0 means 500)")
	case c.Capacity > 0:
		b.capacity = int64(c.Capacity)
	}
	switch {
	case c.Reward < 0:
		return nil, budgetError("Reward", c.Reward, "must not be negative (0 means 1)")
	case c.Reward > 0:
		b.reward = int64(c.Reward)
	}
	for class, cost := range c.Costs {
		if class < ClassNone || int(class) >= classCount {
			return nil, budgetError("Costs", class, "unknown class")
		}
		if cost < 0 {
			return nil, budgetError("Costs", fmt.Sprintf("%v: %d", class, cost), "cost must not be negative")
		}
		b.costs[class] = int64(cost)
	}
	b.tokens.Store(b.capacity)
	return b, nil
}

func budgetError(field string, value any, problem string) error {
	return fmt.Errorf("awsretry: NewTokenBucket: TokenBucketConfig.%s (%v): %s", field, value, problem)
}

// Tokens returns the tokens in the bucket now, or 0 for a nil Budget
// rather than a nil dereference.
func (b *Budget) Tokens() int {
	if b == nil {
		return 0
	}
	return int(b.tokens.Load())
}

// cost returns the tokens a retry of class c takes.
func (b *Budget) cost(c Class) int64 {
	if c >= ClassNone && int(c) < classCount {
		return b.costs[c]
	}
	return b.costs[ClassNone]
}

// take removes the cost of a retry of class c and returns it, or returns
// false when the bucket cannot pay. A nil Budget pays for everything.
func (b *Budget) take(c Class) (int64, bool) {
	if b == nil {
		return 0, true
	}
	cost := b.cost(c)
	for {
		have := b.tokens.Load()
		if have < cost {
			return 0, false
		}
		// have-cost cannot overflow: both are at least 0.
		if b.tokens.CompareAndSwap(have, have-cost) {
			return cost, true
		}
	}
}

// refund puts tokens back after a successful call: the reward after a
// first-try success, else the cost of the last retry; the bucket fills to
// its capacity and no further.
func (b *Budget) refund(firstTry bool, lastCost int64) {
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
		// Compare n with the room left, not have+n with the capacity:
		// near math.MaxInt64 (a Capacity or Reward of math.MaxInt) the
		// sum overflows to a negative count that refuses every retry.
		// The room cannot overflow: 0 <= have <= capacity.
		next := b.capacity
		if n < b.capacity-have {
			next = have + n
		}
		if next == have || b.tokens.CompareAndSwap(have, next) {
			return
		}
	}
}
