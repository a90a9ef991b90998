package awsretry

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
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
	// say. Do honours it within limits: never shorter than the schedule's
	// wait, at most 5s longer, never beyond WithMaxDelay.
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

// AWSRules configures an AWSClassifier. NewAWSClassifier checks them and
// names the first field and value that is wrong, so that a typo fails where
// the rules are built instead of leaving an error silently not retried.
type AWSRules struct {
	// Codes are the retryable error codes: by default the Python
	// awsretry's eight and aws-sdk-go-v2's throttling and transient codes
	// (docs/classification.md lists them). A code's class is the one Classes
	// gives it; else its default class; else
	// ClassEventualConsistency if it matches the NotFound pattern, and
	// ClassTransient otherwise. No code may be empty; a code listed twice
	// counts once.
	Codes []string
	// Classes sets the class of some of Codes, such as ClassThrottle for a
	// service's own rate-limit code. Optional. Each key must be one of
	// Codes (a class alone does not make a code retried, so an entry for
	// another code is a mistake, reported as one), and each value a Class
	// from ClassNone to ClassTimeout; ClassNone leaves the code the class
	// it would have without an entry.
	Classes map[string]Class
	// NotFoundRule retries codes matching the Python awsretry's
	// `^\w+.NotFound`, as ClassEventualConsistency.
	NotFoundRule bool
	// Statuses are HTTP statuses retried, as ClassTransient, when the error
	// carries no known code: none, or one that is neither in Codes nor a
	// known client fault such as AccessDenied or ValidationException. Each
	// must be an HTTP status, 100 to 599.
	Statuses []int
}

// DefaultAWSRules returns the rules of DefaultClassifier: the default
// codes, the NotFound rule, and HTTP 500, 502, 503 and 504. Change a copy
// and pass it to NewAWSClassifier to retry other codes or statuses, or to
// turn the NotFound rule off:
//
//	rules := awsretry.DefaultAWSRules()
//	rules.NotFoundRule = false
//	c, err := awsretry.NewAWSClassifier(rules)
//	if err != nil {
//		return err // an invalid rule, named with its value
//	}
//	r := awsretry.MustNew(awsretry.WithClassifier(c))
func DefaultAWSRules() AWSRules {
	return AWSRules{Codes: defaultCodes(), NotFoundRule: true, Statuses: slices.Clone(defaultStatuses)}
}

// AWSClassifier classifies the errors of aws-sdk-go-v2 and other smithy-go
// clients. It reads an error's chain as errors.As would, so it sees through
// the SDK's wrapping (*smithy.OperationError, the retryer's and the HTTP
// layer's errors), and decides in this order, the first verdict winning:
//
//  1. Canceled: an error that says CanceledError() (the SDK's, when the
//     request's context ended) or a context error anywhere in the chain is
//     not retryable. (Do retries an attempt that overran its own
//     WithAttemptTimeout, unless its error is marked permanent; the
//     caller's context is never retried.)
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
// with AWSRules.NotFoundRule = false. Word characters here are ASCII letters,
// digits and underscore, where Python 3's \w is Unicode; AWS error codes are
// ASCII, so no real code is classified differently.
//
// An error value whose methods panic (a typed nil pointer in the chain, for
// instance) is classified as not retryable rather than crashing Do.
//
// A walk of the error's tree visits at most 1,024 errors in all, in the
// order errors.As visits them (depth first, a join's errors in turn), so
// that an error whose Unwrap leads back to itself cannot hang Do. A real
// chain is a few errors long and a join of hundreds is read whole; an error
// past the 1,024th (the bottom of a chain 2,000 deep, say) is not seen, and
// does not decide the verdict, where errors.As would find it.
//
// The zero value retries only what the error itself marks retryable (rule
// 2), unmodeled 429s and transport failures. The classifier is immutable
// and safe for concurrent use. Configure it with AWSRules, or add codes with
// WithAddedCodes.
type AWSClassifier struct {
	codes    map[string]Class
	notFound bool
	statuses []int
}

// NewAWSClassifier returns a classifier that applies rules, or a nil
// classifier and an error naming the first invalid field and value (an
// empty code, a status outside 100 to 599, an unknown class, a class for a
// code not in Codes), such as
//
//	awsretry: NewAWSClassifier: AWSRules.Statuses (600): must be an HTTP status, 100 to 599
//
// Passing the nil classifier on to WithClassifier makes New fail too.
func NewAWSClassifier(rules AWSRules) (*AWSClassifier, error) {
	if err := rules.check(); err != nil {
		return nil, err
	}
	return newAWSClassifier(rules), nil
}

// check returns an error for the first invalid field of r, in the order of
// the fields, and of Classes's codes in sorted order, so that the same
// rules always report the same error.
func (r AWSRules) check() error {
	if slices.Contains(r.Codes, "") {
		return rulesError("Codes", `""`, "an error code must not be empty")
	}
	for _, code := range slices.Sorted(maps.Keys(r.Classes)) {
		class := r.Classes[code]
		switch {
		case code == "":
			return rulesError("Classes", `""`, "an error code must not be empty")
		case class < ClassNone || int(class) >= classCount:
			return rulesError("Classes", fmt.Sprintf("%s: %v", code, class), "unknown class")
		case !slices.Contains(r.Codes, code):
			return rulesError("Classes", code, "not in Codes, so never retried; add it to Codes")
		}
	}
	for _, status := range r.Statuses {
		if status < 100 || status > 599 {
			return rulesError("Statuses", status, "must be an HTTP status, 100 to 599")
		}
	}
	return nil
}

