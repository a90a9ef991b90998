package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/awsretry/awsretry/benchmarks/contention"
	"github.com/awsretry/awsretry/benchmarks/throttled"
)

// Base is the library the ratios compare with, and Recording its variant
// with a recording OpenTelemetry SDK, which is not a peer.
const (
	Base      = "awsretry"
	Recording = "awsretry-otel"
)

// Input is everything RESULTS.md is made of.
type Input struct {
	// Machine, CPU, Cores, GoVersion and Date describe the run; Load is
	// the load average before and after the benchmarks, if known.
	Machine, CPU, Cores, GoVersion, Date, Load string
	// Command is the command that produced the results.
	Command string
	// Bench holds the benchmark runs: BenchmarkOverhead, BenchmarkTestSpeed
	// and the synctest lines of TestSynctestSpeed.
	Bench *Results
	// Benchstat is benchstat's summary of the same runs, shown verbatim.
	Benchstat string
	// Contention is the sweep's points.
	Contention []contention.Point
	// Chart is the chart's path relative to RESULTS.md.
	Chart string
	// Throttled is the rows of the throttled service's grid, and
	// ThrottledChart its picture's path relative to RESULTS.md.
	Throttled      []throttled.Row
	ThrottledChart string
	// ThrottledGrid is the path, relative to RESULTS.md, of the
	// Limiter's table cell by cell, if it was written.
	ThrottledGrid string
	// Elapsed lists how long each step of the command took.
	Elapsed []Step
}

// Step is one timed step of the command.
type Step struct {
	Name     string        // what the step did, such as "benchmarks"
	Duration time.Duration // how long it took
}

// overheadName is the benchmark name of one library in one scenario.
func overheadName(op, lib string) string { return "Overhead/op=" + op + "/lib=" + lib }

// overheadAxes returns the scenarios and libraries of BenchmarkOverhead in
// the order they ran.
func overheadAxes(r *Results) (ops, libs []string) {
	for _, name := range r.Names() {
		rest, ok := strings.CutPrefix(name, "Overhead/op=")
		if !ok {
			continue
		}
		op, lib, ok := strings.Cut(rest, "/lib=")
		if !ok {
			continue
		}
		if !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
		if !slices.Contains(libs, lib) {
			libs = append(libs, lib)
		}
	}
	return ops, libs
}

// opTitles explain the scenario names.
var opTitles = map[string]string{
	"success":           "(a) first-try success",
	"3fail-wait0":       "(b) three failures, then success; waits of 0",
	"3fail-wait1ns":     "(b) three failures, then success; waits of 1 ns",
	"exhausted-wait0":   "(c) exhaustion after 10 attempts; waits of 0",
	"exhausted-wait1ns": "(c) exhaustion after 10 attempts; waits of 1 ns",
}

var units = []string{NsPerOp, BytesPerOp, AllocsPerOp}

// span returns the smallest and largest sample of name in unit.
func (r *Results) span(name, unit string) (lo, hi float64) {
	vs := r.samples[name][unit]
	if len(vs) == 0 {
		return math.NaN(), math.NaN()
	}
	return slices.Min(vs), slices.Max(vs)
}

// Behind is one measure in which a peer beat awsretry.
type Behind struct {
	// Op is the scenario, Peer the library and Unit the measure.
	Op, Peer, Unit string
	// Peer50 and Base50 are the peer's and awsretry's medians.
	Peer50, Base50 float64
	// Overlap reports whether the two libraries' samples overlap, so that
	// the difference is within the run-to-run noise.
	Overlap bool
}

// NotAhead lists, for every scenario and unit, the peers whose median is
// lower than awsretry's (the recording variant excluded).
func NotAhead(r *Results) []Behind {
	ops, libs := overheadAxes(r)
	var out []Behind
	for _, op := range ops {
		for _, unit := range units {
			base, okBase := r.Median(overheadName(op, Base), unit)
			if !okBase {
				continue
			}
			bLo, bHi := r.span(overheadName(op, Base), unit)
			for _, lib := range libs {
				if lib == Base || lib == Recording {
					continue
				}
				peer, ok := r.Median(overheadName(op, lib), unit)
				if !ok || peer >= base {
					continue
				}
				pLo, pHi := r.span(overheadName(op, lib), unit)
				out = append(out, Behind{Op: op, Peer: lib, Unit: unit, Peer50: peer, Base50: base,
					Overlap: unit == NsPerOp && pHi >= bLo && bHi >= pLo})
			}
		}
	}
	return out
}

