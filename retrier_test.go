package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// seedSchedule is the Python awsretry's default schedule: 3s * 1.1^(k-1)
// for k = 1..9, nothing after the tenth attempt.
var seedSchedule = []time.Duration{
	3 * time.Second,
	3300 * time.Millisecond,
	3630 * time.Millisecond,
	3993 * time.Millisecond,
	4392300 * time.Microsecond,
	4831530 * time.Microsecond,
	5314683 * time.Microsecond,
	5846151300 * time.Nanosecond,
	6430766430 * time.Nanosecond,
}

func sum(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

func TestSeedScheduleExact(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	calls := 0
	throttled := apiError("RequestLimitExceeded", 503)
	err := r.Do(context.Background(), func(context.Context) error {
		calls++
		return throttled
	})

	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) {
		t.Fatalf("Do returned %v, want a *RetryError", err)
	}
	if rerr.Reason != awsretry.ReasonExhausted || rerr.Attempts != 10 || calls != 10 {
		t.Errorf("reason %q, attempts %d, calls %d; want exhausted, 10, 10", rerr.Reason, rerr.Attempts, calls)
	}
	if rerr.Err != throttled {
		t.Errorf("RetryError.Err = %v, want the last error returned", rerr.Err)
	}
	if got := clk.Sleeps(); !equalDurations(got, seedSchedule) {
		t.Errorf("waits = %v\nwant    %v", got, seedSchedule)
	}
	const total = 40738430730 * time.Nanosecond // 30 * (1.1^9 - 1) seconds
	if got := clk.Now().Sub(awsretrytest.Epoch); got != total || sum(seedSchedule) != total {
		t.Errorf("virtual time passed = %v, want %v", got, total)
	}
}

// TestSeedScheduleTakesNoRealTime proves that the fake clock never waits for
// real: inside a synctest bubble, any timer or sleep would move time.Now.
func TestSeedScheduleTakesNoRealTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		clk := awsretrytest.NewClock()
		r := awsretry.MustNew(awsretry.WithClock(clk))
		err := r.Do(context.Background(), func(context.Context) error {
			return apiError("InternalError", 500)
		})
		if !errors.As(err, new(*awsretry.RetryError)) {
			t.Fatalf("Do returned %v, want a *RetryError", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("Do with the fake clock waited %v of (bubble) real time, want 0", waited)
		}
		if len(clk.Sleeps()) != 9 {
			t.Errorf("got %d waits, want 9", len(clk.Sleeps()))
		}
	})
}

// TestRealClockInSynctest runs the seed schedule on the default real clock
// inside a synctest bubble, where time is fake: Do works there unchanged.
func TestRealClockInSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := awsretry.MustNew()
		err := r.Do(context.Background(), func(context.Context) error {
			return apiError("ThrottlingException", 400)
		})
		if !errors.As(err, new(*awsretry.RetryError)) {
			t.Fatalf("Do returned %v, want a *RetryError", err)
		}
		if got, want := time.Since(start), sum(seedSchedule); got != want {
			t.Errorf("bubble time passed = %v, want %v", got, want)
		}
	})
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

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

func TestCodeOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  []awsretry.Option
		code  string
		retry bool
	}{
		{"added code", []awsretry.Option{awsretry.WithAddedCodes("ConcurrentTagAccess")}, "ConcurrentTagAccess", true},
		{"added codes keep defaults", []awsretry.Option{awsretry.WithAddedCodes("ConcurrentTagAccess")}, "InternalError", true},
		{"added codes accumulate", []awsretry.Option{awsretry.WithAddedCodes("A"), awsretry.WithAddedCodes("B")}, "A", true},
		{"replaced codes", []awsretry.Option{awsretry.WithCodes("Busy")}, "Busy", true},
		{"replaced codes drop defaults", []awsretry.Option{awsretry.WithCodes("Busy")}, "RequestLimitExceeded", false},
		{"replaced codes keep NotFound rule", []awsretry.Option{awsretry.WithCodes("Busy")}, "InvalidAMIID.NotFound", true},
		{"added after replaced", []awsretry.Option{awsretry.WithAddedCodes("Extra"), awsretry.WithCodes("Busy")}, "Extra", true},
		{"NotFound rule off", []awsretry.Option{awsretry.WithNotFoundRule(false)}, "InvalidInstanceID.NotFound", false},
		{"NotFound rule off keeps codes", []awsretry.Option{awsretry.WithNotFoundRule(false)}, "Unavailable", true},
		{"nothing retried", []awsretry.Option{awsretry.WithCodes(), awsretry.WithNotFoundRule(false)}, "ThrottlingException", false},
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

func TestNonRetryableErrorStopsAtOnce(t *testing.T) {
	clk := awsretrytest.NewClock()
	denied := apiError("AccessDenied", 403)
	op, calls := failing(apiError("Unavailable", 503), denied)
	err := awsretry.MustNew(awsretry.WithClock(clk)).Do(context.Background(), func(context.Context) error { return op() })
	if err != denied || *calls != 2 {
		t.Errorf("Do = %v after %d calls, want %v after 2", err, *calls, denied)
	}
	if got := clk.Sleeps(); !equalDurations(got, seedSchedule[:1]) {
		t.Errorf("waits = %v, want %v", got, seedSchedule[:1])
	}
}

func TestTriesOne(t *testing.T) {
	clk := awsretrytest.NewClock()
	op, calls := failing(apiError("InternalError", 500))
	err := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(1)).
		Do(context.Background(), func(context.Context) error { return op() })
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Attempts != 1 || *calls != 1 || len(clk.Sleeps()) != 0 {
		t.Errorf("Do = %v after %d calls and waits %v; want exhausted after 1 call, no wait", err, *calls, clk.Sleeps())
	}
}

func TestMaxDelayCapsWaits(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithMaxDelay(4*time.Second), awsretry.WithTries(7))
	_ = r.Do(context.Background(), func(context.Context) error { return apiError("InternalError", 500) })
	want := []time.Duration{3 * time.Second, 3300 * time.Millisecond, 3630 * time.Millisecond,
		3993 * time.Millisecond, 4 * time.Second, 4 * time.Second}
	if got := clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestMaxElapsedStopsBeforeAPointlessWait(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithMaxElapsed(10*time.Second))
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		calls++
		return apiError("InternalError", 500)
	})
	// 3 + 3.3 + 3.63 = 9.93s fits in 10s; a fourth wait of 3.993s would not.
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonElapsed || rerr.Attempts != 4 || calls != 4 {
		t.Fatalf("Do = %v after %d calls, want elapsed after 4 attempts", err, calls)
	}
	if got := clk.Sleeps(); !equalDurations(got, seedSchedule[:3]) {
		t.Errorf("waits = %v, want %v", got, seedSchedule[:3])
	}
}

func TestMaxElapsedCountsTimeSpentInAttempts(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithMaxElapsed(10*time.Second))
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		calls++
		clk.Advance(2 * time.Second) // each attempt takes 2s
		return apiError("InternalError", 500)
	})
	// Attempt 1 ends at 2s, wait 3s; attempt 2 ends at 7s and 7+3.3 > 10.
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonElapsed || calls != 2 {
		t.Errorf("Do = %v after %d calls, want elapsed after 2", err, calls)
	}
}

func TestContextDoneBeforeFirstAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := awsretry.MustNew().Do(ctx, func(context.Context) error { called = true; return nil })
	var rerr *awsretry.RetryError
	if called || !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonCanceled || rerr.Attempts != 0 {
		t.Fatalf("Do = %v (fn called %v), want canceled with 0 attempts and fn not called", err, called)
	}
	if !errors.Is(err, context.Canceled) || rerr.Err != nil {
		t.Errorf("err = %#v, want it to wrap context.Canceled only", rerr)
	}
}

func TestFnReceivesTheContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	err := awsretry.MustNew().Do(ctx, func(ctx context.Context) error {
		if ctx.Value(key{}) != "v" {
			return errors.New("fn did not get the caller's context values")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestCancelDuringWait(t *testing.T) {
	clk := awsretrytest.NewManualClock()
	ctx, cancel := context.WithCancelCause(context.Background())
	errShutdown := errors.New("shutting down")
	throttled := apiError("RequestLimitExceeded", 503)
	done := make(chan error, 1)
	calls := 0
	go func() {
		done <- awsretry.MustNew(awsretry.WithClock(clk)).Do(ctx, func(context.Context) error {
			calls++
			return throttled
		})
	}()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel(errShutdown)
	err := <-done

	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonCanceled || rerr.Attempts != 1 || calls != 1 {
		t.Fatalf("Do = %v after %d calls, want canceled after 1 attempt", err, calls)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "RequestLimitExceeded" {
		t.Errorf("errors.As(err, &apiErr) does not reach the last error: %v", err)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errShutdown) {
		t.Errorf("err %v does not wrap context.Canceled and the cancel cause", err)
	}
	if clk.Waiters() != 0 {
		t.Errorf("the canceled wait is still registered")
	}
	if !clk.Now().Equal(awsretrytest.Epoch) {
		t.Errorf("time moved during a canceled wait")
	}
}

// TestCancelDuringRealWait proves that the real clock gives up a long wait as
// soon as the context is canceled. It uses real time, briefly.
func TestCancelDuringRealWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := awsretry.MustNew(awsretry.WithDelay(time.Hour))
	time.AfterFunc(5*time.Millisecond, cancel)
	err := r.Do(ctx, func(context.Context) error { return apiError("InternalError", 500) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want it to return context.Canceled", err)
	}
}

// TestDeadlineSoonerThanTheNextWait: with 5s left on the context, Do does
// not start the 3.3s wait after attempt 2 (it would end at 6.3s): it stops
// at once, at 3s, saying why.
func TestDeadlineSoonerThanTheNextWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := awsretry.MustNew().Do(ctx, func(context.Context) error { return apiError("InternalError", 500) })
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonDeadline || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Do = %v, want reason deadline wrapping context.DeadlineExceeded", err)
		}
		if rerr.Attempts != 2 || time.Since(start) != 3*time.Second {
			t.Errorf("attempts %d after %v, want 2 after 3s", rerr.Attempts, time.Since(start))
		}
	})
}

// TestDeadlineIgnoredOnFakeClocks: a context deadline is on real time, so a
// fake clock's virtual waits are not compared with it.
func TestDeadlineIgnoredOnFakeClocks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := awsretrytest.NewClock()
	err := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Hour)).Do(ctx, func(context.Context) error {
		return apiError("InternalError", 500)
	})
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonExhausted {
		t.Errorf("Do = %v, want exhausted after hours of virtual waits", err)
	}
}

func TestManualClockHoldsTheRetrierMidWait(t *testing.T) {
	clk := awsretrytest.NewManualClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(4))
	var mu sync.Mutex
	calls := 0
	done := make(chan error, 1)
	go func() {
		done <- r.Do(context.Background(), func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return apiError("ServiceUnavailable", 503)
		})
	}()
	ctx := context.Background()
	for i, wait := range seedSchedule[:3] {
		if err := clk.BlockUntilWaiters(ctx, 1); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if calls != i+1 {
			t.Errorf("during wait %d: %d calls, want %d", i+1, calls, i+1)
		}
		mu.Unlock()
		clk.Advance(wait - time.Nanosecond)
		if clk.Waiters() != 1 {
			t.Fatalf("wait %d released %v early", i+1, time.Nanosecond)
		}
		clk.Advance(time.Nanosecond)
	}
	err := <-done
	if !errors.As(err, new(*awsretry.RetryError)) || calls != 4 {
		t.Errorf("Do = %v after %d calls, want exhausted after 4", err, calls)
	}
}

func TestConcurrentUse(t *testing.T) {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithJitter(awsretry.JitterFull))
	const goroutines = 64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			op, _ := failing(apiError("InternalError", 500), apiError("InvalidInstanceID.NotFound", 400))
			if _, err := awsretry.DoValue(context.Background(), r, func(context.Context) (int, error) {
				return 1, op()
			}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(clk.Sleeps()); got != 2*goroutines {
		t.Errorf("%d waits, want %d", got, 2*goroutines)
	}
}

