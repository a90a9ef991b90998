package awsfake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/examples/awsfake"
)

func newClients(url string) awsfake.Clients { return awsfake.NewClients(awsfake.Config(url)) }

// TestClassificationThroughTheSDK runs awsfake's classification cases through
// the real clients inside Do: each fails once with its reply, then the
// operation succeeds. A Retrier with a 1s first wait retries it (class !=
// none: two attempts, the case's delay as first wait) or returns the SDK's
// error at once (one attempt).
func TestClassificationThroughTheSDK(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	c := newClients(srv.URL)
	for _, tt := range awsfake.Cases() {
		t.Run(tt.Name, func(t *testing.T) {
			tt.Arrange(srv)
			before := srv.Calls(tt.Op)
			clk := awsretrytest.NewClock()
			var retries []awsretry.Attempt
			r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Second), awsretry.WithTries(3),
				awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { retries = append(retries, a) }))
			err := r.Do(context.Background(), func(ctx context.Context) error { return c.Call(ctx, tt.Op) })
			attempts := srv.Calls(tt.Op) - before

			if tt.Class == awsretry.ClassNone {
				if attempts != 1 || len(retries) != 0 || err == nil {
					t.Fatalf("%d attempts, %d retries, err %v; want the SDK's error after 1 attempt", attempts, len(retries), err)
				}
				var rerr *awsretry.RetryError
				if errors.As(err, &rerr) {
					t.Errorf("got a RetryError %v, want the SDK's error unchanged", err)
				}
				var op *smithy.OperationError
				if !errors.As(err, &op) {
					t.Errorf("err %T is not the SDK's *smithy.OperationError", err)
				}
				if got := awsretry.DefaultClassifier().Classify(err); got.Code != tt.Code || got.Retryable {
					t.Errorf("classified %+v, want code %q, not retryable", got, tt.Code)
				}
				return
			}
			if err != nil || attempts != 2 || len(retries) != 1 {
				t.Fatalf("Do = %v after %d attempts and %d retries, want success after 2", err, attempts, len(retries))
			}
			a := retries[0]
			if a.Classification.Code != tt.Code || a.Classification.Class != tt.Class || a.Delay != tt.Delay {
				t.Errorf("retried as code %q, class %v, delay %v; want %q, %v, %v",
					a.Classification.Code, a.Classification.Class, a.Delay, tt.Code, tt.Class, tt.Delay)
			}
			if got := clk.Sleeps(); len(got) != 1 || got[0] != tt.Delay {
				t.Errorf("waits %v, want [%v]", got, tt.Delay)
			}
			if a.Ambiguous != tt.Ambiguous {
				t.Errorf("Ambiguous %v, want %v: the service answered %d", a.Ambiguous, tt.Ambiguous, tt.Reply.Status)
			}
		})
	}
}

// TestSDKRetryerIsSingleAttempt makes sure the measured retries are
// awsretry's: the SDK client of awsfake.Config makes one request per call.
func TestSDKRetryerIsSingleAttempt(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.Script("ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"})
	err := newClients(srv.URL).Call(context.Background(), "ec2:DescribeInstances")
	if err == nil || srv.Calls("ec2:DescribeInstances") != 1 {
		t.Errorf("one SDK call made %d requests (err %v), want 1 request and an error", srv.Calls("ec2:DescribeInstances"), err)
	}
}

// TestRequestIDReachesTheClassifier checks that the SDK error keeps the
// request id the endpoint sent, where telemetry reads it.
func TestRequestIDReachesTheClassifier(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.Script("dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ValidationException"})
	err := newClients(srv.URL).Call(context.Background(), "dynamodb:GetItem")
	var rid interface{ ServiceRequestID() string }
	if !errors.As(err, &rid) || rid.ServiceRequestID() != "req-0001" {
		t.Errorf("request id of %v: want req-0001", err)
	}
}

// TestAmbiguous: awsretry.Ambiguous on the error of one call of the real
// clients, for every case of awsfake's tables: true where the request was
// sent and the service may have acted on it (a 5xx other than a throttle,
// a connection that failed after the request was written, a request cut
// off by its deadline), false where it cannot have been sent (refused) or
// the service answered that it did nothing (a throttle, a 4xx).
func TestAmbiguous(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	c := newClients(srv.URL)
	for _, tc := range awsfake.AllCases() {
		t.Run(tc.Name, func(t *testing.T) {
			tc.Arrange(srv)
			defer func() { _ = srv.Restart() }()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := c.Call(ctx, tc.Op)
			if err == nil {
				t.Fatal("the call succeeded")
			}
			if got := awsretry.Ambiguous(err); got != tc.Ambiguous {
				t.Errorf("Ambiguous(%v) = %v, want %v", err, got, tc.Ambiguous)
			}
		})
	}
	if awsretry.Ambiguous(nil) {
		t.Error("Ambiguous(nil) = true")
	}
}
