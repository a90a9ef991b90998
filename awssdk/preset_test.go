package awssdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// nearlyOne draws just below 1: full jitter then waits its whole range,
// the bound of the wait.
type nearlyOne struct{}

func (nearlyOne) Float64() float64 { return 1 - 1e-12 }

// TestSDKStandardPreset holds SDKStandard and SDKStandardDynamoDB to the
// retryers aws-sdk-go-v2 v1.48.0's own EC2 and DynamoDB clients build
// (their StandardOptions: attempts, base delays, throttle delay, cap,
// jitter) on the same failure sequences: the same number of attempts,
// and the same bound on each wait, jitter aside. The SDK's waits are
// drawn with its own random source; the preset's bound is its wait with
// a draw just below 1.
func TestSDKStandardPreset(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "ThrottlingException"}
	transient := &smithy.GenericAPIError{Code: "InternalError"}
	sequences := map[string][]error{
		"throttles":                  {throttle, throttle, throttle, throttle, throttle, throttle},
		"transient errors":           {transient, transient, transient, transient, transient, transient},
		"a throttle, then transient": {throttle, transient, transient, transient, transient, transient},
		"transient, then a throttle": {transient, throttle, throttle, throttle, throttle, throttle},
	}
	clients := []struct {
		name    string
		retryer aws.RetryerV2
		preset  awsretry.Option
	}{
		{"EC2", ec2.New(ec2.Options{Region: "us-east-1"}).Options().Retryer.(aws.RetryerV2), awsretry.SDKStandard()},
		{"DynamoDB", dynamodb.New(dynamodb.Options{Region: "us-east-1"}).Options().Retryer.(aws.RetryerV2), awsretry.SDKStandardDynamoDB()},
	}
	for _, c := range clients {
		for name, failures := range sequences {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				clk := awsretrytest.NewClock()
				r := awsretry.MustNew(c.preset, awsretry.WithClock(clk), awsretry.WithRandom(nearlyOne{}))
				attempts := 0
				_ = r.Do(context.Background(), func(context.Context) error {
					attempts++
					return failures[attempts-1]
				})
				if attempts != c.retryer.MaxAttempts() {
					t.Fatalf("%d attempts, the SDK's client makes %d", attempts, c.retryer.MaxAttempts())
				}
				bounds := clk.Sleeps()
				for i, bound := range bounds {
					var most time.Duration
					for range 2000 {
						d, err := c.retryer.RetryDelay(i+1, failures[i])
						if err != nil {
							t.Fatal(err)
						}
						if d < 0 || d > bound {
							t.Fatalf("retry %d: the SDK waited %v, beyond the preset's bound %v", i+1, d, bound)
						}
						most = max(most, d)
					}
					if most < bound*95/100 {
						t.Errorf("retry %d: the SDK's longest of 2000 waits %v, the preset's bound %v: the bounds differ", i+1, most, bound)
					}
				}
				t.Logf("wait bounds %v", bounds)
			})
		}
	}
}
