package awsretrytest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/smithy-go"
	"github.com/benbjohnson/clock"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// throttled fails like an AWS call that is throttled.
func throttled(context.Context) error {
	return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
}

// The whole default schedule, 40.7 seconds of waits, runs at once.
func ExampleNewClock() {
	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	err := r.Do(context.Background(), throttled)
	fmt.Println(err)
	fmt.Println(clk.Sleeps())
	fmt.Println(clk.Now().Sub(awsretrytest.Epoch))
	// Output:
	// awsretry: gave up after 10 attempts: api error ThrottlingException: Rate exceeded
	// [3s 3.3s 3.63s 3.993s 4.3923s 4.83153s 5.314683s 5.8461513s 6.43076643s]
	// 40.73843073s
}

// A manual clock holds the Retrier in its wait until the test moves time
// forward: the test can look at it mid-wait.
func ExampleNewManualClock() {
	clk := awsretrytest.NewManualClock()
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(2))
	done := make(chan error, 1)
	go func() { done <- r.Do(context.Background(), throttled) }()

	ctx := context.Background()
	if err := clk.BlockUntilWaiters(ctx, 1); err != nil { // Do is waiting
		panic(err)
	}
	fmt.Println("waiting:", clk.Waiters())
	clk.Advance(3 * time.Second) // releases the wait; Do makes its last attempt
	fmt.Println(<-done)
	// Output:
	// waiting: 1
	// awsretry: gave up after 2 attempts: api error ThrottlingException: Rate exceeded
}

// A github.com/benbjohnson/clock Mock, advanced from the test: wait until
// each sleep has registered its timer before moving the Mock.
func ExampleFromBenbjohnson() {
	mock := clock.NewMock()
	clk := awsretrytest.FromBenbjohnson(mock)
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithTries(3), awsretry.WithDelay(time.Minute))
	done := make(chan error, 1)
	go func() { done <- r.Do(context.Background(), throttled) }()

	ctx := context.Background()
	for i, wait := range []time.Duration{time.Minute, 66 * time.Second} {
		if err := clk.BlockUntilSleeps(ctx, i+1); err != nil {
			panic(err)
		}
		mock.Add(wait)
	}
	fmt.Println(<-done)
	// Output: awsretry: gave up after 3 attempts: api error ThrottlingException: Rate exceeded
}
