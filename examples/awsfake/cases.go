package awsfake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/awsretry/awsretry"
)

// Clients are real aws-sdk-go-v2 clients of one configuration.
type Clients struct {
	EC2      *ec2.Client
	DynamoDB *dynamodb.Client
	S3       *s3.Client
}

// NewClients returns the clients of cfg, S3's addressing buckets by path.
func NewClients(cfg aws.Config) Clients {
	return Clients{EC2: EC2(cfg), DynamoDB: DynamoDB(cfg), S3: S3(cfg)}
}

// Call makes one SDK call of the operation op ("ec2:RunInstances",
// "ec2:DescribeInstances", "dynamodb:GetItem", "dynamodb:PutItem",
// "dynamodb:UpdateItem", "dynamodb:TransactWriteItems", "s3:GetObject",
// "s3:HeadObject"); for S3's GetObject it reads the whole object, since a
// body cut short fails only there. RunInstances and TransactWriteItems set
// no idempotency token: the SDK fills in a fresh one for each call (and
// keeps it for its own retries of that call), so that two calls launch two
// instances, or apply two transactions. UpdateItem adds 1 to a counter, a
// write no token protects.
func (c Clients) Call(ctx context.Context, op string) error {
	var err error
	switch op {
	case "ec2:RunInstances":
		_, err = c.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	case "ec2:DescribeInstances":
		_, err = c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{InstanceID}})
	case "dynamodb:GetItem":
		_, err = c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"),
			Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
	case "dynamodb:PutItem":
		_, err = c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
	case "dynamodb:UpdateItem":
		_, err = c.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"),
			Key:                       map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}},
			UpdateExpression:          aws.String("ADD #count :one"),
			ExpressionAttributeNames:  map[string]string{"#count": "count"}, // COUNT is a reserved word
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
	case "dynamodb:TransactWriteItems":
		_, err = c.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{{
			Put: &ddbtypes.Put{TableName: aws.String("items"),
				Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}}}})
	case "s3:GetObject":
		var out *s3.GetObjectOutput
		if out, err = c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("key")}); err == nil {
			_, err = io.ReadAll(out.Body)
			out.Body.Close()
		}
	case "s3:HeadObject":
		_, err = c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("key")})
	default:
		return fmt.Errorf("awsfake: no call for %s", op)
	}
	return err
}

// Header returns an http.Header of name, value pairs.
func Header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// Case is one failure an operation meets once before it succeeds, and what
// awsretry makes of it. The same cases drive awsretry's Do (around a client
// making one attempt per call) and package awssdk (inside the client), so
// that both are held to one table.
type Case struct {
	Name string
	Op   string
	// Reply is the failure the endpoint answers with once; when Refused is
	// set instead, the endpoint stops listening, and a Retrier restarts it
	// (Server.Restart) when it schedules its retry.
	Reply   Reply
	Refused bool
	// Code is the error code awsretry reports; Class its class, ClassNone
	// when awsretry does not retry it.
	Code  string
	Class awsretry.Class
	// Delay is the first wait of a Retrier whose schedule starts at 1s,
	// when the failure is retried.
	Delay time.Duration
	// Requests is the number of requests the endpoint sees until the call
	// succeeds, or fails for good when Class is ClassNone.
	Requests int
	// Ambiguous: the failed attempt may have reached the service and been
	// acted on (awsretry.Attempt.Ambiguous): a 5xx that is not a
	// throttle, a connection that failed after the request was sent, an
	// attempt that timed out.
	Ambiguous bool
}

// Arrange sets the endpoint up for the case's next call.
func (c Case) Arrange(s *Server) {
	if c.Refused {
		s.Stop()
		return
	}
	s.Script(c.Op, c.Reply)
}

const (
	none       = awsretry.ClassNone
	throttle   = awsretry.ClassThrottle
	transient  = awsretry.ClassTransient
	consistent = awsretry.ClassEventualConsistency
)

