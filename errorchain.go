package awsretry

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// errorFacts is what an error's chain says about itself, gathered in one
// walk in the order errors.As searches: for each fact, the first error of
// the chain that states it.
type errorFacts struct {
	code    string // the first ErrorCode() in the chain
	hasCode bool
	as      interface{ As(any) bool } // the first error that wraps nothing and has an As method, tried when no error states a code
	// modeled: the first smithy.APIError of the chain is a service's own
	// error type rather than the *smithy.GenericAPIError a client makes up
	// for codes its model does not know.
	modeled bool
	hasAPI  bool

	verdict      int8          // the first RetryableError() in the chain: +1 true, -1 false, 0 none
	verdictClass Class         // the class a verdictError gives, if that error is one
	mark         *verdictError // the first mark of Retryable, RetryableAs or Permanent in the chain

	canceled bool // a CanceledError() in the chain is true, or a context error is in it
	deadline bool // context.DeadlineExceeded is in the chain, or an error in it Is it (an http.Client's timeout)

	status int         // HTTP status of the first response in the chain, 0 if none
	header http.Header // that response's headers, nil if none

	// Transport failures, as aws-sdk-go-v2's RetryableConnectionError sees
	// them, plus the errno values and EOFs of a broken connection.
	dns        *net.DNSError
	urlErr     *url.Error
	opErr      *net.OpError
	connection int8 // the first ConnectionError(): +1 true, -1 false
	temporary  int8 // the first Temporary()
	timeout    int8 // the first Timeout()
	broken     bool // ECONNRESET, ECONNABORTED, EPIPE, ECONNREFUSED, net.ErrClosed or io.ErrUnexpectedEOF
	eof        bool // io.EOF
	cutShort   bool // a *smithy.DeserializationError: a response body that could not be read
}

// gatherSafely is gather that reports false instead of panicking when a
// method of the chain panics (a typed nil).
func (f *errorFacts) gatherSafely(err error) (ok bool) {
	defer func() {
		if recover() != nil {
			*f, ok = errorFacts{}, false
		}
	}()
	f.gather(err)
	return true
}

// maxChain bounds the errors one walk of an error's tree visits in all, so
// that an error whose Unwrap leads back to itself (alone, or several times
// in a join: a tree that multiplies at each level) cannot hang Do. It bounds
// the total rather than the depth, because under a depth bound a join that
// returns itself twice still leaves 2^depth errors to visit. Once it is
// spent, the walk passes over the rest of a join's errors at once, so its
// time is bounded by the errors visited and the slices their Unwrap methods
// return. 1,024 is far above any real tree (the SDK's chain is a few errors
// deep; a join of hundreds is read whole) and costs nothing on a small one:
// the walk ends where the tree does. An error past it is not seen; the
// AWSClassifier doc comment and docs/classification.md say so, and
// TestChainWalkBound holds them to this value.
const maxChain = 1024

// gather walks err's tree and records its facts.
func (f *errorFacts) gather(err error) {
	remaining := maxChain
	f.walk(err, &remaining)
	if !f.hasCode && f.as != nil {
		// An error at the end of the chain presents an API error through
		// its own As method only. (aws-sdk-go-v2's response error has an
		// As method too, but it unwraps to the errors As presents, which
		// the walk visits without allocating.)
		var apiErr smithy.APIError
		if f.as.As(&apiErr) && apiErr != nil {
			f.code, f.hasCode = apiErr.ErrorCode(), true
		}
	}
}

func (f *errorFacts) walk(err error, remaining *int) {
	for err != nil && *remaining > 0 {
		*remaining--
		f.note(err)
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				f.walk(err, remaining)
			}
			return
		default:
			return
		}
	}
}

