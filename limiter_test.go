package awsretry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// bucketService is a throttled service on a Clock: a token bucket of
// rate per second, holding at most burst seconds' worth (at least one
// request), that answers ThrottlingException when empty; a refusal costs
// it cost of a token, as refusing costs a real front end.
type bucketService struct {
	clk   awsretry.Clock
	burst float64 // seconds of rate the bucket holds
	cost  float64 // of a token, per refusal

	mu        sync.Mutex
	rate      float64
	tokens    float64
	last      time.Time
	served    int
	throttled int
}

// newBucketService returns a service of rate per second whose bucket holds
// a second's worth, full, and whose refusals cost nothing.
func newBucketService(clk awsretry.Clock, rate float64) *bucketService {
	return newBucket(clk, rate, 1, 0)
}

// newBucket returns a service of rate per second whose bucket holds burst
// seconds' worth, full, and whose refusals cost cost of a token.
func newBucket(clk awsretry.Clock, rate, burst, cost float64) *bucketService {
	s := &bucketService{clk: clk, rate: rate, burst: burst, cost: cost, last: clk.Now()}
	s.tokens = s.limit()
	return s
}

func (s *bucketService) limit() float64 { return max(s.rate*s.burst, 1) }

func (s *bucketService) call(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.tokens = min(s.tokens+now.Sub(s.last).Seconds()*s.rate, s.limit())
	s.last = now
	if s.tokens >= 1 {
		s.tokens--
		s.served++
		return nil
	}
	s.tokens = max(s.tokens-s.cost, -s.limit())
	s.throttled++
	return apiError("ThrottlingException", 400)
}

func (s *bucketService) setRate(rate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = min(s.tokens+s.clk.Now().Sub(s.last).Seconds()*s.rate, s.limit())
	s.last = s.clk.Now()
	s.rate = rate
}

func (s *bucketService) counts() (served, throttled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served, s.throttled
}

