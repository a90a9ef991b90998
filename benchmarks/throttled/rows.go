package throttled

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/awsretry/awsretry/benchmarks/internal/csvtable"
)

// Cell is one shape of service and fleet: a cell of the grid.
type Cell struct {
	Shape        Shape
	Capacity     float64 // C, requests per second
	Burst        float64 // seconds of C the service's bucket holds
	ThrottleCost float64 // of a token, per throttled request
	Processes    int
	Demand       float64 // multiples of C
}

// String names the cell as the tables do: "step C=100 B=1s cost=0.1 P=1 D=2C".
func (c Cell) String() string {
	return fmt.Sprintf("%s C=%g B=%gs cost=%g P=%d D=%gC", c.Shape, c.Capacity, c.Burst, c.ThrottleCost, c.Processes, c.Demand)
}

// Config is the run of the cell under seed, with the capacity's return
// offset by offset.
func (c Cell) Config(seed uint64, offset time.Duration) Config {
	return Config{Shape: c.Shape, Capacity: c.Capacity, Burst: c.Burst, ThrottleCost: c.ThrottleCost,
		Processes: c.Processes, Demand: c.Demand, Seed: seed, Offset: offset}
}

// Duration is the length of the cell's runs.
func (c Cell) Duration() time.Duration {
	_, d, _ := Config{Shape: c.Shape, Scale: 1}.timeline()
	return d
}

// Row is one run: a policy on a cell, under a seed.
type Row struct {
	Policy string
	Cell
	Seed   uint64
	Offset time.Duration
	Result
}

// SortRows orders rows by policy in the order of Policies, then by cell
// (shape, capacity, burst, cost, processes, demand), then seed.
func SortRows(rows []Row) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		if c := policyOrder(a.Policy) - policyOrder(b.Policy); c != 0 {
			return c
		}
		if c := compareCells(a.Cell, b.Cell); c != 0 {
			return c
		}
		return int(a.Seed) - int(b.Seed)
	})
}

func policyOrder(name string) int {
	return slices.IndexFunc(Policies, func(p Policy) bool { return p.Name == name })
}

func compareCells(a, b Cell) int {
	if c := slices.Index(Shapes, a.Shape) - slices.Index(Shapes, b.Shape); c != 0 {
		return c
	}
	for _, d := range [][2]float64{{a.Capacity, b.Capacity}, {a.Burst, b.Burst}, {a.ThrottleCost, b.ThrottleCost},
		{float64(a.Processes), float64(b.Processes)}, {a.Demand, b.Demand}} {
		switch {
		case d[0] < d[1]:
			return -1
		case d[0] > d[1]:
			return 1
		}
	}
	return 0
}

var csvHeader = []string{"policy", "shape", "capacity", "burst_s", "throttle_cost", "processes", "demand", "seed", "offset_s",
	"calls", "succeeded", "failed", "refused", "refused_with_room", "goodput", "ideal", "with_room",
	"throttled_per_success", "throttled_per_second", "attempts_per_call", "p50_s", "p99_s", "fail_p50_s", "fail_p99_s",
	"recovery_s", "fairness"}

// WriteCSV writes rows, one per line, after a header.
func WriteCSV(w io.Writer, rows []Row) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	s := func(d time.Duration) string { return f(d.Seconds()) }
	i := strconv.Itoa
	return csvtable.Write(w, csvHeader, rows, func(r Row) []string {
		return []string{r.Policy, string(r.Shape), f(r.Capacity), f(r.Burst), f(r.ThrottleCost), i(r.Processes), f(r.Demand),
			strconv.FormatUint(r.Seed, 10), s(r.Offset),
			i(r.Calls), i(r.Succeeded), i(r.Failed), i(r.Refused), i(r.RefusedWithRoom), f(r.Goodput), f(r.Ideal), f(r.WithRoom),
			f(r.ThrottledPerSuccess), f(r.ThrottledPerSecond), f(r.AttemptsPerCall), s(r.P50), s(r.P99), s(r.FailP50), s(r.FailP99),
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
		seed, err := strconv.ParseUint(rec[7], 10, 64)
		errs = append(errs, err)
		row.Cell = Cell{Shape: Shape(rec[1]), Capacity: num(rec[2]), Burst: num(rec[3]), ThrottleCost: num(rec[4]),
			Processes: integer(rec[5]), Demand: num(rec[6])}
		row.Seed, row.Offset = seed, dur(rec[8])
		row.Calls, row.Succeeded, row.Failed = integer(rec[9]), integer(rec[10]), integer(rec[11])
		row.Refused, row.RefusedWithRoom = integer(rec[12]), integer(rec[13])
		row.Goodput, row.Ideal, row.WithRoom = num(rec[14]), num(rec[15]), num(rec[16])
		row.ThrottledPerSuccess, row.ThrottledPerSecond, row.AttemptsPerCall = num(rec[17]), num(rec[18]), num(rec[19])
		row.P50, row.P99, row.FailP50, row.FailP99 = dur(rec[20]), dur(rec[21]), dur(rec[22]), dur(rec[23])
		row.Recovery, row.Fairness = dur(rec[24]), num(rec[25])
		if !slices.Contains(Shapes, row.Shape) {
			errs = append(errs, fmt.Errorf("unknown shape %q", rec[1]))
		}
		return row, errors.Join(errs...)
	})
}

// Text formats rows for a test log, one line each.
func Text(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-30s %-44s seed %2d  goodput %.3f  throttled/success %7.4f (%6.2f/s)  refused %5d (with room %4d)  p99 %7v  fail p99 %7v  recovery %6s\n",
			r.Policy, r.Cell, r.Seed, r.Goodput, r.ThrottledPerSuccess, r.ThrottledPerSecond, r.Refused, r.RefusedWithRoom,
			r.P99.Round(time.Millisecond), r.FailP99.Round(time.Millisecond), RecoveryText(r.Recovery))
	}
	return b.String()
}

// RecoveryText is d to a tenth of a second, "never" for -1, and "—" for 0
// (no return to recover from).
func RecoveryText(d time.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d == 0:
		return "—"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// ThrottleAllowance is the throttled attempts the goal allows a run of a
// cell's duration with succeeded successful calls: 1% of them, or one
// every 2 s, whichever is more.
func ThrottleAllowance(duration time.Duration, succeeded int) float64 {
	return max(0.01*float64(succeeded), duration.Seconds()/2)
}

// Throttled is the run's throttled attempts.
func (r Row) Throttled() float64 { return r.ThrottledPerSecond * r.Duration().Seconds() }

// median is the median of sorted values: of an even number, the mean of
// the two in the middle.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
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
