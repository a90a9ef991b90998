package awsfake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry/examples/awsfake"
)

// method is the HTTP method of op's requests, as *url.Error reports it.
func method(op string) string {
	if strings.HasPrefix(op, "s3:") {
		return "Get"
	}
	return "Post"
}

// retryHook is the SDK's standard retryer, as a client gets it by default,
// with a 1ms maximum backoff; it calls onRetry with each error it decides
// to retry.
type retryHook struct {
	aws.RetryerV2
	onRetry func(error)
}

func (r retryHook) RetryDelay(attempt int, err error) (time.Duration, error) {
	r.onRetry(err)
	return r.RetryerV2.RetryDelay(attempt, err)
}

// sdkRetrying returns cfg with the SDK's default retryer (3 attempts) in
// place of awsfake.Config's single attempt.
func sdkRetrying(cfg aws.Config, onRetry func(error)) aws.Config {
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer {
		return retryHook{retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond).(aws.RetryerV2), onRetry}
	}
	return cfg
}

// shape is what a retry classifier can find in an error chain.
type shape struct {
	Operation       bool   // a *smithy.OperationError
	MaxAttempts     bool   // a *retry.MaxAttemptsError: the SDK deemed the error retryable
	Retryable       bool   // a RetryableError() bool returning true
	ConnectionError bool   // a ConnectionError() bool returning true
	URLOp           string // the *url.Error's Op, "" without one
	NetOp           string // the *net.OpError's Op, "" without one
	Syscall         string // the *os.SyscallError's Syscall, "" without one
	Timeout         bool   // a Timeout() bool returning true
	Temporary       bool   // a Temporary() bool returning true
	Reset           bool   // syscall.ECONNRESET
	Refused         bool   // syscall.ECONNREFUSED
	EOF             bool   // io.EOF
	UnexpectedEOF   bool   // io.ErrUnexpectedEOF
	Closed          bool   // net.ErrClosed
	Canceled        bool   // a CanceledError() bool returning true
	Deadline        bool   // context.DeadlineExceeded
	Deserialization bool   // a *smithy.DeserializationError
	Status          int    // the HTTPStatusCode(), -1 without one
	Code            string // the API error's ErrorCode(), "" without one
}

// walk calls fn with err and every error it wraps.
func walk(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, fn)
		}
	}
}

func shapeOf(err error) shape {
	s := shape{Status: -1}
	var op *smithy.OperationError
	s.Operation = errors.As(err, &op)
	var max *retry.MaxAttemptsError
	s.MaxAttempts = errors.As(err, &max)
	var ue *url.Error
	if errors.As(err, &ue) {
		s.URLOp = ue.Op
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		s.NetOp = ne.Op
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		s.Syscall = se.Syscall
	}
	walk(err, func(e error) {
		if v, ok := e.(interface{ RetryableError() bool }); ok && v.RetryableError() {
			s.Retryable = true
		}
		if v, ok := e.(interface{ ConnectionError() bool }); ok && v.ConnectionError() {
			s.ConnectionError = true
		}
		if v, ok := e.(interface{ Timeout() bool }); ok && v.Timeout() {
			s.Timeout = true
		}
		if v, ok := e.(interface{ Temporary() bool }); ok && v.Temporary() {
			s.Temporary = true
		}
		if v, ok := e.(interface{ CanceledError() bool }); ok && v.CanceledError() {
			s.Canceled = true
		}
	})
	s.Reset = errors.Is(err, syscall.ECONNRESET)
	s.Refused = errors.Is(err, syscall.ECONNREFUSED)
	s.EOF = errors.Is(err, io.EOF)
	s.UnexpectedEOF = errors.Is(err, io.ErrUnexpectedEOF)
	s.Closed = errors.Is(err, net.ErrClosed)
	s.Deadline = errors.Is(err, context.DeadlineExceeded)
	var de *smithy.DeserializationError
	s.Deserialization = errors.As(err, &de)
	var sc interface{ HTTPStatusCode() int }
	if errors.As(err, &sc) {
		s.Status = sc.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		s.Code = ae.ErrorCode()
	}
	return s
}

// chain describes err's chain from the top down: each error's type and
// text.
func chain(err error) string {
	var b strings.Builder
	depth := 0
	walk(err, func(e error) {
		t := reflect.TypeOf(e)
		name := t.String()
		if t.Kind() == reflect.Pointer {
			name = "*" + t.Elem().PkgPath() + "." + t.Elem().Name()
		} else if t.PkgPath() != "" {
			name = t.PkgPath() + "." + t.Name()
		}
		fmt.Fprintf(&b, "%*s%s: %q\n", 2*depth, "", name, e.Error())
		depth++
	})
	return b.String()
}

