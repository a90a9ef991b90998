package awsretry

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Classification is a Classifier's verdict on one error.
type Classification struct {
	// Retryable reports whether the operation should be tried again.
	Retryable bool
	// Code is the error code reported in telemetry and logs, such as
	// "RequestLimitExceeded"; empty when the error has none.
	Code string
	// Class says what kind of failure a retryable error is; ClassNone for
	// errors that are not retryable.
	Class Class
	// RetryAfter is how long the server asked the client to wait, from the
	// x-amz-retry-after or Retry-After response header; 0 when it did not
	// say. Do honours it within limits: see WithMaxDelay and the README.
	RetryAfter time.Duration
}

// Class is the kind of failure behind a retryable error.
type Class int

// The classes of retryable errors.
const (
	// ClassNone: the error is not retryable, or its kind is unknown.
	ClassNone Class = iota
	// ClassThrottle: the service is limiting the caller's request rate
	// (RequestLimitExceeded, ThrottlingException, SlowDown, ...).
	ClassThrottle
	// ClassTransient: a passing fault on the service's side
	// (InternalError, ServiceUnavailable, RequestTimeout, HTTP 5xx, ...).
	ClassTransient
	// ClassEventualConsistency: a resource just created or changed is not
	// visible yet (the NotFound rule: InvalidInstanceID.NotFound, ...).
	ClassEventualConsistency
	// ClassConnection: the request could not be sent or its response not
	// read: a connection reset, refused or closed mid-body, a failed dial
	// or DNS lookup.
	ClassConnection
	// ClassTimeout: the attempt ran out of time: it overran the
	// WithAttemptTimeout deadline, or the network reported a timeout.
	ClassTimeout
)

// String returns "none", "throttle", "transient", "eventual_consistency",
// "connection" or "timeout".
func (c Class) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassThrottle:
		return "throttle"
	case ClassTransient:
		return "transient"
	case ClassEventualConsistency:
		return "eventual_consistency"
	case ClassConnection:
		return "connection"
	case ClassTimeout:
		return "timeout"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classifier decides whether an error returned by the operation is worth
// another attempt. It is called once per failed attempt, never with a nil
// error, and must be safe for concurrent use.
type Classifier interface {
	Classify(err error) Classification
}

// ClassifierFunc adapts a function to a Classifier.
type ClassifierFunc func(err error) Classification

// Classify returns f(err).
func (f ClassifierFunc) Classify(err error) Classification { return f(err) }

// pythonCodes are the error codes the Python awsretry retried, with their
// class.
var pythonCodes = map[string]Class{
	"RequestLimitExceeded":     ClassThrottle,
	"Unavailable":              ClassTransient,
	"ServiceUnavailable":       ClassTransient,
	"InternalFailure":          ClassTransient,
	"InternalError":            ClassTransient,
	"LimitExceededException":   ClassThrottle,
	"TooManyRequestsException": ClassThrottle,
	"ThrottlingException":      ClassThrottle,
}

// sdkThrottleCodes are aws-sdk-go-v2's retry.DefaultThrottleErrorCodes.
var sdkThrottleCodes = []string{
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
	"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
}

// sdkTransientCodes are aws-sdk-go-v2's retry.DefaultRetryableErrorCodes.
var sdkTransientCodes = []string{"RequestTimeout", "RequestTimeoutException"}

// codeClasses maps every default retryable code to its class.
var codeClasses = func() map[string]Class {
	m := make(map[string]Class, len(pythonCodes)+len(sdkThrottleCodes)+len(sdkTransientCodes))
	for code, class := range pythonCodes {
		m[code] = class
	}
	for _, code := range sdkThrottleCodes {
		m[code] = ClassThrottle
	}
	for _, code := range sdkTransientCodes {
		m[code] = ClassTransient
	}
	return m
}()

// clientFaultCodes are frequent AWS error codes that are never worth a retry
// (the request itself is wrong, or not allowed). They are "known": an HTTP
// 5xx status does not make them retryable, and metrics report them by name.
var clientFaultCodes = []string{
	"AccessDenied", "AccessDeniedException", "AuthFailure", "UnauthorizedOperation",
	"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
	"SignatureDoesNotMatch", "ValidationException", "ValidationError", "InvalidParameterValue",
	"InvalidParameterCombination", "MissingParameter", "DryRunOperation", "IncorrectState",
	"ConditionalCheckFailedException", "ConflictException", "ResourceInUseException",
	"NotFound", "NoSuchKey", "NoSuchBucket", "InvalidInstanceID.Malformed",
}

// defaultStatuses are the HTTP statuses retried when the error has no known
// code, as aws-sdk-go-v2's retry.DefaultRetryableHTTPStatusCodes.
var defaultStatuses = []int{500, 502, 503, 504}

