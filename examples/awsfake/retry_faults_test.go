package awsfake_test

import (
	"context"
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

// TestFaultsAreRetried drives each fault through the real EC2, DynamoDB and
// S3 clients, each making one attempt per call, inside Do: the call is
// retried once, its attempt event carries the fault's class, and it
// succeeds once the fault clears.
func TestFaultsAreRetried(t *testing.T) {
	for _, tc := range awsfake.FaultCases() {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.NewServer()
			defer srv.Close()
			tc.Arrange(srv)
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			clk := awsretrytest.NewClock()
			r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithDelay(time.Second), awsretry.WithTries(3),
				awsretry.WithAttemptTimeout(200*time.Millisecond), awsretry.WithTracerProvider(tp),
				awsretry.WithOnRetry(func(context.Context, awsretry.Attempt) {
					if err := srv.Restart(); err != nil { // for a refused connection
						t.Error(err)
					}
				}))
			c := newClients(srv.URL)

			if err := r.Do(context.Background(), func(ctx context.Context) error { return c.Call(ctx, tc.Op) }); err != nil {
				t.Fatalf("Do = %v, want success once the fault clears", err)
			}
			if got := srv.Calls(tc.Op); got != tc.Requests {
				t.Errorf("the server saw %d requests, want %d", got, tc.Requests)
			}
			if got := clk.Sleeps(); len(got) != 1 || got[0] != tc.Delay {
				t.Errorf("waits %v, want [%v]", got, tc.Delay)
			}
			ended := spans.Ended()
			if len(ended) != 1 || len(ended[0].Events()) != 2 {
				t.Fatalf("%d spans, want 1 with 2 attempt events", len(ended))
			}
			event := attribute.NewSet(ended[0].Events()[0].Attributes...)
			if v, _ := event.Value(telemetry.ClassKey); v.AsString() != tc.Class.String() {
				t.Errorf("attempt 1's class %q, want %q", v.AsString(), tc.Class)
			}
			if v, _ := event.Value(telemetry.WillRetryKey); !v.AsBool() {
				t.Error("attempt 1's event does not say it will be retried")
			}
			if v, _ := event.Value(telemetry.AmbiguousKey); v.AsBool() != tc.Ambiguous {
				t.Errorf("attempt 1's event says ambiguous %v, want %v", v.AsBool(), tc.Ambiguous)
			}
			if tc.Reply.DateOffset != 0 {
				// The SDK took the offset from the failed answer's Date:
				// awsretry's next attempt was signed with it.
				now := time.Now()
				if signed := srv.SigningTimes(tc.Op); len(signed) != 2 || !near(signed[1], now.Add(tc.Reply.DateOffset)) {
					t.Errorf("requests signed at %v; want the second at now+%v (now is %v)", signed, tc.Reply.DateOffset, now.UTC())
				}
			}
		})
	}
}
