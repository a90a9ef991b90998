package hedging

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/awsretry/awsretry/benchmarks/internal/csvtable"
)

// Stat is a measure over seeds: its median, and its worst seed's value.
type Stat struct {
	Median, Worst float64
}

// stat returns the median of xs and their worst: the largest, or with
// lowerIsWorse the smallest.
func stat(xs []float64, lowerIsWorse bool) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	worst := s[n-1]
	if lowerIsWorse {
		worst = s[0]
	}
	return Stat{Median: median, Worst: worst}
}

// Summary is one policy in one phase over the seeds.
type Summary struct {
	Policy, Library, Rule string
	Phase                 Phase
	// Seeds is how many runs it sums up.
	Seeds int
	// P50, P99 and P999 are in seconds, the worst the highest.
	P50, P99, P999 Stat
	// Extra is the extra requests per call, the worst the highest.
	Extra Stat
	// Won is the share of the hedges sent that won, the worst the
	// lowest.
	Won Stat
	// P99Cut and P999Cut are how much lower the percentile is than with
	// no hedging in the same run (same seed and phase): 1 - p/p0; the
	// worst the lowest.
	P99Cut, P999Cut Stat
	// perSeed keeps the seeds' phase results, in the order of the seeds.
	perSeed []PhaseResult
}

// Summarise sums up results, by policy (in the order they first appear)
// and phase, over their seeds.
func Summarise(results []*Result) []Summary {
	var order []string
	byPolicy := map[string][]*Result{}
	for _, r := range results {
		if _, ok := byPolicy[r.Policy]; !ok {
			order = append(order, r.Policy)
		}
		byPolicy[r.Policy] = append(byPolicy[r.Policy], r)
	}
	baseline := map[[2]uint64]PhaseResult{} // (seed, phase) -> no hedging's
	for _, r := range results {
		if r.Library == "" {
			for _, p := range r.Phases {
				baseline[[2]uint64{r.Seed, uint64(p.Phase)}] = p
			}
		}
	}
	var sums []Summary
	for _, name := range order {
		runs := byPolicy[name]
		slices.SortFunc(runs, func(a, b *Result) int { return int(a.Seed) - int(b.Seed) })
		for i, phase := range Phases {
			s := Summary{Policy: name, Library: runs[0].Library, Rule: runs[0].Rule, Phase: phase, Seeds: len(runs)}
			var p50, p99, p999, extra, won, cut99, cut999 []float64
			for _, r := range runs {
				p := r.Phases[i]
				s.perSeed = append(s.perSeed, p)
				p50 = append(p50, p.P50.Seconds())
				p99 = append(p99, p.P99.Seconds())
				p999 = append(p999, p.P999.Seconds())
				extra = append(extra, p.Extra())
				won = append(won, p.WonShare())
				if b, ok := baseline[[2]uint64{r.Seed, uint64(phase)}]; ok && b.P99 > 0 && b.P999 > 0 {
					cut99 = append(cut99, 1-p.P99.Seconds()/b.P99.Seconds())
					cut999 = append(cut999, 1-p.P999.Seconds()/b.P999.Seconds())
				}
			}
			s.P50, s.P99, s.P999 = stat(p50, false), stat(p99, false), stat(p999, false)
			s.Extra, s.Won = stat(extra, false), stat(won, true)
			s.P99Cut, s.P999Cut = stat(cut99, true), stat(cut999, true)
			sums = append(sums, s)
		}
	}
	return sums
}

// Goal is one of issue 20's goals for one policy.
type Goal struct {
	Policy string
	// Name says the goal.
	Name string
	// Median and Worst are the measures, as text: over the seeds' median
	// and at the worst seed.
	Median, Worst string
	// Met and MetWorst report whether the median, and every seed, meets
	// it.
	Met, MetWorst bool
}

// The goals' bounds.
const (
	GoalP99Cut        = 0.5  // p99 at least 50% lower than no hedging, steady
	GoalP999Cut       = 0.8  // p99.9 at least 80% lower, steady
	GoalExtra         = 0.05 // at most 5% extra requests, steady
	GoalSlowdownExtra = 0.01 // at most 1% extra requests, slowdown
)

