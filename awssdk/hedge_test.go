package awssdk_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/examples/awsfake"
	"github.com/awsretry/awsretry/telemetry"
)

// TestHedgeOnTheWire: a DynamoDB GetItem and an S3 GetObject through the
// real clients (one SDK attempt per call, InsideDo), inside DoHedged with a
// Retrier that hedges after 50 ms, against an endpoint whose first answer
// is a minute late: the hedge wins, the slow request's connection is
// closed (the endpoint sees its client leave), and both attempts are in
// the trace.
func TestHedgeOnTheWire(t *testing.T) {
	for _, op := range []string{"dynamodb:GetItem", "s3:GetObject"} {
		t.Run(op, func(t *testing.T) {
			srv := awsfake.NewServer()
			defer srv.Close()
			srv.Script(op, awsfake.Reply{Delay: time.Minute})
			tr := newTracing(t)
			r := awsretry.MustNew(awsretry.WithHedge(awsretry.Hedge{Delay: 50 * time.Millisecond}), awsretry.WithTracerProvider(tr.tp))
			clients := awsfake.NewClients(insideDo(t, srv.URL))
			start := time.Now()
			if err := r.DoHedged(context.Background(), func(ctx context.Context) error { return clients.Call(ctx, op) }); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if srv.Calls(op) != 2 || took > 10*time.Second {
				t.Errorf("%d requests in %v, want the hedge's answer, 2 requests, well before the slow one's minute", srv.Calls(op), took)
			}
			// The slow request's client closed its connection: the
			// endpoint sees it leave (asynchronously, on its own goroutine).
			for deadline := time.Now().Add(5 * time.Second); srv.Abandoned(op) == 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			if srv.Abandoned(op) != 1 {
				t.Errorf("the endpoint saw %d requests abandoned, want the slow one", srv.Abandoned(op))
			}
			events := encode(tr.events(t, telemetry.DefaultSpanName))
			want := []string{
				"awsretry.attempt=1,awsretry.lost=true,awsretry.will_retry=false,error.type=context canceled",
				"awsretry.attempt=2,awsretry.hedge_delay_seconds=0.05,awsretry.will_retry=false",
			}
			if !slices.Equal(events, want) {
				t.Errorf("events\n%q\nwant\n%q", events, want)
			}
		})
	}
}
