// Package awsfake is a local AWS-compatible endpoint for tests and demos:
// an http.Handler that speaks enough of three AWS protocols for the real
// aws-sdk-go-v2 clients to talk to it, and answers with genuine AWS error
// documents when a test scripts them.
//
//   - EC2 Query (form-encoded POST, XML answers): RunInstances,
//     DescribeInstances, CreateTags. Errors are
//     <Response><Errors><Error><Code>...</Code>... documents.
//   - JSON 1.0 as DynamoDB uses it (X-Amz-Target header): GetItem, PutItem,
//     UpdateItem, TransactWriteItems. Errors carry "__type".
//   - REST-XML as S3 uses it, path-style: GetObject (GET), PutObject (PUT),
//     HeadObject (HEAD). Errors are <Error><Code>... documents.
//
// Each operation, named "ec2:DescribeInstances", "dynamodb:GetItem",
// "s3:GetObject" and so on, answers with its scripted replies in order, then
// succeeds. Request ids are numbered, so tests can assert them.
//
// The endpoint keeps the state that makes a retried write visible, as the
// real services would:
//
//   - EC2 RunInstances launches instances (MaxCount of them, or 1), each
//     with an id of its own; the first a Handler launches is InstanceID.
//     It honours ClientToken as EC2 does: a token seen before, with the
//     same parameters, answers the original launch again and launches
//     nothing; with other parameters it fails with
//     IdempotentParameterMismatch. DescribeInstances answers for the ids it
//     is asked about, running.
//   - DynamoDB TransactWriteItems honours ClientRequestToken the same way
//     (IdempotentParameterMismatchException). PutItem and UpdateItem have
//     no token: each request applies once more.
//   - S3 GetObject serves an object of a settable size (SetObject), in
//     flushed chunks, so that a large body streams.
//
// Applied tells how many instances were launched and how many writes
// applied, so that a test can see a retry that created a second resource.
// A scripted failure does nothing unless it says so (Reply.AfterActing): a
// service that did the work and then failed to say so.
//
// Besides error documents a scripted reply can be a fault of the connection
// itself (see Fault): a TCP reset, a connection closed before any response,
// a body cut short or stalled, a server that never answers; and it can be
// slow (Reply.Delay). A Server can also stop listening and listen again on
// the same address (Stop, Restart), so that a client's dial is refused by
// the kernel, and a reply can carry a skewed Date header (Reply.DateOffset)
// while the handler records when each request was signed (SigningTimes).
package awsfake

import (
	"bytes"
	"context"
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

// InstanceID is the id of the first instance a Handler launches (the demo
// and the tests launch one). Later ones count up from it in hexadecimal:
// i-0123456789abcdef1, i-0123456789abcdef2, and so on.
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
	// apply to the headers. A 200 says the service did the work, so the
	// operation always acts first, as for Reply.AfterActing; should it
	// reject the request instead (a reused idempotency token with other
	// parameters), its error answer is the one cut in half.
	FaultCloseMidBody Fault = "close-mid-body"
	// FaultStallBody starts as FaultCloseMidBody does (status 200, the
	// success headers, the whole body's Content-Length, its first half,
	// and the operation acts), then sends nothing more until the client
	// gives up and closes the connection or the server closes it (Stop,
	// Close): FaultHang after the headers. For S3 GetObject the call
	// succeeds and the caller's read of the body stalls; for the other
	// operations the SDK reads the body inside the call, so the call
	// stalls.
	FaultStallBody Fault = "stall-body"
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
	// AfterActing makes the operation act before it fails: it launches its
	// instances and remembers its ClientToken, or applies its write, as a
	// success would, and then answers with the failure (Status and Code,
	// or Fault). It is the service that did the work but whose answer was
	// lost: a retry with a new idempotency token, or of a write no token
	// protects, does it twice. Without it a scripted error or connection
	// fault does nothing, except FaultCloseMidBody and FaultStallBody,
	// which always act.
	AfterActing bool
	// Delay, when positive, holds the answer (a success, an error
	// document or a fault) back that long: a slow service. The operation
	// acts when the request arrives, before the delay. A client that gives
	// up meanwhile gets nothing: the handler returns as soon as the
	// connection closes.
	Delay time.Duration
}

