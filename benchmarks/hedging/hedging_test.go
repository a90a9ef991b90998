package hedging

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/awsretry/awsretry/benchmarks/internal/csvtable"
)

var (
	fullRun    = flag.Bool("full", false, "run the whole workload (Full: 10 s warm-up, 30 s steady, 10 s settling, 30 s slowdown at 5,000 calls/s) for every policy")
	seedsFlag  = flag.Int("seeds", 0, "seeds per policy (default: 10 with -full, 1 without)")
	csvPath    = flag.String("csv", "", "write a line per run and phase to this CSV file")
	mdPath     = flag.String("md", "", "write the tables (Markdown) to this file")
	pngPath    = flag.String("png", "", "draw the time series to this PNG file")
	only       = flag.String("policy", "", "run only the policies whose name contains this (and no hedging)")
	medianFlag = flag.Duration("median", 0, "the body's median latency (default 8ms)")
	p99Flag    = flag.Duration("p99", 0, "the body's p99 latency (default 25ms)")
	ratioFlag  = flag.Float64("ratio", 0, "with -full, awsretry's Hedge.Ratio, for experiments (default: its own, 0.009)")
)

// shortConfig is the short run: the full rate, shorter phases. The
// slowdown is measured over a whole budget window (10 s), so that it
// holds the echo of the slowdown's first burst of hedges, 10 s later, as
// the full run's 30 s do.
var shortConfig = Config{Warmup: 2 * time.Second, Steady: 4 * time.Second, Settle: 4 * time.Second, Slowdown: 10 * time.Second}

// shortPolicies are the short run's: no hedging, awsretry and failsafe-go
// with the fixed delay.
func shortPolicies() []Policy {
	ps := Policies(FixedDelay, 0)
	return []Policy{ps[0], ps[1], ps[4]}
}

// TestHedging runs the simulation. By default (and with -short) it runs
// shortConfig for no hedging and awsretry and failsafe-go with the fixed
// delay, one seed, in a few seconds of real time, and checks the model,
// the virtual time and issue 20's goals that hold at that scale; with
// -full it runs Full for every policy over -seeds seeds, logs the tables
// and writes -csv, -md and -png.
func TestHedging(t *testing.T) {
	cfg, policies, seeds := shortConfig, shortPolicies(), 1
	if *fullRun {
		if testing.Short() {
			t.Skip("-full is not for -short")
		}
		cfg, seeds = Full, 10
	}
	if *seedsFlag > 0 {
		seeds = *seedsFlag
	}
	cfg.Service = DefaultService
	if *medianFlag > 0 {
		cfg.Service.Median = *medianFlag
	}
	if *p99Flag > 0 {
		cfg.Service.P99 = *p99Flag
	}
	if *fullRun {
		policies = Policies(cfg.Service.P99, *ratioFlag) // the fixed delay at the body's p99
	}
	if *only != "" {
		var keep []Policy
		for _, p := range policies {
			if p.Library == "" || strings.Contains(p.Name, *only) {
				keep = append(keep, p)
			}
		}
		policies = keep
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}

	var (
		results       []*Result
		seedList      []uint64
		wall, virtual time.Duration
	)
	for seed := range uint64(seeds) {
		seedList = append(seedList, seed)
		for _, p := range policies {
			c := cfg
			c.Seed = seed
			res, took := run(t, c, p)
			wall += took
			virtual += res.Virtual
			results = append(results, res)
			if *fullRun {
				t.Logf("seed %d, %s: %v of virtual time in %v", seed, p.Name, res.Virtual.Round(time.Millisecond), took.Round(time.Millisecond))
			}
		}
	}
	checkSameWorkload(t, results)
	sums := Summarise(results)
	goals := Goals(sums)
	var bound, slowBound []BoundPoint
	if *fullRun || *mdPath != "" {
		var delays, slowDelays []time.Duration
		for _, f := range []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.2, 1.6} {
			delays = append(delays, time.Duration(f*float64(cfg.Service.P99)).Round(100*time.Microsecond))
		}
		// In the slowdown, from the body's p99 above the added latency
		// to where the hedges come under 1% of the calls and beyond.
		for _, f := range []float64{1, 1.2, 1.4, 1.6, 1.8, 2, 2.4, 3.2} {
			slowDelays = append(slowDelays, cfg.Service.Slowdown+time.Duration(f*float64(cfg.Service.P99)).Round(100*time.Microsecond))
		}
		if bound, err = Bound(cfg, Steady, 2_000_000, delays); err != nil {
			t.Fatal(err)
		}
		if slowBound, err = Bound(cfg, Slowdown, 2_000_000, slowDelays); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d runs, %v of virtual time in %v of real time", len(results), virtual.Round(time.Second), wall.Round(time.Millisecond))
	for _, phase := range Phases {
		t.Logf("%v phase (median over %d seeds, worst seed in brackets):\n%s", phase, seeds, Table(sums, phase))
	}
	t.Logf("goals:\n%s", GoalTable(goals))
	if bound != nil {
		t.Logf("one hedge after a fixed delay, no budget (Bound), steady phase:\n%s", BoundTable(bound))
		t.Logf("the same, slowdown phase:\n%s", BoundTable(slowBound))
	}
	meta := Meta{Config: cfg, Seeds: seedList, Wall: wall, Virtual: virtual, Command: command()}
	if *csvPath != "" {
		writeFile(t, *csvPath, func(f io.Writer) error { return WriteCSV(f, results) })
	}
	if *mdPath != "" {
		writeFile(t, *mdPath, func(f io.Writer) error { return Markdown(f, meta, sums, goals, bound, slowBound) })
	}
	if *pngPath != "" {
		if err := DrawChart(results, cfg, *pngPath); err != nil {
			t.Fatal(err)
		}
	}
	if !*fullRun && *only == "" && *medianFlag == 0 && *p99Flag == 0 && *ratioFlag == 0 {
		checkShort(t, sums)
	}
}

