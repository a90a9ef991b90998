package awsretry

import (
	"net/http"
	"strconv"
	"time"
)

// The server's retry hints, as the classifier reads them from a response;
// waits.next bounds them.

// retryAfter returns the wait a response's headers ask for: x-amz-retry-after
// (integer milliseconds) first, else Retry-After (integer seconds, or an HTTP
// date taken relative to the Date header, or to now() without one). It
// returns 0 when neither header holds a valid, non-negative value. Values
// too large for a time.Duration saturate.
func retryAfter(h http.Header, now func() time.Time) time.Duration {
	if v := h.Get("X-Amz-Retry-After"); v != "" {
		if ms, ok := parseNonNegative(v); ok {
			return saturatingMul(time.Duration(ms), int64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, ok := parseNonNegative(v); ok {
		return saturatingMul(time.Duration(s), int64(time.Second))
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	base, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		base = now()
	}
	if d := at.Sub(base); d > 0 {
		return d // Sub saturates at the extremes of time.Duration
	}
	return 0
}

// parseNonNegative parses a decimal integer of digits only (no sign, no
// spaces), saturating at math.MaxInt64.
func parseNonNegative(v string) (int64, bool) {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return int64(maxDuration), true
		}
		return 0, false
	}
	return n, true
}
