package awsretry

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTruncate: at most n bytes of valid UTF-8, a rune never split, and
// invalid bytes replaced rather than taking the valid text with them.
func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"RequestLimitExceeded", 128, "RequestLimitExceeded"},
		{"ab", 1, "a"},
		{"aé", 2, "a"}, // é is two bytes
		{"Bad\xffCode", 128, "Bad\uFFFDCode"},
		{"A" + strings.Repeat("\x80", 200), 8, "A\uFFFD"}, // a run of bad bytes is one U+FFFD
		{strings.Repeat("\xff", 300), 6, "\uFFFD"},
	} {
		got := truncate(tc.in, tc.n)
		if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
