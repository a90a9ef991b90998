// Package awsfake is a local AWS-compatible endpoint for tests and demos:
// an http.Handler that speaks enough of three AWS protocols for the real
// aws-sdk-go-v2 clients to talk to it, and answers with genuine AWS error
// documents when a test scripts them.
//
//   - EC2 Query (form-encoded POST, XML answers): RunInstances,
//     DescribeInstances, CreateTags. Errors are
//     <Response><Errors><Error><Code>...</Code>... documents.
//   - JSON 1.0 as DynamoDB uses it (X-Amz-Target header): GetItem, PutItem.
//     Errors carry "__type".
//   - REST-XML as S3 uses it, path-style: GetObject (GET), PutObject (PUT),
//     HeadObject (HEAD). Errors are <Error><Code>... documents.
//
// Each operation, named "ec2:DescribeInstances", "dynamodb:GetItem",
// "s3:GetObject" and so on, answers with its scripted replies in order, then
// succeeds. Request ids are numbered, so tests can assert them.
//
// Besides error documents a scripted reply can be a fault of the connection
// itself (see Fault): a TCP reset, a connection closed before any response,
// a body cut short, a server that never answers. A Server can also stop
// listening and listen again on the same address (Stop, Restart), so that a
// client's dial is refused by the kernel, and a reply can carry a skewed
// Date header (Reply.DateOffset) while the handler records when each request
// was signed (SigningTimes).
package awsfake

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// InstanceID is the id of the instance RunInstances launches.
const InstanceID = "i-0123456789abcdef0"

// SigningTimeFormat is the layout of the X-Amz-Date header a SigV4 signed
// request carries.
const SigningTimeFormat = "20060102T150405Z"

// Fault is a failure of the connection rather than an HTTP answer. A Reply
// with a Fault answers nothing else: its Status, Code, Message and Body are
// ignored.
type Fault string

const (
	// FaultReset closes the connection with a TCP RST (SO_LINGER 0) after
	// reading the request and before writing any byte of a response. The
	// client's read fails with ECONNRESET ("connection reset by peer").
	FaultReset Fault = "reset"
	// FaultClose closes the connection normally (a FIN) after reading the
	// request and before writing any byte of a response, as a server or
	// proxy closing a keep-alive connection does. The client's read gets
	// io.EOF.
	FaultClose Fault = "close"
	// FaultCloseMidBody answers status 200 with the operation's success
	// headers and a Content-Length of its whole success body, writes the
	// first half of that body, then closes the connection (a FIN, not a
	// reset). The client gets the status and headers, and reading the body
	// fails with io.ErrUnexpectedEOF. Reply.Header and Reply.DateOffset
	// apply to the headers.
	FaultCloseMidBody Fault = "close-mid-body"
	// FaultHang sends nothing at all, not even a status line, until the
	// client gives up and closes the connection (its context is done, or
	// its HTTP timeout fires) or the server closes the connection (Stop,
	// Close). The handler then returns at once.
	FaultHang Fault = "hang"
)

// Reply is one scripted answer.
type Reply struct {
	// Status is the HTTP status. A Reply with neither Status nor Fault
	// answers the operation's success, with Header and DateOffset applied.
	Status int
	// Code is the AWS error code put into the protocol's error document.
	Code string
	// Message is the error document's message.
	Message string
	// Body, when set, replaces the error document: a load balancer's HTML
	// page, for instance.
	Body string
	// Header holds extra response headers (x-amz-retry-after, Retry-After).
	Header http.Header
	// RetryAfterDate, when positive, sets Retry-After to an HTTP date that
	// far after the response's Date header.
	RetryAfterDate time.Duration
	// DateOffset, when not zero, sets the response's Date header that far
	// from now: a server whose clock is ahead (positive) or behind
	// (negative) the client's. With the code a protocol uses for a
	// signature-time problem (EC2 AuthFailure 401, DynamoDB
	// InvalidSignatureException 400, S3 RequestTimeTooSkewed 403) and an
	// offset beyond the SDK's threshold (4 minutes), aws-sdk-go-v2 reports a
	// retryable clock-skew error and signs the client's next requests with
	// the corrected time.
	DateOffset time.Duration
	// Fault, when set, makes this reply a failure of the connection; see
	// Fault.
	Fault Fault
}

