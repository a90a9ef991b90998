package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// describeInstances stands in for an aws-sdk-go-v2 call: it is throttled
// twice, then succeeds. The errors are the SDK's own smithy-go types.
var describeInstancesCalls int

func describeInstances(context.Context) ([]string, error) {
	describeInstancesCalls++
	if describeInstancesCalls <= 2 {
		return nil, &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeInstances",
			Err: &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}}
	}
	return []string{"i-0123456789abcdef0"}, nil
}

// The Python awsretry's first example: wrap a call with the defaults (10
// attempts, 3s first wait, backoff 1.1). Here the clock is fake so that the
// example runs at once; in production leave WithClock out.
func ExampleDoValue() {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))

	instances, err := awsretry.DoValue(context.Background(), r, describeInstances)
	fmt.Println(instances, err)
	fmt.Println("waited:", clk.Sleeps())
	// Output:
	// [i-0123456789abcdef0] <nil>
	// waited: [3s 3.3s]
}

// The Python awsretry's second example: tries=20, delay=2, backoff=1.5 and
// an added error code.
func ExampleNew() {
	r, err := awsretry.New(
		awsretry.WithTries(20),
		awsretry.WithDelay(2*time.Second),
		awsretry.WithBackoff(1.5),
		awsretry.WithAddedCodes("ConcurrentTagAccess"),
		awsretry.WithClock(awsretrytest.NewClock()),
	)
	if err != nil {
		panic(err)
	}
	calls := 0
	err = r.Do(context.Background(), func(ctx context.Context) error {
		calls++ // client.CreateTags(ctx, input) in real code
		if calls == 1 {
			return &smithy.GenericAPIError{Code: "ConcurrentTagAccess"}
		}
		return nil
	})
	fmt.Println(calls, err)
	// Output: 2 <nil>
}

// Invalid options are reported by New, naming the option and its value.
func ExampleNew_invalid() {
	_, err := awsretry.New(awsretry.WithBackoff(0.5))
	fmt.Println(err)
	// Output: awsretry: WithBackoff(0.5): backoff must be a finite number >= 1
}

// When Do gives up on a retryable error it returns a *RetryError; the last
// AWS error is still reachable with errors.As.
func ExampleRetryError() {
	r := awsretry.MustNew(awsretry.WithTries(3), awsretry.WithClock(awsretrytest.NewClock()))
	err := r.Do(context.Background(), func(context.Context) error {
		return &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}
	})

	var rerr *awsretry.RetryError
	if errors.As(err, &rerr) {
		fmt.Println(rerr.Reason, rerr.Attempts)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.ErrorCode())
	}
	// Output:
	// exhausted 3
	// InvalidInstanceID.NotFound
}

// Jitter spreads the retries of many clients; a fixed random source makes
// the waits exact in a test.
func ExampleWithJitter() {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(
		awsretry.WithTries(5),
		awsretry.WithDelay(time.Second),
		awsretry.WithBackoff(2),
		awsretry.WithJitter(awsretry.JitterFull),
		awsretry.WithMaxDelay(5*time.Second),
		awsretry.WithRandom(fixedRandom(0.5)),
		awsretry.WithClock(clk),
	)
	_ = r.Do(context.Background(), func(context.Context) error {
		return &smithy.GenericAPIError{Code: "ThrottlingException"}
	})
	fmt.Println(clk.Sleeps())
	// Output: [500ms 1s 2s 2.5s]
}

// A manual fake clock holds the Retrier in its wait until the test moves
// time forward.
func ExampleRetrier_Do_manualClock() {
	clk := awsretrytest.NewManualClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	done := make(chan error)
	go func() {
		done <- r.Do(context.Background(), func(context.Context) error {
			if clk.Now().Equal(awsretrytest.Epoch) {
				return &smithy.GenericAPIError{Code: "ServiceUnavailable"}
			}
			return nil
		})
	}()
	_ = clk.BlockUntilWaiters(context.Background(), 1) // Do is now waiting 3s
	clk.Advance(3 * time.Second)
	fmt.Println(<-done)
	// Output: <nil>
}

// WithOnRetry is called once per scheduled retry, never after the last
// attempt: here four attempts make three calls.
func ExampleWithOnRetry() {
	r := awsretry.MustNew(
		awsretry.WithTries(4),
		awsretry.WithClock(awsretrytest.NewClock()),
		awsretry.WithOnRetry(func(ctx context.Context, a awsretry.Attempt) {
			fmt.Printf("attempt %d failed with %s: retrying in %v\n", a.Number, a.Classification.Code, a.Delay)
		}),
	)
	err := r.Do(context.Background(), func(context.Context) error {
		return &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
	})
	fmt.Println(err)
	// Output:
	// attempt 1 failed with RequestLimitExceeded: retrying in 3s
	// attempt 2 failed with RequestLimitExceeded: retrying in 3.3s
	// attempt 3 failed with RequestLimitExceeded: retrying in 3.63s
	// awsretry: gave up after 4 attempts: api error RequestLimitExceeded:
}

