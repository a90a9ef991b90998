package awsfake_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/examples/awsfake"
	"github.com/awsretry/awsretry/telemetry"
)

// retriedFaults are the faults a call meets on its way, each retried by
// awsretry around a client that makes one attempt: the class on the
// attempt event, and the requests the server sees until the call succeeds.
var retriedFaults = []struct {
	name     string
	reply    func(op string) awsfake.Reply // nil: the connection is refused
	class    awsretry.Class
	requests int
}{
	{"reset", fault(awsfake.FaultReset), awsretry.ClassConnection, 2},
	{"closed before the response", fault(awsfake.FaultClose), awsretry.ClassConnection, 2},
	{"closed mid-body", fault(awsfake.FaultCloseMidBody), awsretry.ClassConnection, 2},
	{"hung past the attempt timeout", fault(awsfake.FaultHang), awsretry.ClassTimeout, 2},
	{"refused", nil, awsretry.ClassConnection, 1},
	{"HTML 429 from a proxy", func(string) awsfake.Reply {
		return awsfake.Reply{Status: http.StatusTooManyRequests, Body: "<html><body>429 Too Many Requests</body></html>"}
	}, awsretry.ClassThrottle, 2},
	{"signed 10 minutes off", func(op string) awsfake.Reply {
		for _, sc := range skewCodes {
			if sc.op == op {
				return awsfake.Reply{Status: sc.status, Code: sc.code, Message: "Signature expired", DateOffset: 10 * time.Minute}
			}
		}
		panic("no skew code for " + op)
	}, awsretry.ClassTransient, 2},
}

func fault(f awsfake.Fault) func(string) awsfake.Reply {
	return func(string) awsfake.Reply { return awsfake.Reply{Fault: f} }
}

// TestFaultsAreRetried drives each fault through the real EC2, DynamoDB and
// S3 clients, each making one attempt per call, inside Do: the call is
// retried once, its attempt event carries the fault's class, and it
// succeeds once the fault clears.
func TestFaultsAreRetried(t *testing.T) {
	for _, tc := range retriedFaults {
		for _, op := range faultOps {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				t.Parallel()
				srv := awsfake.NewServer()
				defer srv.Close()
				if tc.reply == nil {
					srv.Stop() // refused until the first retry restarts it
				} else {
					srv.Script(op, tc.reply(op))
				}
				spans := tracetest.NewSpanRecorder()
				tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
				defer func() { _ = tp.Shutdown(context.Background()) }()
				clk := awsretrytest.NewClock()
				r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Second), awsretry.WithTries(3),
					awsretry.WithAttemptTimeout(200*time.Millisecond), awsretry.WithTracerProvider(tp),
					awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) {
						if err := srv.Restart(); err != nil {
							t.Error(err)
						}
					}))
				c := newClients(srv.URL)

				if err := r.Do(context.Background(), func(ctx context.Context) error { return fetch(ctx, c, op) }); err != nil {
					t.Fatalf("Do = %v, want success once the fault clears", err)
				}
				if got := srv.Calls(op); got != tc.requests {
					t.Errorf("the server saw %d requests, want %d", got, tc.requests)
				}
				if got := clk.Sleeps(); len(got) != 1 || got[0] != time.Second {
					t.Errorf("waits %v, want [1s]", got)
				}
				ended := spans.Ended()
				if len(ended) != 1 || len(ended[0].Events()) != 2 {
					t.Fatalf("%d spans, want 1 with 2 attempt events", len(ended))
				}
				event := attribute.NewSet(ended[0].Events()[0].Attributes...)
				if v, _ := event.Value(telemetry.ClassKey); v.AsString() != tc.class.String() {
					t.Errorf("attempt 1's class %q, want %q", v.AsString(), tc.class)
				}
				if v, _ := event.Value(telemetry.WillRetryKey); !v.AsBool() {
					t.Error("attempt 1's event does not say it will be retried")
				}
				if tc.name == "signed 10 minutes off" {
					// The SDK took the offset from the failed answer's Date:
					// awsretry's next attempt was signed with it.
					now := time.Now()
					if signed := srv.SigningTimes(op); len(signed) != 2 || !near(signed[1], now.Add(10*time.Minute)) {
						t.Errorf("requests signed at %v; want the second at now+10m (now is %v)", signed, now.UTC())
					}
				}
			})
		}
	}
}