// note records what one error of the chain states, where no earlier error
// stated it.
func (f *errorFacts) note(err error) {
	if !f.hasCode {
		if x, ok := err.(interface{ ErrorCode() string }); ok {
			f.code, f.hasCode = x.ErrorCode(), true
		} else if x, ok := err.(interface{ As(any) bool }); ok && f.as == nil && !unwraps(err) {
			f.as = x
		}
	}
	if !f.hasAPI {
		if _, ok := err.(smithy.APIError); ok {
			_, generic := err.(*smithy.GenericAPIError)
			f.hasAPI, f.modeled = true, !generic
		}
	}
	if f.verdict == 0 {
		if x, ok := err.(interface{ RetryableError() bool }); ok {
			f.verdict = ternary(x.RetryableError())
			if v, ok := err.(*verdictError); ok {
				f.verdictClass = v.class
			}
		}
	}
	if v, ok := err.(*verdictError); ok && f.mark == nil {
		f.mark = v
	}
	if x, ok := err.(interface{ CanceledError() bool }); ok && x.CanceledError() {
		f.canceled = true
	}
	if err == context.Canceled || err == context.DeadlineExceeded {
		f.canceled = true
	}
	if !f.deadline {
		x, ok := err.(interface{ Is(error) bool })
		f.deadline = err == context.DeadlineExceeded || ok && x.Is(context.DeadlineExceeded)
	}
	if f.status == 0 && f.header == nil {
		f.status, f.header = responseOf(err)
	}
	f.noteTransport(err)
}

func (f *errorFacts) noteTransport(err error) {
	switch x := err.(type) {
	case *net.DNSError:
		if f.dns == nil {
			f.dns = x
		}
	case *url.Error:
		if f.urlErr == nil {
			f.urlErr = x
		}
	case *net.OpError:
		if f.opErr == nil {
			f.opErr = x
		}
	case *smithy.DeserializationError:
		f.cutShort = true
	case syscall.Errno:
		switch x {
		case syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ECONNREFUSED:
			f.broken = true
		}
	}
	switch err {
	case net.ErrClosed, io.ErrUnexpectedEOF:
		// A stream that ended before it should have: a response body
		// cut short, read by the SDK or by the operation (S3's GetObject
		// body).
		f.broken = true
	case io.EOF:
		f.eof = true // a transport failure only inside a transport error
	}
	if f.connection == 0 {
		if x, ok := err.(interface{ ConnectionError() bool }); ok {
			f.connection = ternary(x.ConnectionError())
		}
	}
	// *url.Error and *net.OpError answer Timeout and Temporary for the
	// error they wrap directly, and only when it has the method itself; the
	// walk reaches that error and those beyond it on its own, as the SDK's
	// check does by unwrapping them.
	switch err.(type) {
	case *url.Error, *net.OpError:
		return
	}
	if f.temporary == 0 {
		if x, ok := err.(interface{ Temporary() bool }); ok {
			f.temporary = ternary(x.Temporary())
		}
	}
	if f.timeout == 0 {
		if x, ok := err.(interface{ Timeout() bool }); ok {
			f.timeout = ternary(x.Timeout())
		}
	}
}

// chainHas reports whether target is in err's tree, as errors.Is does, but
// visiting at most maxChain errors, so that an Unwrap cycle cannot hang Do,
// and reporting false where a method of the tree panics (a typed nil).
func chainHas(err, target error) (found bool) {
	defer func() {
		if recover() != nil {
			found = false
		}
	}()
	remaining := maxChain
	return chainHasWithin(err, target, &remaining)
}

