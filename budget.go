package awsretry

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Budget bounds how many retries a fleet of callers may make: a retry
// library is a load amplifier, and during an outage ten attempts per call
// multiply the load on a struggling service by ten. Share one Budget
// between the Retriers (and goroutines) that call the same dependency,
// with WithBudget. When the Budget cannot pay for a retry, Do stops with a
// *RetryError of reason ReasonBudget instead of retrying (with
// WithBackoffOnRefusal, after the wait the retry would have had).
//
// A Budget is one of two kinds. NewBudget's, the one to choose unless you
// need the SDK's: retries allowed as a share of the answers the service
// gave over a sliding window, plus a small floor, so that the retries
// follow the traffic. NewTokenBucket's: aws-sdk-go-v2's retry quota, a
// bucket of tokens sized in absolute numbers, for parity with the SDK.
// docs/reliability.md compares them.
//
// Health, for both, is the service's, not the call's: a response the
// service produced (a success, or an error it answered, such as a 404 or a
// validation error) counts; a throttle, a transient error, a connection
// failure or a timeout does not.
//
// A Budget is safe for concurrent use, and lock-free on the success path.
// The zero Budget never refuses a retry.
type Budget struct {
	share  *shareBudget // NewBudget's
	bucket *tokenBucket // NewTokenBucket's
	meters budgetMeters // its metrics, on each MeterProvider
}

// BudgetConfig configures a Budget made by NewBudget. Its zero value is
// the defaults: retries up to 10% of the service's answers over the last
// 10 s, plus 0.1 retries per second whatever the traffic.
type BudgetConfig struct {
	// Name names the Budget on its metrics (attribute awsretry.budget):
	// the dependency it guards, say. Optional.
	Name string
	// Ratio is the retries allowed per answer of the service over Window.
	// 0 means 0.1 (10%: at most 1.1 attempts per call, on average, while
	// the service answers).
	Ratio float64
	// Window is how far back the answers and retries count. 0 means 10 s.
	Window time.Duration
	// MinPerSecond is the floor: retries allowed per second whatever the
	// traffic, so that a caller calling once a minute can still retry. 0
	// means 0.1 (one retry per 10 s window); a negative value means no
	// floor.
	MinPerSecond float64
}

// The defaults of BudgetConfig.
const (
	defaultBudgetRatio        = 0.1
	defaultBudgetWindow       = 10 * time.Second
	defaultBudgetMinPerSecond = 0.1
)

// NewBudget returns a Budget that allows retries as a share of the service's
// answers: over the last Window, the retries taken may not exceed Ratio
// times the answers counted, plus MinPerSecond times the window's seconds.
// Each retry costs one, whatever its class. A success, and an error the
// service answered, counts one answer, on the path of a successful call
// with one atomic add; the window is kept on the retry path.
//
// Unlike NewTokenBucket's, it follows the traffic: at 5,000 calls a second
// a burst of 200 throttles is 0.4% of a window's answers and is retried,
// where the SDK's bucket refuses half of them; against a dependency that
// answers nothing it allows the floor alone, one retry in 10 s by default,
// whatever the rate of calls. The floor is on the Retriers' Clock: the
// Retriers sharing a Budget must share a clock, as for a Limiter.
//
// An invalid value (Ratio negative, NaN or infinite; Window negative;
// MinPerSecond NaN or infinite) makes it return an error that names the
// field and the value.
func NewBudget(c BudgetConfig) (*Budget, error) {
	s := &shareBudget{ratio: defaultBudgetRatio, window: defaultBudgetWindow}
	minPerSecond := defaultBudgetMinPerSecond
	switch {
	case math.IsNaN(c.Ratio) || math.IsInf(c.Ratio, 0) || c.Ratio < 0:
		return nil, configError("NewBudget", "BudgetConfig.Ratio", c.Ratio, "must be a finite number >= 0 (0 means 0.1)")
	case c.Ratio > 0:
		s.ratio = c.Ratio
	}
	switch {
	case c.Window < 0:
		return nil, configError("NewBudget", "BudgetConfig.Window", c.Window, "must not be negative (0 means 10s)")
	case c.Window > 0:
		s.window = c.Window
	}
	switch {
	case math.IsNaN(c.MinPerSecond) || math.IsInf(c.MinPerSecond, 0):
		return nil, configError("NewBudget", "BudgetConfig.MinPerSecond", c.MinPerSecond,
			"must be a finite number (0 means 0.1, a negative value no floor)")
	case c.MinPerSecond < 0:
		minPerSecond = 0
	case c.MinPerSecond > 0:
		minPerSecond = c.MinPerSecond
	}
	s.floor = minPerSecond * s.window.Seconds()
	return &Budget{share: s, meters: budgetMeters{name: c.Name}}, nil
}

