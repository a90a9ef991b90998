package awsretry_test

// Errors shaped as aws-sdk-go-v2 returns them, and error values no real
// client builds.

import (
	"fmt"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// apiError returns an AWS error with the given code wrapped as aws-sdk-go-v2
// wraps the errors of an operation: a *smithy.OperationError around a
// *smithyhttp.ResponseError around the *smithy.GenericAPIError that the
// protocol deserializer made from the response.
func apiError(code string, status int) error {
	return &smithy.OperationError{
		ServiceID:     "EC2",
		OperationName: "DescribeInstances",
		Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "message of " + code, Fault: smithy.FaultServer},
		},
	}
}

// hinted returns a throttling error whose response carries the header.
func hinted(name, value string) error {
	err := apiError("SlowDown", 503)
	err.(*smithy.OperationError).Err.(*smithyhttp.ResponseError).Response.Header.Set(name, value)
	return err
}

// cycle is an error whose Unwrap leads back to itself.
type cycle struct{ next error }

func (c *cycle) Error() string { return "cycle" }

func (c *cycle) Unwrap() error { return c.next }

// hostileErrors are error values the types allow but no real client builds.
func hostileErrors() map[string]error {
	loop := &cycle{}
	loop.next = loop
	return map[string]error{
		"typed nil API error":          &smithy.OperationError{Err: (*smithy.GenericAPIError)(nil)},
		"response error, nil response": &smithy.OperationError{Err: &smithyhttp.ResponseError{Err: errPlain}},
		"response error, nil http":     &smithyhttp.ResponseError{Response: &smithyhttp.Response{}, Err: errPlain},
		"typed nil response error":     fmt.Errorf("w: %w", (*smithyhttp.ResponseError)(nil)),
		"unwrap cycle":                 loop,
	}
}
