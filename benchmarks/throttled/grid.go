package throttled

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The grid's axes: the service's bucket in seconds of its capacity, the
// capacity, what a throttled request costs the service, the processes the
// 50 clients run in, and the demand in multiples of the capacity; each
// under every Shape.
var (
	Bursts        = []float64{0.1, 1, 5, 30}
	Capacities    = []float64{5, 100, 1000}
	ThrottleCosts = []float64{0, 0.1}
	ProcessCounts = []int{1, DefaultClients}
	Demands       = []float64{0.5, 0.9, 2, 5}
)

// Grid returns every cell of the grid, in report order.
func Grid() []Cell {
	var cells []Cell
	for _, shape := range Shapes {
		for _, c := range Capacities {
			for _, b := range Bursts {
				for _, cost := range ThrottleCosts {
					for _, p := range ProcessCounts {
						for _, d := range Demands {
							cells = append(cells, Cell{Shape: shape, Capacity: c, Burst: b, ThrottleCost: cost, Processes: p, Demand: d})
						}
					}
				}
			}
		}
	}
	return cells
}

// Offsets spreads the capacity's return over seeds runs: run i returns
// i/seeds of the way through Cycle later, in whole 100 ms steps (the bins
// the recovery is measured in), so that the recovery is measured at every
// phase of the Limiter's cycle.
func Offsets(seeds int) []time.Duration {
	offsets := make([]time.Duration, seeds)
	for i := range offsets {
		offsets[i] = (Cycle * time.Duration(i) / time.Duration(seeds)).Truncate(100 * time.Millisecond)
	}
	return offsets
}

// Cycle is the span the capacity's return is spread over: a little more
// than the Limiter's longest cycle of hold and probe at a limit.
const Cycle = 3 * time.Second

// Summary is a policy's runs on one cell, under several seeds: the median
// and the worst of each measure.
type Summary struct {
	Policy string
	Cell
	Seeds int
	// Goodput: median and lowest.
	Goodput, GoodputWorst float64
	// ThrottledPerSuccess: median and highest.
	Waste, WasteWorst float64
	// Allowance is the throttled attempts over ThrottleAllowance: median
	// and highest; at most 1 meets the goal.
	Allowance, AllowanceWorst float64
	// P99 of successful calls: median and highest.
	P99, P99Worst time.Duration
	// FailP50 and FailP99: medians.
	FailP50, FailP99 time.Duration
	// Recovery: median and longest, +Inf for never, 0 for no return.
	Recovery, RecoveryWorst float64
	// RefusedWithRoom: median and highest.
	RefusedWithRoom, RefusedWithRoomWorst float64
	// WithRoom: median and lowest.
	WithRoom, WithRoomWorst float64
}

// Summarise groups rows by policy and cell, in the order of SortRows.
func Summarise(rows []Row) []Summary {
	rows = slices.Clone(rows)
	SortRows(rows)
	var out []Summary
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].Policy == rows[i].Policy && rows[j].Cell == rows[i].Cell {
			j++
		}
		out = append(out, summary(rows[i:j]))
		i = j
	}
	return out
}

func summary(rs []Row) Summary {
	s := Summary{Policy: rs[0].Policy, Cell: rs[0].Cell, Seeds: len(rs)}
	lo := func(f func(Row) float64) (float64, float64) {
		v := sorted(rs, f)
		return median(v), v[0]
	}
	hi := func(f func(Row) float64) (float64, float64) {
		v := sorted(rs, f)
		return median(v), v[len(v)-1]
	}
	dur := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
	s.Goodput, s.GoodputWorst = lo(func(r Row) float64 { return r.Goodput })
	s.Waste, s.WasteWorst = hi(func(r Row) float64 { return r.ThrottledPerSuccess })
	s.Allowance, s.AllowanceWorst = hi(func(r Row) float64 {
		return r.Throttled() / ThrottleAllowance(r.Duration(), r.Succeeded)
	})
	p99, p99Worst := hi(func(r Row) float64 { return r.P99.Seconds() })
	s.P99, s.P99Worst = dur(p99), dur(p99Worst)
	f50, _ := hi(func(r Row) float64 { return r.FailP50.Seconds() })
	f99, _ := hi(func(r Row) float64 { return r.FailP99.Seconds() })
	s.FailP50, s.FailP99 = dur(f50), dur(f99)
	s.Recovery, s.RecoveryWorst = hi(func(r Row) float64 {
		if r.Recovery < 0 {
			return math.Inf(1)
		}
		return r.Recovery.Seconds()
	})
	s.RefusedWithRoom, s.RefusedWithRoomWorst = hi(func(r Row) float64 { return float64(r.RefusedWithRoom) })
	s.WithRoom, s.WithRoomWorst = lo(func(r Row) float64 { return r.WithRoom })
	return s
}