// Write writes RESULTS.md.
func Write(w io.Writer, in Input) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# awsretry benchmark results\n\n")
	p("Written by `%s`; do not edit by hand. Every figure below comes from the runs described here.\n\n", in.Command)
	p("| | |\n|---|---|\n")
	p("| date | %s |\n| machine | %s, %s, %s cores |\n| Go | %s |\n", in.Date, in.Machine, in.CPU, in.Cores, in.GoVersion)
	if in.Load != "" {
		p("| load average (1, 5, 15 min) | %s |\n", in.Load)
	}
	if len(in.Elapsed) > 0 {
		var steps []string
		var total time.Duration
		for _, s := range in.Elapsed {
			steps = append(steps, fmt.Sprintf("%s %s", s.Name, s.Duration.Round(time.Second)))
			total += s.Duration
		}
		p("| run time | %s in all: %s |\n", total.Round(time.Second), strings.Join(steps, ", "))
	}
	p("\nTimes are benchstat-style medians of %d runs per benchmark (`-count`); the full benchstat summary, "+
		"with confidence intervals, is at the end. The machine is shared, so single runs can be noisy; where a "+
		"difference lies inside the spread of the runs, the text says so.\n\n", in.Bench.Runs(overheadName("success", Base), NsPerOp))

	writeOverhead(&b, in.Bench)
	writeTestSpeed(&b, in.Bench)
	writeContention(&b, in.Contention, in.Chart)
	writeThrottled(&b, in.Throttled, in.ThrottledChart, in.ThrottledGrid)

	p("## benchstat\n\n```\n%s\n```\n", strings.TrimRight(in.Benchstat, "\n"))
	_, err := io.WriteString(w, b.String())
	return err
}