// drive makes one call after another for d of clk's time, each attempt
// taking 10 ms, so that the demand is 100 attempts per second; calls are
// not retried. It returns how many calls the Limiter refused.
func drive(t *testing.T, clk *awsretrytest.Clock, r *awsretry.Retrier, svc *bucketService, d time.Duration) (refused int) {
	t.Helper()
	end := clk.Now().Add(d)
	for clk.Now().Before(end) {
		err := r.Do(context.Background(), func(ctx context.Context) error {
			if err := clk.Sleep(ctx, 10*time.Millisecond); err != nil {
				return err
			}
			return svc.call(ctx)
		})
		var re *awsretry.RetryError
		if errors.As(err, &re) && re.Reason == awsretry.ReasonRateLimited {
			if re.Attempts != 0 {
				t.Fatalf("a rate-limited call made %d attempts, want 0", re.Attempts)
			}
			refused++
			if err := clk.Sleep(context.Background(), 10*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
	}
	return refused
}

// nextCut drives r until its Limiter cuts its rate (the rate falls, or
// limiting begins), for at most 10 s, and returns the rate cut to.
func nextCut(t *testing.T, clk *awsretrytest.Clock, l *awsretry.Limiter, r *awsretry.Retrier, svc *bucketService) float64 {
	t.Helper()
	end := clk.Now().Add(10 * time.Second)
	for rate := l.Rate(); clk.Now().Before(end); {
		drive(t, clk, r, svc, 10*time.Millisecond)
		if now := l.Rate(); now < rate {
			return now
		} else {
			rate = now
		}
	}
	t.Fatal("no cut within 10 s")
	return 0
}

func TestLimiterZeroValueLimitsNothing(t *testing.T) {
	clk := awsretrytest.NewClock()
	l := new(awsretry.Limiter)
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithLimiter(l), awsretry.WithTries(2),
		awsretry.WithDelay(time.Millisecond))
	for range 100 {
		if err := r.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	// One throttle alone does not limit: it takes two, to measure.
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error {
		if calls++; calls == 1 {
			return apiError("ThrottlingException", 400)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := clk.Sleeps(); len(got) != 1 || got[0] != time.Millisecond {
		t.Errorf("waits %v, want only the backoff [1ms]", got)
	}
	if rate := l.Rate(); !math.IsInf(rate, 1) {
		t.Errorf("Rate() = %v, want +Inf", rate)
	}
}

// TestLimiterCutsToTheServiceCapacity: a demand of 100 per second on a
// service of 50 per second. The Limiter measures 50 and holds 95% of it:
// the calls wait for their slots, and the throttles stop for the hold.
func TestLimiterCutsToTheServiceCapacity(t *testing.T) {
	clk, l, r := oneAttemptEach()
	svc := newBucketService(clk, 50)
	drive(t, clk, r, svc, 2*time.Second)
	// The cut after the first probe: the hold lasts 2 s at 50 per
	// second (a probe's throttle then stays within one per 2 s).
	hold := nextCut(t, clk, l, r, svc)
	if hold < 0.95*45 || hold > 0.95*55 {
		t.Fatalf("Rate() = %.1f after a probe, want 95%% of the capacity 50 ± 10%%", hold)
	}
	served0, throttled0 := svc.counts()
	drive(t, clk, r, svc, 1400*time.Millisecond)
	served, throttled := svc.counts()
	if throttled-throttled0 > 0 {
		t.Errorf("%d throttles in the hold, want none", throttled-throttled0)
	}
	if want := hold * 1.4; math.Abs(float64(served-served0)-want) > 3 {
		t.Errorf("%d calls served in 1.4 s of a hold at %.1f per second, want %.0f ± 3", served-served0, hold, want)
	}
}

// TestLimiterRecovers: when the capacity comes back, the probe after the
// hold finds it; once it outgrows the demand, the Limiter limits nothing.
func TestLimiterRecovers(t *testing.T) {
	clk, l, r := oneAttemptEach()
	svc := newBucketService(clk, 20)
	drive(t, clk, r, svc, 3*time.Second)
	if rate := nextCut(t, clk, l, r, svc); rate < 0.95*18 || rate > 0.95*22 {
		t.Fatalf("Rate() = %v after a probe, want 95%% of the capacity 20 ± 10%%", rate)
	}

	svc.setRate(1000)
	drive(t, clk, r, svc, 6*time.Second)
	if rate := l.Rate(); !math.IsInf(rate, 1) {
		t.Errorf("Rate() = %v six seconds after the capacity returned, want +Inf", rate)
	}
	_, throttled0 := svc.counts()
	if refused := drive(t, clk, r, svc, time.Second); refused != 0 {
		t.Errorf("%d calls refused once the capacity is back", refused)
	}
	if _, throttled := svc.counts(); throttled != throttled0 {
		t.Errorf("%d throttles once the capacity is back", throttled-throttled0)
	}
}

// TestLimiterSmallBucket: a service whose bucket holds a tenth of a
// second (5 requests at 50 per second), refusals costing a tenth of a
// request, at twice its capacity; the capacity halves for 10 s and
// returns. A hold below the capacity fills such a bucket, and the refill
// beyond its brim is lost to the measure, which then lags the capacity
// that returned (the law before this one took 5 to 6 s to recover here);
// the probe's throttle, sent at the rate the bucket admits, lifts the
// capacity: a second serves 90% of it within 4 s of its return (seconds
// counted whole, from the return). Over the
// next 20 s it serves at least 95% of it, with throttles within 1% of the
// calls served or one per 2 s.
func TestLimiterSmallBucket(t *testing.T) {
	clk, _, r := oneAttemptEach()
	svc := newBucket(clk, 50, 0.1, 0.1)
	drive(t, clk, r, svc, 10*time.Second) // the cold start
	svc.setRate(25)
	drive(t, clk, r, svc, 10*time.Second)
	svc.setRate(50)
	if took := recovery(t, clk, r, svc, 45); took > 4*time.Second {
		t.Errorf("a second served 45 of the 50 per second %v after their return, want within 4 s", took)
	}
	holdsTheCapacity(t, clk, r, svc, 50)
}

// holdsTheCapacity drives r for 20 s against svc, of capacity per second:
// it serves at least 95% of the capacity, with throttles within 1% of the
// calls served or one per 2 s.
func holdsTheCapacity(t *testing.T, clk *awsretrytest.Clock, r *awsretry.Retrier, svc *bucketService, capacity float64) {
	t.Helper()
	served0, throttled0 := svc.counts()
	drive(t, clk, r, svc, 20*time.Second)
	served, throttled := svc.counts()
	if got := float64(served-served0) / (capacity * 20); got < 0.95 {
		t.Errorf("served %.3f of the capacity over 20 s, want at least 0.95", got)
	}
	if got, allowed := throttled-throttled0, max(0.01*float64(served-served0), 20/2); float64(got) > allowed {
		t.Errorf("%d throttles in 20 s, want at most %.0f", got, allowed)
	}
}

// recovery drives r one second at a time until a second serves at least
// want calls, for at most 10 s, and returns how long it took from the
// start of the first second to the end of that one.
func recovery(t *testing.T, clk *awsretrytest.Clock, r *awsretry.Retrier, svc *bucketService, want int) time.Duration {
	t.Helper()
	start := clk.Now()
	for clk.Now().Sub(start) < 10*time.Second {
		served0, _ := svc.counts()
		drive(t, clk, r, svc, time.Second)
		if served, _ := svc.counts(); served-served0 >= want {
			return clk.Now().Sub(start)
		}
	}
	t.Fatalf("no second served %d calls within 10 s", want)
	return 0
}

// TestLimiterLargeBucket: a service whose bucket holds 30 s of its
// capacity, 25 per second doubling to 50, at twice the new capacity. The
// first probe after the rise spends what the bucket saved and goes far;
// the Limiter probes again at once from the emptied bucket, where the
// measure is exact: within 4 s of the rise a second serves 90% of the new
// capacity, and it then holds it without throttling more than a share of
// 1% or one every 2 s.
func TestLimiterLargeBucket(t *testing.T) {
	clk, _, r := oneAttemptEach()
	svc := newBucket(clk, 25, 30, 0.1)
	svc.tokens = 0 // a bucket a predecessor emptied
	drive(t, clk, r, svc, 20*time.Second)
	svc.setRate(50)
	if took := recovery(t, clk, r, svc, 45); took > 4*time.Second {
		t.Errorf("a second served 45 of the 50 per second %v after the rise, want within 4 s", took)
	}
	holdsTheCapacity(t, clk, r, svc, 50)
}

// TestLimiterHoldOverTheCapacity: the capacity halves under a held rate.
// The hold draws more throttles than tolerated: within a second they cut
// the rate under the new capacity (the storm brake, to the share the
// service accepted); the next probe measures it: 95% of the new
// capacity, and no more than a throttle every 2 s after that.
func TestLimiterHoldOverTheCapacity(t *testing.T) {
	clk, l, r := oneAttemptEach()
	svc := newBucketService(clk, 80)
	drive(t, clk, r, svc, 5*time.Second)
	svc.setRate(40)
	_, throttled0 := svc.counts()
	drive(t, clk, r, svc, time.Second)
	if rate := l.Rate(); rate > 40 {
		t.Fatalf("Rate() = %.1f a second after the capacity halved, want under the new capacity 40", rate)
	}
	if _, throttled := svc.counts(); throttled-throttled0 > 15 {
		t.Errorf("%d throttles in that second, want at most 15", throttled-throttled0)
	}
	if rate := nextCut(t, clk, l, r, svc); rate < 0.95*36 || rate > 0.95*44 {
		t.Errorf("Rate() = %.1f after the next probe, want 95%% of the new capacity 40 ± 10%%", rate)
	}
	_, throttled0 = svc.counts()
	drive(t, clk, r, svc, 10*time.Second)
	if _, throttled := svc.counts(); throttled-throttled0 > 5 {
		t.Errorf("%d throttles in the next 10 s, want at most one per 2 s", throttled-throttled0)
	}
}

// limited returns a Limiter whose rate a measure on clk has cut to 0.95
// per second: a throttle, a success half a second later, a throttle half
// a second after that. Its first slot is two intervals away (the first
// of them capped at 100 ms): 1.153 s after the cut; then one every
// 1.053 s, and a hold of 8 s.
func limited(t *testing.T, clk *awsretrytest.Clock) *awsretry.Limiter {
	t.Helper()
	l := new(awsretry.Limiter)
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithLimiter(l), awsretry.WithTries(1))
	_ = r.Do(context.Background(), throttleOp)
	clk.Advance(500 * time.Millisecond)
	_ = r.Do(context.Background(), func(context.Context) error { return nil })
	clk.Advance(500 * time.Millisecond)
	_ = r.Do(context.Background(), throttleOp)
	if rate := l.Rate(); math.Abs(rate-0.95) > 1e-9 {
		t.Fatalf("Rate() = %v, want 0.95", rate)
	}
	return l
}

func TestLimiterFailsFastBeyondMaxWait(t *testing.T) {
	clk := awsretrytest.NewManualClock()
	l := limited(t, clk)
	l.MaxWait = 300 * time.Millisecond
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithLimiter(l))
	// The first slot is 1.153 s after the cut, beyond MaxWait.
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error { calls++; return nil })
	var re *awsretry.RetryError
	if !errors.As(err, &re) || re.Reason != awsretry.ReasonRateLimited || re.Attempts != 0 || calls != 0 {
		t.Fatalf("Do = %v after %d calls, want a RetryError of reason %q and no attempt", err, calls, awsretry.ReasonRateLimited)
	}
	if want := "rate limited"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if n := clk.Waiters(); n != 0 {
		t.Errorf("%d waiters on the clock", n)
	}
	clk.Advance(1200 * time.Millisecond)
	if err := r.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatalf("the first call after the first slot: %v", err) // the slot there is now
	}
	// The next slot is 1.053 s away, beyond MaxWait: refused at once.
	err = r.Do(context.Background(), func(context.Context) error { calls++; return nil })
	if !errors.As(err, &re) || re.Reason != awsretry.ReasonRateLimited || calls != 0 {
		t.Fatalf("Do = %v after %d calls, want a RetryError of reason %q and no attempt", err, calls, awsretry.ReasonRateLimited)
	}
}