// faultCase is one connection fault, as a test brings it about.
type faultCase struct {
	name string
	// reply is scripted for the operation; refused stops the server
	// instead.
	reply   awsfake.Reply
	refused bool
	// callTimeout, when set, bounds each call with a context; httpTimeout
	// sets the SDK's HTTP client timeout, which bounds each attempt.
	callTimeout, httpTimeout time.Duration
	// text is part of the error's text with one SDK attempt.
	text string
	// want is the error's shape with one SDK attempt.
	want func(op string) shape
	// retried tells whether the SDK's default retryer retries the fault
	// once and succeeds; otherwise it returns the error of the one attempt.
	retried bool
	// raced, when it returns a shape, is the error's other possible shape
	// with one SDK attempt: that of the race described at
	// closeMidBodyRaced. The SDK's default retryer retries that error once
	// and succeeds.
	raced func(op string) *shape
}

// closeMidBodyRaced is the shape of a body cut short when net/http itself
// has closed the connection before the client read to its end. The SDK
// (smithy-go's ClientHandler) closes the request body as soon as
// http.Client.Do returns the response headers; net/http's write loop, if
// it has not yet drained the request body (transferWriter.writeBody's last
// read after Content-Length bytes), then reads the closed body, whose
// WriteTo (smithy-go's safeWriteToReadCloser) answers io.EOF; net/http
// takes that for a write error and closes the connection. The body read
// in progress fails with "use of closed network connection" (net.ErrClosed),
// which the SDK retries because its text says so. Only requests with a body
// (EC2 and DynamoDB POSTs, not S3 GetObject) and a response not read whole
// with its headers are exposed; it shows when the client's goroutines are
// starved, as under many parallel tests, and not in a quiet run.
func closeMidBodyRaced(op string) *shape {
	if op == "s3:GetObject" {
		return nil
	}
	return &shape{Operation: true, MaxAttempts: true, NetOp: "read", Closed: true, Deserialization: true, Status: 200}
}

var faultCases = []faultCase{
	{
		name:  "reset",
		reply: awsfake.Reply{Fault: awsfake.FaultReset},
		text:  "read: connection reset by peer",
		want: func(op string) shape {
			return shape{Operation: true, MaxAttempts: true, ConnectionError: true, URLOp: method(op),
				NetOp: "read", Syscall: "read", Reset: true, Status: 0}
		},
		retried: true,
	},
	{
		name:  "close before response",
		reply: awsfake.Reply{Fault: awsfake.FaultClose},
		text:  `": EOF`,
		want: func(op string) shape {
			return shape{Operation: true, MaxAttempts: true, ConnectionError: true, URLOp: method(op), EOF: true, Status: 0}
		},
		retried: true,
	},
	{
		name:  "close mid-body",
		reply: awsfake.Reply{Fault: awsfake.FaultCloseMidBody},
		text:  "unexpected EOF",
		want: func(op string) shape {
			if op == "s3:GetObject" {
				// GetObject succeeds; reading the body fails.
				return shape{UnexpectedEOF: true, Status: -1}
			}
			return shape{Operation: true, Deserialization: true, UnexpectedEOF: true, Status: 200}
		},
		retried: false,
		raced:   closeMidBodyRaced,
	},
	{
		name:        "hang until the call's context is done",
		reply:       awsfake.Reply{Fault: awsfake.FaultHang},
		callTimeout: 200 * time.Millisecond,
		text:        "canceled, context deadline exceeded",
		want: func(op string) shape {
			return shape{Operation: true, Canceled: true, Deadline: true, Timeout: true, Temporary: true, Status: 0}
		},
		retried: false,
	},
	{
		name:        "hang until the HTTP client times out",
		reply:       awsfake.Reply{Fault: awsfake.FaultHang},
		httpTimeout: 100 * time.Millisecond,
		text:        `request send failed, `,
		want: func(op string) shape {
			return shape{Operation: true, MaxAttempts: true, ConnectionError: true, URLOp: method(op),
				Timeout: true, Temporary: true, Deadline: true, Status: 0}
		},
		retried: true,
	},
	{
		name:    "refused",
		refused: true,
		text:    "connect: connection refused",
		want: func(op string) shape {
			return shape{Operation: true, MaxAttempts: true, ConnectionError: true, URLOp: method(op),
				NetOp: "dial", Syscall: "connect", Refused: true, Status: 0}
		},
		retried: true,
	},
}

