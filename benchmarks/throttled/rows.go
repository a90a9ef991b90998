package throttled

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/awsretry/awsretry/benchmarks/internal/csvtable"
)

// Row is one run of the sweep: a policy, in so many processes, at a demand.
type Row struct {
	Policy    string
	Processes int
	Demand    float64
	Result
}

// SortRows orders rows by processes, then policy in the order of Policies,
// then demand.
func SortRows(rows []Row) {
	order := func(name string) int {
		return slices.IndexFunc(Policies, func(p Policy) bool { return p.Name == name })
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		if a.Processes != b.Processes {
			return a.Processes - b.Processes
		}
		if oa, ob := order(a.Policy), order(b.Policy); oa != ob {
			return oa - ob
		}
		switch {
		case a.Demand < b.Demand:
			return -1
		case a.Demand > b.Demand:
			return 1
		}
		return 0
	})
}

var csvHeader = []string{"policy", "processes", "demand", "calls", "succeeded", "failed", "goodput",
	"throttled_per_success", "attempts_per_call", "p50_s", "p99_s", "fail_p50_s", "recovery_s", "fairness"}

// WriteCSV writes rows, one per line, after a header.
func WriteCSV(w io.Writer, rows []Row) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	s := func(d time.Duration) string { return f(d.Seconds()) }
	return csvtable.Write(w, csvHeader, rows, func(r Row) []string {
		return []string{r.Policy, strconv.Itoa(r.Processes), f(r.Demand),
			strconv.Itoa(r.Calls), strconv.Itoa(r.Succeeded), strconv.Itoa(r.Failed), f(r.Goodput),
			f(r.ThrottledPerSuccess), f(r.AttemptsPerCall), s(r.P50), s(r.P99), s(r.FailP50),
			s(r.Recovery), f(r.Fairness)}
	})
}

// ReadCSV reads what WriteCSV wrote.
func ReadCSV(r io.Reader) ([]Row, error) {
	return csvtable.Read(r, "throttled CSV", csvHeader, func(rec []string) (Row, error) {
		var (
			row  = Row{Policy: rec[0]}
			errs []error
		)
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			errs = append(errs, err)
			return v
		}
		integer := func(s string) int {
			v, err := strconv.Atoi(s)
			errs = append(errs, err)
			return v
		}
		dur := func(s string) time.Duration {
			v := num(s)
			if v < 0 {
				return -1 // never
			}
			return time.Duration(v*float64(time.Second) + 0.5)
		}
		row.Processes, row.Demand = integer(rec[1]), num(rec[2])
		row.Calls, row.Succeeded, row.Failed = integer(rec[3]), integer(rec[4]), integer(rec[5])
		row.Goodput, row.ThrottledPerSuccess, row.AttemptsPerCall = num(rec[6]), num(rec[7]), num(rec[8])
		row.P50, row.P99, row.FailP50, row.Recovery = dur(rec[9]), dur(rec[10]), dur(rec[11]), dur(rec[12])
		row.Fairness = num(rec[13])
		return row, errors.Join(errs...)
	})
}

// Text formats rows for a test log.
func Text(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-32s %2d proc %4.1fC  goodput %.3f  throttled/success %7.3f  attempts/call %5.2f  failed %5d/%5d  p50 %8v  p99 %8v  fail-p50 %8v  recovery %6s  fairness %.3f\n",
			r.Policy, r.Processes, r.Demand, r.Goodput, r.ThrottledPerSuccess, r.AttemptsPerCall, r.Failed, r.Calls,
			r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.FailP50.Round(time.Millisecond),
			RecoveryText(r.Recovery), r.Fairness)
	}
	return b.String()
}

// RecoveryText is d to a tenth of a second, or "never" for -1.
func RecoveryText(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// Markdown is the table of rows with the given number of processes, for
// the docs.
func Markdown(rows []Row, processes int) string {
	var b strings.Builder
	b.WriteString("| policy | demand | goodput | throttled / success | failed | p50 | p99 | failure p50 | recovery | fairness |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rows {
		if r.Processes != processes {
			continue
		}
		failed := 0.0
		if r.Calls > 0 {
			failed = float64(r.Failed) / float64(r.Calls)
		}
		fmt.Fprintf(&b, "| %s | %gC | %.3f | %s | %.0f%% | %s | %s | %s | %s | %.3f |\n",
			r.Policy, r.Demand, r.Goodput, perSuccess(r.ThrottledPerSuccess), 100*failed,
			short(r.P50), short(r.P99), short(r.FailP50), RecoveryText(r.Recovery), r.Fairness)
	}
	return b.String()
}

func perSuccess(v float64) string {
	if v < 0.1 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// short is d in ms under a second, else in seconds.
func short(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// SeedsMarkdown summarises runs of the same policy, processes and demand
// under different seeds (rows in any order): for each, the worst and the
// median of what the goals bound, and how many runs recovered later than
// 2 s.
func SeedsMarkdown(rows []Row) string {
	type key struct {
		policy    string
		processes int
		demand    float64
	}
	var keys []key
	runs := map[key][]Row{}
	for _, r := range rows {
		k := key{r.Policy, r.Processes, r.Demand}
		if _, ok := runs[k]; !ok {
			keys = append(keys, k)
		}
		runs[k] = append(runs[k], r)
	}
	var b strings.Builder
	b.WriteString("| policy | processes | demand | seeds | goodput: lowest, median | throttled / success: median, highest | p99: highest | recovery: median, longest | recovery over 2 s |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, k := range keys {
		rs := runs[k]
		goodput := sorted(rs, func(r Row) float64 { return r.Goodput })
		waste := sorted(rs, func(r Row) float64 { return r.ThrottledPerSuccess })
		p99 := sorted(rs, func(r Row) float64 { return r.P99.Seconds() })
		recovery := sorted(rs, func(r Row) float64 { // never: longer than any
			if r.Recovery < 0 {
				return math.Inf(1)
			}
			return r.Recovery.Seconds()
		})
		late := 0
		for _, v := range recovery {
			if v > 2 {
				late++
			}
		}
		seconds := func(v float64) time.Duration {
			if math.IsInf(v, 1) {
				return -1
			}
			return time.Duration(v * float64(time.Second))
		}
		fmt.Fprintf(&b, "| %s | %d | %gC | %d | %.3f, %.3f | %s, %s | %s | %s, %s | %d |\n",
			k.policy, k.processes, k.demand, len(rs), goodput[0], median(goodput),
			perSuccess(median(waste)), perSuccess(waste[len(waste)-1]), short(seconds(p99[len(p99)-1])),
			medianText(seconds(median(recovery))), RecoveryText(seconds(recovery[len(recovery)-1])), late)
	}
	return b.String()
}

// medianText is RecoveryText to a hundredth of a second: a median of an
// even number of runs can fall between two tenths.
func medianText(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// sorted returns f of each row, in increasing order.
func sorted(rows []Row, f func(Row) float64) []float64 {
	vs := make([]float64, len(rows))
	for i, r := range rows {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	return vs
}

// median is the median of sorted values: of an even number, the mean of
// the two in the middle.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