// DefaultCodes returns the error codes retried by default, sorted: the
// Python awsretry's eight (RequestLimitExceeded, Unavailable,
// ServiceUnavailable, InternalFailure, InternalError, LimitExceededException,
// TooManyRequestsException, ThrottlingException), aws-sdk-go-v2's fourteen
// throttling codes (which include Throttling, SlowDown and
// ProvisionedThroughputExceededException) and its transient codes
// RequestTimeout and RequestTimeoutException. The NotFound rule and the HTTP
// status rule (see AWSClassifier) come on top of these.
func DefaultCodes() []string {
	codes := make([]string, 0, len(codeClasses))
	for code := range codeClasses {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

// AWSRules configures an AWSClassifier.
type AWSRules struct {
	// Codes are the retryable error codes. A code's class is the one
	// Classes gives it; else its default class (see DefaultCodes); else
	// ClassEventualConsistency if it matches the NotFound pattern, and
	// ClassTransient otherwise.
	Codes []string
	// Classes sets the class of some of Codes, such as ClassThrottle for a
	// service's own rate-limit code. Optional.
	Classes map[string]Class
	// NotFoundRule retries codes matching the Python awsretry's
	// `^\w+.NotFound`, as ClassEventualConsistency.
	NotFoundRule bool
	// Statuses are HTTP statuses retried, as ClassTransient, when the error
	// carries no known code: none, or one that is neither in Codes nor a
	// known client fault such as AccessDenied or ValidationException.
	Statuses []int
}

// DefaultAWSRules returns the rules of DefaultClassifier: DefaultCodes, the
// NotFound rule, and HTTP 500, 502, 503 and 504.
func DefaultAWSRules() AWSRules {
	return AWSRules{Codes: DefaultCodes(), NotFoundRule: true, Statuses: slices.Clone(defaultStatuses)}
}

// AWSClassifier classifies the errors of aws-sdk-go-v2 and other smithy-go
// clients. It reads an error's chain as errors.As would, so it sees through
// the SDK's wrapping (*smithy.OperationError, the retryer's and the HTTP
// layer's errors), and decides in this order, the first verdict winning:
//
//  1. Canceled: an error that says CanceledError() (the SDK's, when the
//     request's context ended) or a context error anywhere in the chain is
//     not retryable. (Do retries an attempt that overran its own
//     WithAttemptTimeout; the caller's context is never retried.)
//  2. The error's own verdict: the first RetryableError() bool in the chain
//     wins, true or false, as in aws-sdk-go-v2. The SDK's clock-skew
//     wrapper says true; so do Retryable and RetryableAs, and Permanent
//     says false.
//  3. The AWS error code: one of the rules' codes, or, with the NotFound
//     rule on, a code matching it. A known client fault (AccessDenied,
//     ValidationException, NoSuchKey, ...) is never retried, whatever the
//     status.
//  4. The HTTP status: one of the rules' statuses (500, 502, 503, 504 by
//     default) when the error has no known code, as ClassTransient; an HTTP
//     429 whose error is not a service's modeled type (no code, the SDK's
//     UnknownError, a generic error with a code the client's model does not
//     know, a proxy's HTML page) as ClassThrottle, as aws-sdk-go-v2 v1.48.0
//     does. A modeled error on a 429 is retried only through its code.
//  5. Transport failures, as the SDK's real clients wrap them (its HTTP
//     response error with status 0 around the send error around *url.Error
//     around *net.OpError): a connection reset, refused or closed, a failed
//     dial, EOF while reading a response, a body cut short
//     (io.ErrUnexpectedEOF, also when the operation read it, as S3's
//     GetObject body), a temporary error, a DNS timeout
//     or temporary failure, and the SDK's send error (ConnectionError()
//     true), as ClassConnection; errors whose Timeout() is true as
//     ClassTimeout. A DNS "no such host" is not retried.
//
// Anything else is not retryable: other client faults and 4xx, and the
// caller's own errors.
//
// For a retryable error, RetryAfter carries the server's hint: the
// x-amz-retry-after header (milliseconds), or else Retry-After (seconds, or
// an HTTP date taken relative to the response's Date header, or to the
// local time when there is none). Malformed or negative values are ignored.
//
// The NotFound rule is the Python awsretry's regular expression
// `^\w+.NotFound`, applied with search semantics: the code starts with one
// or more word characters, then any one character, then "NotFound". It
// exists for eventual consistency: a resource just created (RunInstances,
// CreateVolume) can be reported missing for a while
// ("InvalidInstanceID.NotFound", "InvalidVolume.NotFound"). Because the dot
// is not escaped, it also matches "ResourceNotFoundException" (the "e" of
// "Resource" stands for the dot) and codes such as "NoSuchEntityNotFound"; it
// does not match a bare "NotFound". This port keeps that behaviour so that
// code moved from Python retries what it retried before; turn the rule off
// with WithNotFoundRule(false). Word characters here are ASCII letters,
// digits and underscore, where Python 3's \w is Unicode; AWS error codes are
// ASCII, so no real code is classified differently.
//
// An error value whose methods panic (a typed nil pointer in the chain, for
// instance) is classified as not retryable rather than crashing Do.
//
// The zero value retries only what the error itself marks retryable (rule
// 2), unmodeled 429s and transport failures. The classifier is immutable
// and safe for concurrent use.
type AWSClassifier struct {
	codes    map[string]Class
	notFound bool
	statuses []int
}

// NewAWSClassifier returns a classifier that applies rules.
func NewAWSClassifier(rules AWSRules) *AWSClassifier {
	c := &AWSClassifier{
		codes:    make(map[string]Class, len(rules.Codes)),
		notFound: rules.NotFoundRule,
		statuses: slices.Clone(rules.Statuses),
	}
	for _, code := range rules.Codes {
		class, ok := rules.Classes[code]
		if !ok {
			class, ok = codeClasses[code]
		}
		switch {
		case ok && class != ClassNone:
		case matchesNotFound(code):
			class = ClassEventualConsistency
		default:
			class = ClassTransient
		}
		c.codes[code] = class
	}
	return c
}

// DefaultClassifier returns the classifier a Retrier uses when no
// classification option is given: NewAWSClassifier(DefaultAWSRules()). Use
// it to build a Classifier that handles some errors itself and leaves the
// rest to the default.
// The classifier is shared and immutable.
func DefaultClassifier() *AWSClassifier { return defaultClassifier }

var defaultClassifier = NewAWSClassifier(DefaultAWSRules())

// Codes returns the error codes the classifier retries, sorted. Telemetry
// reports these codes by name in metrics.
func (c *AWSClassifier) Codes() []string {
	codes := make([]string, 0, len(c.codes))
	for code := range c.codes {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

// Classify reports the error's AWS error code, whether and why it is
// retryable, and the server's hint.
func (c *AWSClassifier) Classify(err error) (cl Classification) {
	defer func() {
		if recover() != nil {
			cl = Classification{}
		}
	}()
	var f errorFacts
	f.gather(err)
	cl.Code = f.code
	switch {
	case f.canceled, f.verdict < 0:
		return cl
	case f.verdict > 0 && f.verdictClass != ClassNone:
		cl.Class = f.verdictClass
	default:
		cl.Class = c.classOf(err, &f)
		if f.verdict > 0 && cl.Class == ClassNone {
			cl.Class = ClassTransient
		}
	}
	cl.Retryable = cl.Class != ClassNone
	if cl.Retryable && f.header != nil {
		cl.RetryAfter = retryAfter(f.header, time.Now)
	}
	return cl
}

// classOf applies the rules of codes, statuses and transport failures.
func (c *AWSClassifier) classOf(err error, f *errorFacts) Class {
	if f.code != "" {
		if class, ok := c.codes[f.code]; ok {
			return class
		}
		if c.notFound && matchesNotFound(f.code) {
			return ClassEventualConsistency
		}
		if isKnownCode(f.code) {
			return ClassNone
		}
	}
	switch {
	case f.status == 0:
	case slices.Contains(c.statuses, f.status):
		return ClassTransient
	case f.status == http.StatusTooManyRequests && !f.modeled:
		return ClassThrottle
	}
	return f.transportClass(err)
}

// clientFaultSet holds clientFaultCodes.
var clientFaultSet = func() map[string]struct{} {
	set := make(map[string]struct{}, len(clientFaultCodes))
	for _, code := range clientFaultCodes {
		set[code] = struct{}{}
	}
	return set
}()

// isKnownCode reports whether code is a known client fault.
func isKnownCode(code string) bool {
	_, ok := clientFaultSet[code]
	return ok
}

// findError returns the first error in err's tree that is a T, in the order
// errors.As searches the tree. It is errors.As without reflection and without
// allocating, except where an error in the tree has its own As method; it
// visits at most maxChain errors, and finds nothing where a method of the
// tree panics (a typed nil).
func findError[T any](err error) (t T, found bool) {
	defer func() {
		if recover() != nil {
			var zero T
			t, found = zero, false
		}
	}()
	budget := maxChain
	return findErrorWithin[T](err, &budget)
}

// findErrorWithin is findError visiting at most *budget errors, so that an
// Unwrap cycle cannot hang Do.
func findErrorWithin[T any](err error, budget *int) (T, bool) {
	for err != nil && *budget > 0 {
		*budget--
		if t, ok := err.(T); ok {
			return t, true
		}
		if x, ok := err.(interface{ As(any) bool }); ok {
			var t T
			if x.As(&t) {
				return t, true
			}
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				if t, ok := findErrorWithin[T](err, budget); ok {
					return t, true
				}
			}
			err = nil
		default:
			err = nil
		}
	}
	var zero T
	return zero, false
}

// matchesNotFound reports whether Python's re.search(r'^\w+.NotFound', code)
// would match (with ASCII word characters): a run of at least one word
// character, one more character that is not a newline, then "NotFound".
func matchesNotFound(code string) bool {
	word := 0
	for word < len(code) && isWordChar(code[word]) {
		word++
	}
	if word == 0 {
		return false
	}
	// The dot is either a word character of the run (the run's end
	// backtracks), so "NotFound" starts at some i in [2, word], or the
	// character right after the run.
	for i := 2; i <= word; i++ {
		if strings.HasPrefix(code[i:], "NotFound") {
			return true
		}
	}
	r, size := utf8.DecodeRuneInString(code[word:])
	return size > 0 && r != '\n' && strings.HasPrefix(code[word+size:], "NotFound")
}

func isWordChar(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}
