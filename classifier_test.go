package awsretry

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// seedRule is the Python awsretry's rule as a Go regular expression; Go's
// \w is ASCII, and MatchString has the search semantics of Python's
// re.search.
var seedRule = regexp.MustCompile(`^\w+.NotFound`)

func FuzzNotFoundRule(f *testing.F) {
	for _, code := range []string{
		"InvalidInstanceID.NotFound", "ResourceNotFoundException", "NotFound", "xNotFound",
		"abNotFound", ".NotFound", "a\nNotFound", "aéNotFound", "a\xffNotFound", "a b.NotFound",
		"InvalidGroup.NotFoundNotFound", "a_1-NotFound", "",
	} {
		f.Add(code)
	}
	f.Fuzz(func(t *testing.T, code string) {
		if got, want := matchesNotFound(code), seedRule.MatchString(code); got != want {
			t.Errorf("matchesNotFound(%q) = %v, regexp says %v", code, got, want)
		}
	})
}

// asAPIError is an error with its own As method, as errors.As allows.
type asAPIError struct{ code string }

func (e asAPIError) Error() string { return "as " + e.code }
func (e asAPIError) As(target any) bool {
	if p, ok := target.(*smithy.APIError); ok {
		*p = &smithy.GenericAPIError{Code: e.code}
		return true
	}
	return false
}

func TestFindErrorAgreesWithErrorsAs(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "ThrottlingException"}
	notFound := &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}
	for _, err := range []error{
		errors.New("no code"),
		throttle,
		fmt.Errorf("wrapped: %w", throttle),
		&smithy.OperationError{Err: fmt.Errorf("twice: %w", notFound)},
		errors.Join(errors.New("first"), fmt.Errorf("w: %w", notFound), throttle),
		fmt.Errorf("two: %w and %w", errors.New("x"), throttle),
		errors.Join(errors.New("a"), errors.New("b")),
		asAPIError{code: "Throttling"},
		fmt.Errorf("wrapped: %w", asAPIError{code: "SlowDown"}),
	} {
		var want smithy.APIError
		errors.As(err, &want)
		got, _ := findError[smithy.APIError](err)
		if (got == nil) != (want == nil) || got != nil && got.ErrorCode() != want.ErrorCode() {
			t.Errorf("findError(%v) = %v, errors.As found %v", err, got, want)
		}
	}
}

func TestClassifyDoesNotAllocate(t *testing.T) {
	c := DefaultClassifier()
	err := &smithy.OperationError{Err: fmt.Errorf("w: %w", &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"})}
	if n := testing.AllocsPerRun(100, func() { c.Classify(err) }); n != 0 {
		t.Errorf("Classify allocates %v times per call, want 0", n)
	}
}

// responseError wraps err as smithy-go's HTTP layer does.
func responseError(status int, header http.Header, err error) error {
	if header == nil {
		header = http.Header{}
	}
	return &smithy.OperationError{ServiceID: "EC2", OperationName: "RunInstances", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: header}},
		Err:      err,
	}}
}

func TestStatusRule(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		retry  bool
		class  Class
		status []int // nil: the default statuses
	}{
		{"502 without code", responseError(502, nil, &smithy.DeserializationError{Err: errors.New("not XML")}), true, ClassTransient, nil},
		{"503 empty code", responseError(503, nil, &smithy.GenericAPIError{}), true, ClassTransient, nil},
		{"500 unknown code", responseError(500, nil, &smithy.GenericAPIError{Code: "InternalServerError"}), true, ClassTransient, nil},
		{"504", responseError(504, nil, errors.New("gateway timeout")), true, ClassTransient, nil},
		{"501 not listed", responseError(501, nil, errors.New("not implemented")), false, ClassNone, nil},
		{"429 without code", responseError(429, nil, errors.New("too many")), true, ClassThrottle, nil},
		{"429 generic code", responseError(429, nil, &smithy.GenericAPIError{Code: "SomeUnmodeledError"}), true, ClassThrottle, nil},
		{"429 modeled code", responseError(429, nil, &modeledError{code: "ConcurrentResourcesLimitExceededException"}), false, ClassNone, nil},
		{"429 modeled throttle code", responseError(429, nil, &modeledError{code: "TooManyRequestsException"}), true, ClassThrottle, nil},
		{"429 client fault", responseError(429, nil, &smithy.GenericAPIError{Code: "AccessDenied"}), false, ClassNone, nil},
		{"404 unknown code", responseError(404, nil, &smithy.GenericAPIError{Code: "Gone"}), false, ClassNone, nil},
		{"client fault on 503", responseError(503, nil, &smithy.GenericAPIError{Code: "AccessDenied"}), false, ClassNone, nil},
		{"throttle code keeps its class", responseError(503, nil, &smithy.GenericAPIError{Code: "SlowDown"}), true, ClassThrottle, nil},
		{"statuses replaced", responseError(502, nil, errors.New("x")), false, ClassNone, []int{429}},
		{"429 added", responseError(429, nil, errors.New("x")), true, ClassTransient, []int{429}},
		{"no response", errors.New("dial tcp: connection refused"), false, ClassNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := DefaultAWSRules()
			if tt.status != nil {
				rules.Statuses = tt.status
			}
			c := NewAWSClassifier(rules).Classify(tt.err)
			if c.Retryable != tt.retry || c.Class != tt.class {
				t.Errorf("Classify = %+v, want retryable %v, class %v", c, tt.retry, tt.class)
			}
		})
	}
}

