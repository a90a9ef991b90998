package tracecheck_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/awsretry/awsretry/e2e/tracecheck"
)

// TestLiveJaeger checks the trace of a run of the scenario in a real
// Jaeger, through its HTTP query API. run.sh runs it; without
// E2E_JAEGER_URL (e.g. http://127.0.0.1:16686) it is skipped.
// E2E_TRACE_ID is the trace id the client reported, and E2E_TRACE_OUT a
// file to write the trace's JSON to (on a failure, the trace of that id as
// Jaeger holds it). It polls for up to 30 s, until Jaeger
// holds the whole trace.
func TestLiveJaeger(t *testing.T) {
	base := os.Getenv("E2E_JAEGER_URL")
	if base == "" {
		t.Skip("E2E_JAEGER_URL not set: run e2e/run.sh")
	}
	traceID := os.Getenv("E2E_TRACE_ID")
	client := &tracecheck.Client{BaseURL: strings.TrimSuffix(base, "/")}
	e := expected()
	out := os.Getenv("E2E_TRACE_OUT")
	tr, problems := tracecheck.Wait(context.Background(), client, traceID, e, 30*time.Second)
	if len(problems) > 0 {
		// Keep what Jaeger holds, to see what went wrong.
		if out != "" && traceID != "" {
			if found, err := client.Trace(context.Background(), traceID); err == nil {
				save(t, out, &found)
				t.Logf("trace %s as Jaeger holds it (JSON in %s):\n%s", traceID, out, tracecheck.RenderTrace(&found))
			}
		}
		t.Fatalf("the trace in Jaeger is not as expected:\n%s", strings.Join(problems, "\n"))
	}
	t.Logf("trace %s in Jaeger, as expected:\n%s", tr.TraceID, tracecheck.RenderTrace(tr))
	if out != "" {
		save(t, out, tr)
	}
}

// save writes tr to path in the form of /api/traces, like the fixture.
func save(t *testing.T, path string, tr *tracecheck.Trace) {
	t.Helper()
	b, err := json.MarshalIndent(tracecheck.Response{Data: []tracecheck.Trace{*tr}}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
