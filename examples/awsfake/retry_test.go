package awsfake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/examples/awsfake"
)

// clients are real aws-sdk-go-v2 clients of one awsfake endpoint.
type clients struct {
	ec2      *ec2.Client
	dynamodb *dynamodb.Client
	s3       *s3.Client
}

func newClients(url string) clients { return clientsOf(awsfake.Config(url)) }

// call makes one SDK call of the operation op.
func (c clients) call(ctx context.Context, op string) error {
	var err error
	switch op {
	case "ec2:RunInstances":
		_, err = c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	case "ec2:DescribeInstances":
		_, err = c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{awsfake.InstanceID}})
	case "dynamodb:GetItem":
		_, err = c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"),
			Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
	case "dynamodb:PutItem":
		_, err = c.dynamodb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
	case "s3:GetObject":
		var out *s3.GetObjectOutput
		if out, err = c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("key")}); err == nil {
			out.Body.Close()
		}
	case "s3:HeadObject":
		_, err = c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("key")})
	default:
		return fmt.Errorf("no call for %s", op)
	}
	return err
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

const (
	none       = awsretry.ClassNone
	throttle   = awsretry.ClassThrottle
	transient  = awsretry.ClassTransient
	consistent = awsretry.ClassEventualConsistency
)

// classificationCases: protocol x code x status x headers. The codes are
// what the SDK reports: for a body without an AWS error document it makes
// one up ("UnknownError" in EC2, the status text in S3), which the HTTP
// status rule then retries as an unknown code. Each fails once
// with reply, then the operation succeeds. A Retrier with a 1s first wait
// retries it (class != none: two attempts, the first wait as delay) or
// returns the SDK's error at once (one attempt).
var classificationCases = []struct {
	name  string
	op    string
	reply awsfake.Reply
	code  string // the code awsretry reports
	class awsretry.Class
	delay time.Duration // the first wait, when retried
}{
	// EC2 Query XML.
	{"ec2 throttled", "ec2:RunInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}, "RequestLimitExceeded", throttle, time.Second},
	{"ec2 not found yet", "ec2:DescribeInstances", awsfake.Reply{Status: 400, Code: "InvalidInstanceID.NotFound", Message: "The instance ID 'i-0123456789abcdef0' does not exist"}, "InvalidInstanceID.NotFound", consistent, time.Second},
	{"ec2 internal error", "ec2:DescribeInstances", awsfake.Reply{Status: 500, Code: "InternalError", Message: "An internal error has occurred"}, "InternalError", transient, time.Second},
	{"ec2 unavailable", "ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "Unavailable", Message: "The server is overloaded"}, "Unavailable", transient, time.Second},
	{"ec2 throttled exception", "ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "EC2ThrottledException"}, "EC2ThrottledException", throttle, time.Second},
	{"ec2 Throttling", "ec2:DescribeInstances", awsfake.Reply{Status: 400, Code: "Throttling", Message: "Rate exceeded"}, "Throttling", throttle, time.Second},
	{"ec2 unauthorized", "ec2:RunInstances", awsfake.Reply{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized"}, "UnauthorizedOperation", none, 0},
	{"ec2 invalid parameter", "ec2:RunInstances", awsfake.Reply{Status: 400, Code: "InvalidParameterValue", Message: "Invalid value"}, "InvalidParameterValue", none, 0},
	{"ec2 502 from a proxy", "ec2:DescribeInstances", awsfake.Reply{Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"}, "UnknownError", transient, time.Second},
	{"ec2 x-amz-retry-after", "ec2:RunInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded", Header: header("X-Amz-Retry-After", "2500")}, "RequestLimitExceeded", throttle, 2500 * time.Millisecond},
	{"ec2 x-amz-retry-after clamped", "ec2:RunInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded", Header: header("X-Amz-Retry-After", "60000")}, "RequestLimitExceeded", throttle, 6 * time.Second},
	{"ec2 x-amz-retry-after shorter", "ec2:RunInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded", Header: header("X-Amz-Retry-After", "200")}, "RequestLimitExceeded", throttle, time.Second},
	{"ec2 Retry-After seconds", "ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "Unavailable", Header: header("Retry-After", "3")}, "Unavailable", transient, 3 * time.Second},
	{"ec2 Retry-After date", "ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "Unavailable", RetryAfterDate: 4 * time.Second}, "Unavailable", transient, 4 * time.Second},
	{"ec2 Retry-After garbage", "ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "Unavailable", Header: header("Retry-After", "soon")}, "Unavailable", transient, time.Second},
	// JSON 1.0, as DynamoDB.
	{"dynamodb throughput exceeded", "dynamodb:PutItem", awsfake.Reply{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "Rate of requests exceeds the allowed throughput."}, "ProvisionedThroughputExceededException", throttle, time.Second},
	{"dynamodb throttling", "dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ThrottlingException", Message: "Rate of requests exceeds the allowed throughput."}, "ThrottlingException", throttle, time.Second},
	{"dynamodb table not found yet", "dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ResourceNotFoundException", Message: "Requested resource not found"}, "ResourceNotFoundException", consistent, time.Second},
	{"dynamodb transaction in progress", "dynamodb:PutItem", awsfake.Reply{Status: 400, Code: "TransactionInProgressException"}, "TransactionInProgressException", throttle, time.Second},
	{"dynamodb internal server error", "dynamodb:GetItem", awsfake.Reply{Status: 500, Code: "InternalServerError", Message: "Internal server error"}, "InternalServerError", transient, time.Second},
	{"dynamodb validation", "dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "ValidationException", Message: "One or more parameter values were invalid"}, "ValidationException", none, 0},
	{"dynamodb condition failed", "dynamodb:PutItem", awsfake.Reply{Status: 400, Code: "ConditionalCheckFailedException", Message: "The conditional request failed"}, "ConditionalCheckFailedException", none, 0},
	{"dynamodb access denied", "dynamodb:GetItem", awsfake.Reply{Status: 400, Code: "AccessDeniedException", Message: "User is not authorized"}, "AccessDeniedException", none, 0},
	// REST-XML, as S3.
	{"s3 slow down", "s3:GetObject", awsfake.Reply{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."}, "SlowDown", throttle, time.Second},
	{"s3 slow down x-amz-retry-after", "s3:GetObject", awsfake.Reply{Status: 503, Code: "SlowDown", Header: header("X-Amz-Retry-After", "1500")}, "SlowDown", throttle, 1500 * time.Millisecond},
	{"s3 internal error", "s3:GetObject", awsfake.Reply{Status: 500, Code: "InternalError", Message: "We encountered an internal error."}, "InternalError", transient, time.Second},
	{"s3 request timeout", "s3:GetObject", awsfake.Reply{Status: 400, Code: "RequestTimeout", Message: "Your socket connection to the server was not read from or written to within the timeout period."}, "RequestTimeout", transient, time.Second},
	{"s3 no such key", "s3:GetObject", awsfake.Reply{Status: 404, Code: "NoSuchKey", Message: "The specified key does not exist."}, "NoSuchKey", none, 0},
	{"s3 access denied", "s3:GetObject", awsfake.Reply{Status: 403, Code: "AccessDenied", Message: "Access Denied"}, "AccessDenied", none, 0},
	{"s3 head 404", "s3:HeadObject", awsfake.Reply{Status: 404}, "NotFound", none, 0},
	{"s3 head 503", "s3:HeadObject", awsfake.Reply{Status: 503}, "ServiceUnavailable", transient, time.Second},
	{"s3 504 from a proxy", "s3:GetObject", awsfake.Reply{Status: 504, Body: "<html>Gateway Timeout</html>"}, "GatewayTimeout", transient, time.Second},
}

func TestClassificationThroughTheSDK(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	c := newClients(srv.URL)
	for _, tt := range classificationCases {
		t.Run(tt.name, func(t *testing.T) {
			srv.Script(tt.op, tt.reply)
			before := srv.Calls(tt.op)
			clk := awsretrytest.NewClock()
			var retries []awsretry.Attempt
			r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Second), awsretry.WithTries(3),
				awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { retries = append(retries, a) }))
			err := r.Do(context.Background(), func(ctx context.Context) error { return c.call(ctx, tt.op) })
			attempts := srv.Calls(tt.op) - before

			if tt.class == none {
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
				if got := awsretry.DefaultClassifier().Classify(err); got.Code != tt.code || got.Retryable {
					t.Errorf("classified %+v, want code %q, not retryable", got, tt.code)
				}
				return
			}
			if err != nil || attempts != 2 || len(retries) != 1 {
				t.Fatalf("Do = %v after %d attempts and %d retries, want success after 2", err, attempts, len(retries))
			}
			a := retries[0]
			if a.Classification.Code != tt.code || a.Classification.Class != tt.class || a.Delay != tt.delay {
				t.Errorf("retried as code %q, class %v, delay %v; want %q, %v, %v",
					a.Classification.Code, a.Classification.Class, a.Delay, tt.code, tt.class, tt.delay)
			}
			if got := clk.Sleeps(); len(got) != 1 || got[0] != tt.delay {
				t.Errorf("waits %v, want [%v]", got, tt.delay)
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
	err := newClients(srv.URL).call(context.Background(), "ec2:DescribeInstances")
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
	err := newClients(srv.URL).call(context.Background(), "dynamodb:GetItem")
	var rid interface{ ServiceRequestID() string }
	if !errors.As(err, &rid) || rid.ServiceRequestID() != "req-0001" {
		t.Errorf("request id of %v: want req-0001", err)
	}
}