func TestClassifyReadsHintsOfRetryableErrorsOnly(t *testing.T) {
	h := http.Header{}
	h.Set("X-Amz-Retry-After", "1500")
	c := DefaultClassifier()
	if got := c.Classify(responseError(503, h, &smithy.GenericAPIError{Code: "SlowDown"})); got.RetryAfter != 1500*time.Millisecond {
		t.Errorf("RetryAfter = %v, want 1.5s", got.RetryAfter)
	}
	if got := c.Classify(responseError(403, h, &smithy.GenericAPIError{Code: "AccessDenied"})); got.RetryAfter != 0 {
		t.Errorf("RetryAfter of a non-retryable error = %v, want 0", got.RetryAfter)
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[Class]string{ClassNone: "none", ClassThrottle: "throttle", ClassTransient: "transient",
		ClassEventualConsistency: "eventual_consistency", Class(9): "Class(9)"} {
		if got := c.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(c), got, want)
		}
	}
}

// FuzzClassify gives the default classifier any error code and HTTP status,
// wrapped as the SDK wraps them. Invariants: no panic; the verdict is
// stable; the code is reported as given; a retryable error has a class and
// a non-retryable one none; listed codes are retried and client faults never.
func FuzzClassify(f *testing.F) {
	for _, code := range []string{"RequestLimitExceeded", "InvalidInstanceID.NotFound", "AccessDenied", "", "UnknownError", "\x00", "a.NotFound"} {
		for _, status := range []int{200, 400, 404, 429, 500, 503} {
			f.Add(code, status)
		}
	}
	c := DefaultClassifier()
	f.Fuzz(func(t *testing.T, code string, status int) {
		err := responseError(status, nil, &smithy.GenericAPIError{Code: code})
		got := c.Classify(err)
		if again := c.Classify(err); again != got {
			t.Fatalf("Classify(%q, %d) = %+v, then %+v", code, status, got, again)
		}
		if got.Code != code || got.Retryable != (got.Class != ClassNone) || got.RetryAfter != 0 {
			t.Fatalf("Classify(%q, %d) = %+v", code, status, got)
		}
		if _, listed := codeClasses[code]; listed && !got.Retryable {
			t.Fatalf("listed code %q not retried", code)
		}
		if isClientFault(code) && got.Retryable {
			t.Fatalf("client fault %q retried", code)
		}
	})
}

// modeledError stands for a service's modeled error type (a DynamoDB
// *types.ProvisionedThroughputExceededException, say): a smithy.APIError
// that is not the *smithy.GenericAPIError a client makes up for codes its
// model does not know. The real ones are checked in examples/.
type modeledError struct{ code string }

func (e *modeledError) Error() string                 { return e.code + ": modeled" }
func (e *modeledError) ErrorCode() string             { return e.code }
func (e *modeledError) ErrorMessage() string          { return "modeled" }
func (e *modeledError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

// TestCodeThroughAnAsMethod: an error that presents its API error only
// through its own As method is classified by that error's code.
func TestCodeThroughAnAsMethod(t *testing.T) {
	for _, err := range []error{asAPIError{code: "Throttling"}, fmt.Errorf("wrapped: %w", asAPIError{code: "Throttling"})} {
		if got := DefaultClassifier().Classify(err); got.Code != "Throttling" || got.Class != ClassThrottle {
			t.Errorf("Classify(%v) = %+v, want the code Throttling, class throttle", err, got)
		}
	}
}
