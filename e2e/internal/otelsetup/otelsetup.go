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
	res, err := resource.Merge(resource.Default(),
		resource.NewSchemaless(attribute.String("service.name", service)))
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