func chainHasWithin(err, target error, remaining *int) bool {
	for err != nil && *remaining > 0 {
		*remaining--
		if err == target {
			return true
		}
		if x, ok := err.(interface{ Is(error) bool }); ok && x.Is(target) {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				if chainHasWithin(err, target, remaining) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// unwraps reports whether err wraps other errors.
func unwraps(err error) bool {
	switch err.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }:
		return true
	}
	return false
}

func ternary(b bool) int8 {
	if b {
		return 1
	}
	return -1
}

// responseOf returns the HTTP status and headers of err when err itself is
// an HTTP response error: smithy-go's (which aws-sdk-go-v2's embeds), read
// through HTTPResponse and guarded against a nil response, or any error
// with an HTTPStatusCode method. The zero status means none.
func responseOf(err error) (int, http.Header) {
	switch x := err.(type) {
	case interface{ HTTPResponse() *smithyhttp.Response }:
		if r, ok := err.(*smithyhttp.ResponseError); ok && r == nil {
			return 0, nil
		}
		resp := x.HTTPResponse()
		if resp == nil || resp.Response == nil {
			return 0, nil
		}
		h := resp.Header
		if h == nil {
			h = http.Header{}
		}
		return resp.StatusCode, h
	case interface{ HTTPStatusCode() int }:
		return x.HTTPStatusCode(), nil
	}
	return 0, nil
}

// transportClass classifies a failure to send a request or to read its
// response: the checks of aws-sdk-go-v2's RetryableConnectionError, type
// checks first and its text matches last, plus the errno values of a broken
// connection, io.ErrUnexpectedEOF anywhere (a body cut short, which the SDK
// does not retry) and io.EOF inside a transport error. It returns ClassNone
// for anything else.
func (f *errorFacts) transportClass(err error) Class {
	if f.dns != nil {
		switch {
		case f.dns.IsNotFound:
			return ClassNone // no such host: another attempt will not find it
		case f.dns.IsTimeout:
			return ClassTimeout
		case f.dns.IsTemporary:
			return ClassConnection
		}
	}
	transport := f.urlErr != nil || f.opErr != nil || f.connection > 0 || f.cutShort
	switch {
	case f.connection > 0,
		f.broken,
		f.eof && transport,
		f.opErr != nil && strings.EqualFold(f.opErr.Op, "dial"),
		f.temporary > 0:
		if f.timeout > 0 {
			return ClassTimeout
		}
		return ClassConnection
	case f.timeout > 0:
		return ClassTimeout
	}
	// The SDK's last resort: text, for errors that lost their type on the
	// way (a reset read asynchronously, a refusal reported as a string).
	// Not for an error the service answered with a code or a status: it
	// was delivered.
	if f.hasCode || f.status != 0 {
		return ClassNone
	}
	msg := err.Error()
	if strings.Contains(msg, "connection reset") || strings.Contains(msg, "use of closed network connection") ||
		f.urlErr != nil && strings.Contains(f.urlErr.Error(), "connection refused") {
		return ClassConnection
	}
	return ClassNone
}

// mayHaveActed reports whether the service may have acted on the request
// of a failed attempt whose error is err, of class c: a 5xx that is not a
// throttle, a success whose body was cut short, or a failure after the
// request was sent (a transport failure or a deadline, not a failed dial
// or DNS lookup). See Attempt.Ambiguous.
func mayHaveActed(err error, c Class) bool {
	var f errorFacts
	return f.gatherSafely(err) && f.mayHaveActed(c)
}

// mayHaveActed is the package function on facts already gathered.
func (f *errorFacts) mayHaveActed(c Class) bool {
	switch {
	case f.status >= 500:
		return c != ClassThrottle
	case f.status >= 200 && f.status < 300:
		return true // answered, then the body was cut short
	case f.status != 0:
		return false // the service answered that it did not act: a 4xx, or a redirect
	case f.dns != nil, f.opErr != nil && strings.EqualFold(f.opErr.Op, "dial"):
		return false // never sent
	}
	return f.canceled || c == ClassConnection || c == ClassTimeout
}

// responseDetails returns the HTTP status and AWS request id an error
// carries, for telemetry: 0 and "" when it has none, and also when reading
// them panics (a typed nil in the chain), so a hostile error value cannot
// crash Do.
func responseDetails(err error) (status int, id string) {
	defer func() {
		if recover() != nil {
			status, id = 0, ""
		}
	}()
	var f errorFacts
	f.gather(err)
	if x, ok := findError[interface{ ServiceRequestID() string }](err); ok {
		id = x.ServiceRequestID()
	}
	return f.status, id
}

// findError returns the first error in err's tree that is a T, in the order
// errors.As searches the tree. It is errors.As without reflection and without
// allocating, except where an error in the tree has its own As method; it
// visits at most maxChain errors, and finds nothing where a method of the
// tree panics (a typed nil).
func findError[T any](err error) (t T, found bool) {
	defer func() {
		if recover() != nil {
			var zero T
			t, found = zero, false
		}
	}()
	remaining := maxChain
	return findErrorWithin[T](err, &remaining)
}

// findErrorWithin is findError visiting at most *remaining errors, so that an
// Unwrap cycle cannot hang Do.
func findErrorWithin[T any](err error, remaining *int) (T, bool) {
	for err != nil && *remaining > 0 {
		*remaining--
		if t, ok := err.(T); ok {
			return t, true
		}
		if x, ok := err.(interface{ As(any) bool }); ok {
			var t T
			if x.As(&t) {
				return t, true
			}
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				if t, ok := findErrorWithin[T](err, remaining); ok {
					return t, true
				}
			}
			err = nil
		default:
			err = nil
		}
	}
	var zero T
	return zero, false
}