func TestLimiterCancelWhileWaiting(t *testing.T) {
	clk := awsretrytest.NewManualClock()
	l := limited(t, clk)
	l.MaxWait = 10 * time.Second
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithLimiter(l))
	clk.Advance(1200 * time.Millisecond) // past the first slot
	if err := r.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err) // the slot there is now; the next call waits
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	called := false
	go func() { done <- r.Do(ctx, func(context.Context) error { called = true; return nil }) }()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Do did not return after its context was canceled while it waited for a slot")
	}
	var re *awsretry.RetryError
	if !errors.As(err, &re) || re.Reason != awsretry.ReasonCanceled || !errors.Is(err, context.Canceled) || called {
		t.Errorf("Do = %v (attempt made: %v), want a RetryError of reason canceled wrapping context.Canceled, no attempt", err, called)
	}
	// The canceled call's slot is given back: the next call waits a
	// second, not two.
	go func() { done <- r.Do(context.Background(), func(context.Context) error { return nil }) }()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(1100 * time.Millisecond)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the call after the canceled one: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call after the canceled one still waits 1.1 s later: the canceled call's slot was not given back")
	}
}

// TestLimiterSharedUnderRace: 40 goroutines share a Limiter and a service
// of 200 per second at four times that demand, on the real clock in a
// synctest bubble; run with -race. The throttles stay under 2% of the
// calls served, and the service serves at least 90% of its capacity.
func TestLimiterSharedUnderRace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newBucketService(awsretry.RealClock{}, 200)
		l := new(awsretry.Limiter)
		start := time.Now()
		var wg sync.WaitGroup
		for range 40 {
			r := awsretry.MustNew(awsretry.WithLimiter(l), awsretry.WithTries(3), awsretry.WithDelay(10*time.Millisecond),
				awsretry.WithJitter(awsretry.JitterFull), awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) {
					if a.RateWait > 100*time.Millisecond {
						t.Errorf("an attempt waited %v for its slot, beyond MaxWait", a.RateWait)
					}
				}))
			wg.Go(func() {
				for range 200 {
					_ = r.Do(context.Background(), svc.call)
					time.Sleep(50 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		served, throttled := svc.counts()
		if capacity := 200 * elapsed.Seconds(); float64(served) < 0.9*capacity || float64(throttled) > 0.02*float64(served) {
			t.Errorf("in %v at 4x the capacity of 200/s: %d served, %d throttled; want at least %.0f served, throttles under 2%%",
				elapsed, served, throttled, 0.9*capacity)
		}
	})
}

// TestLimiterKeepsOneClock: a Limiter keeps its time on one Clock; New
// refuses it for a Retrier on another, naming the option.
func TestLimiterKeepsOneClock(t *testing.T) {
	l := new(awsretry.Limiter)
	awsretry.MustNew(awsretry.WithLimiter(l)) // the real clock
	if _, err := awsretry.New(awsretry.WithLimiter(l)); err != nil {
		t.Errorf("a second Retrier on the real clock: %v", err)
	}
	_, err := awsretry.New(awsretry.WithLimiter(l), awsretry.WithClock(awsretrytest.NewClock()))
	if err == nil || !strings.Contains(err.Error(), "WithLimiter(") || !strings.Contains(err.Error(), "another Clock") {
		t.Errorf("New on a fake clock with a Limiter of the real clock: %v, want an error naming WithLimiter and the clock", err)
	}
}

// TestLimiterGivesBackARefusedRetrysBudget: a retry the Limiter refuses
// was paid for from the Budget; the tokens come back.
func TestLimiterGivesBackARefusedRetrysBudget(t *testing.T) {
	clk := awsretrytest.NewManualClock()
	l := limited(t, clk)
	budget, err := awsretry.NewTokenBucket(awsretry.TokenBucketConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithLimiter(l), awsretry.WithBudget(budget),
		awsretry.WithDelay(time.Millisecond))
	clk.Advance(1200 * time.Millisecond) // past the first slot
	done := make(chan error, 1)
	go func() {
		done <- r.Do(context.Background(), func(context.Context) error { return apiError("ServiceUnavailable", 503) })
	}()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil { // the backoff
		t.Fatal(err)
	}
	clk.Advance(time.Millisecond)
	err = <-done
	var re *awsretry.RetryError
	if !errors.As(err, &re) || re.Reason != awsretry.ReasonRateLimited || re.Attempts != 1 {
		t.Fatalf("Do = %v, want a refusal of the retry after 1 attempt", err)
	}
	if got := budget.Tokens(); got != 500 {
		t.Errorf("the Budget holds %d tokens after a refused retry, want all 500 back", got)
	}
}

// oneAttemptEach returns a fake clock, a new Limiter, and a Retrier on
// them that makes one attempt per call.
func oneAttemptEach() (*awsretrytest.Clock, *awsretry.Limiter, *awsretry.Retrier) {
	clk, l := awsretrytest.NewClock(), new(awsretry.Limiter)
	return clk, l, awsretry.MustNew(awsretry.WithClock(clk), awsretry.WithLimiter(l), awsretry.WithTries(1))
}

// throttleOp is an operation the service throttles.
func throttleOp(context.Context) error { return apiError("ThrottlingException", 400) }

// TestLimiterCountsOnlyWhatTheServiceAccepted: transient failures between
// two throttles are not requests the service accepted: the measure is 0,
// and the rate the lowest, one a minute, not 50 per second.
func TestLimiterCountsOnlyWhatTheServiceAccepted(t *testing.T) {
	clk, l, r := oneAttemptEach()
	_ = r.Do(context.Background(), throttleOp)
	for range 50 {
		clk.Advance(20 * time.Millisecond)
		_ = r.Do(context.Background(), func(context.Context) error { return apiError("ServiceUnavailable", 503) })
	}
	_ = r.Do(context.Background(), throttleOp)
	if rate := l.Rate(); math.Abs(rate-1.0/60) > 1e-12 {
		t.Errorf("Rate() = %v, want the lowest, 1/60", rate)
	}
}

// TestLimiterBrakesAStorm: throttles with no success to measure by, as
// when a fleet starts at full demand, cut the rate offered to the share
// accepted, at most tenfold.
func TestLimiterBrakesAStorm(t *testing.T) {
	clk, l, r := oneAttemptEach()
	_ = r.Do(context.Background(), throttleOp) // the mark
	for i := range 5 {
		if rate := l.Rate(); !math.IsInf(rate, 1) {
			t.Fatalf("Rate() = %v after %d throttles, want +Inf until the fifth after the mark", rate, i+1)
		}
		clk.Advance(10 * time.Millisecond)
		_ = r.Do(context.Background(), throttleOp)
	}
	// 5 throttles in 50 ms, none accepted: 100 offered per second, a
	// tenth of it.
	if rate := l.Rate(); math.Abs(rate-10) > 1e-9 {
		t.Errorf("Rate() = %v, want 10", rate)
	}
}

// TestLimiterBrakesASlowStorm: a process sending 8 attempts a second, all
// throttled (one of many starting together against a shared limit) cuts at
// the second throttle after the mark, a quarter of a second after it: it
// would take 5 throttles and 625 ms to count a storm. Throttles 120 ms
// apart put the second at 240 ms, short of a quarter: it cuts at the
// third. At 25 a second its throttles come 40 ms apart, and the 4 after
// the mark, within 160 ms of it, may be one moment of an empty bucket: it
// cuts at the fifth. Either way, the cut is a tenth of the rate offered
// since the mark.
func TestLimiterBrakesASlowStorm(t *testing.T) {
	for _, tt := range []struct {
		every time.Duration
		cutAt int     // the throttle after the mark that cuts
		rate  float64 // the rate held after the cut
	}{
		{125 * time.Millisecond, 2, 0.8},     // 2 sent in 250 ms: 8 a second
		{120 * time.Millisecond, 3, 1 / 1.2}, // the second at 240 ms: 3 sent in 360 ms
		{40 * time.Millisecond, 5, 2.5},      // 5 sent in 200 ms: 25 a second
	} {
		clk, l, r := oneAttemptEach()
		_ = r.Do(context.Background(), throttleOp) // the mark
		for i := 1; i <= tt.cutAt; i++ {
			clk.Advance(tt.every)
			_ = r.Do(context.Background(), throttleOp)
			rate := l.Rate()
			if i < tt.cutAt && !math.IsInf(rate, 1) {
				t.Fatalf("every %v: Rate() = %v after the throttle %d after the mark, want +Inf until the %dth", tt.every, rate, i, tt.cutAt)
			}
			if i == tt.cutAt && math.Abs(rate-tt.rate) > 1e-9 {
				t.Errorf("every %v: Rate() = %v after the throttle %d after the mark, want %v", tt.every, rate, i, tt.rate)
			}
		}
	}
}

// TestLimiterAfterAQuietSpell: a throttle, eight quiet seconds in which
// the service's bucket fills, then demand at twice its capacity. The
// throttle of eight seconds ago was tolerated; the Limiter measures afresh
// from the next: about 50 per second.
func TestLimiterAfterAQuietSpell(t *testing.T) {
	clk, l, r := oneAttemptEach()
	svc := newBucketService(clk, 50)
	_ = r.Do(context.Background(), throttleOp)
	clk.Advance(8 * time.Second)
	drive(t, clk, r, svc, 2500*time.Millisecond)
	if rate := l.Rate(); rate < 0.95*45 || rate > 0.95*55 {
		t.Errorf("Rate() = %.1f, want 95%% of the capacity 50 ± 10%%", rate)
	}
}

func TestLimiterNilRate(t *testing.T) {
	var l *awsretry.Limiter
	if rate := l.Rate(); !math.IsInf(rate, 1) {
		t.Errorf("a nil Limiter's Rate() = %v, want +Inf", rate)
	}
}

// funcClock is a Clock of a type that is not comparable (a func field),
// as a wrapper of a time source may be.
type funcClock struct{ now func() time.Time }

func (c funcClock) Now() time.Time { return c.now() }
func (c funcClock) Sleep(ctx context.Context, d time.Duration) error {
	return awsretry.RealClock{}.Sleep(ctx, d)
}

// offsetClock is a comparable Clock value: the real clock moved by offset.
type offsetClock struct{ offset time.Duration }

func (c offsetClock) Now() time.Time { return time.Now().Add(c.offset) }
func (c offsetClock) Sleep(ctx context.Context, d time.Duration) error {
	return awsretry.RealClock{}.Sleep(ctx, d)
}

// anyClock is of a comparable type whose values may hold values that are
// not (a func in src): == on two of them panics.
type anyClock struct{ src any }

func (anyClock) Now() time.Time { return time.Now() }
func (anyClock) Sleep(ctx context.Context, d time.Duration) error {
	return awsretry.RealClock{}.Sleep(ctx, d)
}

// TestLimiterClockIdentity: a Limiter keeps its time on one clock. The
// real clock in any form is one clock; any other is itself: equal
// comparable values are one clock, and values of a type that is not
// comparable cannot be told apart, so a Limiter already bound refuses
// them. Each case binds a new Limiter to first (nil: New's default, the
// real clock), then makes a Retrier on second.
func TestLimiterClockIdentity(t *testing.T) {
	fake, otherFake := awsretrytest.NewClock(), awsretrytest.NewClock()
	now := func() time.Time { return time.Now() }
	dayBehind := func() time.Time { return time.Now().Add(-24 * time.Hour) }
	ptr := &funcClock{now}
	ignore := func() {}
	const (
		another = "the Limiter is used with another Clock (%s) than this %s; use one Limiter per Clock"
		apart   = "the Limiter is used with a Clock of type %s, whose values are not comparable: this one cannot be told apart from another; " +
			"pass the same pointer to the clock (WithClock(&clock)) to every Retrier that shares the Limiter"
	)
	for _, tt := range []struct {
		name          string
		first, second awsretry.Clock
		want          string // the error after "awsretry: WithLimiter(0x...): ", or "" for none
	}{
		{"default, then a pointer to a RealClock", nil, &awsretry.RealClock{}, ""},
		{"default, then a RealClock", nil, awsretry.RealClock{}, ""},
		{"a pointer to a RealClock, then another", &awsretry.RealClock{}, &awsretry.RealClock{}, ""},
		{"a pointer to a RealClock, then the default", &awsretry.RealClock{}, nil, ""},
		{"a fake clock, then it again", fake, fake, ""},
		{"a fake clock, then another", fake, otherFake, fmt.Sprintf(another, "*awsretrytest.Clock", "*awsretrytest.Clock")},
		{"the real clock, then a fake", nil, fake, fmt.Sprintf(another, "awsretry.RealClock", "*awsretrytest.Clock")},
		{"a fake clock, then a pointer to a RealClock", fake, &awsretry.RealClock{}, fmt.Sprintf(another, "*awsretrytest.Clock", "*awsretry.RealClock")},
		{"equal comparable values", offsetClock{}, offsetClock{}, ""},
		{"unequal comparable values", offsetClock{}, offsetClock{-24 * time.Hour},
			fmt.Sprintf(another, "awsretry_test.offsetClock", "awsretry_test.offsetClock")},
		{"values that are not comparable, a day apart", funcClock{now}, funcClock{dayBehind}, fmt.Sprintf(apart, "awsretry_test.funcClock")},
		{"a value that is not comparable, then a copy", funcClock{now}, funcClock{now}, fmt.Sprintf(apart, "awsretry_test.funcClock")},
		{"a pointer to a value that is not comparable, then it again", ptr, ptr, ""},
		{"a pointer to a value that is not comparable, then another", ptr, &funcClock{now},
			fmt.Sprintf(another, "*awsretry_test.funcClock", "*awsretry_test.funcClock")},
		{"a value that is not comparable, then another type", funcClock{now}, offsetClock{},
			fmt.Sprintf(another, "awsretry_test.funcClock", "awsretry_test.offsetClock")},
		{"the real clock, then a value that is not comparable", awsretry.RealClock{}, funcClock{now},
			fmt.Sprintf(another, "awsretry.RealClock", "awsretry_test.funcClock")},
		{"values of a comparable type holding a func", anyClock{ignore}, anyClock{ignore}, fmt.Sprintf(apart, "awsretry_test.anyClock")},
		{"values of a comparable type, equal", anyClock{1}, anyClock{1}, ""},
		{"values of a comparable type, unequal", anyClock{1}, anyClock{2}, fmt.Sprintf(another, "awsretry_test.anyClock", "awsretry_test.anyClock")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := new(awsretry.Limiter)
			withClock := func(clk awsretry.Clock) []awsretry.Option {
				if clk == nil {
					return []awsretry.Option{awsretry.WithLimiter(l)}
				}
				return []awsretry.Option{awsretry.WithLimiter(l), awsretry.WithClock(clk)}
			}
			if _, err := awsretry.New(withClock(tt.first)...); err != nil {
				t.Fatalf("the first Retrier: %v", err)
			}
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("New panicked: %v", p)
					}
				}()
				_, err = awsretry.New(withClock(tt.second)...)
			}()
			if tt.want == "" {
				if err != nil {
					t.Errorf("New = %v, want the same clock accepted", err)
				}
				return
			}
			want := fmt.Sprintf("awsretry: WithLimiter(%p): %s", l, tt.want)
			if err == nil || err.Error() != want {
				t.Errorf("New = %v,\nwant %s", err, want)
			}
		})
	}
}