// acts reports whether the operation performs its effect for reply: when
// the reply is a success, or a 200 whose body goes wrong, or says so.
func (reply Reply) acts() bool {
	switch {
	case reply.AfterActing, reply.Fault == FaultCloseMidBody, reply.Fault == FaultStallBody:
		return true
	default:
		return reply.Fault == "" && reply.Status == 0
	}
}

// Handler is the endpoint. Its zero value is not usable; make one with
// NewHandler. It is safe for concurrent use.
type Handler struct {
	mu       sync.Mutex
	scripts  map[string][]Reply
	calls    map[string]int
	signed   map[string][]time.Time
	requests int
	applied  map[string]int // by operation; see Applied
	left     map[string]int // by operation; see Abandoned

	// EC2: every instance launched, in order, and each RunInstances
	// ClientToken's launch.
	instances    []instance
	reservations int
	launches     map[string]launch
	// DynamoDB: each TransactWriteItems ClientRequestToken's request, in
	// canonical form.
	transactions map[string]string
	// S3: the size of the object GetObject answers with, in bytes.
	objectSize int

	// OnReply, when set, is called with each operation's name and the
	// status answered, for a demo's narration. For a Fault reply status is
	// 0 and code is the fault's name. It is called when the answer is
	// given, after Reply.Delay, and not for a client that left during
	// the delay.
	OnReply func(op string, status int, code string)
}

