package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsretry/awsretry"
)

// sendFailure wraps a transport error as a real aws-sdk-go-v2 client
// returns it: the operation error around the HTTP response error with
// status 0 around smithy-go's request-send error around the *url.Error of
// net/http.
func sendFailure(err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem",
		Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{Header: http.Header{}}},
			Err:      &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://127.0.0.1:1/", Err: err}},
		}}
}

// opError is a *net.OpError as net returns it for a failed system call.
func opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, errno)}
}

// bodyCutShort is the SDK's error for a 200 response whose body ended
// early: the deserializer's error inside the response error.
func bodyCutShort() error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem",
		Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 200, Header: http.Header{}}},
			Err:      &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body, %w", io.ErrUnexpectedEOF)},
		}}
}

// timeoutError is a net.Error that timed out, as a deadline on a socket
// (os.ErrDeadlineExceeded) or http.Client.Timeout reports.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestTransportFailures(t *testing.T) {
	const (
		connection = awsretry.ClassConnection
		timeout    = awsretry.ClassTimeout
		none       = awsretry.ClassNone
	)
	tests := []struct {
		name  string
		err   error
		class awsretry.Class // ClassNone: not retryable
	}{
		{"reset", sendFailure(opError("read", syscall.ECONNRESET)), connection},
		{"refused", sendFailure(opError("dial", syscall.ECONNREFUSED)), connection},
		{"broken pipe on write", sendFailure(opError("write", syscall.EPIPE)), connection},
		{"EOF before the response", sendFailure(io.EOF), connection},
		{"unexpected EOF", sendFailure(io.ErrUnexpectedEOF), connection},
		{"closed connection", sendFailure(&net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}), connection},
		{"dial error of any kind", sendFailure(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route")}), connection},
		{"socket timeout", sendFailure(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}), timeout},
		{"client timeout", sendFailure(timeoutError{}), timeout},
		{"DNS timeout", sendFailure(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "timeout", Name: "dynamodb", IsTimeout: true}}), timeout},
		{"DNS temporary", sendFailure(&net.DNSError{Err: "server misbehaving", Name: "dynamodb", IsTemporary: true}), connection},
		{"DNS no such host", sendFailure(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "dynamodb", IsNotFound: true}}), none},
		{"any send failure", sendFailure(errors.New("proxy said no")), connection},
		{"body cut short", bodyCutShort(), connection},
		{"reset reported as text", fmt.Errorf("read: %w", errors.New("connection reset by peer")), connection},
		{"refusal reported as text", &url.Error{Op: "Get", URL: "http://x", Err: errors.New("connection refused")}, connection},
		{"bare errno", opError("read", syscall.ECONNRESET), connection},
		{"object body cut short", fmt.Errorf("reading the object: %w", io.ErrUnexpectedEOF), connection},
		// Not transport failures.
		{"your own EOF", fmt.Errorf("reading the manifest: %w", io.EOF), none},
		{"refused as bare text", errors.New("connection refused"), none},
		{"canceled during the send", &smithy.OperationError{Err: &smithy.CanceledError{Err: context.Canceled}}, none},
		{"caller's deadline in the send", sendFailure(context.DeadlineExceeded), none},
		{"context canceled", fmt.Errorf("op: %w", context.Canceled), none},
		{"a code the service sent", apiError("IncorrectInstanceState", 400), none},
	}
	c := awsretry.DefaultClassifier()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.err)
			if got.Class != tt.class || got.Retryable != (tt.class != none) {
				t.Errorf("Classify = %+v, want class %v", got, tt.class)
			}
		})
	}
}

// TestCodesAndStatusesBeforeTransport: a response the service sent is
// classified by its code and status, even when its chain also holds a
// transport error.
func TestCodesAndStatusesBeforeTransport(t *testing.T) {
	throttled := &smithy.OperationError{Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400, Header: http.Header{}}},
		Err:      fmt.Errorf("%w: %w", &smithy.GenericAPIError{Code: "ThrottlingException"}, io.ErrUnexpectedEOF),
	}}
	if got := awsretry.DefaultClassifier().Classify(throttled); got.Class != awsretry.ClassThrottle {
		t.Errorf("Classify = %+v, want throttle", got)
	}
}

func TestClassifyTransportFailureDoesNotAllocate(t *testing.T) {
	c := awsretry.DefaultClassifier()
	err := sendFailure(opError("read", syscall.ECONNRESET))
	if n := testing.AllocsPerRun(100, func() { c.Classify(err) }); n != 0 {
		t.Errorf("Classify allocates %v times per call, want 0", n)
	}
}

func BenchmarkClassifyTransportFailure(b *testing.B) {
	c := awsretry.DefaultClassifier()
	err := sendFailure(opError("read", syscall.ECONNRESET))
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(err)
	}
}