// calls makes n calls through r that succeed when attempted and returns
// how many went through; the others must be refused by the Limiter.
func calls(t *testing.T, r *awsretry.Retrier, n int) (through int) {
	t.Helper()
	for range n {
		err := r.Do(context.Background(), func(context.Context) error { return nil })
		var re *awsretry.RetryError
		switch {
		case err == nil:
			through++
		case !errors.As(err, &re) || re.Reason != awsretry.ReasonRateLimited:
			t.Fatalf("Do = %v, want success or a refusal of reason %q", err, awsretry.ReasonRateLimited)
		}
	}
	return through
}

// stormOutside cuts l on the real clock, outside any bubble, with 6
// throttles in a row (a storm: too few accepted to measure by), and
// returns the rate it holds.
func stormOutside(t *testing.T, l *awsretry.Limiter) float64 {
	t.Helper()
	r := awsretry.MustNew(awsretry.WithLimiter(l), awsretry.WithTries(1))
	for range 6 {
		_ = r.Do(context.Background(), throttleOp)
	}
	rate := l.Rate()
	if math.IsInf(rate, 1) {
		t.Fatal("6 throttles in a row did not cut the rate")
	}
	return rate
}

// cutInABubble cuts l on the real clock inside a synctest bubble, as
// limited does on a fake clock: a throttle, a success half a second
// later, a throttle half a second after that. The rate is then 0.95 per
// second: past the first slot, of two calls at once, the second is
// refused.
func cutInABubble(t *testing.T, l *awsretry.Limiter) {
	t.Helper()
	r := awsretry.MustNew(awsretry.WithLimiter(l), awsretry.WithTries(1))
	_ = r.Do(context.Background(), throttleOp)
	time.Sleep(500 * time.Millisecond)
	_ = r.Do(context.Background(), func(context.Context) error { return nil })
	time.Sleep(500 * time.Millisecond)
	_ = r.Do(context.Background(), throttleOp)
	if rate := l.Rate(); rate != 0.95 {
		t.Fatalf("Rate() = %v in the bubble, want 0.95", rate)
	}
	time.Sleep(1200 * time.Millisecond) // past the first slot, 1.153 s after the cut
	if through := calls(t, r, 2); through != 1 {
		t.Fatalf("%d of 2 calls at once went through at 0.95 per second, want 1", through)
	}
}

