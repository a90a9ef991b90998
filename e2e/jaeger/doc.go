// Package jaeger has no code: its module pins Jaeger v1.76.0 as a Go tool
// dependency (see go.mod), which e2e/run.sh builds. It is a module of its
// own because Jaeger does not build with the OpenTelemetry versions the e2e
// programs use.
package jaeger
