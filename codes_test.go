package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/awsretry/awsretry"

	"github.com/aws/smithy-go"
	"github.com/awsretry/awsretry/awsretrytest"
)

func TestDefaultCodesAndNotFoundRule(t *testing.T) {
	const (
		none       = awsretry.ClassNone
		throttle   = awsretry.ClassThrottle
		transient  = awsretry.ClassTransient
		consistent = awsretry.ClassEventualConsistency
	)
	tests := []struct {
		code  string
		class awsretry.Class // ClassNone: not retried
	}{
		// The seed's eight codes.
		{"RequestLimitExceeded", throttle},
		{"Unavailable", transient},
		{"ServiceUnavailable", transient},
		{"InternalFailure", transient},
		{"InternalError", transient},
		{"LimitExceededException", throttle},
		{"TooManyRequestsException", throttle},
		{"ThrottlingException", throttle},
		// aws-sdk-go-v2's throttle and transient codes.
		{"Throttling", throttle},
		{"ThrottledException", throttle},
		{"RequestThrottledException", throttle},
		{"ProvisionedThroughputExceededException", throttle},
		{"TransactionInProgressException", throttle},
		{"BandwidthLimitExceeded", throttle},
		{"RequestThrottled", throttle},
		{"SlowDown", throttle},
		{"PriorRequestNotComplete", throttle},
		{"EC2ThrottledException", throttle},
		{"RequestTimeout", transient},
		{"RequestTimeoutException", transient},
		// The ^\w+.NotFound rule, with search semantics.
		{"InvalidInstanceID.NotFound", consistent},
		{"InvalidVolume.NotFound", consistent},
		{"InvalidGroup.NotFound", consistent},
		{"ResourceNotFoundException", consistent}, // the dot matches the "e" of Resource
		{"NoSuchEntityNotFound", consistent},
		{"NotFound", none}, // needs at least two characters before NotFound
		{"xNotFound", none},
		{".NotFound", none},
		{"Invalid ID.NotFound", none}, // a space breaks the \w+ run
		{"NoSuchKey", none},
		// Client faults and unknown codes.
		{"AccessDenied", none},
		{"ValidationException", none},
		{"requestlimitexceeded", none}, // codes are case-sensitive
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			clk := awsretrytest.NewClock()
			r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(3))
			want := apiError(tt.code, 400)
			op, calls := failing(want, want)
			err := r.Do(context.Background(), func(context.Context) error { return op() })
			c := awsretry.DefaultClassifier().Classify(want)
			if c.Code != tt.code || c.Class != tt.class || c.Retryable != (tt.class != none) {
				t.Errorf("Classify = %+v, want code %q, class %v", c, tt.code, tt.class)
			}
			if tt.class != none {
				if err != nil || *calls != 3 {
					t.Errorf("Do = %v after %d calls, want success on the third call", err, *calls)
				}
				return
			}
			if err != want || *calls != 1 {
				t.Errorf("Do = %v after %d calls, want the error unchanged after one call", err, *calls)
			}
		})
	}
}

func TestErrorsWithoutCodeAreReturnedUnchanged(t *testing.T) {
	for _, want := range []error{
		errPlain,
		fmt.Errorf("wrapped: %w", errPlain),
		context.Canceled,
		&smithy.OperationError{ServiceID: "EC2", OperationName: "RunInstances", Err: errPlain},
	} {
		op, calls := failing(want)
		err := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock())).
			Do(context.Background(), func(context.Context) error { return op() })
		if err != want || *calls != 1 {
			t.Errorf("Do = %v after %d calls, want %v unchanged after one call", err, *calls, want)
		}
	}
}

// rulesClassifier returns the default rules changed by change, as a
// classifier option.
func rulesClassifier(t testing.TB, change func(*awsretry.AWSRules)) awsretry.Option {
	t.Helper()
	rules := awsretry.DefaultAWSRules()
	change(&rules)
	c, err := awsretry.NewAWSClassifier(rules)
	if err != nil {
		t.Fatal(err)
	}
	return awsretry.WithClassifier(c)
}

