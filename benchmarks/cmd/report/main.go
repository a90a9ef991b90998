// Command report writes benchmarks/RESULTS.md, the contention chart and the
// throttled grid's picture from the outputs run.sh collects: the benchmark
// runs, benchstat's summary of them, the contention sweep's CSV and the
// throttled grid's.
//
//	go run ./cmd/report -bench bench.txt -benchstat benchstat.txt \
//		-contention contention.csv -png ../docs/contention.png \
//		-chart ../docs/contention.png -out RESULTS.md
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/awsretry/awsretry/benchmarks/contention"
	"github.com/awsretry/awsretry/benchmarks/report"
	"github.com/awsretry/awsretry/benchmarks/throttled"
)

func main() {
	var (
		benchPath      = flag.String("bench", "", "output of go test -bench (required)")
		benchstatPath  = flag.String("benchstat", "", "benchstat's summary of the same runs")
		contentionPath = flag.String("contention", "", "CSV written by TestContention -csv (required)")
		pngPath        = flag.String("png", "", "write the chart to this PNG file")
		chartRef       = flag.String("chart", "", "the chart's path as RESULTS.md links it")
		outPath        = flag.String("out", "RESULTS.md", "the Markdown file to write")
		machine        = flag.String("machine", runtime.GOARCH, "machine architecture (uname -m)")
		cpu            = flag.String("cpu", "unknown CPU", "CPU model")
		cores          = flag.String("cores", strconv.Itoa(runtime.NumCPU()), "number of cores")
		goVersion      = flag.String("go", runtime.Version(), "Go version")
		load           = flag.String("load", "", "load average around the benchmarks, as RESULTS.md shows it")
		date           = flag.String("date", time.Now().UTC().Format("2006-01-02 15:04 MST"), "date of the run")
		command        = flag.String("command", "benchmarks/run.sh", "the command that made the results")
		elapsed        = flag.String("elapsed", "", "steps and their durations in seconds: name=secs,name=secs")
		throttledPath  = flag.String("throttled", "", "CSV written by TestThrottled -grid -csv")
		throttledPNG   = flag.String("throttled-png", "", "write the throttled grid's picture to this PNG file")
		throttledRef   = flag.String("throttled-chart", "", "the throttled picture's path as RESULTS.md links it")
		gridRef        = flag.String("throttled-grid", "", "the path, as RESULTS.md links it, of the Limiter's table cell by cell")
		gridOut        = flag.String("throttled-grid-out", "", "write the Limiter's table cell by cell to this file (from -throttled, where TestThrottled -md did not write it)")
	)
	flag.Parse()
	if *benchPath == "" || *contentionPath == "" {
		flag.Usage()
		os.Exit(2)
	}

	f, err := os.Open(*benchPath)
	if err != nil {
		log.Fatal(err)
	}
	bench, err := report.ParseBench(f)
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
	var benchstat []byte
	if *benchstatPath != "" {
		if benchstat, err = os.ReadFile(*benchstatPath); err != nil {
			log.Fatal(err)
		}
	}
	f, err = os.Open(*contentionPath)
	if err != nil {
		log.Fatal(err)
	}
	points, err := contention.ReadCSV(f)
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
	var rows []throttled.Row
	if *throttledPath != "" {
		f, err := os.Open(*throttledPath)
		if err != nil {
			log.Fatal(err)
		}
		rows, err = throttled.ReadCSV(f)
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
		if *gridOut != "" {
			sums := throttled.Summarise(rows)
			table := throttled.GridTable(sums, throttled.Policies[3].Name, throttled.Only(sums, throttled.Policies[5].Name))
			if err := os.WriteFile(*gridOut, []byte(table), 0o644); err != nil {
				log.Fatal(err)
			}
		}
		if *throttledPNG != "" {
			if err := report.DrawThrottledGrid(throttled.Summarise(rows), throttled.Policies[3].Name, throttled.Policies[5].Name,
				*throttledPNG); err != nil {
				log.Fatal(err)
			}
		}
	}
	steps, err := parseSteps(*elapsed)
	if err != nil {
		log.Fatal(err)
	}

	if *pngPath != "" {
		if err := report.DrawChart(points, *pngPath); err != nil {
			log.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := report.Write(&out, report.Input{
		Machine: *machine, CPU: *cpu, Cores: *cores, GoVersion: *goVersion, Date: *date, Load: *load,
		Command: *command, Bench: bench, Benchstat: string(benchstat),
		Contention: points, Chart: *chartRef, Elapsed: steps,
		Throttled: rows, ThrottledChart: *throttledRef, ThrottledGrid: *gridRef,
	}); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*outPath, out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// parseSteps reads "name=secs,name=secs".
func parseSteps(s string) ([]report.Step, error) {
	var steps []report.Step
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		name, secs, ok := strings.Cut(part, "=")
		v, err := strconv.ParseFloat(secs, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("report: -elapsed: bad step %q", part)
		}
		steps = append(steps, report.Step{Name: name, Duration: time.Duration(v * float64(time.Second))})
	}
	return steps, nil
}