func TestDoValue(t *testing.T) {
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	op, _ := failing(apiError("Unavailable", 503))
	v, err := awsretry.DoValue(context.Background(), r, func(context.Context) (string, error) {
		return "i-0123456789abcdef0", op()
	})
	if v != "i-0123456789abcdef0" || err != nil {
		t.Errorf("DoValue = %q, %v; want the value of the successful attempt", v, err)
	}
	v, err = awsretry.DoValue(context.Background(), r, func(context.Context) (string, error) {
		return "partial", errPlain
	})
	if v != "" || err != errPlain {
		t.Errorf("DoValue = %q, %v; want the zero value and the error", v, err)
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		opt  awsretry.Option
		want string // the option and the value, as the error names them
	}{
		{awsretry.WithTries(0), "WithTries(0)"},
		{awsretry.WithTries(-3), "WithTries(-3)"},
		{awsretry.WithDelay(-time.Second), "WithDelay(-1s)"},
		{awsretry.WithBackoff(0.5), "WithBackoff(0.5)"},
		{awsretry.WithBackoff(math.NaN()), "WithBackoff(NaN)"},
		{awsretry.WithBackoff(math.Inf(1)), "WithBackoff(+Inf)"},
		{awsretry.WithMaxDelay(-time.Nanosecond), "WithMaxDelay(-1ns)"},
		{awsretry.WithMaxElapsed(-time.Minute), "WithMaxElapsed(-1m0s)"},
		{awsretry.WithJitter(awsretry.Jitter(9)), "WithJitter(Jitter(9))"},
		{awsretry.WithRandom(nil), "WithRandom(<nil>)"},
		{awsretry.WithClock(nil), "WithClock(<nil>)"},
		{awsretry.WithClassifier(nil), "WithClassifier(<nil>)"},
		{awsretry.WithAddedCodes("A", ""), `WithAddedCodes("")`},
		{awsretry.WithCodes(""), `WithCodes("")`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			r, err := awsretry.New(tt.opt)
			if r != nil || err == nil || !strings.HasPrefix(err.Error(), "awsretry: "+tt.want+": ") {
				t.Fatalf("New = %v, %v; want an error starting %q", r, err, "awsretry: "+tt.want+": ")
			}
			defer func() {
				if p := recover(); p == nil || p.(error).Error() != err.Error() {
					t.Errorf("MustNew panicked with %v, want %v", p, err)
				}
			}()
			awsretry.MustNew(tt.opt)
		})
	}
}

func TestClassifierConflictsWithCodeOptions(t *testing.T) {
	_, err := awsretry.New(awsretry.WithAddedCodes("X"), awsretry.WithClassifier(awsretry.DefaultClassifier()))
	if err == nil || !strings.Contains(err.Error(), "WithAddedCodes") || !strings.Contains(err.Error(), "WithClassifier") {
		t.Errorf("New = %v, want an error naming WithAddedCodes and WithClassifier", err)
	}
	if _, err := awsretry.New(nil); err == nil {
		t.Error("New(nil) succeeded, want an error")
	}
}

func TestRetryErrorMessage(t *testing.T) {
	tests := []struct {
		err  *awsretry.RetryError
		want string
	}{
		{&awsretry.RetryError{Reason: awsretry.ReasonExhausted, Attempts: 10, Err: errPlain},
			"awsretry: gave up after 10 attempts: plain error"},
		{&awsretry.RetryError{Reason: awsretry.ReasonCanceled, Attempts: 1, Err: errPlain, ContextErr: context.Canceled},
			"awsretry: canceled after 1 attempt: context canceled: plain error"},
		{&awsretry.RetryError{Reason: awsretry.ReasonElapsed, Attempts: 4, Err: errPlain},
			"awsretry: elapsed-time limit reached after 4 attempts: plain error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// hinted returns a throttling error whose response carries the header.
func hinted(name, value string) error {
	err := apiError("SlowDown", 503)
	err.(*smithy.OperationError).Err.(*smithyhttp.ResponseError).Response.Header.Set(name, value)
	return err
}

func TestServerHintsAreHonouredWithinBounds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		opts []awsretry.Option
		want time.Duration
	}{
		{"longer hint", hinted("X-Amz-Retry-After", "2500"), nil, 2500 * time.Millisecond},
		{"hint clamped to wait+5s", hinted("X-Amz-Retry-After", "60000"), nil, 6 * time.Second},
		{"shorter hint ignored", hinted("X-Amz-Retry-After", "10"), nil, time.Second},
		{"Retry-After seconds", hinted("Retry-After", "4"), nil, 4 * time.Second},
		{"garbage ignored", hinted("Retry-After", "soon"), nil, time.Second},
		{"cap wins", hinted("Retry-After", "4"), []awsretry.Option{awsretry.WithMaxDelay(2 * time.Second)}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := awsretrytest.NewClock()
			op, _ := failing(tt.err)
			r := awsretry.MustNew(append(tt.opts, awsretry.WithClock(clk), awsretry.WithDelay(time.Second))...)
			if err := r.Do(context.Background(), func(context.Context) error { return op() }); err != nil {
				t.Fatal(err)
			}
			if got := clk.Sleeps(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("waits = %v, want [%v]", got, tt.want)
			}
		})
	}
}