// NewHandler returns an endpoint with no scripted replies (every call
// succeeds), no instance launched, no write applied, and the 19-byte
// object "hello from awsfake\n".
func NewHandler() *Handler {
	return &Handler{
		scripts:      map[string][]Reply{},
		calls:        map[string]int{},
		signed:       map[string][]time.Time{},
		applied:      map[string]int{},
		left:         map[string]int{},
		launches:     map[string]launch{},
		transactions: map[string]string{},
		objectSize:   len(objectText),
	}
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

// Abandoned returns the number of requests of op whose client closed the
// connection (or whose server closed) while their answer was delayed
// (Reply.Delay): a hedge's loser, an attempt cut off by its deadline.
func (h *Handler) Abandoned(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.left[op]
}

// Applied returns how much op has done, so that a test can tell a retry
// that repeated a write from one that did not: for "ec2:RunInstances" the
// number of instances launched (a request with MaxCount 3 launches 3), for
// "dynamodb:PutItem", "dynamodb:UpdateItem" and
// "dynamodb:TransactWriteItems" the number of writes applied. A request
// answered from its idempotency token's first request does nothing and
// counts nothing, and so does a rejected one. Other operations do nothing:
// 0.
func (h *Handler) Applied(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.applied[op]
}

// SetObject sets the size, in bytes, of the object S3 GetObject answers
// with (any bucket and key), for a test of a body larger than a client's
// buffers: its content is Object(size). It panics when size is negative.
// On loopback the kernel's socket buffers can hold a few MiB, so a 1 MiB
// body may have arrived whole by the time the caller reads it; for a body
// that certainly has not, use FaultStallBody.
func (h *Handler) SetObject(size int) {
	if size < 0 {
		panic(fmt.Sprintf("awsfake: SetObject(%d): negative size", size))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.objectSize = size
}

// objectText is the object's content, repeated.
const objectText = "hello from awsfake\n"

// Object returns the content of an object of size bytes, as GetObject
// serves it after SetObject(size): "hello from awsfake\n" repeated, and
// cut at size bytes. A new Handler's object is Object(19), one line.
func Object(size int) []byte {
	return bytes.Repeat([]byte(objectText), size/len(objectText)+1)[:size]
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
// reply (the zero Reply, a success, when none is left) and a fresh request
// id.
func (h *Handler) next(op string, signed time.Time) (Reply, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[op]++
	h.signed[op] = append(h.signed[op], signed)
	h.requests++
	id := fmt.Sprintf("req-%04d", h.requests)
	script := h.scripts[op]
	if len(script) == 0 {
		return Reply{}, id
	}
	h.scripts[op] = script[1:]
	return script[0], id
}

// operation is one request, routed to its protocol.
type operation struct {
	// name is the operation's name, as Script takes it: "ec2:RunInstances".
	name string
	// act performs the request's effect, if it has one, and returns its
	// answer: a success, or the service's rejection of the request.
	act func(id string) answer
	// fail returns the protocol's answer to a scripted failure: its error
	// document, or the reply's Body.
	fail func(reply Reply, id string) answer
}

// route returns the operation r asks for; body is r's body, read.
func (h *Handler) route(r *http.Request, body []byte) (operation, error) {
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."):
		return h.dynamodb(strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."), body), nil
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseForm(); err != nil {
			return operation{}, err
		}
		return h.ec2(r.PostForm), nil
	default:
		return h.s3(r.Method), nil
	}
}

// ServeHTTP answers one AWS request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op, err := h.route(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	signed, err := time.Parse(SigningTimeFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		signed = time.Time{}
	}
	reply, id := h.next(op.name, signed)

	var a answer
	if reply.acts() {
		a = op.act(id)
	}
	if reply.Fault == "" && reply.Status != 0 {
		a = op.fail(reply, id)
	}
	if !sleep(r.Context(), reply.Delay) {
		h.mu.Lock()
		h.left[op.name]++
		h.mu.Unlock()
		return // the client gave up, or the server closed
	}
	if h.OnReply != nil {
		if reply.Fault != "" {
			h.OnReply(op.name, 0, string(reply.Fault))
		} else {
			h.OnReply(op.name, a.status, a.code)
		}
	}

	setHeaders(w, reply)
	switch reply.Fault {
	case "":
		a.write(w, len(a.body))
	case FaultReset:
		hijackAndClose(w, true)
	case FaultClose:
		hijackAndClose(w, false)
	case FaultCloseMidBody:
		a.write(w, len(a.body)/2)
		_ = http.NewResponseController(w).Flush()
		hijackAndClose(w, false)
	case FaultStallBody:
		a.write(w, len(a.body)/2)
		_ = http.NewResponseController(w).Flush()
		// The server cancels the request's context when the client closes
		// the connection, or the server closes it.
		<-r.Context().Done()
	case FaultHang:
		<-r.Context().Done()
	default:
		panic(fmt.Sprintf("awsfake: unknown fault %q", reply.Fault))
	}
}

// sleep waits d, and reports false if ctx is done first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// answer is an HTTP response, before it is written.
type answer struct {
	status int
	// code is the error code the answer carries, "" for a success, for
	// OnReply.
	code   string
	header http.Header
	body   []byte
}

// chunkSize is the size, in bytes, of the pieces a body is written in,
// each flushed to the connection: a body larger than the client's buffers
// then streams rather than arriving in one piece.
const chunkSize = 16 << 10

// write writes a's status and headers, with a Content-Length of its whole
// body, and then the first n bytes of its body, in flushed chunks. It stops
// at a failed write: the client has closed the connection.
func (a answer) write(w http.ResponseWriter, n int) {
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	if len(a.body) > 0 {
		// An empty body keeps net/http's own framing (none for HEAD).
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	}
	w.WriteHeader(a.status)
	rc := http.NewResponseController(w)
	for rest := a.body[:n]; len(rest) > 0; {
		chunk := rest[:min(len(rest), chunkSize)]
		if _, err := w.Write(chunk); err != nil {
			return
		}
		// A ResponseWriter that cannot flush (a recorder) keeps the bytes.
		_ = rc.Flush()
		rest = rest[len(chunk):]
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

// hijackAndClose closes the request's connection, with whatever response
// it has written so far: with a TCP RST when rst, else with a FIN.
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

// page is a scripted reply's raw body, a proxy's page in place of an AWS
// error document, with the protocol's header.
func page(reply Reply, header http.Header) answer {
	header.Set("Content-Type", "text/html")
	return answer{status: reply.Status, code: reply.Code, header: header, body: []byte(reply.Body)}
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