// classification are AWS error documents, protocol x code x status x
// headers. The codes are what the SDK reports: for a body without an AWS
// error document it makes one up ("UnknownError" in EC2, the status text in
// S3), which the HTTP status rule then retries.
var classification = []struct {
	name  string
	op    string
	reply Reply
	code  string
	class awsretry.Class
	delay time.Duration
}{
	// EC2 Query XML.
	{"ec2 throttled", "ec2:RunInstances", Reply{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}, "RequestLimitExceeded", throttle, time.Second},
	{"ec2 not found yet", "ec2:DescribeInstances", Reply{Status: 400, Code: "InvalidInstanceID.NotFound", Message: "The instance ID 'i-0123456789abcdef0' does not exist"}, "InvalidInstanceID.NotFound", consistent, time.Second},
	{"ec2 internal error", "ec2:DescribeInstances", Reply{Status: 500, Code: "InternalError", Message: "An internal error has occurred"}, "InternalError", transient, time.Second},
	{"ec2 unavailable", "ec2:DescribeInstances", Reply{Status: 503, Code: "Unavailable", Message: "The server is overloaded"}, "Unavailable", transient, time.Second},
	{"ec2 throttled exception", "ec2:DescribeInstances", Reply{Status: 503, Code: "EC2ThrottledException"}, "EC2ThrottledException", throttle, time.Second},
	{"ec2 Throttling", "ec2:DescribeInstances", Reply{Status: 400, Code: "Throttling", Message: "Rate exceeded"}, "Throttling", throttle, time.Second},
	{"ec2 unauthorized", "ec2:RunInstances", Reply{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized"}, "UnauthorizedOperation", none, 0},
	{"ec2 invalid parameter", "ec2:RunInstances", Reply{Status: 400, Code: "InvalidParameterValue", Message: "Invalid value"}, "InvalidParameterValue", none, 0},
	{"ec2 502 from a proxy", "ec2:DescribeInstances", Reply{Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"}, "UnknownError", transient, time.Second},
	{"ec2 x-amz-retry-after", "ec2:RunInstances", Reply{Status: 503, Code: "RequestLimitExceeded", Header: Header("X-Amz-Retry-After", "2500")}, "RequestLimitExceeded", throttle, 2500 * time.Millisecond},
	{"ec2 x-amz-retry-after clamped", "ec2:RunInstances", Reply{Status: 503, Code: "RequestLimitExceeded", Header: Header("X-Amz-Retry-After", "60000")}, "RequestLimitExceeded", throttle, 6 * time.Second},
	{"ec2 x-amz-retry-after shorter", "ec2:RunInstances", Reply{Status: 503, Code: "RequestLimitExceeded", Header: Header("X-Amz-Retry-After", "200")}, "RequestLimitExceeded", throttle, time.Second},
	{"ec2 Retry-After seconds", "ec2:DescribeInstances", Reply{Status: 503, Code: "Unavailable", Header: Header("Retry-After", "3")}, "Unavailable", transient, 3 * time.Second},
	{"ec2 Retry-After date", "ec2:DescribeInstances", Reply{Status: 503, Code: "Unavailable", RetryAfterDate: 4 * time.Second}, "Unavailable", transient, 4 * time.Second},
	{"ec2 Retry-After garbage", "ec2:DescribeInstances", Reply{Status: 503, Code: "Unavailable", Header: Header("Retry-After", "soon")}, "Unavailable", transient, time.Second},
	// JSON 1.0, as DynamoDB.
	{"dynamodb throughput exceeded", "dynamodb:PutItem", Reply{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "Rate of requests exceeds the allowed throughput."}, "ProvisionedThroughputExceededException", throttle, time.Second},
	{"dynamodb throttling", "dynamodb:GetItem", Reply{Status: 400, Code: "ThrottlingException", Message: "Rate of requests exceeds the allowed throughput."}, "ThrottlingException", throttle, time.Second},
	{"dynamodb table not found yet", "dynamodb:GetItem", Reply{Status: 400, Code: "ResourceNotFoundException", Message: "Requested resource not found"}, "ResourceNotFoundException", consistent, time.Second},
	{"dynamodb transaction in progress", "dynamodb:PutItem", Reply{Status: 400, Code: "TransactionInProgressException"}, "TransactionInProgressException", throttle, time.Second},
	{"dynamodb internal server error", "dynamodb:GetItem", Reply{Status: 500, Code: "InternalServerError", Message: "Internal server error"}, "InternalServerError", transient, time.Second},
	{"dynamodb validation", "dynamodb:GetItem", Reply{Status: 400, Code: "ValidationException", Message: "One or more parameter values were invalid"}, "ValidationException", none, 0},
	{"dynamodb condition failed", "dynamodb:PutItem", Reply{Status: 400, Code: "ConditionalCheckFailedException", Message: "The conditional request failed"}, "ConditionalCheckFailedException", none, 0},
	{"dynamodb access denied", "dynamodb:GetItem", Reply{Status: 400, Code: "AccessDeniedException", Message: "User is not authorized"}, "AccessDeniedException", none, 0},
	// REST-XML, as S3.
	{"s3 slow down", "s3:GetObject", Reply{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."}, "SlowDown", throttle, time.Second},
	{"s3 slow down x-amz-retry-after", "s3:GetObject", Reply{Status: 503, Code: "SlowDown", Header: Header("X-Amz-Retry-After", "1500")}, "SlowDown", throttle, 1500 * time.Millisecond},
	{"s3 internal error", "s3:GetObject", Reply{Status: 500, Code: "InternalError", Message: "We encountered an internal error."}, "InternalError", transient, time.Second},
	{"s3 request timeout", "s3:GetObject", Reply{Status: 400, Code: "RequestTimeout", Message: "Your socket connection to the server was not read from or written to within the timeout period."}, "RequestTimeout", transient, time.Second},
	{"s3 no such key", "s3:GetObject", Reply{Status: 404, Code: "NoSuchKey", Message: "The specified key does not exist."}, "NoSuchKey", none, 0},
	{"s3 access denied", "s3:GetObject", Reply{Status: 403, Code: "AccessDenied", Message: "Access Denied"}, "AccessDenied", none, 0},
	{"s3 head 404", "s3:HeadObject", Reply{Status: 404}, "NotFound", none, 0},
	{"s3 head 503", "s3:HeadObject", Reply{Status: 503}, "ServiceUnavailable", transient, time.Second},
	{"s3 504 from a proxy", "s3:GetObject", Reply{Status: 504, Body: "<html>Gateway Timeout</html>"}, "GatewayTimeout", transient, time.Second},
}

// Cases returns the classification cases: 32 AWS error documents and
// server hints of the three protocols.
func Cases() []Case {
	cases := make([]Case, 0, len(classification))
	for _, c := range classification {
		requests := 2
		if c.class == none {
			requests = 1
		}
		ambiguous := c.reply.Status >= 500 && c.class != throttle
		cases = append(cases, Case{Name: c.name, Op: c.op, Reply: c.reply, Code: c.code, Class: c.class, Delay: c.delay, Requests: requests,
			Ambiguous: ambiguous})
	}
	return cases
}

// FaultOps are the operations each fault is tried with, one per protocol.
var FaultOps = []string{"ec2:DescribeInstances", "dynamodb:GetItem", "s3:GetObject"}

// skewCodes are the codes each protocol answers a request signed at a time
// too far from the server's with.
var skewCodes = map[string]Reply{
	"ec2:DescribeInstances": {Status: http.StatusUnauthorized, Code: "AuthFailure"},
	"dynamodb:GetItem":      {Status: http.StatusBadRequest, Code: "InvalidSignatureException"},
	"s3:GetObject":          {Status: http.StatusForbidden, Code: "RequestTimeTooSkewed"},
}

// FaultCases returns the faults on real sockets, each for the three
// FaultOps: a connection reset, closed before the response or mid-body,
// hung (past a 200 ms attempt timeout), refused, an HTML 429 from a proxy,
// and a request signed 10 minutes off. Each is retried once.
func FaultCases() []Case {
	var cases []Case
	for _, op := range FaultOps {
		skew := skewCodes[op]
		skew.Message, skew.DateOffset = "Signature expired", 10*time.Minute
		for _, c := range []Case{
			{Name: "reset", Reply: Reply{Fault: FaultReset}, Class: awsretry.ClassConnection, Ambiguous: true},
			{Name: "closed before the response", Reply: Reply{Fault: FaultClose}, Class: awsretry.ClassConnection, Ambiguous: true},
			{Name: "closed mid-body", Reply: Reply{Fault: FaultCloseMidBody}, Class: awsretry.ClassConnection, Ambiguous: true},
			{Name: "hung past the attempt timeout", Reply: Reply{Fault: FaultHang}, Class: awsretry.ClassTimeout, Ambiguous: true},
			{Name: "refused", Refused: true, Class: awsretry.ClassConnection},
			{Name: "HTML 429 from a proxy", Reply: Reply{Status: http.StatusTooManyRequests,
				Body: "<html><body>429 Too Many Requests</body></html>"}, Class: awsretry.ClassThrottle},
			{Name: "signed 10 minutes off", Reply: skew, Code: skew.Code, Class: awsretry.ClassTransient},
		} {
			c.Name, c.Op, c.Delay, c.Requests = c.Name+"/"+op, op, time.Second, 2
			if c.Refused {
				c.Requests = 1
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// AllCases returns Cases and FaultCases.
func AllCases() []Case { return append(Cases(), FaultCases()...) }
