#!/usr/bin/env bash
# Runs every benchmark and simulation and writes benchmarks/RESULTS.md,
# docs/contention.png and docs/throttled.png:
#   1. BenchmarkOverhead (awsretry against its peers) and BenchmarkTestSpeed,
#      plus TestSynctestSpeed -speed, COUNT passes, interleaved so that a
#      slow moment of the machine hits every library alike;
#   2. benchstat's summary of those runs;
#   3. the full contention sweep (TestContention -full) in virtual time;
#   4. the grid of throttled services (TestThrottled -grid) in
#      virtual time: the Limiter and the SDK's adaptive modes over SEEDS
#      seeds on every cell, the other policies for context (it prints the
#      grid's median and worst cells and the goals; results/throttled-grid.md
#      has the Limiter cell by cell);
#   5. the hedging simulation (TestHedging -full), 10 seeds, which writes
#      results/hedging.{md,csv} and docs/hedging-simulation.png;
#   6. the charts and RESULTS.md (cmd/report).
# The raw outputs are kept in benchmarks/results/.
#
# Usage: benchmarks/run.sh    (COUNT=10 BENCHTIME=500ms RUNS=40 SEEDS=5 by default)
# The benchmarks share the machine with whatever else runs on it: the load
# average before and after them is recorded in RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH"

COUNT="${COUNT:-10}"
BENCHTIME="${BENCHTIME:-500ms}"
RUNS="${RUNS:-40}"
SEEDS="${SEEDS:-5}"
BENCHSTAT="golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

mkdir -p results ../docs
elapsed=""
step() { elapsed="${elapsed:+$elapsed,}$1=$2"; }

echo "== building the benchmark binary"
go test -c -o results/benchmarks.test .

echo "== $COUNT passes of BenchmarkOverhead, BenchmarkTestSpeed and TestSynctestSpeed (-benchtime $BENCHTIME)"
start=$SECONDS
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
: >results/bench.txt
for pass in $(seq "$COUNT"); do
	echo "   pass $pass of $COUNT"
	results/benchmarks.test -test.run '^$' -test.bench 'Overhead|TestSpeed' -test.benchmem \
		-test.benchtime "$BENCHTIME" >>results/bench.txt
	results/benchmarks.test -test.run '^TestSynctestSpeed$' -test.benchtime "$BENCHTIME" -speed |
		grep '^Benchmark' >>results/bench.txt
done
step benchmarks $((SECONDS - start))
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

echo "== benchstat"
go run "$BENCHSTAT" results/bench.txt >results/benchstat.txt

echo "== contention sweep: 10 to 190 clients, $RUNS runs per point"
start=$SECONDS
go test -count 1 -run '^TestContention$' ./contention -args -full -runs "$RUNS" -csv "$PWD/results/contention.csv"
step contention $((SECONDS - start))

echo "== throttled service: the grid of service shapes, $SEEDS seeds (results/throttled.log has every cell)"
start=$SECONDS
go test -count=1 -timeout 0 -run '^TestThrottled$' ./throttled -v -args -grid -seeds "$SEEDS" \
	-csv "$PWD/results/throttled.csv" -md "$PWD/results/throttled-grid.md" >results/throttled.log 2>&1 ||
	{ tail -50 results/throttled.log; exit 1; }
sed -n "/the grid's median and worst cells/,/^--- /p" results/throttled.log | grep -v '^---'
step throttled $((SECONDS - start))

echo "== hedging: 7 policies, a slow tail then a global slowdown, 10 seeds"
start=$SECONDS
go test -count 1 -timeout 30m -run '^TestHedging$' ./hedging -args -full -seeds 10 \
	-csv "$PWD/results/hedging.csv" -md "$PWD/results/hedging.md" -png "$PWD/../docs/hedging-simulation.png"
step hedging $((SECONDS - start))

echo "== chart and RESULTS.md"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
go run ./cmd/report \
	-bench results/bench.txt -benchstat results/benchstat.txt -contention results/contention.csv \
	-png ../docs/contention.png -chart ../docs/contention.png -out RESULTS.md \
	-machine "$(uname -m)" -cpu "${cpu:-unknown CPU}" -cores "$(nproc)" \
	-load "before the benchmarks $load_before, after $load_after" -go "$(go env GOVERSION)" -date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	-throttled results/throttled.csv -throttled-grid results/throttled-grid.md -throttled-png ../docs/throttled.png -throttled-chart ../docs/throttled.png \
	-command "benchmarks/run.sh (COUNT=$COUNT BENCHTIME=$BENCHTIME RUNS=$RUNS SEEDS=$SEEDS)" -elapsed "$elapsed"
rm -f results/benchmarks.test
echo "== wrote benchmarks/RESULTS.md, benchmarks/results/, docs/contention.png and docs/throttled.png"
