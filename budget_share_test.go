package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// stepClock is a clock the test sets; its waits take no time, so that a
// simulation decides when each call starts.
type stepClock struct{ now atomic.Int64 }

func (c *stepClock) Now() time.Time { return awsretrytest.Epoch.Add(time.Duration(c.now.Load())) }
func (c *stepClock) Sleep(ctx context.Context, _ time.Duration) error {
	return ctx.Err()
}
func (c *stepClock) set(d time.Duration) { c.now.Store(int64(d)) }

func mustBudget(c awsretry.BudgetConfig) *awsretry.Budget {
	b, err := awsretry.NewBudget(c)
	if err != nil {
		panic(err)
	}
	return b
}

// budgets are the two kinds, as users make them, by name.
func budgets() map[string]func() *awsretry.Budget {
	return map[string]func() *awsretry.Budget{
		"NewBudget":      func() *awsretry.Budget { return mustBudget(awsretry.BudgetConfig{}) },
		"NewTokenBucket": func() *awsretry.Budget { return mustTokenBucket(awsretry.TokenBucketConfig{}) },
	}
}

// traffic starts calls through r at rate per second from start for d on
// clk, each running op(time of the call); it returns the calls, their
// attempts and the calls the budget refused.
func traffic(r *awsretry.Retrier, clk *stepClock, rate float64, start, d time.Duration,
	op func(at time.Duration, attempt int) error) (calls, attempts, refused int) {
	step := time.Duration(float64(time.Second) / rate)
	for at := start; at < start+d; at += step {
		clk.set(at)
		calls++
		n := 0
		err := r.Do(context.Background(), func(context.Context) error {
			n++
			return op(at, n)
		})
		attempts += n
		var rerr *awsretry.RetryError
		if errors.As(err, &rerr) && rerr.Reason == awsretry.ReasonBudget {
			refused++
		}
	}
	return calls, attempts, refused
}

func healthy(time.Duration, int) error { return nil }

// gateClock is a stepClock whose waits last until the test opens the gate:
// the retries of calls that failed together come after all of them failed,
// as when a burst's retries come 50 ms later.
type gateClock struct {
	stepClock
	open    chan struct{}
	mu      sync.Mutex
	cond    *sync.Cond
	decided int // calls now waiting for their retry, or refused
}

