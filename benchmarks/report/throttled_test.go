package report

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsretry/awsretry/benchmarks/throttled"
)

// gridRows is a small grid of rows of the Limiter and the SDK's adaptive
// mode: two services, two fleets, two seeds; the SDK did not run on one
// cell, and the Limiter misses its goodput goal on one.
func gridRows() []throttled.Row {
	var rows []throttled.Row
	for _, policy := range []string{throttled.Policies[3].Name, throttled.Policies[5].Name} {
		for _, b := range []float64{0.1, 30} {
			for _, procs := range []int{1, 50} {
				for seed := range uint64(2) {
					cell := throttled.Cell{Shape: throttled.Step, Capacity: 100, Burst: b, ThrottleCost: 0.1, Processes: procs, Demand: 2}
					if policy == throttled.Policies[5].Name && b == 30 && procs == 50 {
						continue
					}
					goodput := 0.99
					if policy == throttled.Policies[3].Name && b == 0.1 && procs == 1 {
						goodput = 0.9
					}
					rows = append(rows, throttled.Row{Policy: policy, Cell: cell, Seed: seed, Result: throttled.Result{
						Calls: 100, Succeeded: 100, Goodput: goodput, WithRoom: 1, ThrottledPerSuccess: 0.005,
						ThrottledPerSecond: 0.4, P99: 100 * time.Millisecond, Recovery: time.Second,
					}})
				}
			}
		}
	}
	return rows
}

// TestDrawThrottledGrid draws the grid's heat maps and checks a PNG came
// out, four panels wide; with no row of the two policies it fails.
func TestDrawThrottledGrid(t *testing.T) {
	sums := throttled.Summarise(gridRows())
	path := filepath.Join(t.TempDir(), "throttled.png")
	if err := DrawThrottledGrid(sums, throttled.Policies[3].Name, throttled.Policies[5].Name, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 3*b.Dy() {
		t.Errorf("picture %v of two rows, want four panels side by side", b)
	}
	// The cell where the Limiter misses its goodput goal is framed, the
	// one where the SDK did not run is grey (not ok).
	limiter, sdk := throttled.Policies[3].Name, throttled.Policies[5].Name
	panel := heatPanel{policy: limiter, value: func(s throttled.Summary) float64 { return s.Goodput },
		worse: func(a, b float64) bool { return a < b }, missed: func(s throttled.Summary, _ *throttled.Summary) bool {
			return s.Goodput < 0.95
		}}
	one, fifty := gridColumn{1, 2}, gridColumn{50, 2}
	small, large := gridRow{throttled.Step, 100, 0.1}, gridRow{throttled.Step, 100, 30}
	if v, missed, ok := foldCosts(sums, nil, panel, small, one); !ok || !missed || v != 0.9 {
		t.Errorf("the Limiter's small-bucket cell: %v, missed %v, ran %v; want 0.9, missed, ran", v, missed, ok)
	}
	if _, missed, ok := foldCosts(sums, nil, panel, large, one); !ok || missed {
		t.Errorf("the Limiter's large-bucket cell: missed %v, ran %v; want met, ran", missed, ok)
	}
	panel.policy = sdk
	if _, _, ok := foldCosts(sums, nil, panel, large, fifty); ok {
		t.Error("the SDK's cell where it did not run is drawn as run")
	}
	if err := DrawThrottledGrid(sums, "none", "neither", path); err == nil {
		t.Error("DrawThrottledGrid drew policies with no rows")
	}
}

// TestWriteThrottled: the section names the worst cell and counts the
// goals met.
func TestWriteThrottled(t *testing.T) {
	var b strings.Builder
	writeThrottled(&b, gridRows(), "chart.png", "grid.md")
	out := b.String()
	for _, want := range []string{
		"![the Limiter's and the SDK's adaptive mode's goodput",
		"| goodput | 1 process, D ≥ C (2) | awsretry Limiter | 0.945 | 0.900 | step C=100 B=0.1s cost=0.1 P=1 D=2C |",
		"| goodput (≥ 0.95) | 2 | 1 | step C=100 B=0.1s cost=0.1 P=1 D=2C: 0.900 |",
		"| goodput, 50 processes (≥ 0.95) | 2 | 2 |  |",
		"[grid.md](grid.md)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the section lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}
