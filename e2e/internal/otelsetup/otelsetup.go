// Package otelsetup installs the OpenTelemetry SDK the way both e2e
// processes need it: spans of one service exported over OTLP/HTTP, and the
// W3C trace-context propagator, so that a trace crosses the HTTP boundary
// between them.
package otelsetup

import (
	"context"
	"fmt"
	"net/url"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Start installs, as the global providers, a TracerProvider whose spans
// belong to service and go to the OTLP/HTTP receiver at endpoint (for
// example http://127.0.0.1:4318), and the W3C trace-context propagator.
// The caller must Shutdown the provider, which flushes every span.
func Start(ctx context.Context, service, endpoint string) (*sdktrace.TracerProvider, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("otelsetup: bad OTLP endpoint %q", endpoint)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host)}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exporter, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, err
	}
	// resource.Default has the SDK's attributes and would take service.name
	// from OTEL_SERVICE_NAME; the name given here wins.
	//
	// ip, 127.0.0.1 for both processes, tells Jaeger that their spans come
	// from one host, with one clock: its query API (/api/traces) knows a
	// span's host only by the process tag "ip", as Jaeger's own clients set
	// it. Without it, Jaeger's clock-skew adjuster compares every span with
	// its parent and warns of a child that ends after its parent, although
	// no clock is skewed: otelhttp's CLIENT span does, under the SDK's
	// DoHTTPRequest span, whenever it is also the shorter of the two (the
	// SDK ends DoHTTPRequest when the response's headers are in, otelhttp
	// ends its span when the SDK has read the body). The check verifies the
	// nesting in time that matters itself.
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", service),
		attribute.String("ip", "127.0.0.1")))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp, nil
}