// run runs cfg with p in a synctest bubble and returns its result and the
// real time it took. It fails t if the run slept in real time: a run must
// take less real time than a quarter of its virtual time (it takes about
// a twentieth), or with the race detector less than its virtual time
// (about a third).
func run(t *testing.T, cfg Config, p Policy) (*Result, time.Duration) {
	t.Helper()
	var res *Result
	start := time.Now()
	synctest.Test(t, func(t *testing.T) {
		var err error
		if res, err = Run(t.Context(), cfg, p); err != nil {
			t.Fatal(err)
		}
	})
	took := time.Since(start)
	if res == nil {
		t.FailNow()
	}
	if res.Virtual < cfg.Duration() {
		t.Errorf("%s: the run took %v of virtual time, want at least %v", p.Name, res.Virtual, cfg.Duration())
	}
	limit := res.Virtual / 4
	if raceEnabled {
		limit = res.Virtual
	}
	if took > limit {
		t.Errorf("%s: %v of virtual time took %v of real time: something sleeps in real time", p.Name, res.Virtual, took)
	}
	return res, took
}

// checkSameWorkload checks that every run of a seed met the same calls,
// that the service saw every request the calls made, that no call failed,
// and that no hedging made one request a call.
func checkSameWorkload(t *testing.T, results []*Result) {
	t.Helper()
	calls := map[uint64]int64{}
	for _, r := range results {
		if n, ok := calls[r.Seed]; ok && n != r.Calls {
			t.Errorf("seed %d, %s: %d calls, another policy %d: not the same arrivals", r.Seed, r.Policy, r.Calls, n)
		}
		calls[r.Seed] = r.Calls
		if r.ServiceRequests != r.Requests || r.Failed != 0 {
			t.Errorf("seed %d, %s: the service saw %d requests, the calls made %d; %d calls failed",
				r.Seed, r.Policy, r.ServiceRequests, r.Requests, r.Failed)
		}
		if r.Library == "" && r.Requests != r.Calls {
			t.Errorf("seed %d, no hedging: %d requests for %d calls", r.Seed, r.Requests, r.Calls)
		}
	}
}

