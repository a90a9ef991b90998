package awsretry

import (
	"fmt"
	"sync/atomic"
)

// tokenBucket is aws-sdk-go-v2's retry quota: see NewTokenBucket.
type tokenBucket struct {
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
	// Name names the Budget on its metrics (attribute awsretry.budget):
	// the dependency it guards, say. Optional.
	Name string
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

// NewTokenBucket returns a Budget that is aws-sdk-go-v2's retry quota, a
// token bucket, for parity with the SDK's standard retryer: the bucket
// starts full; each retry takes tokens, as many as its Class costs, and
// when the bucket cannot pay, Do stops with a *RetryError of reason
// ReasonBudget. A call whose first attempt the service answers (a success,
// or an error of its own such as a 404 or a validation error) puts back a
// reward, and one answered after retries gives back the cost of its last
// retry; the bucket never holds more than its capacity. The default bucket
// pays for 100 throttling retries in a row, whatever the traffic: a burst
// of throttles at high traffic drains it while nearly every call
// succeeds, and at low traffic it lets an outage be retried 100 times.
// NewBudget sizes retries by the traffic instead.
//
// A negative value in c, or a cost for an unknown class, makes it return
// an error that names the field and the value.
func NewTokenBucket(c TokenBucketConfig) (*Budget, error) {
	b := &tokenBucket{capacity: defaultBudgetCapacity, reward: defaultBudgetReward}
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
	return &Budget{bucket: b, meters: budgetMeters{name: c.Name}}, nil
}

func budgetError(field string, value any, problem string) error {
	return configError("NewTokenBucket", "TokenBucketConfig."+field, value, problem)
}

// cost returns the tokens a retry of class c takes.
func (b *tokenBucket) cost(c Class) int64 {
	if c >= ClassNone && int(c) < classCount {
		return b.costs[c]
	}
	return b.costs[ClassNone]
}

// take removes the cost of a retry of class c and returns it, or returns
// false when the bucket cannot pay.
func (b *tokenBucket) take(c Class) (int64, bool) {
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

// refund puts tokens back after a call the service answered: the reward
// after a first-try answer, else the cost of the last retry; the bucket
// fills to its capacity and no further.
func (b *tokenBucket) refund(firstTry bool, lastCost int64) {
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