func TestRulesAndAddedCodes(t *testing.T) {
	busyOnly := rulesClassifier(t, func(r *awsretry.AWSRules) { r.Codes = []string{"Busy"} })
	noNotFound := rulesClassifier(t, func(r *awsretry.AWSRules) { r.NotFoundRule = false })
	nothing := rulesClassifier(t, func(r *awsretry.AWSRules) { r.Codes, r.NotFoundRule = nil, false })
	tests := []struct {
		name  string
		opts  []awsretry.Option
		code  string
		retry bool
	}{
		{"added code", []awsretry.Option{awsretry.WithAddedCodes("ConcurrentTagAccess")}, "ConcurrentTagAccess", true},
		{"added codes keep defaults", []awsretry.Option{awsretry.WithAddedCodes("ConcurrentTagAccess")}, "InternalError", true},
		{"added codes accumulate", []awsretry.Option{awsretry.WithAddedCodes("A"), awsretry.WithAddedCodes("B")}, "A", true},
		{"replaced codes", []awsretry.Option{busyOnly}, "Busy", true},
		{"replaced codes drop defaults", []awsretry.Option{busyOnly}, "RequestLimitExceeded", false},
		{"replaced codes keep NotFound rule", []awsretry.Option{busyOnly}, "InvalidAMIID.NotFound", true},
		{"added after replaced", []awsretry.Option{awsretry.WithAddedCodes("Extra"), busyOnly}, "Extra", true},
		{"NotFound rule off", []awsretry.Option{noNotFound}, "InvalidInstanceID.NotFound", false},
		{"NotFound rule off keeps codes", []awsretry.Option{noNotFound}, "Unavailable", true},
		{"nothing retried", []awsretry.Option{nothing}, "ThrottlingException", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := awsretry.MustNew(append(tt.opts, awsretry.WithClock(awsretrytest.NewClock()))...)
			op, calls := failing(apiError(tt.code, 400))
			err := r.Do(context.Background(), func(context.Context) error { return op() })
			if retried := *calls == 2; retried != tt.retry {
				t.Errorf("code %s: retried = %v (err %v), want %v", tt.code, retried, err, tt.retry)
			}
		})
	}
}

func TestCustomClassifier(t *testing.T) {
	errBusy := errors.New("busy")
	r := awsretry.MustNew(
		awsretry.WithClock(awsretrytest.NewClock()),
		awsretry.WithClassifier(awsretry.ClassifierFunc(func(err error) awsretry.Classification {
			if errors.Is(err, errBusy) {
				return awsretry.Classification{Retryable: true, Code: "Busy"}
			}
			return awsretry.DefaultClassifier().Classify(err)
		})),
	)
	op, calls := failing(errBusy, apiError("InternalError", 500), errBusy)
	if err := r.Do(context.Background(), func(context.Context) error { return op() }); err != nil || *calls != 4 {
		t.Errorf("Do = %v after %d calls, want success after 4", err, *calls)
	}
}