// Goals checks each hedging policy against issue 20's goals: in the
// steady phase the p99 and p99.9 cuts and the extra requests, in the
// slowdown the extra requests; and each awsretry policy against its
// failsafe-go counterpart (the same Rule) in each phase: better on tail
// latency (p99 and p99.9) or on extra requests, and no worse on the other.
func Goals(sums []Summary) []Goal {
	find := func(library, rule string, phase Phase) (Summary, bool) {
		for _, s := range sums {
			if s.Library == library && s.Rule == rule && s.Phase == phase {
				return s, true
			}
		}
		return Summary{}, false
	}
	var goals []Goal
	for _, s := range sums {
		if s.Library == "" {
			continue
		}
		switch s.Phase {
		case Steady:
			goals = append(goals,
				atLeast(s.Policy, "steady: p99 at least 50% lower than no hedging", s.P99Cut, GoalP99Cut),
				atLeast(s.Policy, "steady: p99.9 at least 80% lower than no hedging", s.P999Cut, GoalP999Cut),
				atMost(s.Policy, "steady: at most 5% extra requests", s.Extra, GoalExtra))
		case Slowdown:
			goals = append(goals, atMost(s.Policy, "slowdown: at most 1% extra requests", s.Extra, GoalSlowdownExtra))
		}
	}
	for _, s := range sums {
		if s.Library != "awsretry" {
			continue
		}
		f, ok := find("failsafe-go", s.Rule, s.Phase)
		if !ok {
			continue
		}
		g := Goal{Policy: s.Policy, Name: fmt.Sprintf("%v: better than %s on tail or extra requests, no worse on the other", s.Phase, f.Policy)}
		var verdict string
		g.Met, verdict = Compare(s.P99.Median, s.P999.Median, s.Extra.Median, f.P99.Median, f.P999.Median, f.Extra.Median)
		g.Median = verdict
		met := 0
		for i := range min(len(s.perSeed), len(f.perSeed)) {
			a, b := s.perSeed[i], f.perSeed[i]
			if ok, _ := Compare(a.P99.Seconds(), a.P999.Seconds(), a.Extra(), b.P99.Seconds(), b.P999.Seconds(), b.Extra()); ok {
				met++
			}
		}
		g.MetWorst = met == s.Seeds
		g.Worst = fmt.Sprintf("met at %d of %d seeds", met, s.Seeds)
		goals = append(goals, g)
	}
	return goals
}

// Compare compares a policy's tail latency (p99, p999) and extra requests
// with another's: it reports whether the first is better on one (lower
// extra requests, or a tail no higher at either percentile and lower at
// one) and no worse on the other, and says how.
func Compare(p99, p999, extra, otherP99, otherP999, otherExtra float64) (bool, string) {
	tailNoWorse := p99 <= otherP99 && p999 <= otherP999
	tailBetter := tailNoWorse && (p99 < otherP99 || p999 < otherP999)
	extraNoWorse := extra <= otherExtra
	extraBetter := extra < otherExtra
	word := func(better, noWorse bool) string {
		switch {
		case better:
			return "better"
		case noWorse:
			return "equal"
		}
		return "worse"
	}
	verdict := fmt.Sprintf("tail %s (p99 %s vs %s, p99.9 %s vs %s), extra %s (%s vs %s)",
		word(tailBetter, tailNoWorse), ms(p99), ms(otherP99), ms(p999), ms(otherP999),
		word(extraBetter, extraNoWorse), pct(extra), pct(otherExtra))
	return tailBetter && extraNoWorse || extraBetter && tailNoWorse, verdict
}

func atLeast(policy, name string, s Stat, bound float64) Goal {
	return Goal{Policy: policy, Name: name, Median: pct(s.Median), Worst: pct(s.Worst),
		Met: s.Median >= bound, MetWorst: s.Worst >= bound}
}

