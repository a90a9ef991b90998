package awsretry_test

// Operations that fail as a test scripts them.

import "errors"

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