// TestAddedCodesInFrontOfACustomClassifier: WithAddedCodes and
// WithClassifier do not conflict; the added codes are retried whatever the
// classifier says, except for an error that says it is permanent.
func TestAddedCodesInFrontOfACustomClassifier(t *testing.T) {
	never := awsretry.ClassifierFunc(func(err error) awsretry.Classification { return awsretry.Classification{} })
	var classes []awsretry.Class
	r := awsretry.MustNew(awsretry.WithClassifier(never), awsretry.WithAddedCodes("ConcurrentTagAccess", "SlowDown"),
		awsretry.WithClock(awsretrytest.NewClock()),
		awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { classes = append(classes, a.Classification.Class) }))
	for _, tt := range []struct {
		err   error
		calls int
	}{
		{apiError("ConcurrentTagAccess", 400), 2},
		{apiError("ThrottlingException", 400), 1}, // the custom classifier retries nothing
		{awsretry.Permanent(apiError("ConcurrentTagAccess", 400)), 1},
	} {
		op, calls := failing(tt.err)
		_ = r.Do(context.Background(), func(context.Context) error { return op() })
		if *calls != tt.calls {
			t.Errorf("%v: %d calls, want %d", tt.err, *calls, tt.calls)
		}
	}
	op, _ := failing(apiError("SlowDown", 503))
	_ = r.Do(context.Background(), func(context.Context) error { return op() })
	if want := []awsretry.Class{awsretry.ClassTransient, awsretry.ClassThrottle}; len(classes) != 2 || classes[0] != want[0] || classes[1] != want[1] {
		t.Errorf("classes %v, want %v (an added code keeps its default class)", classes, want)
	}
	if _, err := awsretry.New(nil); err == nil {
		t.Error("New(nil) succeeded, want an error")
	}
}

func TestRetryableStatusRule(t *testing.T) {
	badGateway := apiError("", 502)
	for _, tt := range []struct {
		opts  []awsretry.Option
		calls int
	}{
		{nil, 2},
		{[]awsretry.Option{rulesClassifier(t, func(r *awsretry.AWSRules) { r.Statuses = nil })}, 1},
		{[]awsretry.Option{rulesClassifier(t, func(r *awsretry.AWSRules) { r.Statuses = []int{502} })}, 2},
	} {
		op, calls := failing(badGateway)
		r := awsretry.MustNew(append(tt.opts, awsretry.WithClock(awsretrytest.NewClock()))...)
		_ = r.Do(context.Background(), func(context.Context) error { return op() })
		if *calls != tt.calls {
			t.Errorf("%d options: %d calls, want %d", len(tt.opts), *calls, tt.calls)
		}
	}
}

func TestClassOfListedCodes(t *testing.T) {
	c, err := awsretry.NewAWSClassifier(awsretry.AWSRules{
		Codes:   []string{"InvalidInstanceID.NotFound", "ConcurrentTagAccess", "Busy", "SlowDown"},
		Classes: map[string]awsretry.Class{"Busy": awsretry.ClassThrottle},
	})
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]awsretry.Class{
		"InvalidInstanceID.NotFound": awsretry.ClassEventualConsistency, // the NotFound pattern
		"ConcurrentTagAccess":        awsretry.ClassTransient,
		"Busy":                       awsretry.ClassThrottle, // from Classes
		"SlowDown":                   awsretry.ClassThrottle, // its default class
	} {
		if got := c.Classify(apiError(code, 400)); !got.Retryable || got.Class != want {
			t.Errorf("%s: %+v, want retryable as %v", code, got, want)
		}
	}
}

// TestHostileErrorValues: error values the types allow but no real client
// builds (a typed nil in the chain, a response error without a response,
// an Unwrap cycle) are classified as not retryable, without a crash.
func TestHostileErrorValues(t *testing.T) {
	custom := awsretry.ClassifierFunc(func(err error) awsretry.Classification {
		return awsretry.DefaultClassifier().Classify(err)
	})
	for name, err := range hostileErrors() {
		t.Run(name, func(t *testing.T) {
			r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
			// A classifier of the user's, with added codes in front of it.
			if got := awsretry.MustNew(awsretry.WithClassifier(custom), awsretry.WithAddedCodes("Busy"),
				awsretry.WithClock(awsretrytest.NewClock())).Do(context.Background(), func(context.Context) error { return err }); got != err {
				t.Errorf("custom classifier: Do = %v, want the error unchanged", got)
			}
			calls := 0
			got := r.Do(context.Background(), func(context.Context) error { calls++; return err })
			if got != err || calls != 1 {
				t.Errorf("Do = %v after %d calls, want the error unchanged after 1", got, calls)
			}
		})
	}
}
