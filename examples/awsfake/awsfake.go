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
package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// Reply is one scripted answer.
type Reply struct {
	// Status is the HTTP status.
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
}

// Handler is the endpoint. Its zero value is not usable; make one with
// NewHandler. It is safe for concurrent use.
type Handler struct {
	mu       sync.Mutex
	scripts  map[string][]Reply
	calls    map[string]int
	requests int
	// OnReply, when set, is called with each operation's name and the
	// status answered, for a demo's narration.
	OnReply func(op string, status int, code string)
}

// NewHandler returns an endpoint with no scripted replies: every call
// succeeds.
func NewHandler() *Handler {
	return &Handler{scripts: map[string][]Reply{}, calls: map[string]int{}}
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

// next records a call of op and returns its next scripted reply, if any,
// and a fresh request id.
func (h *Handler) next(op string) (Reply, bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[op]++
	h.requests++
	id := fmt.Sprintf("req-%04d", h.requests)
	script := h.scripts[op]
	if len(script) == 0 {
		return Reply{}, false, id
	}
	h.scripts[op] = script[1:]
	return script[0], true, id
}

// ServeHTTP answers one AWS request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."):
		h.dynamodb(w, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."))
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.ec2(w, r.PostForm.Get("Action"))
	default:
		h.s3(w, r.Method)
	}
}

// answer writes a scripted reply's status and headers; it returns false when
// the operation is to succeed instead.
func (h *Handler) answer(w http.ResponseWriter, op string) (Reply, string, bool) {
	reply, scripted, id := h.next(op)
	if h.OnReply != nil {
		status := http.StatusOK
		if scripted {
			status = reply.Status
		}
		h.OnReply(op, status, reply.Code)
	}
	if !scripted {
		return reply, id, false
	}
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if reply.RetryAfterDate > 0 {
		now := time.Now().UTC().Truncate(time.Second)
		w.Header().Set("Date", now.Format(http.TimeFormat))
		w.Header().Set("Retry-After", now.Add(reply.RetryAfterDate).Format(http.TimeFormat))
	}
	return reply, id, true
}

func (h *Handler) ec2(w http.ResponseWriter, action string) {
	reply, id, failed := h.answer(w, "ec2:"+action)
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

func (h *Handler) dynamodb(w http.ResponseWriter, operation string) {
	reply, id, failed := h.answer(w, "dynamodb:"+operation)
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

func (h *Handler) s3(w http.ResponseWriter, method string) {
	op := map[string]string{http.MethodGet: "GetObject", http.MethodPut: "PutObject", http.MethodHead: "HeadObject"}[method]
	if op == "" {
		op = method
	}
	reply, id, failed := h.answer(w, "s3:"+op)
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

// Server is a Handler listening on a loopback port.
type Server struct {
	*Handler
	// URL is the endpoint's base URL, for a client's BaseEndpoint.
	URL string
	srv *httptest.Server
}

// NewServer starts a Handler on a loopback port. Close it when done.
func NewServer() *Server {
	h := NewHandler()
	srv := httptest.NewServer(h)
	return &Server{Handler: h, URL: srv.URL, srv: srv}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

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