// configError reports an invalid field of a constructor's configuration.
func configError(constructor, field string, value any, problem string) error {
	return fmt.Errorf("awsretry: %s: %s (%v): %s", constructor, field, value, problem)
}

// Tokens returns what the Budget would pay for now: the tokens in the
// bucket of a NewTokenBucket Budget; the retries a NewBudget Budget would
// allow, on its Retriers' Clock (rounded down); 0 for a nil or zero Budget.
func (b *Budget) Tokens() int {
	switch {
	case b == nil:
		return 0
	case b.bucket != nil:
		return int(b.bucket.tokens.Load())
	case b.share != nil:
		return b.share.allowance()
	}
	return 0
}

// bind ties b to clk, the Clock of a Retrier configured with it: a
// NewBudget Budget keeps its window on one clock, as a Limiter does.
func (b *Budget) bind(clk Clock) error {
	if b.share == nil {
		return nil
	}
	return b.share.bind(clk)
}

// take pays for a retry of class c, whose Retrier's clock is clk: it
// returns what the retry took (the tokens, for a bucket), or false when
// the Budget cannot pay. A nil Budget pays for everything.
func (b *Budget) take(clk Clock, c Class) (int64, bool) {
	switch {
	case b == nil:
		return 0, true
	case b.bucket != nil:
		return b.bucket.take(c)
	case b.share != nil:
		return b.share.take(clk)
	}
	return 0, true
}

// cost is what a retry of class c costs: its tokens, or one retry.
func (b *Budget) cost(c Class) int64 {
	if b.bucket != nil {
		return b.bucket.cost(c)
	}
	return 1
}

// answered takes in an attempt the service answered (a success, or an
// error of the service's own; see Attempt.answered): attempt n of its
// call, after retries that took paid, the last of its call or not. A
// bucket puts back its reward after a first attempt that ends the call,
// or the last retry's cost; a share counts the answer.
func (b *Budget) answered(n int, paid int64, last bool) {
	switch {
	case b == nil:
	case b.share != nil:
		b.share.answers.Add(1)
	case b.bucket != nil && last:
		b.bucket.refund(n == 1, paid)
	}
}

// On Do's success path, answer and refundBucket stand for answered(n,
// paid, true), each small enough to inline: a share's answer is one atomic
// add there, a bucket's refund one call.

// answer counts an answer of the service if b is a share, and reports
// whether it is.
func (b *Budget) answer() bool {
	if s := b.share; s != nil {
		s.answers.Add(1)
		return true
	}
	return false
}

// refundBucket is a bucket's refund after an answer that ends the call.
func (b *Budget) refundBucket(n int, paid int64) {
	if k := b.bucket; k != nil {
		k.refund(n == 1, paid)
	}
}

// retryAnswered takes in a retry, which took paid, whose attempt the
// service answered, for a retryer that is told of it apart from the
// answer (awssdk.Retryer alone): a bucket gives back the retry's cost; a
// share counts the answer when told of it (answered), not here.
func (b *Budget) retryAnswered(paid int64) {
	if b != nil && b.bucket != nil {
		b.bucket.refund(false, paid)
	}
}

// giveBack returns what a retry took when it was not made after all (the
// Limiter refused its attempt).
func (b *Budget) giveBack(paid int64) {
	switch {
	case b == nil || paid == 0:
	case b.bucket != nil:
		b.bucket.refund(false, paid)
	case b.share != nil:
		b.share.giveBack()
	}
}

// shareBudget allows retries as a share of the service's answers over a
// sliding window: see NewBudget.
type shareBudget struct {
	ratio  float64
	window time.Duration
	floor  float64 // retries allowed per window, whatever the traffic

	answers atomic.Int64 // answers counted since the Budget was made

	mu      sync.Mutex
	clock   clockBinding
	retries int64 // retries taken since the Budget was made
	// marks are what answers and retries were at some past times, at most
	// one per window/shareSlots, the newest at marks[(head-1) mod len]:
	// the window's counts are the counts now less those of the newest
	// mark at least a window old.
	marks [shareSlots + 3]shareMark
	head  int
	n     int
}