// checkShort checks the short run: the model's body, and issue 20's goals
// as they apply at the short scale to awsretry's fixed delay.
//
// The p99 goal (50% lower) is out of reach of any single hedge for this
// body, whose own p99 is 25 ms (Bound: a hedge after 25 ms gives 31 ms
// against no hedging's 45 ms, -31%; -50% takes a hedge after 12.5 ms and
// 19% extra requests). So the check is that the budget did not keep
// awsretry from the bound: a p99 at least 25% lower, and extra requests
// within 0.5 points of the bound's 2.1%.
//
// In the slowdown, awsretry's budget holds the hedges that do not win to
// its Ratio (0.9%) of the calls over its 10 s window, plus one; the few that
// win come on top (0.91-0.95% of extra requests in the full run, at most
// 0.98% at a seed). The check is the budget's own bound, with room for
// the short run's few calls and its window's steps: hedges that lost at
// most 1.05% of the calls, and extra requests at most 1.1%.
func checkShort(t *testing.T, sums []Summary) {
	t.Helper()
	rule := shortPolicies()[1].Rule
	get := func(library string, phase Phase) Summary {
		for _, s := range sums {
			if s.Library == library && s.Phase == phase && (library == "" || s.Rule == rule) {
				return s
			}
		}
		t.Fatalf("no summary of %q in the %v phase", library, phase)
		return Summary{}
	}
	none := get("", Steady)
	if p50 := none.P50.Median; p50 < 0.0076 || p50 > 0.0084 {
		t.Errorf("no hedging: p50 %.2f ms, want the body's median, 8 ms within 5%%", p50*1000)
	}
	if p99 := none.P99.Median; p99 < 0.035 || p99 > 0.06 {
		t.Errorf("no hedging: p99 %.1f ms, want about 45 ms (the slow 1%%'s lower end)", p99*1000)
	}
	steady, slow := get("awsretry", Steady), get("awsretry", Slowdown)
	lost := slow.perSeed[0].LostShare()
	for _, c := range []struct {
		name  string
		ok    bool
		value string
	}{
		{"steady p99.9 at least 80% lower than no hedging", steady.P999Cut.Worst >= GoalP999Cut, pct(steady.P999Cut.Worst)},
		{"steady p99 at least 25% lower than no hedging", steady.P99Cut.Worst >= 0.25, pct(steady.P99Cut.Worst)},
		{"steady extra requests within 0.5 points of 2.1%", steady.Extra.Worst >= 0.016 && steady.Extra.Worst <= 0.026, pct(steady.Extra.Worst)},
		{"steady at most 5% extra requests", steady.Extra.Worst <= GoalExtra, pct(steady.Extra.Worst)},
		{"slowdown hedges that lost at most 1.05% of the calls", lost <= 0.0105, pct(lost)},
		{"slowdown extra requests at most 1.1%", slow.Extra.Worst <= 0.011, pct(slow.Extra.Worst)},
	} {
		if !c.ok {
			t.Errorf("awsretry %s: %s, want %s", steady.Rule, c.value, c.name)
		}
	}
	t.Logf("awsretry %s in the slowdown: %s extra requests (issue 20's goal: at most 1%%), %s of the calls hedges that lost",
		rule, pct(slow.Extra.Median), pct(lost))
	if a, f := steady, get("failsafe-go", Steady); a.P99.Median > f.P99.Median || a.P999.Median > f.P999.Median || a.Extra.Median > f.Extra.Median {
		_, verdict := Compare(a.P99.Median, a.P999.Median, a.Extra.Median, f.P99.Median, f.P999.Median, f.Extra.Median)
		t.Errorf("steady: awsretry against failsafe-go: %s; want no worse on either", verdict)
	}
	fs := get("failsafe-go", Slowdown)
	if slow.Extra.Median >= fs.Extra.Median/5 {
		t.Errorf("slowdown: awsretry %s extra requests, failsafe-go %s: want awsretry's a fifth of failsafe-go's at most",
			pct(slow.Extra.Median), pct(fs.Extra.Median))
	}
}

// command is the test's command line, for the report.
func command() string {
	args := []string{"go test -run '^TestHedging$' ./hedging -args"}
	flag.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "test.") {
			return
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() && f.Value.String() == "true" {
			args = append(args, "-"+f.Name)
			return
		}
		args = append(args, fmt.Sprintf("-%s %s", f.Name, f.Value))
	})
	return strings.Join(args, " ")
}

func writeFile(t *testing.T, path string, write func(io.Writer) error) {
	t.Helper()
	if err := csvtable.WriteFile(path, write); err != nil {
		t.Fatal(err)
	}
}
