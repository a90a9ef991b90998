package awsretry

import (
	"math"
	"net/http"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func now() time.Time { return fixedNow }

func TestRetryAfter(t *testing.T) {
	date := fixedNow.Add(-time.Hour) // the server's clock, an hour behind ours
	tests := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{"none", nil, 0},
		{"x-amz-retry-after ms", map[string]string{"X-Amz-Retry-After": "2500"}, 2500 * time.Millisecond},
		{"x-amz-retry-after zero", map[string]string{"X-Amz-Retry-After": "0"}, 0},
		{"x-amz-retry-after wins", map[string]string{"X-Amz-Retry-After": "100", "Retry-After": "9"}, 100 * time.Millisecond},
		{"x-amz-retry-after garbage falls back", map[string]string{"X-Amz-Retry-After": "soon", "Retry-After": "2"}, 2 * time.Second},
		{"x-amz-retry-after negative", map[string]string{"X-Amz-Retry-After": "-5"}, 0},
		{"x-amz-retry-after signed", map[string]string{"X-Amz-Retry-After": "+5"}, 0},
		{"x-amz-retry-after fraction", map[string]string{"X-Amz-Retry-After": "1.5"}, 0},
		{"x-amz-retry-after huge saturates", map[string]string{"X-Amz-Retry-After": "99999999999999999999999"}, time.Duration(math.MaxInt64)},
		{"retry-after seconds", map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{"retry-after huge saturates", map[string]string{"Retry-After": "9223372036854775807"}, time.Duration(math.MaxInt64)},
		{"retry-after date vs Date header", map[string]string{
			"Retry-After": date.Add(4 * time.Second).Format(http.TimeFormat), "Date": date.Format(http.TimeFormat)}, 4 * time.Second},
		{"retry-after date vs now", map[string]string{"Retry-After": fixedNow.Add(7 * time.Second).Format(http.TimeFormat)}, 7 * time.Second},
		{"retry-after date in the past", map[string]string{"Retry-After": fixedNow.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"retry-after date far future", map[string]string{"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, time.Duration(math.MaxInt64)},
		{"retry-after RFC 850 date", map[string]string{"Retry-After": "Friday, 27-Nov-26 12:00:05 GMT"}, 5 * time.Second},
		{"retry-after garbage", map[string]string{"Retry-After": "later, please"}, 0},
		{"retry-after negative", map[string]string{"Retry-After": "-1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter(%v) = %v, want %v", tt.headers, got, tt.want)
			}
		})
	}
}

func TestWithHint(t *testing.T) {
	tests := []struct{ wait, hint, want time.Duration }{
		{time.Second, 0, time.Second},
		{time.Second, 500 * time.Millisecond, time.Second}, // never shorter than the schedule
		{time.Second, 2500 * time.Millisecond, 2500 * time.Millisecond},
		{time.Second, time.Hour, 6 * time.Second}, // at most 5s longer
		{maxDuration - time.Second, maxDuration, maxDuration},
	}
	for _, tt := range tests {
		if got := withHint(tt.wait, tt.hint); got != tt.want {
			t.Errorf("withHint(%v, %v) = %v, want %v", tt.wait, tt.hint, got, tt.want)
		}
	}
}

// FuzzRetryAfter gives any header values to the hint parser. Invariants: no
// panic, the hint is never negative, and the wait it leads to lies in
// [wait, wait+5s], saturating.
func FuzzRetryAfter(f *testing.F) {
	f.Add("2500", "", "", int64(time.Second))
	f.Add("", "120", "", int64(0))
	f.Add("", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", int64(math.MaxInt64))
	f.Add("-1", "Wed, 21 Oct 2015 07:28:00 GMT", "garbage", int64(5))
	f.Add("99999999999999999999", "-5", "", int64(3e9))
	f.Fuzz(func(t *testing.T, amz, retryAfterValue, date string, waitNanos int64) {
		h := http.Header{}
		h.Set("X-Amz-Retry-After", amz)
		h.Set("Retry-After", retryAfterValue)
		h.Set("Date", date)
		hint := retryAfter(h, now)
		if hint < 0 {
			t.Fatalf("retryAfter(%q, %q, %q) = %v, negative", amz, retryAfterValue, date, hint)
		}
		wait := time.Duration(waitNanos)
		if wait < 0 {
			wait = -wait
		}
		if wait < 0 { // math.MinInt64
			wait = 0
		}
		got := withHint(wait, hint)
		if got < wait || got > saturatingAdd(wait, maxHintExtension) {
			t.Fatalf("withHint(%v, %v) = %v, outside [wait, wait+5s]", wait, hint, got)
		}
	})
}
