package awsretry

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures a Retrier. Options are applied by New in order; a later
// option overrides an earlier one of the same kind, except WithAddedCodes,
// which accumulates. No two options conflict.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// config collects the options; New builds the Retrier from it.
type config struct {
	tries          int
	schedule       schedule
	maxElapsed     time.Duration
	attemptTimeout time.Duration
	clock          Clock

	custom     Classifier // set by WithClassifier; nil means the default AWS classifier
	addedCodes []string

	tracerProvider trace.TracerProvider // nil: the global one
	meterProvider  metric.MeterProvider // nil: the global one
	errorMessages  bool
	logger         *slog.Logger
	onRetry        func(context.Context, Attempt)

	budget           *Budget
	limiter          *Limiter
	scope            bool
	backoffOnRefusal bool
	classes          map[Class]ClassSchedule // WithClassSchedule's, resolved by New
	hedge            *Hedge                  // WithHedge's
}

// The defaults of the Python awsretry: tries=10, delay=3 (seconds),
// backoff=1.1.
const (
	defaultTries   = 10
	defaultDelay   = 3 * time.Second
	defaultBackoff = 1.1
)

func defaultConfig() config {
	return config{
		tries: defaultTries,
		schedule: schedule{
			curve:  curve{delay: defaultDelay, backoff: defaultBackoff},
			jitter: JitterNone,
			random: globalRandom{},
		},
		clock: RealClock{},
	}
}

// classifier returns the Retrier's classifier: the default AWS classifier
// with the added codes among its codes; or an AWSClassifier WithClassifier
// gave, likewise; or a classifier of the user's with the marks of
// Retryable and Permanent and the added codes in front of it.
func (c *config) classifier() Classifier {
	aws, isAWS := c.custom.(*AWSClassifier)
	switch {
	case c.custom == nil && len(c.addedCodes) == 0:
		return defaultClassifier
	case c.custom == nil:
		aws, isAWS = defaultClassifier, true
	case !isAWS:
		return customClassifier(c.custom, c.addedCodes)
	case len(c.addedCodes) == 0:
		return aws
	}
	return aws.withCodes(c.addedCodes)
}

// globalRandom draws from math/rand/v2's global source, which is safe for
// concurrent use.
type globalRandom struct{}

func (globalRandom) Float64() float64 { return rand.Float64() }

// WithTries sets the number of attempts, counting the first: n >= 1. With
// WithTries(1) the operation is called once and never retried. Default 10.
func WithTries(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return optionError("WithTries", n, "tries must be at least 1")
		}
		c.tries = n
		return nil
	})
}

// WithDelay sets the wait after the first failed attempt: d >= 0. Default
// 3s. The wait after attempt n is d*backoff^(n-1), before jitter and the
// cap (WithJitter, WithMaxDelay) and a server's hint.
func WithDelay(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return optionError("WithDelay", d, "delay must not be negative")
		}
		c.schedule.delay = d
		return nil
	})
}

// WithBackoff sets the multiplier applied to the wait after each retry: a
// finite m >= 1 (1 keeps the wait constant). Default 1.1. JitterDecorrelated
// does not use it (its factor is 3). Waits saturate at
// WithMaxDelay, or at about 292 years without a cap; they never overflow.
func WithBackoff(m float64) Option {
	return optionFunc(func(c *config) error {
		if math.IsNaN(m) || math.IsInf(m, 0) || m < 1 {
			return optionError("WithBackoff", m, "backoff must be a finite number >= 1")
		}
		c.schedule.backoff = m
		return nil
	})
}

// WithMaxDelay caps every wait at d, after jitter: no wait is longer than d.
// For full and equal jitter the cap also bounds the range the jitter draws
// from, as in Brooker's formulas, so the waits stay spread out once the cap
// is reached. 0 means no cap, the default; d must not be negative.
func WithMaxDelay(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return optionError("WithMaxDelay", d, "cap must not be negative (0 means no cap)")
		}
		c.schedule.maxDelay = d
		return nil
	})
}

// WithMaxElapsed limits the time a Do call may take, measured on the
// Retrier's Clock from the start of Do. Before each wait Do checks whether
// the time elapsed plus the wait would exceed d; if so it stops at once with
// a *RetryError of reason ReasonElapsed instead of waiting in vain. An
// attempt already running is not interrupted (use a context deadline for
// that). 0 means no limit, the default; d must not be negative.
func WithMaxElapsed(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return optionError("WithMaxElapsed", d, "limit must not be negative (0 means no limit)")
		}
		c.maxElapsed = d
		return nil
	})
}

