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
			cl, err := NewAWSClassifier(rules)
			if err != nil {
				t.Fatal(err)
			}
			c := cl.Classify(tt.err)
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

// TestNewAWSClassifierRejectsInvalidRules: invalid rules fail where they are
// built, naming the field and the value; they were once accepted silently
// (a status of 99 or 600 was never retried, an empty code never matched).
func TestNewAWSClassifierRejectsInvalidRules(t *testing.T) {
	withDefaults := func(change func(*AWSRules)) AWSRules {
		r := DefaultAWSRules()
		change(&r)
		return r
	}
	tests := []struct {
		name  string
		rules AWSRules
		want  string // "": valid
	}{
		{"defaults", DefaultAWSRules(), ""},
		{"zero", AWSRules{}, ""},
		{"valid changes", withDefaults(func(r *AWSRules) {
			r.Codes = append(r.Codes, "Busy", "Busy")
			r.Classes = map[string]Class{"Busy": ClassThrottle, "SlowDown": ClassNone, "InternalError": ClassTimeout}
			r.Statuses = []int{100, 429, 599}
		}), ""},
		{"status 99", AWSRules{Statuses: []int{99}},
			"awsretry: NewAWSClassifier: AWSRules.Statuses (99): must be an HTTP status, 100 to 599"},
		{"status 600", AWSRules{Statuses: []int{600}},
			"awsretry: NewAWSClassifier: AWSRules.Statuses (600): must be an HTTP status, 100 to 599"},
		{"status -1 in a list", withDefaults(func(r *AWSRules) { r.Statuses = []int{502, -1, 503} }),
			"awsretry: NewAWSClassifier: AWSRules.Statuses (-1): must be an HTTP status, 100 to 599"},
		{"empty code", withDefaults(func(r *AWSRules) { r.Codes = append(r.Codes, "") }),
			`awsretry: NewAWSClassifier: AWSRules.Codes (""): an error code must not be empty`},
		{"empty code in Classes", AWSRules{Codes: []string{"Busy"}, Classes: map[string]Class{"": ClassThrottle}},
			`awsretry: NewAWSClassifier: AWSRules.Classes (""): an error code must not be empty`},
		{"class above ClassTimeout", AWSRules{Codes: []string{"Busy"}, Classes: map[string]Class{"Busy": ClassTimeout + 1}},
			"awsretry: NewAWSClassifier: AWSRules.Classes (Busy: Class(6)): unknown class"},
		{"negative class", AWSRules{Codes: []string{"Busy"}, Classes: map[string]Class{"Busy": -1}},
			"awsretry: NewAWSClassifier: AWSRules.Classes (Busy: Class(-1)): unknown class"},
		{"class of a code not in Codes", withDefaults(func(r *AWSRules) { r.Classes = map[string]Class{"Busy": ClassThrottle} }),
			"awsretry: NewAWSClassifier: AWSRules.Classes (Busy): not in Codes, so never retried; add it to Codes"},
		// Map order does not decide which error is reported: the codes in
		// order.
		{"first of several in Classes", AWSRules{Classes: map[string]Class{"B": 9, "A": ClassThrottle, "C": ClassNone}},
			"awsretry: NewAWSClassifier: AWSRules.Classes (A): not in Codes, so never retried; add it to Codes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 5 { // map order varies between runs
				c, err := NewAWSClassifier(tt.rules)
				switch {
				case tt.want == "" && (err != nil || c == nil):
					t.Fatalf("NewAWSClassifier = %v, %v; want a classifier", c, err)
				case tt.want == "":
					if _, err := New(WithClassifier(c)); err != nil {
						t.Fatalf("New(WithClassifier(c)) = %v", err)
					}
				case err == nil || c != nil:
					t.Fatalf("NewAWSClassifier = %v, %v; want nil and %q", c, err, tt.want)
				case err.Error() != tt.want:
					t.Fatalf("NewAWSClassifier error:\n%s\nwant\n%s", err, tt.want)
				default:
					// A classifier dropped with its error is not accepted
					// either.
					if _, err := New(WithClassifier(c)); err == nil {
						t.Fatal("New(WithClassifier(nil classifier)) succeeded")
					}
				}
			}
		})
	}
}

// TestClassesOverrideAndNone: a class in Classes overrides a code's
// default class; ClassNone there leaves the default class.
func TestClassesOverrideAndNone(t *testing.T) {
	c, err := NewAWSClassifier(AWSRules{
		Codes:   []string{"SlowDown", "InternalError", "Busy"},
		Classes: map[string]Class{"SlowDown": ClassNone, "InternalError": ClassThrottle, "Busy": ClassNone},
	})
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]Class{"SlowDown": ClassThrottle, "InternalError": ClassThrottle, "Busy": ClassTransient} {
		if got := c.Classify(&smithy.GenericAPIError{Code: code}); !got.Retryable || got.Class != want {
			t.Errorf("%s: %+v, want retryable as %v", code, got, want)
		}
	}
}
