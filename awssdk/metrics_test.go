package awssdk_test

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/examples/awsfake"
)

// TestMetricsAndBudgetSameAsDo: calls through the adapter record the same
// metric points as the same calls inside Do (a real OpenTelemetry SDK
// reading both), and leave the Budget where Do leaves it: each retry paid,
// and the last retry's cost refunded by the success.
func TestMetricsAndBudgetSameAsDo(t *testing.T) {
	const op = "ec2:DescribeInstances"
	script := func(srv *awsfake.Server) {
		srv.Script(op,
			awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"},
			awsfake.Reply{Status: 500, Code: "InternalError"})
	}
	type result struct {
		metrics metricdata.ResourceMetrics
		tokens  int
	}
	run := func(t *testing.T, adapter bool) result {
		srv := awsfake.NewServer()
		defer srv.Close()
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer func() { _ = mp.Shutdown(context.Background()) }()
		budget, err := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{})
		if err != nil {
			t.Fatal(err)
		}
		r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithMeterProvider(mp), awsretry.WithBudget(budget))
		// A call retried twice, then a call that is not retried.
		script(srv)
		if adapter {
			clients := awsfake.NewClients(adapterConfig(t, srv.URL, r))
			err = clients.Call(context.Background(), op)
			if err == nil {
				srv.Script(op, awsfake.Reply{Status: 400, Code: "InvalidParameterValue"})
				err = clients.Call(context.Background(), op)
			}
		} else {
			clients := awsfake.NewClients(awsfake.Config(srv.URL))
			call := func(ctx context.Context) error { return clients.Call(ctx, op) }
			err = r.Do(context.Background(), call)
			if err == nil {
				srv.Script(op, awsfake.Reply{Status: 400, Code: "InvalidParameterValue"})
				err = r.Do(context.Background(), call)
			}
		}
		if err == nil {
			t.Fatal("the second call succeeded; want InvalidParameterValue")
		}
		if srv.Calls(op) != 4 {
			t.Fatalf("%d requests, want 4 (three for the first call, one for the second)", srv.Calls(op))
		}
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		return result{rm, budget.Tokens()}
	}
	do, adapter := run(t, false), run(t, true)
	if len(do.metrics.ScopeMetrics) != 1 || len(do.metrics.ScopeMetrics[0].Metrics) == 0 || len(adapter.metrics.ScopeMetrics) != 1 {
		t.Fatalf("Do recorded %+v, the adapter %+v; want awsretry's metrics from both", do.metrics.ScopeMetrics, adapter.metrics.ScopeMetrics)
	}
	metricdatatest.AssertEqual(t, do.metrics.ScopeMetrics[0], adapter.metrics.ScopeMetrics[0], metricdatatest.IgnoreTimestamp())
	// The SDK's bucket: 500 tokens; the throttle's retry takes 5, the
	// transient error's 5; the success gives back the last retry's 5; the
	// second call's first attempt, answered by the service (an error of
	// its own), puts back the reward, 1.
	if do.tokens != 496 || adapter.tokens != do.tokens {
		t.Errorf("budget %d tokens after Do, %d through the adapter; want 496 for both", do.tokens, adapter.tokens)
	}
}