// TestLimiterOfRealTimeInABubble: a process-wide Limiter, cut on real
// time, is used from a test inside a synctest bubble, whose time starts in
// 2000. It lets every attempt there through and learns nothing from them:
// no refusal, no cut; its rate on real time is as it was.
func TestLimiterOfRealTimeInABubble(t *testing.T) {
	l := new(awsretry.Limiter)
	rate := stormOutside(t, l)
	synctest.Test(t, func(t *testing.T) {
		r := awsretry.MustNew(awsretry.WithLimiter(l), awsretry.WithTries(1))
		if through := calls(t, r, 10); through != 10 {
			t.Errorf("%d of 10 calls in the bubble went through, want all", through)
		}
		time.Sleep(time.Hour)
		if through := calls(t, r, 10); through != 10 {
			t.Errorf("%d of 10 calls in the bubble an hour later went through, want all", through)
		}
		for range 6 {
			_ = r.Do(context.Background(), throttleOp)
		}
		if through := calls(t, r, 10); through != 10 {
			t.Errorf("%d of 10 calls in the bubble after 6 throttles there went through, want all", through)
		}
	})
	if got := l.Rate(); got != rate {
		t.Errorf("Rate() = %v after the bubble, want the %v of real time", got, rate)
	}
}

// TestLimiterInABubble: a Limiter made and used inside a bubble limits
// there, on the bubble's time: it holds the rate it measured; after a
// pause it lets through at once the slots it kept (three: two unused and
// the one due), refuses a call beyond MaxWait of its slot and makes one
// within it wait.
func TestLimiterInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := new(awsretry.Limiter)
		cutInABubble(t, l)
		r := awsretry.MustNew(awsretry.WithLimiter(l), awsretry.WithTries(1))
		time.Sleep(4 * time.Second) // within the hold of 8 s (16 slots)
		if through := calls(t, r, 5); through != 3 {
			t.Errorf("%d of 5 calls at once went through 4 s later, want 3", through)
		}
		// The next slot is 1/0.95 s after the last: 52.6 ms after a
		// second, within MaxWait.
		time.Sleep(time.Second)
		start := time.Now()
		rate := 0.95
		want := time.Duration(float64(time.Second)/rate) - time.Second
		if through, waited := calls(t, r, 1), time.Since(start); through != 1 || waited != want {
			t.Errorf("a call within MaxWait of its slot: %d through after a wait of %v, want 1 after %v", through, waited, want)
		}
	})
}

// TestLimiterOfABubbleOutsideIt: a Limiter cut inside a bubble, then used
// outside it on real time, lets every attempt through and learns nothing
// from them.
func TestLimiterOfABubbleOutsideIt(t *testing.T) {
	l := new(awsretry.Limiter)
	synctest.Test(t, func(t *testing.T) { cutInABubble(t, l) })
	r := awsretry.MustNew(awsretry.WithLimiter(l), awsretry.WithTries(1))
	if through := calls(t, r, 10); through != 10 {
		t.Errorf("%d of 10 calls outside the bubble went through, want all", through)
	}
	for range 6 {
		_ = r.Do(context.Background(), throttleOp)
	}
	if through := calls(t, r, 10); through != 10 {
		t.Errorf("%d of 10 calls outside the bubble after 6 throttles there went through, want all", through)
	}
	if rate := l.Rate(); rate != 0.95 {
		t.Errorf("Rate() = %v, want the bubble's 0.95", rate)
	}
}
