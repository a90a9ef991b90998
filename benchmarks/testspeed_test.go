package benchmarks

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// What a test of retrying code does: run the seed's default schedule (10
// attempts, 9 waits from 3 s growing by 1.1, 40.7 s in all) to exhaustion
// and check the outcome. Each run builds its clock and Retrier, as each
// test would.

// alwaysThrottled is the operation of the test-speed runs.
func alwaysThrottled(context.Context) error { return throttled }

// checkExhausted fails tb unless err says all 10 attempts failed.
func checkExhausted(tb testing.TB, err error) {
	var rerr *awsretry.RetryError
	if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonExhausted || rerr.Attempts != seedTries {
		tb.Fatalf("Do returned %v, want exhaustion after %d attempts", err, seedTries)
	}
}

// defaultWaits returns the waits of the default schedule, as the Retrier
// computes them, read from a fake clock.
func defaultWaits(tb testing.TB) []time.Duration {
	clk := awsretrytest.NewClock()
	checkExhausted(tb, awsretry.MustNew(awsretry.WithClock(clk)).Do(context.Background(), alwaysThrottled))
	return clk.Sleeps()
}

// runFakeClock runs the schedule on awsretrytest's fake clock: each wait
// moves the fake time forward at once.
func runFakeClock(tb testing.TB) {
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()))
	checkExhausted(tb, r.Do(context.Background(), alwaysThrottled))
}

// runBenbjohnson runs the schedule on a benbjohnson/clock Mock that the
// test advances from its own goroutine while Do runs in another, waiting
// for each sleeper before each Add so that no wake-up is lost. Each Add
// sleeps 1 ms of real time (the Mock's gosched).
func runBenbjohnson(tb testing.TB, waits []time.Duration) {
	ctx := context.Background()
	mock := clock.NewMock()
	clk := awsretrytest.FromBenbjohnson(mock)
	r := awsretry.MustNew(awsretry.WithClock(clk))
	done := make(chan error, 1)
	go func() { done <- r.Do(ctx, alwaysThrottled) }()
	for i, w := range waits {
		if err := clk.BlockUntilSleeps(ctx, i+1); err != nil {
			tb.Fatal(err)
		}
		mock.Add(w)
	}
	checkExhausted(tb, <-done)
}

// runSynctest runs the schedule with the real clock inside a
// testing/synctest bubble, whose time jumps ahead whenever every goroutine
// of the bubble is blocked.
func runSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := awsretry.MustNew()
		start := time.Now()
		checkExhausted(t, r.Do(t.Context(), alwaysThrottled))
		if d := time.Since(start); d < 40*time.Second {
			t.Fatalf("the schedule took %v of bubble time, want about 40.7s", d)
		}
	})
}

// BenchmarkTestSpeed times one run of the default schedule to exhaustion
// on each test clock that needs no *testing.T. TestSynctestSpeed times the
// third, testing/synctest, which does.
func BenchmarkTestSpeed(b *testing.B) {
	b.Run("clock=fake", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			runFakeClock(b)
		}
	})
	b.Run("clock=benbjohnson", func(b *testing.B) {
		waits := defaultWaits(b)
		b.ReportAllocs()
		for b.Loop() {
			runBenbjohnson(b, waits)
		}
	})
}

// seedTries is the Python awsretry's default number of attempts.
const seedTries = 10

var speed = flag.Bool("speed", false, "TestSynctestSpeed: time the synctest runs and print them as benchmark lines")

// TestSynctestSpeed times runs of the default schedule inside
// testing/synctest bubbles (synctest.Test needs a *testing.T, which a
// benchmark does not have). With -speed it measures with testing.Benchmark
// and prints the result as the benchmark line
// BenchmarkTestSpeed/clock=synctest, for benchstat next to
// BenchmarkTestSpeed's lines; without it, it runs the schedule once.
func TestSynctestSpeed(t *testing.T) {
	if !*speed {
		runSynctest(t)
		return
	}
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			runSynctest(t)
		}
	})
	if res.N == 0 {
		t.Fatal("the benchmark did not run")
	}
	name := "BenchmarkTestSpeed/clock=synctest"
	if procs := runtime.GOMAXPROCS(0); procs > 1 {
		name += fmt.Sprintf("-%d", procs)
	}
	fmt.Printf("%s\t%s\t%s\n", name, res.String(), res.MemString())
}

// TestClocksRunTheSchedule checks, in short mode too, each way of running
// the schedule once, so that the benchmarks cannot rot.
func TestClocksRunTheSchedule(t *testing.T) {
	waits := defaultWaits(t)
	if len(waits) != seedTries-1 {
		t.Fatalf("%d waits, want %d", len(waits), seedTries-1)
	}
	var total time.Duration
	for _, w := range waits {
		total += w
	}
	if total < 40700*time.Millisecond || total > 40800*time.Millisecond {
		t.Errorf("the waits add up to %v, want about 40.7s", total)
	}
	runFakeClock(t)
	runBenbjohnson(t, waits)
	runSynctest(t)
}