// WithAttemptTimeout gives each attempt at most d: the operation receives a
// context whose deadline is d away (or the caller's, if sooner), so a hung
// connection or a stalled response is cut off where the SDK call reads its
// context, without a goroutine. An attempt that fails because it overran d
// while the caller's context is still live is retried as ClassTimeout,
// unless its error says it is permanent (Permanent, or RetryableError()
// false); the caller's own deadline still ends Do, as always. The deadline
// is on real time, whatever the Clock. 0 means no timeout, the default; d
// must not be negative.
func WithAttemptTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return optionError("WithAttemptTimeout", d, "timeout must not be negative (0 means none)")
		}
		c.attemptTimeout = d
		return nil
	})
}

// WithJitter sets how waits are randomised. Default JitterNone.
func WithJitter(j Jitter) Option {
	return optionFunc(func(c *config) error {
		switch j {
		case JitterNone, JitterFull, JitterEqual, JitterDecorrelated:
		default:
			return optionError("WithJitter", j, "unknown jitter mode")
		}
		c.schedule.jitter = j
		return nil
	})
}

// WithRandom sets the source of randomness for jitter; tests pass a fixed
// sequence to get exact waits. It must be safe for concurrent use if the
// Retrier is shared. Default: math/rand/v2's global source.
func WithRandom(r Random) Option {
	return optionFunc(func(c *config) error {
		if isNil(r) {
			return optionError("WithRandom", nilValue(r), "random source must not be nil")
		}
		c.schedule.random = r
		return nil
	})
}

// WithClock sets the Clock used for waits and for the elapsed-time limit.
// Default RealClock. Tests use awsretrytest.NewClock; a
// github.com/benbjohnson/clock Clock plugs in through
// awsretrytest.FromBenbjohnson.
func WithClock(clk Clock) Option {
	return optionFunc(func(c *config) error {
		if isNil(clk) {
			return optionError("WithClock", nilValue(clk), "clock must not be nil")
		}
		c.clock = clk
		return nil
	})
}

// WithClassifier replaces the default AWS classifier with cl. To decide
// some errors yourself and leave the rest to the default, call
// DefaultClassifier().Classify from cl; to change the default's rules
// (codes, the NotFound rule, statuses), pass NewAWSClassifier(rules).
// Whatever cl says, the marks of Retryable, RetryableAs and Permanent
// decide first, and an error with one of WithAddedCodes's codes is retried.
func WithClassifier(cl Classifier) Option {
	return optionFunc(func(c *config) error {
		if isNil(cl) {
			return optionError("WithClassifier", nilValue(cl), "classifier must not be nil")
		}
		c.custom = cl
		return nil
	})
}

// WithAddedCodes adds error codes to those retried, like the Python
// awsretry's added_exceptions: an error with one of these codes is retried
// (as ClassTransient, unless the code has a class of its own, see
// AWSRules), whatever the classifier says of it, except a canceled request
// or an error that states it is not retryable (Permanent). It accumulates
// over several uses.
func WithAddedCodes(codes ...string) Option {
	return optionFunc(func(c *config) error {
		if err := checkCodes("WithAddedCodes", codes); err != nil {
			return err
		}
		c.addedCodes = append(c.addedCodes, codes...)
		return nil
	})
}

// isNil reports whether v is nil or an interface holding a nil pointer,
// function, map, slice or channel: a value whose methods would dereference
// nil inside Do. It runs in New only.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

// nilValue describes a nil option value with its type, for errors:
// "<nil>", or "(*rand.Rand)(nil)" for a typed nil.
func nilValue(v any) string {
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprintf("(%T)(nil)", v)
}

func checkCodes(option string, codes []string) error {
	for _, code := range codes {
		if code == "" {
			return optionError(option, `""`, "an error code must not be empty")
		}
	}
	return nil
}

// WithTracerProvider sets the provider of the tracer that records a span per
// Do call and an event per attempt. Default: the global provider
// (otel.GetTracerProvider), looked up on each call, so a provider installed
// after New is used. With no SDK installed, tracing costs nothing.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) error {
		if isNil(tp) {
			return optionError("WithTracerProvider", nilValue(tp), "tracer provider must not be nil")
		}
		c.tracerProvider = tp
		return nil
	})
}

// WithMeterProvider sets the provider of the meter that records retry
// metrics. Default: the global provider (otel.GetMeterProvider), whose
// instruments start recording when an SDK is installed, even after New.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) error {
		if isNil(mp) {
			return optionError("WithMeterProvider", nilValue(mp), "meter provider must not be nil")
		}
		c.meterProvider = mp
		return nil
	})
}

