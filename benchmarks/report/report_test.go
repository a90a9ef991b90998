package report

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsretry/awsretry/benchmarks/contention"
)

// benchOutput is go test -bench output of two runs, with the lines benchstat
// also ignores, and synctest lines appended as run.sh appends them.
const benchOutput = `goos: linux
goarch: amd64
pkg: github.com/awsretry/awsretry/benchmarks
cpu: Some CPU
BenchmarkOverhead/op=success/lib=awsretry-2         	 9062539	        38.50 ns/op	       0 B/op	       0 allocs/op
BenchmarkOverhead/op=success/lib=cenkalti-2         	 1000000	       443.1 ns/op	     168 B/op	       4 allocs/op
BenchmarkOverhead/op=3fail-wait0/lib=awsretry-2     	  886449	       445.5 ns/op	       0 B/op	       0 allocs/op
BenchmarkOverhead/op=3fail-wait0/lib=cenkalti-2     	   58980	      5856 ns/op	     464 B/op	      13 allocs/op
BenchmarkOverhead/op=3fail-wait1ns/lib=awsretry-2   	   72853	      4727 ns/op	     744 B/op	       9 allocs/op
BenchmarkOverhead/op=3fail-wait1ns/lib=cenkalti-2   	   79915	      4670 ns/op	     464 B/op	      13 allocs/op
BenchmarkOverhead/op=exhausted-wait0/lib=awsretry-2 	  396603	      1027 ns/op	      80 B/op	       1 allocs/op
BenchmarkOverhead/op=exhausted-wait1ns/lib=awsretry-2	   20997	     15734 ns/op	    2312 B/op	      28 allocs/op
BenchmarkTestSpeed/clock=fake-2                     	   18504	     18079 ns/op	    3216 B/op	      24 allocs/op
PASS
ok  	github.com/awsretry/awsretry/benchmarks	8.893s
BenchmarkOverhead/op=success/lib=awsretry-2         	 9062539	        40.50 ns/op	       0 B/op	       0 allocs/op
BenchmarkOverhead/op=success/lib=cenkalti-2         	 1000000	       400.0 ns/op	     168 B/op	       4 allocs/op
BenchmarkOverhead/op=3fail-wait1ns/lib=awsretry-2   	   72853	      4800 ns/op	     744 B/op	       9 allocs/op
BenchmarkOverhead/op=3fail-wait1ns/lib=cenkalti-2   	   79915	      4500 ns/op	     464 B/op	      13 allocs/op
BenchmarkTestSpeed/clock=fake-2                     	   18504	     18000 ns/op	    3216 B/op	      24 allocs/op
BenchmarkTestSpeed/clock=synctest-2	   20000	     57500 ns/op	    6885 B/op	      57 allocs/op
`

func TestParseBenchAndMedian(t *testing.T) {
	r, err := ParseBench(strings.NewReader(benchOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names()[0]; got != "Overhead/op=success/lib=awsretry" {
		t.Errorf("first name %q: prefix and -GOMAXPROCS suffix not stripped", got)
	}
	if n := r.Runs("Overhead/op=success/lib=awsretry", NsPerOp); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
	if m, _ := r.Median("Overhead/op=success/lib=awsretry", NsPerOp); m != 39.5 {
		t.Errorf("median of an even count %v, want 39.5", m)
	}
	if m, _ := r.Median("TestSpeed/clock=synctest", AllocsPerOp); m != 57 {
		t.Errorf("median of one sample %v, want 57", m)
	}
	if _, ok := r.Median("nothing", NsPerOp); ok {
		t.Error("median of a missing benchmark")
	}
	ops, libs := overheadAxes(r)
	if strings.Join(ops, " ") != "success 3fail-wait0 3fail-wait1ns exhausted-wait0 exhausted-wait1ns" ||
		strings.Join(libs, " ") != "awsretry cenkalti" {
		t.Errorf("axes %v %v", ops, libs)
	}
}

func TestNotAhead(t *testing.T) {
	r, err := ParseBench(strings.NewReader(benchOutput))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range NotAhead(r) {
		got = append(got, x.Op+" "+x.Unit+" "+x.Peer)
		if x.Op == "3fail-wait1ns" && x.Unit == NsPerOp && x.Overlap {
			t.Errorf("the samples 4500..4670 and 4727..4800 do not overlap: %+v", x)
		}
	}
	want := "3fail-wait1ns ns/op cenkalti,3fail-wait1ns B/op cenkalti"
	if strings.Join(got, ",") != want {
		t.Errorf("NotAhead = %q, want %q", strings.Join(got, ","), want)
	}
}

func TestRatioAndFormat(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{Ratio(200, 100, true, true), "2.00×"},
		{Ratio(0, 0, true, true), "="},
		{Ratio(5, 0, true, true), "∞"},
		{Ratio(5, 1, false, true), "—"},
		{FormatValue(38.5, NsPerOp), "38.5 ns"},
		{FormatValue(445.5, NsPerOp), "446 ns"},
		{FormatValue(4727, NsPerOp), "4.73 µs"},
		{FormatValue(15734, NsPerOp), "15.7 µs"},
		{FormatValue(19.6e6, NsPerOp), "19.60 ms"},
		{FormatValue(744, BytesPerOp), "744"},
		{thousands(3103080.4), "3,103,080"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// points is a small sweep in which the published shape holds.
func points() []contention.Point {
	var pts []contention.Point
	for i, pol := range contention.Policies {
		for _, n := range []int{10, 100} {
			calls := float64(n * n / 5)
			if i >= 2 { // jittered
				calls = float64(n*n/10 - i)
			}
			pts = append(pts, contention.Point{Policy: pol.Name, Clients: n, Runs: 2, Calls: calls,
				Completion: time.Duration(n*(i+1)) * 10 * time.Millisecond})
		}
	}
	return pts
}

func TestWrite(t *testing.T) {
	r, err := ParseBench(strings.NewReader(benchOutput))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, Input{
		Machine: "x86_64", CPU: "Some CPU", Cores: "2", GoVersion: "go1.26", Date: "today",
		Command: "run.sh", Bench: r, Benchstat: "benchstat says", Contention: points(), Chart: "chart.png",
		Elapsed: []Step{{"benchmarks", time.Minute}},
	}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| machine | x86_64, Some CPU, 2 cores |",
		"### (a) first-try success",
		"| cenkalti | 422 ns | 10.67× | 168 | ∞ | 4 | ∞ |",
		"(b) three failures, then success; waits of 1 ns, B/op: cenkalti 464 vs awsretry 744.",
		"`RealClock.Sleep` makes a new `time.Timer` for each wait",
		"| awsretrytest.NewClock (fake clock) | 18.0 µs | 1.00× |",
		"| real clock inside testing/synctest | 57.5 µs | 3.19× |",
		"![calls and completion time against clients, per policy](chart.png)",
		"less than half? **yes**",
		"### Recommendation",
		"benchstat says",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestDrawChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chart.png")
	if err := DrawChart(points(), path); err != nil {
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
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 400 {
		t.Errorf("chart is %v, want two panels side by side", b)
	}
	if err := DrawChart(nil, path); err == nil {
		t.Error("DrawChart drew an empty sweep")
	}
}