// Retry an error of your own: wait until an instance is running. The
// operation marks its error retryable; AWS errors it returns as they are
// are classified as usual.
func ExampleRetryable() {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(5*time.Second), awsretry.WithBackoff(1))
	states := []string{"pending", "pending", "running"}
	calls := 0
	err := r.Do(context.Background(), func(ctx context.Context) error {
		state := states[calls] // from client.DescribeInstances(ctx, input) in real code
		calls++
		if state != "running" {
			return awsretry.RetryableAs(fmt.Errorf("instance is %s", state), awsretry.ClassEventualConsistency)
		}
		return nil
	})
	fmt.Println(err, calls, clk.Sleeps())
	// Output: <nil> 3 [5s 5s]
}

// errNotReady is an error of the application's own.
var errNotReady = errors.New("not ready")

// A classifier in front of the default one: it decides the errors it knows
// and leaves the rest to the default AWS classifier.
func ExampleWithClassifier() {
	classifier := awsretry.ClassifierFunc(func(err error) awsretry.Classification {
		if errors.Is(err, errNotReady) {
			return awsretry.Classification{Retryable: true, Class: awsretry.ClassEventualConsistency}
		}
		return awsretry.DefaultClassifier().Classify(err)
	})
	r := awsretry.MustNew(awsretry.WithClassifier(classifier), awsretry.WithClock(awsretrytest.NewClock()))
	results := []error{errNotReady, &smithy.GenericAPIError{Code: "ThrottlingException"}, nil}
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		calls++
		return results[calls-1]
	})
	fmt.Println(err, calls)
	// Output: <nil> 3
}

// A Retrier that waits only for eventual consistency, for a client that
// keeps the SDK's own retryer: it leaves every other error to the SDK.
func ExampleWithClassifier_consistencyOnly() {
	consistencyOnly := awsretry.ClassifierFunc(func(err error) awsretry.Classification {
		c := awsretry.DefaultClassifier().Classify(err)
		if c.Class != awsretry.ClassEventualConsistency {
			return awsretry.Classification{Code: c.Code} // the SDK had its attempts
		}
		return c
	})
	r := awsretry.MustNew(awsretry.WithClassifier(consistencyOnly), awsretry.WithClock(awsretrytest.NewClock()))
	for _, code := range []string{"InvalidInstanceID.NotFound", "ThrottlingException"} {
		calls := 0
		_ = r.Do(context.Background(), func(context.Context) error {
			if calls++; calls == 1 {
				return &smithy.GenericAPIError{Code: code}
			}
			return nil
		})
		fmt.Println(code, "attempts:", calls)
	}
	// Output:
	// InvalidInstanceID.NotFound attempts: 2
	// ThrottlingException attempts: 1
}

// One policy for every call to DynamoDB, with a retry budget shared by all
// of them, and a span name per kind of operation.
// A budget that follows the traffic: retries up to 10% of the service's
// answers over the last 10 s, plus one per 10 s whatever the traffic.
func ExampleNewBudget() {
	budget, err := awsretry.NewBudget(awsretry.BudgetConfig{Name: "dynamodb"})
	if err != nil {
		panic(err)
	}
	dynamodb := awsretry.MustNew(awsretry.WithBudget(budget), awsretry.WithClock(awsretrytest.NewClock()))
	calls := 0
	err = dynamodb.Do(context.Background(), func(ctx context.Context) error {
		calls++ // client.PutItem(ctx, input) in real code
		if calls <= 2 {
			return &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}
		}
		return nil
	})
	// The floor paid for the first retry; no answer yet paid for a second.
	var rerr *awsretry.RetryError
	fmt.Println(errors.As(err, &rerr), rerr.Reason, calls)

	_, err = awsretry.NewBudget(awsretry.BudgetConfig{Ratio: -1})
	fmt.Println(err)
	// Output:
	// true budget 2
	// awsretry: NewBudget: BudgetConfig.Ratio (-1): must be a finite number >= 0 (0 means 0.1)
}

// aws-sdk-go-v2's retry quota, for parity with the SDK.
func ExampleNewTokenBucket() {
	budget, err := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{}) // aws-sdk-go-v2's defaults
	if err != nil {
		panic(err)
	}
	dynamodb := awsretry.MustNew(awsretry.WithBudget(budget), awsretry.WithClock(awsretrytest.NewClock()))
	putItem := dynamodb.Named("dynamodb.PutItem")

	calls := 0
	err = putItem.Do(context.Background(), func(ctx context.Context) error {
		calls++ // client.PutItem(ctx, input) in real code
		if calls == 1 {
			return &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}
		}
		return nil
	})
	fmt.Println(err, calls, budget.Tokens())

	_, err = awsretry.NewTokenBucket(awsretry.TokenBucketConfig{Capacity: -1})
	fmt.Println(err)
	// Output:
	// <nil> 2 500
	// awsretry: NewTokenBucket: TokenBucketConfig.Capacity (-1): must not be negative (0 means 500)
}