// Handler is the endpoint. Its zero value is not usable; make one with
// NewHandler. It is safe for concurrent use.
type Handler struct {
	mu       sync.Mutex
	scripts  map[string][]Reply
	calls    map[string]int
	signed   map[string][]time.Time
	requests int
	// OnReply, when set, is called with each operation's name and the
	// status answered, for a demo's narration. For a Fault reply status is
	// 0 and code is the fault's name.
	OnReply func(op string, status int, code string)
}

// NewHandler returns an endpoint with no scripted replies: every call
// succeeds.
func NewHandler() *Handler {
	return &Handler{scripts: map[string][]Reply{}, calls: map[string]int{}, signed: map[string][]time.Time{}}
}

// Script appends replies for op, answered in order before it succeeds.
func (h *Handler) Script(op string, replies ...Reply) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scripts[op] = append(h.scripts[op], replies...)
}

// Calls returns the number of requests op has received.
func (h *Handler) Calls(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[op]
}

// SigningTimes returns the signing time of each request op has received, in
// order: its X-Amz-Date header (SigningTimeFormat), in UTC. A request
// without a valid X-Amz-Date has the zero time.
func (h *Handler) SigningTimes(op string) []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.signed[op]...)
}

// next records a call of op signed at signed and returns its next scripted
// reply, if any, and a fresh request id.
func (h *Handler) next(op string, signed time.Time) (Reply, bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[op]++
	h.signed[op] = append(h.signed[op], signed)
	h.requests++
	id := fmt.Sprintf("req-%04d", h.requests)
	script := h.scripts[op]
	if len(script) == 0 {
		return Reply{}, false, id
	}
	h.scripts[op] = script[1:]
	return script[0], true, id
}

// writeFunc writes an operation's answer: its error document when failed,
// else its success.
type writeFunc func(w http.ResponseWriter, reply Reply, failed bool, id string)

// ServeHTTP answers one AWS request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var op string
	var write writeFunc
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."):
		operation := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		op = "dynamodb:" + operation
		write = func(w http.ResponseWriter, reply Reply, failed bool, id string) {
			h.dynamodb(w, operation, reply, failed, id)
		}
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		action := r.PostForm.Get("Action")
		op = "ec2:" + action
		write = func(w http.ResponseWriter, reply Reply, failed bool, id string) {
			h.ec2(w, action, reply, failed, id)
		}
	default:
		method := r.Method
		operation := map[string]string{http.MethodGet: "GetObject", http.MethodPut: "PutObject", http.MethodHead: "HeadObject"}[method]
		if operation == "" {
			operation = method
		}
		op = "s3:" + operation
		write = func(w http.ResponseWriter, reply Reply, failed bool, id string) {
			h.s3(w, method, reply, failed, id)
		}
	}

	signed, err := time.Parse(SigningTimeFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		signed = time.Time{}
	}
	reply, scripted, id := h.next(op, signed)
	failed := scripted && reply.Fault == "" && reply.Status != 0
	if h.OnReply != nil {
		switch {
		case scripted && reply.Fault != "":
			h.OnReply(op, 0, string(reply.Fault))
		case failed:
			h.OnReply(op, reply.Status, reply.Code)
		default:
			h.OnReply(op, http.StatusOK, "")
		}
	}
	if !scripted {
		write(w, Reply{}, false, id)
		return
	}
	switch reply.Fault {
	case "":
		setHeaders(w, reply)
		write(w, reply, failed, id)
	case FaultReset:
		hijackAndClose(w, true)
	case FaultClose:
		hijackAndClose(w, false)
	case FaultCloseMidBody:
		setHeaders(w, reply)
		closeMidBody(w, func(w http.ResponseWriter) { write(w, Reply{}, false, id) })
	case FaultHang:
		// The server cancels the request's context when the client closes
		// the connection, or the server closes it.
		<-r.Context().Done()
	default:
		panic(fmt.Sprintf("awsfake: unknown fault %q", reply.Fault))
	}
}