func TestRetryableStatusOption(t *testing.T) {
	badGateway := apiError("", 502)
	for _, tt := range []struct {
		opts  []awsretry.Option
		calls int
	}{
		{nil, 2},
		{[]awsretry.Option{awsretry.WithRetryableStatus()}, 1},
		{[]awsretry.Option{awsretry.WithRetryableStatus(502)}, 2},
	} {
		op, calls := failing(badGateway)
		r := awsretry.MustNew(append(tt.opts, awsretry.WithClock(awsretrytest.NewClock()))...)
		_ = r.Do(context.Background(), func(context.Context) error { return op() })
		if *calls != tt.calls {
			t.Errorf("%d options: %d calls, want %d", len(tt.opts), *calls, tt.calls)
		}
	}
	if _, err := awsretry.New(awsretry.WithRetryableStatus(503, 1000)); err == nil ||
		!strings.HasPrefix(err.Error(), "awsretry: WithRetryableStatus(1000): ") {
		t.Errorf("New = %v, want an error naming WithRetryableStatus(1000)", err)
	}
}

// TestContextEndingDuringAnAttemptSchedulesNoRetry: the operation notices
// the cancellation and returns a retryable error; Do must not announce,
// charge or record a retry it will not make.
func TestContextEndingDuringAnAttemptSchedulesNoRetry(t *testing.T) {
	for name, clk := range map[string]awsretry.Clock{"fake": awsretrytest.NewClock(), "real": awsretry.RealClock{}} {
		ctx, cancel := context.WithCancel(context.Background())
		b := awsretry.MustNewBudget()
		hooked := 0
		r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithBudget(b),
			awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) { hooked++ }))
		err := r.Do(ctx, func(context.Context) error {
			cancel()
			return apiError("RequestLimitExceeded", 503)
		})
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonCanceled || rerr.Attempts != 1 || !errors.Is(err, context.Canceled) {
			t.Errorf("%s clock: Do = %v, want canceled after 1 attempt", name, err)
		}
		if hooked != 0 || b.Tokens() != b.Capacity() {
			t.Errorf("%s clock: hook called %d times, %d tokens; want no retry announced or paid for", name, hooked, b.Tokens())
		}
	}
}

// TestHintDoesNotCompoundThroughDecorrelatedJitter: a long server hint
// stretches one wait by at most 5s; the next waits follow the schedule.
func TestHintDoesNotCompoundThroughDecorrelatedJitter(t *testing.T) {
	clk := awsretrytest.NewClock()
	calls := 0
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Second), awsretry.WithTries(5),
		awsretry.WithJitter(awsretry.JitterDecorrelated), awsretry.WithRandom(fixedRandom(0.5)))
	_ = r.Do(context.Background(), func(context.Context) error {
		calls++
		if calls == 1 {
			return hinted("Retry-After", "3600")
		}
		return apiError("SlowDown", 503)
	})
	// Schedule: 2s, 3.5s, 5.75s, 9.125s; the hint stretches the first to 2s+5s.
	want := []time.Duration{7 * time.Second, 3500 * time.Millisecond, 5750 * time.Millisecond, 9125 * time.Millisecond}
	if got := clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestPointerToRealClockIsTheRealClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := awsretry.MustNew(awsretry.WithClock(&awsretry.RealClock{})).Do(ctx, func(context.Context) error {
			return apiError("InternalError", 500)
		})
		var rerr *awsretry.RetryError
		if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonDeadline {
			t.Errorf("Do = %v, want reason deadline with *RealClock too", err)
		}
	})
}

func TestClassOfListedCodes(t *testing.T) {
	c := awsretry.NewAWSClassifier(awsretry.AWSRules{
		Codes:   []string{"InvalidInstanceID.NotFound", "ConcurrentTagAccess", "Busy", "SlowDown"},
		Classes: map[string]awsretry.Class{"Busy": awsretry.ClassThrottle},
	})
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
