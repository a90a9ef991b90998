# The commands the README names. Every module of the repository is listed
# here; each has its own go.mod.
MODULES := . telemetrytest examples/awsfake examples awssdk benchmarks e2e
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail a clean run with "context deadline exceeded" (golang/go#75804).
FUZZTIME ?= 300000x
FUZZ_TARGETS := FuzzOptions FuzzClassify FuzzRetryAfter FuzzNotFoundRule

.PHONY: demo test test-oldest lint bench bench-peers fuzz e2e

# Run the demo: no AWS account needed.
demo:
	cd examples && go run ./ec2

# Run every test in every module, with the race detector; the benchmarks
# module's in short mode (its simulation at small sizes).
test:
	@set -e; for m in $(MODULES); do \
		short=; [ $$m = benchmarks ] && short=-short; \
		echo "== go test -race $$short ./... in $$m"; (cd $$m && go test -race $$short ./...); done

# The root module's tests on the oldest Go its go.mod promises, the
# toolchain fetched through the module proxy.
OLDEST_GO := go1.25.5
test-oldest:
	GOTOOLCHAIN=$(OLDEST_GO) go test -race ./...

# gofmt, go vet and staticcheck in every module.
lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above are not formatted"; exit 1; }
	@set -e; for m in $(MODULES); do echo "== vet and staticcheck in $$m"; (cd $$m && go vet ./... && go run $(STATICCHECK) ./...); done

BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

# The library's benchmarks (no-op and recording telemetry), 6 runs each,
# summarised by benchstat (medians).
bench:
	@{ go test -run '^$$' -bench . -benchmem -count 6 . && \
	  (cd telemetrytest && go test -run '^$$' -bench . -benchmem -count 6 .); } > bench.out
	go run $(BENCHSTAT) bench.out

# Each fuzz target of the root package for FUZZTIME.
fuzz:
	@set -e; for f in $(FUZZ_TARGETS); do echo "== $$f for $(FUZZTIME)"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) .; done

# The comparison with peer libraries, the test-speed benchmarks, the
# contention simulation and the throttled-service simulation; writes
# benchmarks/RESULTS.md, docs/contention.png and docs/throttled.png.
bench-peers:
	benchmarks/run.sh

# Distributed tracing end to end in a real Jaeger (built from the module
# proxy), checked through its query API, with a screenshot.
e2e:
	e2e/run.sh
