package awsretry_test

import (
	"errors"
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

// failing returns an operation that fails with errs in turn, then succeeds,
// and a pointer to the number of calls made.
func failing(errs ...error) (func() error, *int) {
	calls := 0
	return func() error {
		calls++
		if calls <= len(errs) {
			return errs[calls-1]
		}
		return nil
	}, &calls
}

var errPlain = errors.New("plain error")
