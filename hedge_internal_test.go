package awsretry

import (
	"testing"
	"time"
)

// TestLatencyPercentileInterpolates: the hedge delay's percentile is
// placed within its bucket by its rank, not at the bucket's upper bound,
// which is up to a bucket's width above it (12% when the buckets were 12%
// apart, and 32.4 ms for the 95th here): a delay that late hedges fewer
// calls than the percentile asks.
func TestLatencyPercentileInterpolates(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	var l latencies
	// 10,000 answers spread evenly over 10 ms to 30 ms.
	for i := range 10_000 {
		l.add(now, 10*time.Millisecond+time.Duration(i)*2*time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 20 * time.Millisecond}, {0.9, 28 * time.Millisecond}, {0.95, 29 * time.Millisecond}} {
		got := l.percentile(now, c.q)
		if diff := got - c.want; diff < -c.want/100 || diff > c.want/100 {
			t.Errorf("percentile(%v) = %v, want %v within 1%%", c.q, got, c.want)
		}
	}
	// Nothing recorded: 0; beyond the last bucket: the longest duration.
	var empty latencies
	if got := empty.percentile(now, 0.99); got != 0 {
		t.Errorf("percentile of nothing = %v, want 0", got)
	}
	var huge latencies
	huge.add(now, 3*time.Hour)
	if got := huge.percentile(now, 0.99); got != maxDuration {
		t.Errorf("percentile of an answer beyond the buckets = %v, want %v", got, maxDuration)
	}
}

// TestLatencyBucketsFit: percentile's counts hold every bucket.
func TestLatencyBucketsFit(t *testing.T) {
	if n := len(latencyBuckets) + 1; n > latencyBucketsMax {
		t.Fatalf("%d buckets, percentile counts %d", n, latencyBucketsMax)
	}
}
