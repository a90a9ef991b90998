package telemetrytest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/telemetry"
)

// connectionReset is a reset connection as aws-sdk-go-v2 returns it: the
// SDK's response error with status 0 around smithy-go's send error around
// net/http's *url.Error around the *net.OpError of the read.
func connectionReset() error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{Header: http.Header{}}},
				Err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://127.0.0.1:1/",
					Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}},
			},
		}}
}

func TestConnectionFailuresHaveAClassOfTheirOwn(t *testing.T) {
	e := newEnv(t)
	results := []error{connectionReset(), sdkError("ServiceUnavailable", 503, "req-2", ""), nil}
	calls := 0
	if err := e.retrier(t).Do(context.Background(), func(context.Context) error {
		calls++
		return results[calls-1]
	}); err != nil {
		t.Fatal(err)
	}
	assertEvents(t, e.onlySpan(t), []attribute.Set{
		set(telemetry.AttemptKey.Int(1), telemetry.WillRetryKey.Bool(true),
			attribute.String("error.type", "connection"), telemetry.ClassKey.String("connection"),
			telemetry.DelayKey.Float64(3), telemetry.AmbiguousKey.Bool(true)), // no status: no response came, the request was sent
		set(telemetry.AttemptKey.Int(2), telemetry.WillRetryKey.Bool(true),
			attribute.String("error.type", "ServiceUnavailable"), telemetry.ErrorCodeKey.String("ServiceUnavailable"),
			telemetry.ClassKey.String("transient"), telemetry.DelayKey.Float64(3.3),
			attribute.Int("http.response.status_code", 503), attribute.String("aws.request_id", "req-2"),
			telemetry.AmbiguousKey.Bool(true)), // a 5xx other than a throttle: the service may have acted
		set(telemetry.AttemptKey.Int(3), telemetry.WillRetryKey.Bool(false)),
	})
	assertMetric(t, e.metrics(t), counter(telemetry.AttemptsMetricName, "{attempt}",
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("retried"), attribute.String("error.type", "connection")), Value: 1},
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("retried"), attribute.String("error.type", "ServiceUnavailable")), Value: 1},
		metricdata.DataPoint[int64]{Attributes: set(telemetry.OutcomeKey.String("success")), Value: 1},
	))
}

func TestAttemptTimeoutIsTraced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		r, err := awsretry.New(awsretry.WithTracerProvider(e.tp), awsretry.WithMeterProvider(e.mp),
			awsretry.WithAttemptTimeout(time.Second), awsretry.WithDelay(0))
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		err = r.Do(context.Background(), func(ctx context.Context) error {
			if calls++; calls == 1 {
				<-ctx.Done() // hung until the attempt's deadline
				return &smithy.OperationError{Err: &smithy.CanceledError{Err: ctx.Err()}}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		assertEvents(t, e.onlySpan(t), []attribute.Set{
			set(telemetry.AttemptKey.Int(1), telemetry.WillRetryKey.Bool(true),
				attribute.String("error.type", "timeout"), telemetry.ClassKey.String("timeout"), telemetry.DelayKey.Float64(0),
				telemetry.AmbiguousKey.Bool(true)),
			set(telemetry.AttemptKey.Int(2), telemetry.WillRetryKey.Bool(false)),
		})
	})
}

// TestHostileErrorsDoNotCrashTelemetry: error values the SDK's types allow
// but no real client builds, recorded with every attribute on.
func TestHostileErrorsDoNotCrashTelemetry(t *testing.T) {
	for name, hostile := range map[string]error{
		"response error without a response": &smithy.OperationError{Err: &smithyhttp.ResponseError{Err: &smithy.GenericAPIError{Code: "InternalError"}}},
		"SDK response error around nil":     &awshttp.ResponseError{RequestID: "r"},
		"typed nil API error":               &smithy.OperationError{Err: (*smithy.GenericAPIError)(nil)},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var logs bytes.Buffer
			r := e.retrier(t, awsretry.WithTries(2), awsretry.WithErrorMessages(true),
				awsretry.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			_ = r.Do(context.Background(), func(context.Context) error { return hostile })
			if n := len(e.onlySpan(t).Events()); n == 0 {
				t.Error("no attempt event recorded")
			}
		})
	}
}

// TestLogMessagesAreBounded: with WithErrorMessages(true) a log record
// carries at most 1024 bytes of the error's text, as span events do.
func TestLogMessagesAreBounded(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	huge := strings.Repeat("x", 2<<20)
	r := e.retrier(t, awsretry.WithTries(2), awsretry.WithErrorMessages(true),
		awsretry.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	_ = r.Do(context.Background(), func(context.Context) error { return sdkError("InternalError", 500, "r", huge) })
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log records, want 2", len(lines))
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if msg, _ := rec["error"].(string); msg == "" || len(msg) > 1024 {
			t.Errorf("log record's error is %d bytes, want 1 to 1024", len(msg))
		}
	}
}

// TestClassifyingAnSDKErrorDoesNotAllocate: aws-sdk-go-v2's response error
// offers the API error through an As method too; the classifier finds the
// code further down the chain instead, without allocating.
func TestClassifyingAnSDKErrorDoesNotAllocate(t *testing.T) {
	c := awsretry.DefaultClassifier()
	for _, err := range []error{sdkError("RequestLimitExceeded", 503, "r", "slow down"), sdkError("AccessDenied", 403, "r", "no"), connectionReset()} {
		if n := testing.AllocsPerRun(100, func() { c.Classify(err) }); n != 0 {
			t.Errorf("Classify(%v) allocates %v times, want 0", err, n)
		}
	}
}
