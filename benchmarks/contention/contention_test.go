package contention

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var (
	fullSweep = flag.Bool("full", false, "run the full sweep: 10 to 190 clients in steps of 10")
	runsFlag  = flag.Int("runs", 0, "runs averaged per point (default: 40 with -full, 3 without)")
	csvPath   = flag.String("csv", "", "write the sweep's points to this CSV file")
)

// TestContention runs the sweep: every policy at every client count, each
// point the mean of several seeded runs in virtual time. Without -full it
// runs 10 and 40 clients only, in about a second, so that the simulation
// cannot rot; `go test -run TestContention -args -full -csv FILE` runs
// Brooker's range and writes the points for the chart.
func TestContention(t *testing.T) {
	clients, runs := []int{10, 40}, 3
	if *fullSweep && testing.Short() {
		t.Skip("-full is not for -short")
	}
	if *fullSweep {
		clients = nil
		for n := 10; n <= 190; n += 10 {
			clients = append(clients, n)
		}
		runs = 40
	}
	if *runsFlag > 0 {
		runs = *runsFlag
	}

	start := time.Now()
	points := make([][]Point, len(Policies))
	t.Run("sweep", func(t *testing.T) {
		for i, p := range Policies {
			t.Run(p.Name, func(t *testing.T) {
				t.Parallel()
				for _, n := range clients {
					points[i] = append(points[i], runPoint(t, p, n, runs))
				}
			})
		}
	})
	if t.Failed() {
		return
	}
	t.Logf("%d policies x %d client counts x %d runs in %v of real time",
		len(Policies), len(clients), runs, time.Since(start).Round(time.Millisecond))

	var all []Point
	for _, ps := range points {
		all = append(all, ps...)
	}
	t.Log("\n" + table(all))
	checkShape(t, points, clients[len(clients)-1])

	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteCSV(f, all); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runPoint runs policy p with n clients runs times, with seeds 0, 1, ...,
// each in its own synctest bubble, and checks every run's bookkeeping.
// All policies use the same seeds, so they meet the same network draws.
func runPoint(t *testing.T, p Policy, n, runs int) Point {
	results := make([]Result, 0, runs)
	for seed := range runs {
		synctest.Test(t, func(t *testing.T) {
			res, err := Run(t.Context(), Config{Clients: n, Policy: p, Seed: uint64(seed)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Calls-res.Conflicts != n {
				t.Errorf("%s, %d clients, seed %d: %d calls and %d conflicts: want %d successful writes",
					p.Name, n, seed, res.Calls, res.Conflicts, n)
			}
			// Every client needs at least one attempt of four network legs.
			if res.Completion < 4*5*time.Millisecond {
				t.Errorf("%s, %d clients, seed %d: completion %v is too short", p.Name, n, seed, res.Completion)
			}
			results = append(results, res)
		})
	}
	return Mean(p.Name, n, results)
}

// checkShape checks the published result at the largest client count
// (policies in the order of Policies): both policies without jitter make
// more calls than every jittered one, and at 100 clients or more full
// jitter needs less than half the calls of exponential backoff without
// jitter.
func checkShape(t *testing.T, points [][]Point, clients int) {
	t.Helper()
	last := func(i int) Point { return points[i][len(points[i])-1] }
	for _, plain := range []int{0, 1} {
		for _, jittered := range []int{2, 3, 4} {
			if last(plain).Calls <= last(jittered).Calls {
				t.Errorf("at %d clients %s made %.0f calls, no more than %s (%.0f): no jitter should lose",
					clients, last(plain).Policy, last(plain).Calls, last(jittered).Policy, last(jittered).Calls)
			}
		}
	}
	if clients >= 100 {
		for i, p := range points[1] {
			if p.Clients == 100 && points[2][i].Calls >= p.Calls/2 {
				t.Errorf("at 100 clients full jitter made %.0f calls, not less than half of %.0f without jitter",
					points[2][i].Calls, p.Calls)
			}
		}
	}
}

// TestRunReproducible: the same seed gives the same result, in a new
// bubble and with the goroutines scheduled anew.
func TestRunReproducible(t *testing.T) {
	cfg := Config{Clients: 30, Policy: Policies[2], Seed: 7}
	var results [3]Result
	for i := range results {
		synctest.Test(t, func(t *testing.T) {
			var err error
			if results[i], err = Run(t.Context(), cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
	if results[0] != results[1] || results[0] != results[2] {
		t.Errorf("runs with one seed differ: %+v", results)
	}
}

// TestCSVRoundTrip: ReadCSV reads what WriteCSV wrote, to the precision
// written.
func TestCSVRoundTrip(t *testing.T) {
	in := []Point{
		{Policy: "full jitter", Clients: 10, Runs: 3, Calls: 39.25, Completion: 343500 * time.Microsecond},
		{Policy: `a "quoted", name`, Clients: 190, Runs: 40, Calls: 5160, Completion: 96815 * time.Millisecond},
	}
	var b strings.Builder
	if err := WriteCSV(&b, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadCSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out) != fmt.Sprint(in) {
		t.Errorf("round trip:\n got %v\nwant %v", out, in)
	}
	if _, err := ReadCSV(strings.NewReader("x,y\n")); err == nil {
		t.Error("ReadCSV accepted a wrong header")
	}
}

// table formats points for the test log.
func table(points []Point) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-32s %7s %10s %14s\n", "policy", "clients", "calls", "completion")
	for _, p := range points {
		fmt.Fprintf(&b, "%-32s %7d %10.1f %14v\n", p.Policy, p.Clients, p.Calls, p.Completion.Round(time.Millisecond))
	}
	return b.String()
}
