// Package report turns the outputs of the benchmarks and of the contention
// sweep into benchmarks/RESULTS.md and the contention chart.
package report

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The units of the benchmark lines this package reads.
const (
	NsPerOp     = "ns/op"
	BytesPerOp  = "B/op"
	AllocsPerOp = "allocs/op"
)

// Results holds the samples of each benchmark: for each name (without the
// Benchmark prefix and the -GOMAXPROCS suffix), for each unit, one value
// per run, in the order read.
type Results struct {
	names   []string                        // in order of first appearance
	samples map[string]map[string][]float64 // name -> unit -> values
}

// Names returns the benchmark names in the order they first appeared.
func (r *Results) Names() []string { return slices.Clone(r.names) }

// procsSuffix is the -GOMAXPROCS suffix of benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseBench reads the output of go test -bench (any number of runs, other
// lines ignored).
func ParseBench(r io.Reader) (*Results, error) {
	res := &Results{samples: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("report: %q: %w", sc.Text(), err)
			}
			if res.samples[name] == nil {
				res.samples[name] = map[string][]float64{}
				res.names = append(res.names, name)
			}
			res.samples[name][fields[i+1]] = append(res.samples[name][fields[i+1]], v)
		}
	}
	return res, sc.Err()
}

// Median returns the median of the samples of name in unit, as benchstat
// reports it, and whether there were any.
func (r *Results) Median(name, unit string) (float64, bool) {
	vs := slices.Clone(r.samples[name][unit])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

// Runs returns the number of samples of name in unit.
func (r *Results) Runs(name, unit string) int { return len(r.samples[name][unit]) }

// Ratio returns peer/base, formatted: "1.00" style with two significant
// decimals, "—" when either is missing, "∞" when only base is zero.
func Ratio(peer, base float64, okPeer, okBase bool) string {
	switch {
	case !okPeer || !okBase:
		return "—"
	case base == 0 && peer == 0:
		return "="
	case base == 0:
		return "∞"
	}
	return fmt.Sprintf("%.2f×", peer/base)
}

// FormatValue formats a median for a table: ns/op with three significant
// digits, counts as integers.
func FormatValue(v float64, unit string) string {
	if unit != NsPerOp {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1f µs", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.2f µs", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f ns", v)
	}
	return fmt.Sprintf("%.1f ns", v)
}