func writeOverhead(b *strings.Builder, r *Results) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	ops, libs := overheadAxes(r)
	p("## 1. Overhead against peers\n\n")
	p("One retried call of an operation that returns the same error value in every library, " +
		"`&smithy.GenericAPIError{Code: \"RequestLimitExceeded\"}`. The policy everywhere: at most 10 attempts, " +
		"exponential backoff doubling from the wait and capped at it, no jitter. " +
		"awsretry runs with its default AWS classifier (it looks the code up; the other libraries retry any " +
		"error, and the SDK classifies it too), the real clock, and no OpenTelemetry SDK installed (the global no-op " +
		"providers): `awsretry`. `awsretry-otel` is the same with a recording SDK (every span sampled and " +
		"recorded, no exporter; metrics aggregated by a ManualReader). Ratios are the peer's median over " +
		"awsretry's from this run: above 1× the peer is slower or allocates more.\n\n")
	p("How each peer is driven (see `overhead_test.go`):\n\n")
	p("- **cenkalti** (backoff/v5 v5.0.3): `backoff.Retry` with a new `ExponentialBackOff` per call, because it is stateful and not safe for concurrent use; `Retry` also allocates its own default backoff and a timer on every call.\n")
	p("- **avast** (retry-go/v4 v4.7.0): options built once, `Do` builds its config from them per call; `LastErrorOnly(true)`; `FixedDelay` for the zero wait (`BackOffDelay` turns 0 into 1 ns).\n")
	p("- **sethvargo** (go-retry v0.5.0): a new backoff chain per call (`WithMaxRetries(9, WithCappedDuration(...NewExponential))`, stateful); the error is wrapped with `RetryableError` once, outside the loop; a `BackoffFunc` returning 0 for the zero wait (`NewExponential` panics on 0).\n")
	p("- **failsafe** (failsafe-go v0.9.8): one `RetryPolicy` and one executor for all calls; `ReturnLastFailure`.\n")
	p("- **awssdk** (aws-sdk-go-v2 v1.48.0 `aws/retry.Standard`, MaxAttempts 10): not a general retry loop, so its retry decisions are run in the loop its retry middleware runs: `GetAttemptToken` before the first attempt, the releases of the retry and attempt tokens after each attempt, `IsErrorRetryable`, `MaxAttemptsError` at the end, `GetRetryToken` on the token bucket, `RetryDelay` (computed, then the scenario's wait is slept instead), and a new timer per wait as `sdk.SleepWithContext` does. The rest of the middleware (request cloning, context values, spans, metrics) is not measured, so this is a lower bound; the bucket holds 2^62 tokens so that it never empties during the benchmark.\n\n")

	for _, op := range ops {
		title := opTitles[op]
		if title == "" {
			title = op
		}
		p("### %s\n\n", title)
		p("| library | time/op | ratio | B/op | ratio | allocs/op | ratio |\n|---|--:|--:|--:|--:|--:|--:|\n")
		for _, lib := range libs {
			name := overheadName(op, lib)
			label := lib
			if lib == Base {
				label = "**" + lib + "**"
			}
			p("| %s", label)
			for _, unit := range units {
				v, ok := r.Median(name, unit)
				base, okBase := r.Median(overheadName(op, Base), unit)
				cell := "—"
				if ok {
					cell = FormatValue(v, unit)
				}
				ratio := Ratio(v, base, ok, okBase)
				if lib == Base {
					ratio = ""
				}
				p(" | %s | %s", cell, ratio)
			}
			p(" |\n")
		}
		p("\n")
	}

	p("### Where awsretry is not ahead\n\n")
	behind := NotAhead(r)
	if len(behind) == 0 {
		p("Nowhere in this run: awsretry (no-op telemetry) has the lowest median time, bytes and allocations in every scenario.\n\n")
	} else {
		for _, x := range behind {
			note := ""
			if x.Overlap {
				note = " — within the spread of the runs, so not a measurable difference"
			}
			p("- %s, %s: %s %s vs awsretry %s%s.\n", opTitles[x.Op], x.Unit, x.Peer,
				FormatValue(x.Peer50, x.Unit), FormatValue(x.Base50, x.Unit), note)
		}
		p("\n")
	}
	writeWhy(b, r)
}

// writeWhy explains awsretry's allocations and time with real waits, from
// the difference between its rows with waits of 0 and of 1 ns: (b) has
// three waits, (c) nine.
func writeWhy(b *strings.Builder, r *Results) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	med := func(op, unit string) float64 {
		v, ok := r.Median(overheadName(op, Base), unit)
		if !ok {
			return math.NaN()
		}
		return v
	}
	bB0, bB1 := med("3fail-wait0", BytesPerOp), med("3fail-wait1ns", BytesPerOp)
	aB0, aB1 := med("3fail-wait0", AllocsPerOp), med("3fail-wait1ns", AllocsPerOp)
	tB0, tB1 := med("3fail-wait0", NsPerOp), med("3fail-wait1ns", NsPerOp)
	bC0, bC1 := med("exhausted-wait0", BytesPerOp), med("exhausted-wait1ns", BytesPerOp)
	if math.IsNaN(bB0 + bB1 + aB0 + aB1 + tB0 + tB1 + bC0 + bC1) {
		return
	}
	p("Why: awsretry's loop itself allocates nothing per retry: %.0f B and %.0f allocs for (b) with waits "+
		"of 0, where it starts no timer at all while every peer still does. ", bB0, aB0)
	perWait := ((bC1 - bC0) - (bB1 - bB0)) / 6 // bytes per wait beyond the first three
	if perWait <= 0 {
		p("With real waits it adds %.0f B and %.0f allocs for the timer of (b), and no more for the six "+
			"further waits of (c): one timer serves a whole Do call.\n\n", bB1-bB0, aB1-aB0)
		return
	}
	p("With real waits, `RealClock.Sleep` makes a new `time.Timer` for each wait: %.0f B and %.0f allocs "+
		"more for the three waits of (b), %.0f B per wait, and %s more time per wait. cenkalti/backoff "+
		"makes one timer per `Retry` call and resets it for each wait, so its cost grows less with the number "+
		"of waits; that is where it can pull ahead, most in (c) with its nine waits. The timer, not the loop, "+
		"is most of everyone's time in the 1 ns rows. Keeping one timer per `Do` call, reset for each wait, "+
		"would leave awsretry one timer's allocations in (b) and (c) whatever the number of waits.\n\n",
		bB1-bB0, aB1-aB0, perWait, FormatValue((tB1-tB0)/3, NsPerOp))
}

