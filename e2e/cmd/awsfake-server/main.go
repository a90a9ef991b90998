// Command awsfake-server runs the local AWS-compatible endpoint of package
// awsfake as a service of its own, "awsfake-ec2" (scenario.ServerService),
// for the end-to-end tracing test: each request gets an OpenTelemetry SERVER
// span (otelhttp), a child of the caller's span through the W3C traceparent
// header, exported over OTLP to Jaeger.
//
// It scripts the demo's misbehaviour: RunInstances is throttled once
// (503 RequestLimitExceeded), DescribeInstances answers
// InvalidInstanceID.NotFound -not-found times, and CreateTags is throttled
// -tag-throttle times (twice), each before it succeeds. Once it listens it
// writes its base URL to -url-file; on SIGTERM or SIGINT it stops and
// flushes its spans.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/awsretry/awsretry/e2e/internal/otelsetup"
	"github.com/awsretry/awsretry/e2e/internal/scenario"
	"github.com/awsretry/awsretry/examples/awsfake"
)

func main() {
	var (
		addr        = flag.String("addr", "127.0.0.1:0", "address to listen on")
		urlFile     = flag.String("url-file", "", "file to write the base URL to once listening")
		otlp        = flag.String("otlp", "http://127.0.0.1:4318", "OTLP/HTTP endpoint of the trace backend")
		throttle    = flag.Int("throttle", scenario.Throttles, "times RunInstances is throttled (503 RequestLimitExceeded)")
		notFound    = flag.Int("not-found", scenario.NotFounds, "times DescribeInstances answers InvalidInstanceID.NotFound")
		tagThrottle = flag.Int("tag-throttle", scenario.TagThrottles,
			"times "+scenario.TagOperation+" is throttled (503 RequestLimitExceeded)")
	)
	flag.Parse()
	if err := run(*addr, *urlFile, *otlp, *throttle, *notFound, *tagThrottle); err != nil {
		log.Fatal("awsfake-server: ", err)
	}
}

func run(addr, urlFile, otlp string, throttle, notFound, tagThrottle int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	tp, err := otelsetup.Start(ctx, scenario.ServerService, otlp)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			log.Print("awsfake-server: flushing spans: ", err)
		}
	}()

	h := awsfake.NewHandler()
	throttled := awsfake.Reply{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	for range throttle {
		h.Script("ec2:RunInstances", throttled)
	}
	for range notFound {
		h.Script("ec2:DescribeInstances", awsfake.Reply{Status: 400, Code: "InvalidInstanceID.NotFound",
			Message: "The instance ID '" + awsfake.InstanceID + "' does not exist"})
	}
	for range tagThrottle {
		h.Script("ec2:"+scenario.TagOperation, throttled)
	}
	h.OnReply = func(op string, status int, code string) {
		log.Printf("%s -> HTTP %d %s", op, status, code)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{
		Handler:           otelhttp.NewHandler(nameSpan(h), "awsfake"),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if urlFile != "" {
		if err := writeFileAtomic(urlFile, base+"\n"); err != nil {
			srv.Close()
			return err
		}
	}
	log.Printf("serving %s at %s", scenario.ServerService, base)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Print("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// nameSpan names the SERVER span that otelhttp started after the EC2
// action of the request, "EC2/DescribeInstances", with the RPC attributes
// of OpenTelemetry's AWS conventions; it leaves the body for next to read.
func nameSpan(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			action := form.Get("Action")
			span := trace.SpanFromContext(r.Context())
			span.SetName("EC2/" + action)
			span.SetAttributes(
				attribute.String("rpc.system", "aws-api"),
				attribute.String("rpc.service", "EC2"),
				attribute.String("rpc.method", action))
		}
		next.ServeHTTP(w, r)
	})
}

// writeFileAtomic writes data to path through a rename, so that a reader
// polling for path never sees it half written.
func writeFileAtomic(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