// Goal is one of the Limiter's goals as it applies to a cell.
type Goal struct {
	Name string
	// Met reports whether the median over the seeds (and, for the
	// recovery, the worst seed) meets it.
	Met bool
	// Value is what was measured, Bound what the goal asks.
	Value, Bound string
}

// goalVsSDK names the goal of 50 processes to throttle no more than the
// SDK's adaptive mode.
const goalVsSDK = "throttles vs SDK adaptive"

// MaxWait is the Limiter's default MaxWait, the time within which a call
// it refuses fails.
const MaxWait = 100 * time.Millisecond

// Goals returns the goals that apply to s, a summary of the Limiter (or
// any policy) on its cell, and whether they are met. sdk is the SDK's
// adaptive mode on the same cell, if it ran there: with 50 processes the
// goal is to throttle no more than it.
func Goals(s Summary, sdk *Summary) []Goal {
	var goals []Goal
	add := func(name string, met bool, value, bound string) {
		goals = append(goals, Goal{Name: name, Met: met, Value: value, Bound: bound})
	}
	full := s.Demand >= 1
	if s.Processes == 1 && full {
		add("goodput", s.Goodput >= 0.95, fmt.Sprintf("%.3f", s.Goodput), "≥ 0.95")
		add("throttles", s.Allowance <= 1, fmt.Sprintf("%.2f of the allowance (%.4f / success)", s.Allowance, s.Waste),
			"≤ max(1% of successes, 1 per 2 s)")
		add("p99", s.P99 <= time.Second, short(s.P99), "≤ 1 s")
		add("fail fast", s.FailP50 <= MaxWait && s.FailP99 <= time.Second,
			fmt.Sprintf("p50 %s, p99 %s", short(s.FailP50), short(s.FailP99)), "p50 ≤ MaxWait, p99 ≤ 1 s")
		if s.Capacity >= 20 && s.Shape != Cold {
			add("recovery", s.Recovery <= 2 && s.RecoveryWorst <= 4,
				fmt.Sprintf("%s, worst %s", seconds(s.Recovery), seconds(s.RecoveryWorst)), "≤ 2 s, worst ≤ 4 s")
		}
	}
	if !full {
		add("refused with room", s.RefusedWithRoom == 0, fmt.Sprintf("%g (worst %g)", s.RefusedWithRoom, s.RefusedWithRoomWorst), "0")
		add("served with room", s.WithRoom >= 0.99, fmt.Sprintf("%.4f", s.WithRoom), "≥ 0.99")
	}
	if s.Processes > 1 {
		add("goodput, 50 processes", s.Goodput >= 0.95, fmt.Sprintf("%.3f", s.Goodput), "≥ 0.95")
		if sdk != nil {
			add(goalVsSDK, s.Waste <= sdk.Waste, fmt.Sprintf("%.4f / success", s.Waste),
				fmt.Sprintf("≤ %.4f (SDK adaptive)", sdk.Waste))
		}
	}
	return goals
}

// seconds formats a recovery in seconds (+Inf: never; 0: none).
func seconds(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "never"
	case v == 0:
		return "—"
	}
	return fmt.Sprintf("%.1f s", v)
}