// setUp brings tc's fault about for op's next request. For a refusal it
// stops the server; TestFaultsWithTheSDKDefaultRetryer restarts it when the
// SDK retries.
func (tc faultCase) setUp(srv *awsfake.Server, op string) {
	if tc.refused {
		srv.Stop()
		return
	}
	srv.Script(op, tc.reply)
}

func (tc faultCase) config(url string) aws.Config {
	cfg := awsfake.Config(url)
	if tc.httpTimeout > 0 {
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(tc.httpTimeout)
	}
	return cfg
}

func (tc faultCase) fetch(c awsfake.Clients, op string) error {
	ctx := context.Background()
	if tc.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tc.callTimeout)
		defer cancel()
	}
	return c.Call(ctx, op)
}

// TestFaultsWithOneSDKAttempt records the error chain each fault gives
// each protocol's client when the SDK makes a single attempt, as under
// awsretry.
func TestFaultsWithOneSDKAttempt(t *testing.T) {
	eachFault(t, func(t *testing.T, tc faultCase, op string, srv *awsfake.Server) {
		c := awsfake.NewClients(tc.config(srv.URL))
		tc.setUp(srv, op)

		err := tc.fetch(c, op)
		if err == nil {
			t.Fatal("call succeeded, want the fault's error")
		}
		t.Logf("error chain:\n%s", chain(err))
		want := 1
		if tc.refused {
			want = 0
		}
		if got := srv.Calls(op); got != want {
			t.Errorf("server saw %d requests, want %d", got, want)
		}
		got := shapeOf(err)
		if tc.raced != nil && tc.raced(op) != nil && got == *tc.raced(op) {
			t.Logf("net/http closed the connection first (see closeMidBodyRaced)")
			return
		}
		if want := tc.want(op); got != want {
			t.Errorf("error shape\n got %+v\nwant %+v", got, want)
		}
		if !strings.Contains(err.Error(), tc.text) {
			t.Errorf("error %q does not say %q", err, tc.text)
		}
		if tc.name == "close mid-body" && op == "s3:GetObject" && err != io.ErrUnexpectedEOF {
			t.Errorf("reading the S3 body failed with %#v, want io.ErrUnexpectedEOF itself", err)
		}
	})
}

// eachFault runs test, in parallel, for each fault case and operation, with
// a server of its own.
func eachFault(t *testing.T, test func(t *testing.T, tc faultCase, op string, srv *awsfake.Server)) {
	for _, tc := range faultCases {
		for _, op := range awsfake.FaultOps {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				t.Parallel()
				srv := awsfake.NewServer()
				defer srv.Close()
				test(t, tc, op, srv)
			})
		}
	}
}

// TestFaultsWithTheSDKDefaultRetryer records whether the SDK's own retryer
// retries a single fault and then succeeds.
func TestFaultsWithTheSDKDefaultRetryer(t *testing.T) {
	eachFault(t, func(t *testing.T, tc faultCase, op string, srv *awsfake.Server) {
		var retried []error
		c := awsfake.NewClients(sdkRetrying(tc.config(srv.URL), func(err error) {
			retried = append(retried, err)
			if tc.refused {
				if err := srv.Restart(); err != nil {
					t.Errorf("Restart: %v", err)
				}
			}
		}))
		tc.setUp(srv, op)

		err := tc.fetch(c, op)
		requests := srv.Calls(op)
		if tc.raced != nil && tc.raced(op) != nil && len(retried) == 1 && errors.Is(retried[0], net.ErrClosed) {
			t.Logf("net/http closed the connection first (see closeMidBodyRaced)")
			if err != nil || requests != 2 {
				t.Errorf("err %v after %d requests, want success after 2", err, requests)
			}
			return
		}
		if !tc.retried {
			if err == nil || len(retried) != 0 || requests != 1 {
				for _, e := range retried {
					t.Logf("retried on:\n%s", chain(e))
				}
				t.Fatalf("err %v after %d retries and %d requests; want the fault's error, no retry, 1 request", err, len(retried), requests)
			}
			if got, want := shapeOf(err), tc.want(op); got != want {
				t.Errorf("error shape\n got %+v\nwant %+v", got, want)
			}
			return
		}
		want := 2 // the fault, then success
		if tc.refused {
			want = 1 // the refused dial never reached the server
		}
		if err != nil || len(retried) != 1 || requests != want {
			t.Fatalf("err %v after %d retries and %d requests; want success after 1 retry and %d requests", err, len(retried), requests, want)
		}
		if !strings.Contains(retried[0].Error(), tc.text) {
			t.Errorf("retried on %q, want an error saying %q", retried[0], tc.text)
		}
	})
}