func writeTestSpeed(b *strings.Builder, r *Results) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	clocks := []struct{ name, title string }{
		{"fake", "awsretrytest.NewClock (fake clock)"},
		{"benbjohnson", "benbjohnson/clock Mock, advanced from the test goroutine"},
		{"synctest", "real clock inside testing/synctest"},
	}
	fake, okFake := r.Median("TestSpeed/clock=fake", NsPerOp)
	p("## 2. Test speed\n\n")
	p("The seed's default schedule (10 attempts, 9 waits from 3 s growing by 1.1: 40.7 s of waits) run to " +
		"exhaustion as a test would run it, building its clock and Retrier each time; real time per run. The Mock " +
		"is advanced by each wait after `BlockUntilSleeps` says the sleeper is waiting, and each `Mock.Add` " +
		"sleeps 1 ms of real time. The synctest row is measured by `TestSynctestSpeed -speed` with " +
		"`testing.Benchmark`, because `synctest.Test` needs a `*testing.T`.\n\n")
	p("| clock | real time per run | ratio to the fake clock | speed-up over 40.7 s of real waits | B/op | allocs/op |\n|---|--:|--:|--:|--:|--:|\n")
	for _, c := range clocks {
		name := "TestSpeed/clock=" + c.name
		v, ok := r.Median(name, NsPerOp)
		if !ok {
			p("| %s | — | — | — | — | — |\n", c.title)
			continue
		}
		bytes, _ := r.Median(name, BytesPerOp)
		allocs, _ := r.Median(name, AllocsPerOp)
		p("| %s | %s | %s | %s× | %s | %s |\n", c.title, FormatValue(v, NsPerOp), Ratio(v, fake, ok, okFake),
			thousands(40.7e9/v), FormatValue(bytes, BytesPerOp), FormatValue(allocs, AllocsPerOp))
	}
	p("\n")
}

// thousands formats a large ratio with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func writeContention(b *strings.Builder, points []contention.Point, chart string) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	names, series := Series(points)
	p("## 3. Contention simulation\n\n")
	if len(names) == 0 {
		p("No simulation results.\n\n")
		return
	}
	p("After Marc Brooker's \"Exponential Backoff And Jitter\" (2015) and its simulator: N clients start "+
		"together and each makes one optimistic-concurrency write to one shared versioned record (read the "+
		"version, write conditionally on it; a stale write fails with `ConditionalCheckFailedException`, which "+
		"the client's awsretry Retrier retries). Every message takes |N(10 ms, 2 ms)| one way, so an attempt "+
		"is four network legs. Base 5 ms, cap 2 s, each client its own Retrier and random streams; each point is "+
		"the mean of %d seeded runs (seeds shared by all policies), in virtual time inside testing/synctest. "+
		"Calls are the writes the record received, as in Brooker's simulator; completion is the time until the "+
		"last client succeeded. One difference from his code: awsretry's first wait is the base (5 ms), his is "+
		"2×base.\n\n", points[0].Runs)
	if chart != "" {
		p("![calls and completion time against clients, per policy](%s)\n\n", chart)
	}
	clients := []int{}
	for _, pt := range series[names[0]] {
		clients = append(clients, pt.Clients)
	}
	at := func(name string, n int) (contention.Point, bool) {
		for _, pt := range series[name] {
			if pt.Clients == n {
				return pt, true
			}
		}
		return contention.Point{}, false
	}
	for _, table := range []struct {
		title string
		cell  func(contention.Point) string
	}{
		{"Total calls (mean)", func(pt contention.Point) string { return fmt.Sprintf("%.0f", pt.Calls) }},
		{"Completion time (mean)", func(pt contention.Point) string { return seconds(pt.Completion) }},
	} {
		p("%s:\n\n| clients | %s |\n|--:|%s\n", table.title, strings.Join(names, " | "), strings.Repeat("--:|", len(names)))
		for _, n := range clients {
			p("| %d", n)
			for _, name := range names {
				if pt, ok := at(name, n); ok {
					p(" | %s", table.cell(pt))
				} else {
					p(" | —")
				}
			}
			p(" |\n")
		}
		p("\n")
	}
	writeShape(b, names, clients, at)
	writeRecommendation(b, clients, at)
}

