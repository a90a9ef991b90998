// Package telemetrytest holds the tests of awsretry's OpenTelemetry
// instrumentation against the real SDK (go.opentelemetry.io/otel/sdk,
// tracetest and the metric ManualReader). It is a module of its own so that
// the SDK never enters the requirements of github.com/awsretry/awsretry,
// as OpenTelemetry's own instrumentation keeps its SDK tests apart.
package telemetrytest