// skewCodes are the codes each protocol answers a request signed at a time
// too far from the server's with.
var skewCodes = []struct {
	op     string
	status int
	code   string
}{
	{"ec2:DescribeInstances", 401, "AuthFailure"},
	{"dynamodb:GetItem", 400, "InvalidSignatureException"},
	{"s3:GetObject", 403, "RequestTimeTooSkewed"},
}

// near reports whether got is within a few seconds of want: signing times
// have a resolution of a second.
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -3*time.Second && d < 3*time.Second
}

// TestClockSkew checks that a signature-time error from a server whose
// clock is 10 minutes off is a retryable clock-skew error, and that the
// client signs its next request with the server's time.
func TestClockSkew(t *testing.T) {
	for _, sc := range skewCodes {
		for _, offset := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
			t.Run(fmt.Sprintf("%s/%v", sc.op, offset), func(t *testing.T) {
				srv := awsfake.NewServer()
				defer srv.Close()
				c := newClients(srv.URL)
				srv.Script(sc.op, awsfake.Reply{Status: sc.status, Code: sc.code, Message: "Signature expired", DateOffset: offset})

				err := c.Call(context.Background(), sc.op)
				t.Logf("error chain:\n%s", chain(err))
				var v interface{ RetryableError() bool }
				if !errors.As(err, &v) || !v.RetryableError() {
					t.Fatalf("err %v is not a retryable error", err)
				}
				want := shape{Operation: true, MaxAttempts: true, Retryable: true, Status: sc.status, Code: sc.code}
				if got := shapeOf(err); got != want {
					t.Errorf("error shape\n got %+v\nwant %+v", got, want)
				}
				if !strings.Contains(err.Error(), "Probable clock skew error: ") {
					t.Errorf("error %q is not the SDK's clock skew error", err)
				}

				// The next call is signed with the server's time; its answer,
				// dated now, heals the skew for the one after.
				if err := c.Call(context.Background(), sc.op); err != nil {
					t.Fatal(err)
				}
				if err := c.Call(context.Background(), sc.op); err != nil {
					t.Fatal(err)
				}
				now := time.Now()
				signed := srv.SigningTimes(sc.op)
				if len(signed) != 3 || !near(signed[0], now) || !near(signed[1], now.Add(offset)) || !near(signed[2], now) {
					t.Errorf("requests signed at %v; want now, now%+v, now (now is %v)", signed, offset, now.UTC())
				}
			})
		}
	}
}

// TestClockSkewWithTheSDKDefaultRetryer: the SDK's retryer retries the
// clock-skew error with a request signed with the server's time.
func TestClockSkewWithTheSDKDefaultRetryer(t *testing.T) {
	for _, sc := range skewCodes {
		t.Run(sc.op, func(t *testing.T) {
			srv := awsfake.NewServer()
			defer srv.Close()
			var retried []error
			c := awsfake.NewClients(sdkRetrying(awsfake.Config(srv.URL), func(err error) { retried = append(retried, err) }))
			srv.Script(sc.op, awsfake.Reply{Status: sc.status, Code: sc.code, DateOffset: 10 * time.Minute})

			if err := c.Call(context.Background(), sc.op); err != nil || len(retried) != 1 {
				t.Fatalf("err %v after %d retries, want success after 1", err, len(retried))
			}
			now := time.Now()
			if signed := srv.SigningTimes(sc.op); len(signed) != 2 || !near(signed[0], now) || !near(signed[1], now.Add(10*time.Minute)) {
				t.Errorf("attempts signed at %v; want now, now+10m (now is %v)", signed, now.UTC())
			}
		})
	}
}

// TestSmallClockSkew: a signature-time error dated within the SDK's 4
// minute threshold is no clock-skew error, and not retryable; the SDK
// still signs the next request with the server's time.
func TestSmallClockSkew(t *testing.T) {
	for _, sc := range skewCodes {
		t.Run(sc.op, func(t *testing.T) {
			srv := awsfake.NewServer()
			defer srv.Close()
			c := newClients(srv.URL)
			srv.Script(sc.op, awsfake.Reply{Status: sc.status, Code: sc.code, DateOffset: time.Minute})

			err := c.Call(context.Background(), sc.op)
			want := shape{Operation: true, Status: sc.status, Code: sc.code}
			if got := shapeOf(err); got != want {
				t.Errorf("error shape\n got %+v\nwant %+v\n%s", got, want, chain(err))
			}
			if err := c.Call(context.Background(), sc.op); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			if signed := srv.SigningTimes(sc.op); len(signed) != 2 || !near(signed[0], now) || !near(signed[1], now.Add(time.Minute)) {
				t.Errorf("requests signed at %v; want now, now+1m (now is %v)", signed, now.UTC())
			}
		})
	}
}