// writeRecommendation recommends a policy, with this run's figures.
func writeRecommendation(b *strings.Builder, clients []int, at func(string, int) (contention.Point, bool)) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	full100, ok1 := at(fullPolicy, 100)
	expo100, ok2 := at(expoPolicy, 100)
	seed100, ok3 := at(seedPolicy, 100)
	last := clients[len(clients)-1]
	fullLast, ok4 := at(fullPolicy, last)
	decorLast, ok5 := at(decorPolicy, last)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return
	}
	// from is the smallest client count from which full jitter makes the
	// fewest calls at every larger count.
	from := 0
	for i := len(clients) - 1; i >= 0; i-- {
		fullPt, _ := at(fullPolicy, clients[i])
		least := true
		for _, other := range []string{seedPolicy, expoPolicy, equalPolicy, decorPolicy} {
			if pt, ok := at(other, clients[i]); ok && pt.Calls < fullPt.Calls {
				least = false
			}
		}
		if !least {
			break
		}
		from = clients[i]
	}
	decorSooner, equalSlowest := 0, 0
	for _, n := range clients {
		f, _ := at(fullPolicy, n)
		d, _ := at(decorPolicy, n)
		e, _ := at(equalPolicy, n)
		if d.Completion < f.Completion {
			decorSooner++
		}
		if e.Completion > f.Completion && e.Completion > d.Completion {
			equalSlowest++
		}
	}
	p("### Recommendation\n\n")
	p("For anything many clients may retry at once (throttling, conditional writes, a shared dependency), use "+
		"exponential backoff with full jitter and a cap: `awsretry.WithBackoff(2), "+
		"awsretry.WithJitter(awsretry.JitterFull), awsretry.WithMaxDelay(...)`. In this run it needed %.0f%% of "+
		"the calls of exponential backoff without jitter at 100 clients and finished %.0f× sooner",
		100*full100.Calls/expo100.Calls, expo100.Completion.Seconds()/full100.Completion.Seconds())
	if from > 0 {
		p(", and it did the least work of all five policies from %d clients up", from)
	}
	p(". Decorrelated jitter is a close second: it finished sooner than full jitter at %d of %d sizes, but sent "+
		"%.0f%% more calls at %d clients. Equal jitter, which never waits less than half the backoff, was the "+
		"slowest of the three jittered policies at %d of %d sizes. Keep the seed's default (×1.1, no jitter) for "+
		"one caller waiting out eventual consistency (`InvalidInstanceID.NotFound` after `RunInstances`): under "+
		"contention it sent %.1f× the calls of full jitter at 100 clients.\n\n",
		decorSooner, len(clients), 100*(decorLast.Calls/fullLast.Calls-1), last, equalSlowest, len(clients),
		seed100.Calls/full100.Calls)
}

// The policies the shape statements refer to, by their names in package
// contention.
var (
	seedPolicy  = contention.Policies[0].Name
	expoPolicy  = contention.Policies[1].Name
	fullPolicy  = contention.Policies[2].Name
	equalPolicy = contention.Policies[3].Name
	decorPolicy = contention.Policies[4].Name
)

