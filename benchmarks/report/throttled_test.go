package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/awsretry/awsretry/benchmarks/throttled"
)

// TestDrawThrottled draws a chart from a CSV of the sweep's form and
// checks a PNG came out; with no row of one process it fails.
func TestDrawThrottled(t *testing.T) {
	var rows []throttled.Row
	for i, p := range throttled.Policies {
		for _, d := range []float64{0.5, 1, 2, 5} {
			rows = append(rows, throttled.Row{Policy: p.Name, Processes: 1, Demand: d, Result: throttled.Result{
				Goodput: 0.9, ThrottledPerSuccess: float64(i) * d, P99: time.Duration(i+1) * 100 * time.Millisecond,
			}})
		}
	}
	path := filepath.Join(t.TempDir(), "throttled.png")
	if err := DrawThrottled(rows, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatalf("%s is not a PNG (%d bytes, %v)", path, len(b), err)
	}
	for i := range rows {
		rows[i].Processes = 50
	}
	if err := DrawThrottled(rows, path); err == nil {
		t.Error("DrawThrottled drew rows of 50 processes as one")
	}
}
