package awsretry

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/smithy-go"
)

// Classification is a Classifier's verdict on one error.
type Classification struct {
	// Retryable reports whether the operation should be tried again.
	Retryable bool
	// Code is the error code reported in telemetry and logs, such as
	// "RequestLimitExceeded"; empty when the error has none.
	Code string
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

// defaultCodes are the error codes the Python awsretry retried.
var defaultCodes = []string{
	"RequestLimitExceeded",
	"Unavailable",
	"ServiceUnavailable",
	"InternalFailure",
	"InternalError",
	"LimitExceededException",
	"TooManyRequestsException",
	"ThrottlingException",
}

// DefaultCodes returns the error codes retried by default, as the Python
// awsretry retried them: RequestLimitExceeded, Unavailable,
// ServiceUnavailable, InternalFailure, InternalError, LimitExceededException,
// TooManyRequestsException and ThrottlingException. The NotFound rule (see
// AWSClassifier) comes on top of these. The slice is a fresh copy.
func DefaultCodes() []string { return slices.Clone(defaultCodes) }

// AWSClassifier classifies the errors of aws-sdk-go-v2 and other smithy-go
// clients by their AWS error code. It finds the code as errors.As(err, &apiErr) with a
// smithy.APIError would, so it sees through the SDK's wrapping
// (*smithy.OperationError, the retryer's and the HTTP layer's errors).
//
// An error is retryable when its code is one of the classifier's codes, or
// when the NotFound rule is on and the code matches it. Errors without an
// AWS error code (network errors, context errors, the caller's own errors)
// are not retryable.
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
// digits and underscore (AWS error codes are ASCII).
//
// The zero value retries nothing. The classifier is immutable and safe for
// concurrent use.
type AWSClassifier struct {
	codes    map[string]struct{}
	notFound bool
}

// NewAWSClassifier returns a classifier that retries the given codes, and
// codes matching the NotFound rule when notFoundRule is true.
func NewAWSClassifier(codes []string, notFoundRule bool) *AWSClassifier {
	c := &AWSClassifier{codes: make(map[string]struct{}, len(codes)), notFound: notFoundRule}
	for _, code := range codes {
		c.codes[code] = struct{}{}
	}
	return c
}

// DefaultClassifier returns the classifier a Retrier uses when no
// classification option is given: DefaultCodes and the NotFound rule. Use
// it to build a Classifier that handles some errors itself and leaves the
// rest to the default.
func DefaultClassifier() *AWSClassifier { return NewAWSClassifier(defaultCodes, true) }

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

// Classify reports the error's AWS error code and whether it is retryable.
func (c *AWSClassifier) Classify(err error) Classification {
	apiErr, ok := findError[smithy.APIError](err)
	if !ok {
		return Classification{}
	}
	code := apiErr.ErrorCode()
	_, listed := c.codes[code]
	return Classification{
		Retryable: listed || (c.notFound && matchesNotFound(code)),
		Code:      code,
	}
}

// findError returns the first error in err's tree that is a T, in the order
// errors.As searches the tree. It is errors.As without reflection and without
// allocating, except where an error in the tree has its own As method.
func findError[T any](err error) (T, bool) {
	for err != nil {
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
				if t, ok := findError[T](err); ok {
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