func writeShape(b *strings.Builder, names []string, clients []int, at func(string, int) (contention.Point, bool)) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### Does the published shape reproduce?\n\n")
	full100, ok1 := at(fullPolicy, 100)
	expo100, ok2 := at(expoPolicy, 100)
	if ok1 && ok2 {
		verdict := "yes"
		if full100.Calls >= expo100.Calls/2 {
			verdict = "no"
		}
		p("- At 100 clients full jitter made %.0f calls, %.0f%% of exponential backoff without jitter (%.0f): "+
			"less than half? **%s**.\n", full100.Calls, 100*full100.Calls/expo100.Calls, expo100.Calls, verdict)
	}
	last := clients[len(clients)-1]
	loses := true
	for _, plain := range []string{seedPolicy, expoPolicy} {
		for _, j := range []string{fullPolicy, equalPolicy, decorPolicy} {
			a, okA := at(plain, last)
			c, okC := at(j, last)
			if okA && okC && a.Calls <= c.Calls {
				loses = false
			}
		}
	}
	verdict := "yes"
	if !loses {
		verdict = "no"
	}
	p("- No jitter is the loser in work: at %d clients both policies without jitter made more calls than every "+
		"jittered one? **%s**. Exponential backoff without jitter is also by far the slowest: its clients stay in "+
		"lockstep, collide again at each wait, and reach the 2 s cap.\n", last, verdict)
	fewest, fastest := map[string]int{}, map[string]int{}
	for _, n := range clients {
		var bestCalls, bestTime string
		for _, name := range names {
			pt, ok := at(name, n)
			if !ok {
				continue
			}
			if b, _ := at(bestCalls, n); bestCalls == "" || pt.Calls < b.Calls {
				bestCalls = name
			}
			if b, _ := at(bestTime, n); bestTime == "" || pt.Completion < b.Completion {
				bestTime = name
			}
		}
		fewest[bestCalls]++
		fastest[bestTime]++
	}
	p("- Fewest calls, in how many of the %d client counts: %s. Shortest completion: %s.\n",
		len(clients), tally(names, fewest), tally(names, fastest))
	if d, ok := at(decorPolicy, last); ok {
		if f, ok := at(fullPolicy, last); ok {
			p("- At %d clients: full jitter %.0f calls in %s, equal jitter %s, decorrelated %.0f calls in %s.\n",
				last, f.Calls, seconds(f.Completion), describe(at(equalPolicy, last)), d.Calls, seconds(d.Completion))
		}
	}
	if s, ok := at(seedPolicy, 100); ok && ok2 {
		p("- The seed's default (×1.1, no jitter) makes about as many calls as exponential backoff without "+
			"jitter (%.0f vs %.0f at 100 clients) but finishes much sooner (%s vs %s): its waits barely grow, so "+
			"its clients retry often and in step. It is quick here only because the simulated record serves any load "+
			"without slowing down; a real service under that load would throttle.\n",
			s.Calls, expo100.Calls, seconds(s.Completion), seconds(expo100.Completion))
	}
	p("\n")
}

func describe(pt contention.Point, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.0f calls in %s", pt.Calls, seconds(pt.Completion))
}

func tally(names []string, counts map[string]int) string {
	var parts []string
	for _, name := range names {
		if counts[name] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", name, counts[name]))
		}
	}
	return strings.Join(parts, ", ")
}