// A Limiter learns a throttled resource's capacity from its throttles and
// paces the attempts of every Retrier that shares it; demand beyond the
// capacity fails at once with reason rate_limited.
func ExampleLimiter() {
	ctx := context.Background()
	clk := awsretrytest.NewManualClock()
	table := new(awsretry.Limiter) // one per throttled resource, per process
	r := awsretry.MustNew(awsretry.WithLimiter(table), awsretry.WithClock(clk), awsretry.WithTries(1))
	throttled := func(context.Context) error {
		return &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}
	}
	accepted := func(context.Context) error { return nil }
	fmt.Println(table.Rate()) // no throttle yet: no limit

	// A throttle, a success half a second later, a throttle half a
	// second after that: the table accepted one call per second.
	_ = r.Do(ctx, throttled)
	clk.Advance(500 * time.Millisecond)
	_ = r.Do(ctx, accepted)
	clk.Advance(500 * time.Millisecond)
	_ = r.Do(ctx, throttled)
	fmt.Printf("%.2f attempts per second\n", table.Rate()) // 95% of it

	// No burst after a cut: the first slot is two intervals away.
	clk.Advance(1200 * time.Millisecond)
	fmt.Println(r.Do(ctx, accepted)) // the slot there is
	fmt.Println(r.Do(ctx, accepted)) // the next is a second away, beyond MaxWait
	// Output:
	// +Inf
	// 0.95 attempts per second
	// <nil>
	// awsretry: rate limited by the client's Limiter after 0 attempts
}

// A Do call's Scope: the attempt under way, and an idempotency token that
// stays the same in every attempt, for a request that creates something
// (here the first attempt fails after the service may have acted).
func ExampleScope() {
	r := awsretry.MustNew(awsretry.WithScope(), awsretry.WithClock(awsretrytest.NewClock()))
	var tokens []string
	err := r.Do(context.Background(), func(ctx context.Context) error {
		scope, _ := awsretry.ScopeFrom(ctx)
		// client.RunInstances(ctx, &ec2.RunInstancesInput{ClientToken: aws.String(token), ...})
		tokens = append(tokens, scope.Token("web"))
		if scope.Attempt() == 1 {
			return awsretry.Retryable(errors.New("connection reset after the request was sent"))
		}
		return nil
	})
	fmt.Println(err, len(tokens), tokens[0] == tokens[1], len(tokens[0]))
	// Output: <nil> 2 true 36
}

// An operation that no idempotency token protects: retry what cannot have
// acted (a throttle, a refused connection), not what may have.
func ExampleAmbiguous() {
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	calls := 0
	addOne := func(context.Context) error { // client.UpdateItem(ctx, add 1 to a counter)
		calls++
		return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "UpdateItem", Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}},
			Err:      &smithy.GenericAPIError{Code: "InternalServerError"}}}
	}
	err := r.Do(context.Background(), func(ctx context.Context) error {
		err := addOne(ctx)
		if awsretry.Ambiguous(err) {
			return awsretry.Permanent(err) // it may have counted: do not count twice
		}
		return err
	})
	fmt.Println(calls, awsretry.Ambiguous(err))
	// Output: 1 true
}

// The default classifier's rules changed: a service's own code retried as
// a throttle, and no retries by HTTP status alone. Invalid rules fail where
// they are built, naming the field and the value.
func ExampleNewAWSClassifier() {
	rules := awsretry.DefaultAWSRules()
	rules.Statuses = nil
	rules.Codes = append(rules.Codes, "Busy")
	rules.Classes = map[string]awsretry.Class{"Busy": awsretry.ClassThrottle}
	c, err := awsretry.NewAWSClassifier(rules)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := awsretry.MustNew(awsretry.WithClassifier(c), awsretry.WithClock(awsretrytest.NewClock()))
	calls := 0
	err = r.Do(context.Background(), func(context.Context) error {
		if calls++; calls == 1 {
			return &smithy.GenericAPIError{Code: "Busy"}
		}
		return nil
	})
	fmt.Println(err, calls, c.Classify(&smithy.GenericAPIError{Code: "Busy"}).Class)

	rules.Statuses = []int{600}
	_, err = awsretry.NewAWSClassifier(rules)
	fmt.Println(err)
	// Output:
	// <nil> 2 throttle
	// awsretry: NewAWSClassifier: AWSRules.Statuses (600): must be an HTTP status, 100 to 599
}