// WithErrorMessages makes spans (attribute exception.message on attempt
// events) and logs (attribute error) carry the text of errors. Off by
// default: AWS error messages can hold account ids, ARNs and resource
// names. Error codes and types are always recorded.
func WithErrorMessages(on bool) Option {
	return optionFunc(func(c *config) error {
		c.errorMessages = on
		return nil
	})
}

// WithLogger logs each scheduled retry ("awsretry: retrying", level Info,
// with the attempt, the error type, the class and the delay) and the end of
// a failed Do call ("awsretry: giving up", level Warn, or Info for a
// non-retryable error, with the outcome, the attempts and the error type).
// Off by default.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return optionError("WithLogger", l, "logger must not be nil (leave the option out for no logging)")
		}
		c.logger = l
		return nil
	})
}

// WithOnRetry calls hook once for each retry Do schedules, before the wait,
// with the failed attempt and the delay chosen. It is never called after the
// last attempt, nor for a non-retryable error. The hook runs on Do's
// goroutine: a slow hook delays the retry, and a panic in it comes out of
// Do as a panic of fn would (the span ends with outcome panic; the retry's
// Budget tokens are spent). ctx is Do's context with its span: the
// context fn receives, but for WithAttemptTimeout's deadline.
func WithOnRetry(hook func(ctx context.Context, a Attempt)) Option {
	return optionFunc(func(c *config) error {
		if hook == nil {
			return optionError("WithOnRetry", "<nil>", "hook must not be nil")
		}
		c.onRetry = hook
		return nil
	})
}

// WithBudget makes every retry take tokens from b, a Budget shared with
// other Retriers and goroutines; when b cannot pay, Do stops with a
// *RetryError of reason ReasonBudget. Default: no budget.
func WithBudget(b *Budget) Option {
	return optionFunc(func(c *config) error {
		if b == nil {
			return optionError("WithBudget", "<nil>", "budget must not be nil")
		}
		c.budget = b
		return nil
	})
}

// WithLimiter makes every attempt wait for a send slot of l, an adaptive
// rate limiter shared with other Retriers and goroutines: see Limiter.
// Default: no limiter.
func WithLimiter(l *Limiter) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return optionError("WithLimiter", "<nil>", "limiter must not be nil")
		}
		c.limiter = l
		return nil
	})
}

// WithScope gives each Do call a Scope, which the operation reads from its
// context with ScopeFrom: the attempt under way, and idempotency tokens
// that stay the same across the call's attempts, so that retrying a call
// that creates something (EC2's RunInstances, DynamoDB's
// TransactWriteItems) cannot create it twice. Package awssdk's InsideDo
// pins the tokens aws-sdk-go-v2 fills itself to it. It costs one
// allocation per Do call (the context that carries the Scope); tokens cost
// more, when asked for.
func WithScope() Option {
	return optionFunc(func(c *config) error {
		c.scope = true
		return nil
	})
}

// ClassSchedule is the schedule of the waits after errors of one Class
// (WithClassSchedule): its first wait, and optionally its multiplier and
// cap. The wait after failed attempt n is Delay*Backoff^(n-1), whatever the
// classes of the failures before, then jitter, the server's hint and the
// cap, as for the Retrier's own schedule.
type ClassSchedule struct {
	// Delay is the wait after the first failed attempt: >= 0.
	Delay time.Duration
	// Backoff multiplies the wait after each retry: a finite number >= 1;
	// 0 means the Retrier's (WithBackoff).
	Backoff float64
	// MaxDelay caps every wait of the class; 0 means the Retrier's
	// (WithMaxDelay).
	MaxDelay time.Duration
}

// WithClassSchedule gives the errors of class c a schedule of their own,
// in place of the Retrier's delay (and, where s sets them, its backoff and
// cap): a throttle can wait a second while a transient error waits 50 ms,
// as aws-sdk-go-v2's standard retryer does (SDKStandard). Jitter, the
// server's hints and the attempts are the Retrier's. A later use for the
// same class overrides an earlier one. c must be a Class other than
// ClassNone (which no retried error has).
func WithClassSchedule(c Class, s ClassSchedule) Option {
	return optionFunc(func(cfg *config) error {
		name := fmt.Sprintf("%v, %+v", c, s)
		switch {
		case c <= ClassNone || int(c) >= classCount:
			return optionError("WithClassSchedule", name, "class must be one of ClassThrottle to ClassTimeout")
		case s.Delay < 0:
			return optionError("WithClassSchedule", name, "Delay must not be negative")
		case math.IsNaN(s.Backoff) || math.IsInf(s.Backoff, 0) || s.Backoff != 0 && s.Backoff < 1:
			return optionError("WithClassSchedule", name, "Backoff must be a finite number >= 1 (0 means the Retrier's)")
		case s.MaxDelay < 0:
			return optionError("WithClassSchedule", name, "MaxDelay must not be negative (0 means the Retrier's)")
		}
		if cfg.classes == nil {
			cfg.classes = map[Class]ClassSchedule{}
		}
		cfg.classes[c] = s
		return nil
	})
}