// writeThrottled writes the throttled service's grid: what it runs, its
// picture, the median and worst cells of the Limiter and of the SDK's
// adaptive mode, the goals met and missed, and the other policies.
func writeThrottled(b *strings.Builder, rows []throttled.Row, chart, grid string) {
	if len(rows) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	sums := throttled.Summarise(rows)
	limiter, adaptive, failFast := throttled.Policies[3].Name, throttled.Policies[5].Name, throttled.Policies[6].Name
	seeds := 0
	for _, s := range sums {
		if s.Policy == limiter {
			seeds = max(seeds, s.Seeds)
		}
	}
	p("## Throttled service: the grid of service shapes\n\n")
	p("`TestThrottled -grid` (benchmarks/throttled), in virtual time: %d clients call a service through each policy, the "+
		"service a token bucket of capacity C in {%s} requests per second holding B in {%s} seconds of it (at least one "+
		"request), a throttle costing it {%s} of a request; the clients in 1 process or each a process of its own, "+
		"open loop (Poisson) at D in {%s} times C, each call with a %g s deadline. Shapes: **step**, C halved from 40 s "+
		"to 80 s of 120 s; **ramp**, C down to C/2 over 20 s from 30 s and back over 20 s from 70 s; **cold**, C "+
		"constant for 30 s and the bucket empty at the start (a fleet redeployed into a service its predecessor held "+
		"at its limit). The Limiter's cells run under %d seeds, the capacity's return moved by 0 to %.1f s from one to "+
		"the next (the phases of the Limiter's cycle); seed i of every policy sees the same arrivals. What ran, from "+
		"the rows: %s.\n\n",
		throttled.DefaultClients, floats(throttled.Capacities), floats(throttled.Bursts), floats(throttled.ThrottleCosts),
		floats(throttled.Demands), throttled.DefaultDeadline.Seconds(), seeds, throttled.Cycle.Seconds()*float64(seeds-1)/float64(max(seeds, 1)),
		coverage(sums))
	p("Goodput is the successful calls that ended within the run over the most a clairvoyant client could have had " +
		"served with the same arrivals and deadlines. The throttle allowance is the Limiter's goal: 1%% of the successes, or one " +
		"throttled attempt per 2 s of the run, whichever is more. Recovery is the end of the first one-second window, " +
		"from the capacity's full return, in which 90%% of min(C, D) was served (1 s if at once). A call refused " +
		"\"with room\" is one the client refused while the capacity had been at least D/0.9 for 4 s (the recovery's " +
		"worst case). Each figure is the median over the seeds of a cell; \"worst\" is the worst cell's median.\n\n")
	if chart != "" {
		p("![the Limiter's and the SDK's adaptive mode's goodput and throttled attempts per success, cell by cell](%s)\n\n", chart)
	}
	var hs []throttled.Headline
	for _, name := range []string{limiter, adaptive, failFast} {
		hs = append(hs, throttled.Headlines(sums, name)...)
	}
	p("The grid's median and worst cells:\n\n%s\n", throttled.HeadlineTable(hs))
	p("The Limiter's goals:\n\n%s\n", throttled.GoalTable(sums, limiter, throttled.Only(sums, adaptive)))
	p("The same goals for the SDK's adaptive mode, where it ran:\n\n%s\n", throttled.GoalTable(sums, adaptive, nil))
	p("Every policy, over the cells where it ran, at D ≥ C:\n\n%s\n", throttled.PolicyTable(sums))
	if grid != "" {
		p("The Limiter cell by cell: [%s](%s).\n\n", grid, grid)
	}
}

// coverage says, for each policy in sums, on how many cells it ran, at
// which capacities, and under how many seeds at most.
func coverage(sums []throttled.Summary) string {
	type cover struct {
		cells, seeds int
		capacities   []float64
	}
	var names []string
	covers := map[string]*cover{}
	for _, s := range sums {
		c := covers[s.Policy]
		if c == nil {
			c = &cover{}
			covers[s.Policy] = c
			names = append(names, s.Policy)
		}
		c.cells++
		c.seeds = max(c.seeds, s.Seeds)
		if !slices.Contains(c.capacities, s.Capacity) {
			c.capacities = append(c.capacities, s.Capacity)
		}
	}
	var parts []string
	for _, name := range names {
		c := covers[name]
		slices.Sort(c.capacities)
		parts = append(parts, fmt.Sprintf("%s on %d cells (C in {%s}) under up to %d seeds", name, c.cells, floats(c.capacities), c.seeds))
	}
	return strings.Join(parts, "; ")
}

// floats lists vs as "a, b, c".
func floats(vs []float64) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, fmt.Sprintf("%g", v))
	}
	return strings.Join(parts, ", ")
}