func rulesError(field string, value any, problem string) error {
	return fmt.Errorf("awsretry: NewAWSClassifier: AWSRules.%s (%v): %s", field, value, problem)
}

// newAWSClassifier is NewAWSClassifier for rules already checked: the
// default rules, and codes WithAddedCodes has checked.
func newAWSClassifier(rules AWSRules) *AWSClassifier {
	c := &AWSClassifier{
		codes:    make(map[string]Class, len(rules.Codes)),
		notFound: rules.NotFoundRule,
		statuses: slices.Clone(rules.Statuses),
	}
	for _, code := range rules.Codes {
		class := rules.Classes[code] // ClassNone: no entry, or the entry asks for the default
		if class == ClassNone {
			class = codeClasses[code]
		}
		if class == ClassNone {
			class = ClassTransient
			if matchesNotFound(code) {
				class = ClassEventualConsistency
			}
		}
		c.codes[code] = class
	}
	return c
}

// DefaultClassifier returns the classifier a Retrier uses when no
// classification option is given, the one NewAWSClassifier(DefaultAWSRules())
// returns. Call it from a Classifier of your own that decides some errors
// itself and leaves the rest to the default. The classifier is shared and
// immutable.
func DefaultClassifier() *AWSClassifier { return defaultClassifier }

var defaultClassifier = newAWSClassifier(DefaultAWSRules()) // valid: TestNewAWSClassifierRejectsInvalidRules

// withCodes returns a copy of c that also retries codes (with their
// default class, else ClassTransient).
func (c *AWSClassifier) withCodes(codes []string) *AWSClassifier {
	added := newAWSClassifier(AWSRules{Codes: codes}) // checked by WithAddedCodes
	n := &AWSClassifier{codes: maps.Clone(c.codes), notFound: c.notFound, statuses: c.statuses}
	if n.codes == nil {
		n.codes = map[string]Class{}
	}
	for code, class := range added.codes {
		if _, ok := n.codes[code]; !ok {
			n.codes[code] = class
		}
	}
	return n
}

// listsCode reports whether code is one of the classifier's codes.
// Telemetry reports the codes a classifier lists by name in metrics.
func (c *AWSClassifier) listsCode(code string) bool {
	_, ok := c.codes[code]
	return ok
}

// Classify reports the error's AWS error code, whether and why it is
// retryable, and the server's hint.
func (c *AWSClassifier) Classify(err error) Classification {
	var f errorFacts
	cl, _ := c.classify(err, &f)
	return cl
}

// classify is Classify that leaves the facts it gathered in f, so that Do
// reads whether the attempt may have acted from the same walk of the chain.
// gathered is false when a method of the chain panicked (a typed nil): the
// classification is then the zero one, and f too.
func (c *AWSClassifier) classify(err error, f *errorFacts) (cl Classification, gathered bool) {
	defer func() {
		if recover() != nil {
			cl, *f, gathered = Classification{}, errorFacts{}, false // an error value whose methods panic
		}
	}()
	f.gather(err)
	gathered = true
	cl.Code = f.code
	switch {
	case f.canceled, f.verdict < 0:
		return cl, true
	case f.verdict > 0 && f.verdictClass != ClassNone:
		cl.Class = f.verdictClass
	default:
		cl.Class = c.classOf(err, f)
		if f.verdict > 0 && cl.Class == ClassNone {
			cl.Class = ClassTransient
		}
	}
	cl.Retryable = cl.Class != ClassNone
	if cl.Retryable && f.header != nil {
		cl.RetryAfter = retryAfter(f.header, time.Now)
	}
	return cl, true
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
		if isClientFault(f.code) {
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

// custom is a classifier of the user's with what the package promises in
// front of it: the marks of Retryable, RetryableAs and Permanent win (a
// canceled request aside), and an error with one of WithAddedCodes's codes
// is retried whatever the classifier says of it.
type custom struct {
	next  Classifier
	added map[string]Class // nil: no added codes
}

func customClassifier(next Classifier, added []string) *custom {
	c := &custom{next: next}
	if len(added) > 0 {
		c.added = newAWSClassifier(AWSRules{Codes: added}).codes // checked by WithAddedCodes
	}
	return c
}

// Classify returns the mark's verdict, else next's, made retryable for an
// added code.
func (c *custom) Classify(err error) (cl Classification) {
	var f errorFacts
	ok := f.gatherSafely(err)
	if ok && !f.canceled {
		if mark := f.mark; mark != nil {
			if !mark.retryable {
				return Classification{Code: f.code}
			}
			cl = c.next.Classify(mark.err)
			cl.Code, cl.Retryable = f.code, true
			switch {
			case mark.class != ClassNone:
				cl.Class = mark.class
			case cl.Class == ClassNone:
				cl.Class = ClassTransient
			}
			return cl
		}
	}
	cl = c.next.Classify(err)
	if cl.Retryable || !ok || f.canceled || f.verdict < 0 {
		return cl
	}
	if class, added := c.added[f.code]; added {
		cl.Code, cl.Retryable, cl.Class = f.code, true, class
		if f.header != nil {
			cl.RetryAfter = retryAfter(f.header, time.Now)
		}
	}
	return cl
}

func (c *custom) listsCode(code string) bool {
	_, ok := c.added[code]
	return ok
}