// TestHTML429 checks a proxy's HTML 429 page through each protocol.
func TestHTML429(t *testing.T) {
	for _, tc := range []struct {
		op   string
		want shape
	}{
		// EC2 makes up the code UnknownError, S3 the status text; the JSON
		// protocol fails to decode the page and has no API error at all.
		{"ec2:DescribeInstances", shape{Operation: true, MaxAttempts: true, Status: 429, Code: "UnknownError"}},
		{"dynamodb:GetItem", shape{Operation: true, MaxAttempts: true, Deserialization: true, Status: 429}},
		{"s3:GetObject", shape{Operation: true, MaxAttempts: true, Status: 429, Code: "TooManyRequests"}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			srv := awsfake.NewServer()
			defer srv.Close()
			page := awsfake.Reply{Status: 429, Body: "<html><body><h1>429 Too Many Requests</h1></body></html>"}

			srv.Script(tc.op, page)
			err := newClients(srv.URL).Call(context.Background(), tc.op)
			t.Logf("error chain:\n%s", chain(err))
			if got := shapeOf(err); got != tc.want {
				t.Errorf("error shape\n got %+v\nwant %+v", got, tc.want)
			}

			var retried []error
			srv.Script(tc.op, page)
			c := awsfake.NewClients(sdkRetrying(awsfake.Config(srv.URL), func(err error) { retried = append(retried, err) }))
			if err := c.Call(context.Background(), tc.op); err != nil || len(retried) != 1 {
				t.Errorf("SDK retryer: err %v after %d retries, want success after 1", err, len(retried))
			}
		})
	}
}

// TestStopRestart checks that a stopped server refuses connections on its
// address and serves again on it after Restart.
func TestStopRestart(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "ec2:DescribeInstances"
	if err := newClients(srv.URL).Call(context.Background(), op); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	srv.Stop() // stopping a stopped server does nothing
	if err := newClients(srv.URL).Call(context.Background(), op); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("stopped: err %v, want ECONNREFUSED", err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // restarting a listening server does nothing
		t.Fatal(err)
	}
	if err := newClients(srv.URL).Call(context.Background(), op); err != nil {
		t.Fatalf("restarted: %v", err)
	}
	if got := srv.Calls(op); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}

	srv.Close()
	if err := srv.Restart(); err == nil {
		t.Error("Restart of a closed server succeeded")
	}
}

// TestStopEndsAHang checks that stopping the server ends a hanging
// request: the client sees its connection closed before any response.
func TestStopEndsAHang(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "dynamodb:GetItem"
	replied := make(chan string, 1)
	srv.OnReply = func(_ string, _ int, code string) { replied <- code }
	srv.Script(op, awsfake.Reply{Fault: awsfake.FaultHang})

	done := make(chan error, 1)
	go func() { done <- newClients(srv.URL).Call(context.Background(), op) }()
	if code := <-replied; code != string(awsfake.FaultHang) {
		t.Errorf("OnReply code %q, want %q", code, awsfake.FaultHang)
	}
	srv.Stop()
	err := <-done
	want := shape{Operation: true, MaxAttempts: true, ConnectionError: true, URLOp: "Post", EOF: true, Status: 0}
	if got := shapeOf(err); got != want {
		t.Errorf("error shape\n got %+v\nwant %+v\n%s", got, want, chain(err))
	}
}

// TestSuccessWithOptions: a reply with no status and no fault succeeds,
// with its headers.
func TestSuccessWithOptions(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	const op = "s3:GetObject"
	srv.Script(op, awsfake.Reply{DateOffset: 10 * time.Minute})
	c := newClients(srv.URL)
	if err := c.Call(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	// The SDK took the skew from the successful answer's Date.
	if err := c.Call(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if signed := srv.SigningTimes(op); len(signed) != 2 || !near(signed[1], now.Add(10*time.Minute)) {
		t.Errorf("requests signed at %v; want now, now+10m (now is %v)", signed, now.UTC())
	}
}