func atMost(policy, name string, s Stat, bound float64) Goal {
	return Goal{Policy: policy, Name: name, Median: pct(s.Median), Worst: pct(s.Worst),
		Met: s.Median <= bound, MetWorst: s.Worst <= bound}
}

// ms formats seconds as milliseconds.
func ms(seconds float64) string {
	v, decimals := seconds*1000, 1
	if v >= 100 {
		decimals = 0
	}
	return strconv.FormatFloat(v, 'f', decimals, 64) + " ms"
}

// pct formats a share as a percentage.
func pct(x float64) string {
	if math.Abs(x) < 0.1 && x != 0 {
		return strconv.FormatFloat(100*x, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
}

// Table is the Markdown table of one phase: each policy's p50, p99,
// p99.9, their cut against no hedging, extra requests and hedges won, as
// the median over the seeds and, in brackets, the worst seed.
func Table(sums []Summary, phase Phase) string {
	var b strings.Builder
	b.WriteString("| policy | p50 | p99 | p99.9 | p99 vs none | p99.9 vs none | extra requests | hedges won |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range sums {
		if s.Phase != phase {
			continue
		}
		cut := func(c Stat) string {
			if s.Library == "" {
				return "–"
			}
			return fmt.Sprintf("%s (%s)", signed(-c.Median), signed(-c.Worst))
		}
		won := "–"
		if s.Library != "" {
			won = fmt.Sprintf("%s (%s)", pct(s.Won.Median), pct(s.Won.Worst))
		}
		fmt.Fprintf(&b, "| %s | %s (%s) | %s (%s) | %s (%s) | %s | %s | %s (%s) | %s |\n", s.Policy,
			ms(s.P50.Median), ms(s.P50.Worst), ms(s.P99.Median), ms(s.P99.Worst), ms(s.P999.Median), ms(s.P999.Worst),
			cut(s.P99Cut), cut(s.P999Cut), pct(s.Extra.Median), pct(s.Extra.Worst), won)
	}
	return b.String()
}

// signed formats a relative change with its sign.
func signed(x float64) string {
	v := math.Round(100 * x)
	switch {
	case v == 0:
		return "0%"
	case v > 0:
		return "+" + strconv.FormatFloat(v, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "%"
}

// GoalTable is the Markdown table of goals.
func GoalTable(goals []Goal) string {
	var b strings.Builder
	b.WriteString("| policy | goal | median | worst seed | met (median) | met (every seed) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	for _, g := range goals {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", g.Policy, g.Name, g.Median, g.Worst, yes(g.Met), yes(g.MetWorst))
	}
	return b.String()
}

// BoundTable is the Markdown table of Bound's points.
func BoundTable(points []BoundPoint) string {
	var b strings.Builder
	b.WriteString("| hedge delay | p99 | p99.9 | p99 vs none | extra requests | hedges that lost |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: |\n")
	none := points[0]
	for _, p := range points {
		delay := "no hedging"
		if p.Delay > 0 {
			delay = p.Delay.String()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", delay, ms(p.P99.Seconds()), ms(p.P999.Seconds()),
			signed(p.P99.Seconds()/none.P99.Seconds()-1), pct(p.Extra), pct(p.Lost))
	}
	return b.String()
}

// bestWithin returns the hedged point of points with the lowest p99.9
// among those whose extra requests are at most extra; false when none is.
func bestWithin(points []BoundPoint, extra float64) (BoundPoint, bool) {
	var best BoundPoint
	found := false
	for _, p := range points {
		if p.Delay > 0 && p.Extra <= extra && (!found || p.P999 < best.P999) {
			best, found = p, true
		}
	}
	return best, found
}

// Meta describes a set of runs for the report.
type Meta struct {
	// Config is the runs' configuration (with its defaults).
	Config Config
	// Seeds is the seeds run.
	Seeds []uint64
	// Wall is the real time the runs took, Virtual the virtual time.
	Wall, Virtual time.Duration
	// Command is the command line that produced them.
	Command string
}

// Markdown writes the report: the model, both phases' tables, the goals
// and, when bound is not nil, Bound's tables of the steady phase (bound)
// and of the slowdown (slowBound).
func Markdown(w io.Writer, meta Meta, sums []Summary, goals []Goal, bound, slowBound []BoundPoint) error {
	c, err := meta.Config.withDefaults()
	if err != nil {
		return err
	}
	s := c.Service
	var b strings.Builder
	fmt.Fprintf(&b, "# Hedging: a slow tail, then a global slowdown\n\n")
	fmt.Fprintf(&b, "Generated by `%s`: %d seeds, %v of virtual time in %v of real time.\n\n",
		meta.Command, len(meta.Seeds), meta.Virtual.Round(time.Second), meta.Wall.Round(time.Second))
	fmt.Fprintf(&b, "Service: log-normal body, median %v, p99 %v (sigma %.3f); %s of requests %gx slower; %s stalled for %v; "+
		"%v added to every request in the slowdown. Open-loop Poisson arrivals at %g calls/s in one process. "+
		"Steady phase measured from %v to %v, slowdown from %v to %v (it starts at %v).\n\n",
		s.Median, s.P99, s.Sigma(), pct(s.SlowShare), s.SlowFactor, pct(s.StallShare), s.Stall, s.Slowdown, c.Rate,
		c.Warmup, c.SlowFrom(), c.SlowFrom()+c.Settle, c.Duration(), c.SlowFrom())
	b.WriteString("Each cell: the median over the seeds, the worst seed in brackets. Extra requests are requests/calls - 1; " +
		"hedges won are the share of the hedges sent that answered first.\n\n")
	for _, phase := range Phases {
		fmt.Fprintf(&b, "## %s phase\n\n%s\n", strings.ToUpper(phase.String()[:1])+phase.String()[1:], Table(sums, phase))
	}
	fmt.Fprintf(&b, "## Goals\n\n%s\n", GoalTable(goals))
	if bound != nil {
		fmt.Fprintf(&b, "## What any single hedge can do\n\nOne hedge after a fixed delay, never refused by a budget, "+
			"on the steady phase's draws of seed 0 (Bound):\n\n%s", BoundTable(bound))
	}
	if slowBound != nil {
		fmt.Fprintf(&b, "\nThe same on the slowdown's draws of seed 0:\n\n%s", BoundTable(slowBound))
		if best, ok := bestWithin(slowBound, GoalSlowdownExtra); ok {
			fmt.Fprintf(&b, "\nWithin the slowdown's %s of extra requests, the lowest p99.9 of these is %s (a hedge after %v, %s extra).\n",
				pct(GoalSlowdownExtra), ms(best.P999.Seconds()), best.Delay, pct(best.Extra))
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// csvHeader is the header of WriteCSV's table.
var csvHeader = []string{"policy", "library", "rule", "seed", "phase", "calls", "requests", "hedged", "won",
	"p50_ms", "p99_ms", "p999_ms", "extra", "won_share"}

// WriteCSV writes a line per run and phase.
func WriteCSV(w io.Writer, results []*Result) error {
	type row struct {
		r *Result
		p PhaseResult
	}
	var rows []row
	for _, r := range results {
		for _, p := range r.Phases {
			rows = append(rows, row{r, p})
		}
	}
	f := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 3, 64) }
	return csvtable.Write(w, csvHeader, rows, func(x row) []string {
		return []string{x.r.Policy, x.r.Library, x.r.Rule, strconv.FormatUint(x.r.Seed, 10), x.p.Phase.String(),
			strconv.FormatInt(x.p.Calls, 10), strconv.FormatInt(x.p.Requests, 10), strconv.FormatInt(x.p.Hedged, 10),
			strconv.FormatInt(x.p.Won, 10), f(x.p.P50), f(x.p.P99), f(x.p.P999),
			strconv.FormatFloat(x.p.Extra(), 'f', 5, 64), strconv.FormatFloat(x.p.WonShare(), 'f', 4, 64)}
	})
}