// short is d in ms under a second, else in seconds.
func short(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// perSuccess formats throttled attempts per success.
func perSuccess(v float64) string {
	if v < 0.1 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// GridTable is the Markdown table of the summaries of policy, one line per
// cell: the medians over the seeds, the worst seed, and the goals missed.
// sdk holds the SDK adaptive mode's summaries, for the goal of 50
// processes.
func GridTable(sums []Summary, policy string, sdk []Summary) string {
	var b strings.Builder
	b.WriteString("| cell | seeds | goodput (lowest) | throttled / success (highest) | p99 (highest) | fail p50, p99 | recovery (longest) | refused with room (most) | goals missed |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, s := range sums {
		if s.Policy != policy {
			continue
		}
		var missed []string
		for _, g := range Goals(s, find(sdk, s.Cell)) {
			if !g.Met {
				missed = append(missed, fmt.Sprintf("%s: %s (want %s)", g.Name, g.Value, g.Bound))
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %.3f (%.3f) | %s (%s) | %s (%s) | %s, %s | %s (%s) | %g (%g) | %s |\n",
			s.Cell, s.Seeds, s.Goodput, s.GoodputWorst, perSuccess(s.Waste), perSuccess(s.WasteWorst),
			short(s.P99), short(s.P99Worst), short(s.FailP50), short(s.FailP99),
			seconds(s.Recovery), seconds(s.RecoveryWorst), s.RefusedWithRoom, s.RefusedWithRoomWorst, strings.Join(missed, "; "))
	}
	return b.String()
}

// find returns the summary of cell among sums, or nil.
func find(sums []Summary, cell Cell) *Summary {
	for i := range sums {
		if sums[i].Cell == cell {
			return &sums[i]
		}
	}
	return nil
}

// Only returns the summaries of policy.
func Only(sums []Summary, policy string) []Summary {
	var out []Summary
	for _, s := range sums {
		if s.Policy == policy {
			out = append(out, s)
		}
	}
	return out
}

// Headline is one measure over the cells of the grid where a goal uses
// it: the median of the cells' medians, and the worst cell.
type Headline struct {
	Measure string
	Where   string // which cells: "1 process, D ≥ C", ...
	Policy  string
	Cells   int
	Median  string
	Worst   string
	WorstAt Cell
}

// Headlines returns, for policy, the median and the worst cell of each
// measure the goals bound, over the cells where they apply.
func Headlines(sums []Summary, policy string) []Headline {
	var out []Headline
	type measure struct {
		name, where string
		keep        func(Summary) bool
		value       func(Summary) float64
		higherBad   bool
		format      func(float64) string
	}
	one := func(s Summary) bool { return s.Processes == 1 && s.Demand >= 1 }
	f3 := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	for _, m := range []measure{
		{"goodput", "1 process, D ≥ C", one, func(s Summary) float64 { return s.Goodput }, false, f3},
		{"throttled / success", "1 process, D ≥ C", one, func(s Summary) float64 { return s.Waste }, true, perSuccess},
		{"throttles / allowance", "1 process, D ≥ C", one, func(s Summary) float64 { return s.Allowance }, true,
			func(v float64) string { return fmt.Sprintf("%.2f", v) }},
		{"p99", "1 process, D ≥ C", one, func(s Summary) float64 { return s.P99.Seconds() }, true,
			func(v float64) string { return short(time.Duration(v * float64(time.Second))) }},
		{"recovery (median of seeds)", "1 process, D ≥ C, C ≥ 20, step and ramp",
			func(s Summary) bool { return one(s) && s.Capacity >= 20 && s.Shape != Cold },
			func(s Summary) float64 { return s.Recovery }, true, seconds},
		{"recovery (worst seed)", "1 process, D ≥ C, C ≥ 20, step and ramp",
			func(s Summary) bool { return one(s) && s.Capacity >= 20 && s.Shape != Cold },
			func(s Summary) float64 { return s.RecoveryWorst }, true, seconds},
		{"served with room", "D ≤ 0.9C", func(s Summary) bool { return s.Demand < 1 },
			func(s Summary) float64 { return s.WithRoom }, false, func(v float64) string { return fmt.Sprintf("%.4f", v) }},
		{"refused with room", "D ≤ 0.9C", func(s Summary) bool { return s.Demand < 1 },
			func(s Summary) float64 { return s.RefusedWithRoom }, true, func(v float64) string { return fmt.Sprintf("%g", v) }},
		{"goodput", "50 processes", func(s Summary) bool { return s.Processes > 1 },
			func(s Summary) float64 { return s.Goodput }, false, f3},
		{"throttled / success", "50 processes", func(s Summary) bool { return s.Processes > 1 },
			func(s Summary) float64 { return s.Waste }, true, perSuccess},
	} {
		var vs []float64
		var worst Summary
		worstV := math.NaN()
		for _, s := range sums {
			if s.Policy != policy || !m.keep(s) {
				continue
			}
			v := m.value(s)
			vs = append(vs, v)
			if math.IsNaN(worstV) || (m.higherBad && v > worstV) || (!m.higherBad && v < worstV) {
				worst, worstV = s, v
			}
		}
		if len(vs) == 0 {
			continue
		}
		slices.Sort(vs)
		out = append(out, Headline{Measure: m.name, Where: m.where, Policy: policy, Cells: len(vs),
			Median: m.format(median(vs)), Worst: m.format(worstV), WorstAt: worst.Cell})
	}
	return out
}

// HeadlineTable is the Markdown table of headlines.
func HeadlineTable(hs []Headline) string {
	var b strings.Builder
	b.WriteString("| measure | cells | policy | median cell | worst cell | the worst cell |\n| --- | --- | --- | ---: | ---: | --- |\n")
	for _, h := range hs {
		fmt.Fprintf(&b, "| %s | %s (%d) | %s | %s | %s | %s |\n", h.Measure, h.Where, h.Cells, h.Policy, h.Median, h.Worst, h.WorstAt)
	}
	return b.String()
}

// GoalTable is the Markdown table of the goals for policy over the grid:
// for each goal, the cells where it applies, how many meet it (the median
// over the seeds), and the cells that miss it, worst first (at most
// three named). sdk holds the SDK adaptive mode's summaries.
func GoalTable(sums []Summary, policy string, sdk []Summary) string {
	type tally struct {
		applies, met int
		missed       []string
	}
	var names []string
	tallies := map[string]*tally{}
	for _, s := range sums {
		if s.Policy != policy {
			continue
		}
		for _, g := range Goals(s, find(sdk, s.Cell)) {
			key := g.Name + " (" + g.Bound + ")"
			if g.Name == goalVsSDK {
				key = g.Name + " (no more than it, in the same cell)"
			}
			if tallies[key] == nil {
				names = append(names, key)
				tallies[key] = &tally{}
			}
			t := tallies[key]
			t.applies++
			if g.Met {
				t.met++
			} else {
				t.missed = append(t.missed, fmt.Sprintf("%s: %s", s.Cell, g.Value))
			}
		}
	}
	var b strings.Builder
	b.WriteString("| goal | cells | met | missed (the first three, in grid order) |\n| --- | ---: | ---: | --- |\n")
	for _, name := range names {
		t := tallies[name]
		missed := t.missed
		if len(missed) > 3 {
			missed = append(missed[:3:3], fmt.Sprintf("and %d more", len(t.missed)-3))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", name, t.applies, t.met, strings.Join(missed, "; "))
	}
	return b.String()
}

// PolicyTable is the Markdown table comparing the policies over the cells
// where each ran, in one process and in 50, at a demand of at least the
// capacity: the median cell and the worst of goodput, throttled attempts
// per success and p99.
func PolicyTable(sums []Summary) string {
	var b strings.Builder
	b.WriteString("| policy | processes | cells | goodput: median, worst | throttled / success: median, worst | p99: median, worst |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range Policies {
		for _, procs := range ProcessCounts {
			var goodput, waste, p99 []float64
			for _, s := range sums {
				if s.Policy == p.Name && s.Processes == procs && s.Demand >= 1 {
					goodput = append(goodput, s.Goodput)
					waste = append(waste, s.Waste)
					p99 = append(p99, s.P99.Seconds())
				}
			}
			if len(goodput) == 0 {
				continue
			}
			slices.Sort(goodput)
			slices.Sort(waste)
			slices.Sort(p99)
			sec := func(v float64) string { return short(time.Duration(v * float64(time.Second))) }
			fmt.Fprintf(&b, "| %s | %d | %d | %.3f, %.3f | %s, %s | %s, %s |\n", p.Name, procs, len(goodput),
				median(goodput), goodput[0], perSuccess(median(waste)), perSuccess(waste[len(waste)-1]),
				sec(median(p99)), sec(p99[len(p99)-1]))
		}
	}
	return b.String()
}
