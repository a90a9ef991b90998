package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the demo against the local endpoint with 1ms waits and
// checks the story it tells: the throttle, three NotFound answers, success,
// and the trace with one event per attempt.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, time.Millisecond, 1.5, false, "", "", "", false); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	if strings.Contains(got, `"Name":`) {
		t.Errorf("the exporter's JSON is printed without -json:\n%s", got)
	}
	for _, want := range []string{
		"ec2:RunInstances -> HTTP 503 RequestLimitExceeded",
		"attempt 1 failed: RequestLimitExceeded (throttle): retrying in 1ms",
		"attempt 3 failed: InvalidInstanceID.NotFound (eventual_consistency): retrying in 2.25ms",
		"i-0123456789abcdef0 is running",
		"ec2.RunInstances [internal]",
		"ec2.WaitForInstance [internal]",
		"attempts=4 outcome=success",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "* awsretry.attempt"); n != 6 {
		t.Errorf("%d attempt events in the tree, want 6 (2 + 4)", n)
	}
}

// TestDemoJSON: with -json the demo also prints the spans as the
// OpenTelemetry stdout exporter writes them.
func TestDemoJSON(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, time.Millisecond, 1.5, false, "", "", "", true); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"OpenTelemetry stdout exporter:", `"Name":"awsretry.attempt"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
