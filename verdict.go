package awsretry

// Retryable marks err as worth another attempt, whatever the classifier
// would say of it: return awsretry.Retryable(err) from the operation to
// retry an error of your own ("the instance is still pending"). Its class
// is the one the classifier gives err if it finds err retryable, else
// ClassTransient; RetryableAs sets it. A canceled request or a context
// error in err's chain is still not retried: the caller's context decides.
// Retryable(nil) is nil.
//
// The mark is the RetryableError() bool method that aws-sdk-go-v2's own
// retryer honours too; errors.Is and errors.As see through it to err.
func Retryable(err error) error {
	return RetryableAs(err, ClassNone)
}

// RetryableAs is Retryable with the class the attempt event, the logs and
// the Budget use: ClassThrottle for "slow down", ClassEventualConsistency
// for "not there yet", and so on. ClassNone, or a value that is not a
// Class, means the class the classifier gives err, else ClassTransient.
// RetryableAs(nil, c) is nil.
func RetryableAs(err error, c Class) error {
	if err == nil {
		return nil
	}
	if c < ClassNone || int(c) >= classCount {
		c = ClassNone
	}
	return &verdictError{err: err, retryable: true, class: c}
}

// Permanent marks err as not worth another attempt, whatever its code or
// status: Do returns it at once, as it is, and errors.Is and errors.As see
// through the mark to err. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &verdictError{err: err}
}

// verdictError carries a verdict on err, for Retryable, RetryableAs and
// Permanent.
type verdictError struct {
	err       error
	retryable bool
	class     Class // for a retryable verdict; ClassNone: the classifier's class
}

func (e *verdictError) Error() string        { return e.err.Error() }
func (e *verdictError) Unwrap() error        { return e.err }
func (e *verdictError) RetryableError() bool { return e.retryable }

// Ambiguous reports whether err, the error of a request to a service,
// leaves it unknown whether the service acted on the request: the request
// was sent and then the connection failed (a reset, a connection closed
// before or during the response), a deadline or a cancellation cut it
// short, or the service answered a 5xx other than a throttle, or a success
// whose body was cut short. It is false where the request cannot have
// been sent (a failed dial or DNS lookup), where the service answered
// that it did nothing (a throttle, a 4xx), for nil, and for errors that
// tell neither. Attempt.Ambiguous and the attempt event's
// awsretry.ambiguous say the same of Do's attempts.
//
// Retrying an ambiguous failure repeats what the request did, unless it
// carries an idempotency token the service honours (see Scope). For an
// operation no token protects (SQS SendMessage, SNS Publish, a DynamoDB
// UpdateItem that adds to a counter), decide in the operation:
//
//	_, err := client.UpdateItem(ctx, addOne)
//	if awsretry.Ambiguous(err) {
//		return awsretry.Permanent(err) // it may have counted: do not count twice
//	}
//	return err
func Ambiguous(err error) bool {
	if err == nil {
		return false
	}
	return mayHaveActed(err, defaultClassifier.Classify(err).Class)
}

// saysPermanent reports whether the first RetryableError() bool in err's
// chain says false, as Permanent's mark does.
func saysPermanent(err error) bool {
	var f errorFacts
	return f.gatherSafely(err) && f.verdict < 0
}

// unmarked returns err without the marks of Retryable, RetryableAs and
// Permanent, for telemetry to name the error's own type.
func unmarked(err error) error {
	for {
		v, ok := err.(*verdictError)
		if !ok {
			return err
		}
		err = v.err
	}
}