// setHeaders sets a scripted reply's extra headers.
func setHeaders(w http.ResponseWriter, reply Reply) {
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if reply.DateOffset != 0 || reply.RetryAfterDate > 0 {
		date := time.Now().UTC().Add(reply.DateOffset).Truncate(time.Second)
		w.Header().Set("Date", date.Format(http.TimeFormat))
		if reply.RetryAfterDate > 0 {
			w.Header().Set("Retry-After", date.Add(reply.RetryAfterDate).Format(http.TimeFormat))
		}
	}
}

// hijackAndClose closes the request's connection without a response: with
// a TCP RST when rst, else with a FIN.
func hijackAndClose(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not a hijackable HTTP/1 connection: abort the response instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// closeMidBody answers with the success write produces, cut in half, and
// closes the connection.
func closeMidBody(w http.ResponseWriter, write func(http.ResponseWriter)) {
	rec := &recorder{header: w.Header()}
	write(rec)
	full := rec.body.Bytes()
	w.Header().Set("Content-Length", strconv.Itoa(len(full)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(full[:len(full)/2])
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// recorder is a ResponseWriter that keeps the body; headers go to the real
// response's.
type recorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) WriteHeader(int)             {}

func (h *Handler) ec2(w http.ResponseWriter, action string, reply Reply, failed bool, id string) {
	if failed {
		if writeBody(w, reply) {
			return
		}
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(reply.Status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			escape(reply.Code), escape(reply.Message), id)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	const instance = `<item><instanceId>` + InstanceID + `</instanceId><imageId>ami-0abcdef1234567890</imageId>` +
		`<instanceState><code>%d</code><name>%s</name></instanceState><instanceType>t3.micro</instanceType></item>`
	switch action {
	case "RunInstances":
		fmt.Fprintf(w, `<RunInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId>`+
			`<reservationId>r-0123456789abcdef0</reservationId><ownerId>123456789012</ownerId><instancesSet>`+instance+
			`</instancesSet></RunInstancesResponse>`, id, 0, "pending")
	case "DescribeInstances":
		fmt.Fprintf(w, `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId>`+
			`<reservationSet><item><reservationId>r-0123456789abcdef0</reservationId><instancesSet>`+instance+
			`</instancesSet></item></reservationSet></DescribeInstancesResponse>`, id, 16, "running")
	default: // CreateTags and other actions that return true
		fmt.Fprintf(w, `<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId>`+
			`<return>true</return></%sResponse>`, action, id, action)
	}
}

func (h *Handler) dynamodb(w http.ResponseWriter, operation string, reply Reply, failed bool, id string) {
	w.Header().Set("X-Amzn-Requestid", id)
	if failed && writeBody(w, reply) {
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if failed {
		w.WriteHeader(reply.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"__type":  "com.amazonaws.dynamodb.v20120810#" + reply.Code,
			"message": reply.Message,
		})
		return
	}
	switch operation {
	case "GetItem":
		io.WriteString(w, `{"Item":{"id":{"S":"1"},"name":{"S":"awsretry"}}}`)
	default:
		io.WriteString(w, `{}`)
	}
}

func (h *Handler) s3(w http.ResponseWriter, method string, reply Reply, failed bool, id string) {
	w.Header().Set("X-Amz-Request-Id", id)
	w.Header().Set("X-Amz-Id-2", "host-"+id)
	if failed {
		if writeBody(w, reply) {
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(reply.Status)
		if method != http.MethodHead {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>host-%s</HostId></Error>`,
				escape(reply.Code), escape(reply.Message), id, id)
		}
		return
	}
	if method == http.MethodGet {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from awsfake\n")
	}
}

// writeBody writes a reply's raw body, a proxy's page in place of an AWS
// error document, and reports whether it had one.
func writeBody(w http.ResponseWriter, reply Reply) bool {
	if reply.Body == "" {
		return false
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(reply.Status)
	io.WriteString(w, reply.Body)
	return true
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Server is a Handler listening on a loopback port. Its address stays the
// same across Stop and Restart.
type Server struct {
	*Handler
	// URL is the endpoint's base URL, for a client's BaseEndpoint.
	URL string

	addr *net.TCPAddr

	mu      sync.Mutex // held by Stop, Restart and Close throughout
	srv     *http.Server
	l       net.Listener    // srv's
	wg      *sync.WaitGroup // srv's Serve loop, connections and handlers
	release func() error    // releases the port Stop holds
	closed  bool
}

// NewServer starts a Handler on a loopback port. Close it when done.
func NewServer() *Server {
	l, err := listenConfig.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = listenConfig.Listen(context.Background(), "tcp6", "[::1]:0"); err != nil {
			panic(fmt.Sprintf("awsfake: failed to listen on a loopback port: %v", err))
		}
	}
	s := &Server{Handler: NewHandler(), URL: "http://" + l.Addr().String(), addr: l.Addr().(*net.TCPAddr)}
	s.serve(l)
	return s
}

// serve serves s.Handler on l; s.mu is held or s is not yet shared.
func (s *Server) serve(l net.Listener) {
	wg := new(sync.WaitGroup)
	srv := &http.Server{
		// Count handlers too: a hijacked connection is done before its
		// handler returns. A handler starts on a counted connection.
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			wg.Add(1)
			defer wg.Done()
			s.Handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: time.Minute,
		// Count connections as httptest does, so that Stop can wait for
		// them: StateNew is reported from the Serve loop, which is itself
		// counted, before the connection's goroutine starts.
		ConnState: func(_ net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				wg.Add(1)
			case http.StateHijacked, http.StateClosed:
				wg.Done()
			}
		},
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(l)
	}()
	s.srv, s.l, s.wg = srv, l, wg
}

// Stop stops listening and closes every connection, and returns when
// their handlers have returned (a FaultHang in progress ends). The address
// is kept: until Restart, a client's dial of it is refused by the kernel
// (ECONNREFUSED). On Linux and macOS the port stays bound, not listening,
// so that no other listener takes it meanwhile. A client with a pooled
// connection notices its close asynchronously; a request that races with
// that notice may fail differently, so a test of refusals uses a client
// with no open connection. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	// Hold the port before the listener lets it go, or else right after.
	release, err := holdPort(s.addr)
	_ = s.l.Close()
	if err != nil {
		release, err = holdPort(s.addr)
	}
	if err == nil {
		s.release = release
	}
	s.stopLocked()
}

func (s *Server) stopLocked() {
	_ = s.srv.Close()
	s.wg.Wait()
	s.srv, s.l, s.wg = nil, nil, nil
}

// Restart listens again on the address Stop released, with the same
// Handler and its scripts and counts. It fails when the server is closed,
// or when the address could not be held and was taken meanwhile; on a
// listening server it does nothing.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("awsfake: Restart of a closed Server")
	}
	if s.srv != nil {
		return nil
	}
	// Listen while the port is held, or else right after releasing it.
	l, err := listenConfig.Listen(context.Background(), "tcp", s.addr.String())
	s.releasePort()
	if err != nil {
		l, err = listenConfig.Listen(context.Background(), "tcp", s.addr.String())
	}
	if err != nil {
		return fmt.Errorf("awsfake: listen again on %s: %w", s.addr, err)
	}
	s.serve(l)
	return nil
}

// releasePort releases the port Stop holds, if it does.
func (s *Server) releasePort() {
	if s.release != nil {
		_ = s.release()
		s.release = nil
	}
}

// Close stops the server for good: it releases the port and closes every
// connection, and returns when their handlers have returned.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.srv != nil {
		s.stopLocked()
	}
	s.releasePort()
}

// Config returns an aws.Config for the endpoint at url: static credentials,
// region us-east-1, and the SDK's own retryer limited to a single attempt,
// so that every retry a test sees is awsretry's.
func Config(url string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	}
}

// EC2 returns an EC2 client of cfg.
func EC2(cfg aws.Config) *ec2.Client { return ec2.NewFromConfig(cfg) }

// DynamoDB returns a DynamoDB client of cfg.
func DynamoDB(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) }

// S3 returns an S3 client of cfg, addressing buckets by path as the
// endpoint expects.
func S3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}