// resolveClasses fills the schedule's class curves from WithClassSchedule's,
// taking the Retrier's backoff and cap where a class leaves them 0.
func (c *config) resolveClasses() {
	for class, s := range c.classes {
		k := curve{delay: s.Delay, backoff: s.Backoff, maxDelay: s.MaxDelay}
		if k.backoff == 0 {
			k.backoff = c.schedule.backoff
		}
		if k.maxDelay == 0 {
			k.maxDelay = c.schedule.maxDelay
		}
		c.schedule.classes[class] = k
	}
}

// SDKStandard sets aws-sdk-go-v2's standard retryer's schedule (v1.48.0,
// its 2026 retry behaviour): 3 attempts; a first wait of 50 ms, or 1 s
// after a throttle; x2 after each retry; a cap of 20 s applied before the
// jitter; full jitter. So awssdk.WithRetrier(r) with it means the SDK's
// retries, plus awsretry's visibility, clock, Budget and Limiter. For the
// SDK's retry quota too, add WithBudget(NewTokenBucket(TokenBucketConfig{})).
// Options after it override its parts. SDKStandardDynamoDB is the SDK's
// DynamoDB client's.
func SDKStandard() Option { return sdkStandard(3, 50*time.Millisecond) }

// SDKStandardDynamoDB is SDKStandard as aws-sdk-go-v2's DynamoDB client
// sets it: 4 attempts, and a first wait of 25 ms (1 s after a throttle).
func SDKStandardDynamoDB() Option { return sdkStandard(4, 25*time.Millisecond) }

func sdkStandard(tries int, delay time.Duration) Option {
	opts := []Option{WithTries(tries), WithDelay(delay), WithBackoff(2), WithMaxDelay(20 * time.Second),
		WithJitter(JitterFull), WithClassSchedule(ClassThrottle, ClassSchedule{Delay: time.Second})}
	return optionFunc(func(c *config) error {
		for _, o := range opts {
			if err := o.apply(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// WithBackoffOnRefusal makes a retry the Budget refuses wait the wait it
// would have had before Do returns its *RetryError of reason ReasonBudget
// (a canceled context still ends the wait at once). Without it Do returns
// at once, so that a call fails fast while the budget is empty; but a
// caller that loops on Do (polling a queue, waiting for a state) then
// spins, calling the failing dependency as fast as it fails. With it, such
// a loop makes one attempt per backoff interval.
func WithBackoffOnRefusal() Option {
	return optionFunc(func(c *config) error {
		c.backoffOnRefusal = true
		return nil
	})
}

// WithHedge makes DoHedged and DoValueHedged hedge slow attempts as h
// says: see Hedge (Do never hedges). The
// Retrier's Limiter, if it has one, gates hedges like any attempt (a hedge
// it would make wait is not sent); the Retrier's Budget pays for retries
// only. Waits run on the Retrier's Clock, so a test with a manual clock
// drives a hedge. An invalid value makes New fail with an error naming
// the field.
func WithHedge(h Hedge) Option {
	return optionFunc(func(c *config) error {
		name := fmt.Sprintf("%+v", h)
		switch {
		case h.Delay <= 0:
			return optionError("WithHedge", name, "Delay must be positive")
		case h.Percentile != 0 && !(h.Percentile > 0.5 && h.Percentile < 1):
			return optionError("WithHedge", name, "Percentile must be 0 or within (0.5, 1)")
		case h.MaxInFlight < 0 || h.MaxInFlight == 1:
			return optionError("WithHedge", name, "MaxInFlight must be at least 2 (0 means 2)")
		case math.IsNaN(h.Ratio) || math.IsInf(h.Ratio, 0) || h.Ratio < 0:
			return optionError("WithHedge", name, "Ratio must be a finite number >= 0 (0 means 0.01)")
		}
		hc := h
		c.hedge = &hc
		return nil
	})
}