func newGateClock() *gateClock {
	c := &gateClock{open: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *gateClock) Sleep(ctx context.Context, _ time.Duration) error {
	c.decide()
	select {
	case <-c.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *gateClock) decide() {
	c.mu.Lock()
	c.decided++
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *gateClock) waitDecided(n int) {
	c.mu.Lock()
	for c.decided < n {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

// TestBudgetBurstAtHighTraffic: a healthy service at 5,000 calls a second,
// and a burst of 200 calls throttled on their first attempt within 10 ms,
// whose retries (after the burst) succeed. The traffic-proportional budget
// pays for all of them; the SDK's token bucket refuses half
// (aws-sdk-go-v2#1665).
func TestBudgetBurstAtHighTraffic(t *testing.T) {
	const burst = 200
	refusedBy := map[string]int{}
	for name, budget := range budgets() {
		clk := newGateClock()
		r := awsretry.MustNew(awsretry.WithBudget(budget()), awsretry.WithClock(clk))
		traffic(r, &clk.stepClock, 5000, 0, 20*time.Second, healthy)
		clk.set(20*time.Second + 5*time.Millisecond)
		var refused atomic.Int32
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				n := 0
				err := r.Do(context.Background(), func(context.Context) error {
					if n++; n == 1 {
						return apiError("ThrottlingException", 400)
					}
					return nil
				})
				var rerr *awsretry.RetryError
				if errors.As(err, &rerr) && rerr.Reason == awsretry.ReasonBudget {
					refused.Add(1)
					clk.decide()
				}
			})
		}
		clk.waitDecided(burst)
		traffic(r, &clk.stepClock, 5000, 20*time.Second, 10*time.Millisecond, healthy) // the burst's healthy neighbours
		close(clk.open)
		wg.Wait()
		refusedBy[name] = int(refused.Load())
	}
	t.Logf("refused of the burst's %d calls: %v", burst, refusedBy)
	if refusedBy["NewBudget"] != 0 {
		t.Errorf("NewBudget refused %d of the burst's %d calls, want 0", refusedBy["NewBudget"], burst)
	}
	if refusedBy["NewTokenBucket"] < burst/4 {
		t.Errorf("the SDK's token bucket refused %d of %d: the comparison the docs quote no longer holds", refusedBy["NewTokenBucket"], burst)
	}
}

// outage is the failure of a dependency that answers nothing: a throttle.
func outage(time.Duration, int) error { return apiError("ThrottlingException", 400) }

// TestBudgetOutageAmplification: a dependency failing every request for
// 60 s, after 30 s of health, at 10, 100 and 5,000 calls a second: the
// traffic-proportional budget keeps the attempts within 1.1 per call at
// each rate; once the dependency heals, a retry is paid for within 1 s.
func TestBudgetOutageAmplification(t *testing.T) {
	var report strings.Builder
	for _, rate := range []float64{10, 100, 5000} {
		for _, name := range []string{"NewBudget", "NewTokenBucket"} {
			clk := &stepClock{}
			r := awsretry.MustNew(awsretry.WithBudget(budgets()[name]()), awsretry.WithClock(clk))
			traffic(r, clk, rate, 0, 30*time.Second, healthy)
			calls, attempts, _ := traffic(r, clk, rate, 30*time.Second, 60*time.Second, outage)
			amplification := float64(attempts) / float64(calls)
			fmt.Fprintf(&report, "\n%6.0f calls/s  %-15s %.3fx", rate, name, amplification)
			if name != "NewBudget" {
				continue
			}
			if amplification > 1.1 {
				t.Errorf("%v calls/s: %d attempts for %d calls in the outage, %.3fx; want at most 1.1x", rate, attempts, calls, amplification)
			}
			// Healed at 90 s: a second of health, then a call whose first
			// attempt fails once, transiently.
			traffic(r, clk, rate, 90*time.Second, time.Second, healthy)
			_, attempts, refused := traffic(r, clk, 1, 91*time.Second, time.Second, func(_ time.Duration, attempt int) error {
				if attempt == 1 {
					return apiError("InternalError", 500)
				}
				return nil
			})
			if refused != 0 || attempts != 2 {
				t.Errorf("%v calls/s: 1 s after the outage, a transient failure was not retried (%d attempts, %d refused)", rate, attempts, refused)
			}
		}
	}
	t.Logf("attempts per call during the outage:%s", report.String())
}

// TestBudgetLowTraffic: one call a minute, each failing once transiently:
// the floor retries every one of them.
func TestBudgetLowTraffic(t *testing.T) {
	clk := &stepClock{}
	r := awsretry.MustNew(awsretry.WithBudget(mustBudget(awsretry.BudgetConfig{})), awsretry.WithClock(clk))
	calls, attempts, refused := traffic(r, clk, 1.0/60, 0, time.Hour, func(_ time.Duration, attempt int) error {
		if attempt == 1 {
			return apiError("InternalError", 500)
		}
		return nil
	})
	if refused != 0 || attempts != 2*calls {
		t.Errorf("%d calls, %d attempts, %d refused; want every call retried once", calls, attempts, refused)
	}
}

// TestBudgetWindowIsItsLength: retries at 95% of the Ratio (two calls in
// 21 retried once, at 1,000 calls/s for a minute) are never refused. The
// window counts answers and retries over its length, within 2%: a window
// that counted the retries of up to a tenth more than its answers would
// refuse some.
func TestBudgetWindowIsItsLength(t *testing.T) {
	clk := &stepClock{}
	r := awsretry.MustNew(awsretry.WithBudget(mustBudget(awsretry.BudgetConfig{})), awsretry.WithClock(clk))
	i := 0
	calls, attempts, refused := traffic(r, clk, 1000, 0, time.Minute, func(_ time.Duration, attempt int) error {
		if attempt == 1 {
			i++
			if i%21 == 0 || i%21 == 10 {
				return apiError("InternalError", 500)
			}
		}
		return nil
	})
	if want := calls + (calls+11)/21 + calls/21; refused != 0 || attempts != want {
		t.Errorf("%d calls, %d attempts, %d refused; want %d attempts, none refused", calls, attempts, refused, want)
	}
}

// TestBudgetServiceAnswerGivesBack: a call whose retry ends in an error the
// service answered (a 404 after a throttle) leaves the budget as a success
// would, with either kind (aws-sdk-go-v2#3186); a call that ends in a
// failure the service did not answer keeps what its retry took.
func TestBudgetServiceAnswerGivesBack(t *testing.T) {
	for name, budget := range budgets() {
		tokens := map[string]int{}
		for _, last := range []struct {
			name string
			err  error
		}{
			{"success", nil},
			{"404", apiError("NoSuchKey", 404)},
			{"validation", apiError("ValidationException", 400)},
			{"user error", errPlain},
		} {
			b := budget()
			clk := &stepClock{}
			r := awsretry.MustNew(awsretry.WithBudget(b), awsretry.WithClock(clk))
			traffic(r, clk, 100, 0, time.Second, healthy) // answers for the share to pay with
			n := 0
			_ = r.Do(context.Background(), func(context.Context) error {
				if n++; n == 1 {
					return apiError("ThrottlingException", 400)
				}
				return last.err
			})
			tokens[last.name] = b.Tokens()
		}
		if tokens["404"] != tokens["success"] || tokens["validation"] != tokens["success"] || tokens["user error"] > tokens["success"] ||
			name == "NewTokenBucket" && tokens["user error"] == tokens["success"] {
			t.Errorf("%s: tokens after a retry that ended in %v; want the 404 and the validation error as the success, the user error below",
				name, tokens)
		}
	}
}

// TestBackoffOnRefusal: a caller that loops on Do against an empty budget
// makes one call per backoff interval with WithBackoffOnRefusal, where
// without it the loop spins.
func TestBackoffOnRefusal(t *testing.T) {
	for _, backoff := range []bool{false, true} {
		clk := awsretrytest.NewClock()
		opts := []awsretry.Option{awsretry.WithClock(clk), awsretry.WithDelay(time.Second), awsretry.WithBackoff(1),
			awsretry.WithBudget(mustBudget(awsretry.BudgetConfig{MinPerSecond: -1}))} // empty, and no floor
		if backoff {
			opts = append(opts, awsretry.WithBackoffOnRefusal())
		}
		r := awsretry.MustNew(opts...)
		start := clk.Now()
		attempts := 0
		for attempts < 1000 && clk.Now().Sub(start) < time.Minute {
			err := r.Do(context.Background(), func(context.Context) error { attempts++; return outage(0, 0) })
			var rerr *awsretry.RetryError
			if !errors.As(err, &rerr) || rerr.Reason != awsretry.ReasonBudget {
				t.Fatalf("Do = %v, want a refusal of the budget", err)
			}
		}
		elapsed := clk.Now().Sub(start)
		switch {
		case backoff && (attempts > 61 || elapsed < time.Minute):
			t.Errorf("with WithBackoffOnRefusal: %d attempts in %v, want at most one per second", attempts, elapsed)
		case !backoff && (attempts != 1000 || elapsed != 0):
			t.Errorf("without: %d attempts in %v; want the loop to spin (1000 attempts in no time)", attempts, elapsed)
		}
	}
}

func TestInvalidBudgetConfig(t *testing.T) {
	for _, tt := range []struct {
		config awsretry.BudgetConfig
		want   string
	}{
		{awsretry.BudgetConfig{Ratio: -0.1}, "BudgetConfig.Ratio (-0.1)"},
		{awsretry.BudgetConfig{Window: -time.Second}, "BudgetConfig.Window (-1s)"},
	} {
		if _, err := awsretry.NewBudget(tt.config); err == nil || !strings.HasPrefix(err.Error(), "awsretry: NewBudget: "+tt.want+": ") {
			t.Errorf("NewBudget = %v, want an error naming %s", err, tt.want)
		}
	}
}

// BenchmarkDoFirstTrySuccessBudget is BenchmarkDoFirstTrySuccess with
// each kind of budget: what a budget costs on the success path.
func BenchmarkDoFirstTrySuccessBudget(b *testing.B) {
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	for _, name := range []string{"NewTokenBucket", "NewBudget"} {
		b.Run(name, func(b *testing.B) {
			r := awsretry.MustNew(awsretry.WithBudget(budgets()[name]()))
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Do(ctx, op); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