// shareSlots is how finely the window slides: a mark is kept at most every
// window/shareSlots, so the window's start is known within that, and its
// retries are counted over at most 2% more than its length (with 10
// slots, 10% more: a hedge budget whose hedges ran at 91% of its Ratio
// refused 3% of them, TestBudgetWindowIsItsLength refused 265 retries).
const shareSlots = 50

type shareMark struct {
	at      time.Time
	answers int64
	retries int64
}

func (s *shareBudget) bind(clk Clock) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.clock.clock == nil
	if err := s.clock.bind("Budget", clk); err != nil {
		return err
	}
	if first {
		// The first mark: the answers before any retry are counted from
		// here, so that the window knows how long they took.
		s.mark(clk.Now(), s.answers.Load())
	}
	return nil
}

// take pays for a retry at clk's time now, or reports false.
func (s *shareBudget) take(clk Clock) (int64, bool) {
	now := clk.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.clock.sameTime(clk, now) {
		return 0, true // another time than the Budget's (a synctest bubble's): see clockBinding
	}
	if s.allowed(now) < 1 {
		return 0, false
	}
	s.retries++
	return 1, true
}

// giveBack forgets a retry taken that was not made.
func (s *shareBudget) giveBack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retries--
}

// allowance is the whole retries allowed now, on the bound clock.
func (s *shareBudget) allowance() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock.clock == nil {
		return int(s.floor) // never used: no retry taken, no answer timed
	}
	return int(max(s.allowed(s.clock.clock.Now()), 0))
}

// allowed returns the retries allowed at now, which may be fractional or
// negative; s.mu is held. It marks the counts at now first, if the last
// mark is older than a slot.
//
// Answers come on the success path, at any time between two marks; so the
// answers at the window's start are interpolated between the marks around
// it, as if they came at a steady rate between them (the window then holds
// its length's worth, not up to a slot more). Retries are taken here, and
// a mark is made before the first retry of each slot: the retries counted
// between a mark and the next were taken within a slot of the first. So
// the window's retries are counted from the oldest mark less than a slot
// before the window's start.
func (s *shareBudget) allowed(now time.Time) float64 {
	answers := s.answers.Load()
	slot := s.window / shareSlots
	if s.n == 0 || now.Sub(s.newest().at) >= slot {
		s.mark(now, answers)
	}
	start := now.Add(-s.window)
	inWindow := float64(answers) - s.answersAt(start, now, answers)
	retried := s.retries - s.oldestAfter(start.Add(-slot)).retries
	return s.ratio*inWindow + s.floor - float64(retried)
}

// answersAt returns the answers counted by t, interpolated between the
// marks around t (now and answers standing for a mark after the newest);
// for a t before the oldest mark, the oldest mark's: the Budget is younger
// than its window; s.mu is held, and there is a mark.
func (s *shareBudget) answersAt(t, now time.Time, answers int64) float64 {
	// The marks span the window and a few slots more: t is near the
	// oldest, so the search starts there.
	i := 0
	for i < s.n && !s.at(i).at.After(t) {
		i++
	}
	if i == 0 {
		return float64(s.at(0).answers)
	}
	before := s.at(i - 1)
	after := shareMark{at: now, answers: answers}
	if i < s.n {
		after = s.at(i)
	}
	span := after.at.Sub(before.at)
	if span <= 0 {
		return float64(before.answers)
	}
	share := float64(t.Sub(before.at)) / float64(span)
	return float64(before.answers) + share*float64(after.answers-before.answers)
}

// mark records the counts at now; s.mu is held.
func (s *shareBudget) mark(now time.Time, answers int64) {
	s.marks[s.head] = shareMark{at: now, answers: answers, retries: s.retries}
	s.head = (s.head + 1) % len(s.marks)
	s.n = min(s.n+1, len(s.marks))
}

func (s *shareBudget) newest() shareMark {
	return s.marks[(s.head-1+len(s.marks))%len(s.marks)]
}

// at returns the i-th mark from the oldest; s.mu is held.
func (s *shareBudget) at(i int) shareMark {
	return s.marks[(s.head-s.n+i+len(s.marks))%len(s.marks)]
}

// oldestAfter returns the oldest mark after t; s.mu is held, and the
// newest mark is after t.
func (s *shareBudget) oldestAfter(t time.Time) shareMark {
	for i := range s.n {
		if m := s.at(i); m.at.After(t) {
			return m
		}
	}
	return s.newest()
}
