// Package telemetry names what awsretry records in OpenTelemetry: the
// instrumentation scope, the span of a Do call, the event of each attempt
// and their attributes, and the metrics. docs/telemetry.md describes each,
// with when it is set.
//
// Attribute keys of awsretry's own are in the "awsretry." namespace; the
// others (error.type, http.response.status_code, aws.request_id,
// exception.message) are OpenTelemetry semantic conventions.
package telemetry

import "go.opentelemetry.io/otel/attribute"

// ScopeName is the instrumentation scope name of the tracer and the meter
// that record retries: the import path of package awsretry.
const ScopeName = "github.com/awsretry/awsretry"

// Version is awsretry's version, recorded as the instrumentation scope
// version.
const Version = "0.1.0-dev"

// DefaultSpanName is the name of the span Do starts, unless the Retrier was
// named with Retrier.Named.
const DefaultSpanName = "awsretry.Do"

// The event and the metrics.
const (
	// AttemptEventName is the span event recorded for each attempt.
	AttemptEventName = "awsretry.attempt"

	// AttemptsMetricName counts attempts (unit {attempt}), by OutcomeKey
	// (success, retried, not_retried) and error.type.
	AttemptsMetricName = "awsretry.attempts"
	// DelayMetricName is a histogram of the waits before retries, in
	// seconds, by error.type.
	DelayMetricName = "awsretry.retry.delay"
	// CallsMetricName counts Do calls (unit {call}) by OutcomeKey (success,
	// non_retryable, exhausted, canceled, elapsed, deadline, budget,
	// rate_limited, panic) and error.type.
	CallsMetricName = "awsretry.calls"
	// BudgetTokensMetricName is a gauge of what each Budget would pay for
	// now (unit {token}), by BudgetKey: a token bucket's tokens
	// (NewTokenBucket), or the retries a NewBudget Budget would allow
	// (each retry costs one). Observed when the metrics are collected.
	BudgetTokensMetricName = "awsretry.budget.tokens"
	// BudgetRefusalsMetricName counts the retries a Budget refused (unit
	// {retry}), by BudgetKey: alert on it before callers complain.
	BudgetRefusalsMetricName = "awsretry.budget.refusals"
	// HedgesMetricName counts hedged attempts (unit {attempt}), by
	// OutcomeKey: won (it answered first), lost (canceled when another
	// won), failed.
	HedgesMetricName = "awsretry.hedges"
)

// The attribute keys of awsretry's own.
const (
	// AttemptKey is the 1-based attempt number, on attempt events.
	AttemptKey = attribute.Key("awsretry.attempt")
	// AttemptsKey is the number of attempts made, on the span.
	AttemptsKey = attribute.Key("awsretry.attempts")
	// ErrorCodeKey is the error code found by the classifier, on attempt
	// events; at most 128 bytes.
	ErrorCodeKey = attribute.Key("awsretry.error_code")
	// WillRetryKey says whether another attempt follows, on attempt events.
	WillRetryKey = attribute.Key("awsretry.will_retry")
	// DelayKey is the wait before the next attempt in seconds, on attempt
	// events that are followed by a retry.
	DelayKey = attribute.Key("awsretry.delay_seconds")
	// OutcomeKey is the outcome of a Do call (on the span and the calls
	// metric) or of an attempt (on the attempts metric).
	OutcomeKey = attribute.Key("awsretry.outcome")
	// ClassKey is the class of a retryable error (throttle, transient,
	// eventual_consistency, connection, timeout), on attempt events.
	ClassKey = attribute.Key("awsretry.class")
	// RetryAfterKey is the server's retry hint in seconds, on attempt
	// events whose error carried one; DelayKey holds the wait chosen.
	RetryAfterKey = attribute.Key("awsretry.retry_after_seconds")
	// StopReasonKey says why a retryable error was not retried, on its
	// attempt event: exhausted, elapsed, deadline, budget, or canceled
	// (the context ended during the attempt).
	StopReasonKey = attribute.Key("awsretry.stop_reason")
	// RateWaitKey is the time in seconds the attempt waited for a send
	// slot of the Retrier's Limiter, on attempt events, when it waited:
	// time spent rate-limited, apart from the backoff (DelayKey).
	RateWaitKey = attribute.Key("awsretry.rate_wait_seconds")
	// HedgeDelayKey is, on the event of a hedged attempt (WithHedge),
	// the hedge delay in seconds after which it started, the attempt
	// before it unanswered; absent on an attempt that is not a hedge.
	HedgeDelayKey = attribute.Key("awsretry.hedge_delay_seconds")
	// LostKey is true on the event of an attempt canceled because another
	// attempt of its call (a hedge, or the attempt a hedge doubled) won.
	LostKey = attribute.Key("awsretry.lost")
	// BudgetKey names a Budget (BudgetConfig.Name, TokenBucketConfig.Name)
	// on the budget metrics; absent for a Budget without a name.
	BudgetKey = attribute.Key("awsretry.budget")
	// AmbiguousKey is true on the event of a failed attempt whose request
	// may have reached the service and been acted on (a timeout, a
	// connection that failed after the request was sent, a 5xx other than
	// a throttle): retrying it repeats what it did, unless the request
	// carries an idempotency token. Absent otherwise. See
	// awsretry.Attempt.Ambiguous.
	AmbiguousKey = attribute.Key("awsretry.ambiguous")
)
