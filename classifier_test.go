package awsretry

import (
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/smithy-go"
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
