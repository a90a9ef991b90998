package awsretry_test

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// uuid4 is the shape of a random UUID (RFC 9562, version 4).
var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestScopeTokens: a token is the same in every attempt of a Do call for
// one name, different for another name and in another Do call, and shaped
// as a UUID of 36 characters.
func TestScopeTokens(t *testing.T) {
	r := awsretry.MustNew(awsretry.WithScope(), awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithTries(3))
	var attempts []int
	var launch, tag []string
	call := func() error {
		return r.Do(context.Background(), func(ctx context.Context) error {
			s, ok := awsretry.ScopeFrom(ctx)
			if !ok {
				t.Fatal("no Scope in a Do call of a Retrier made WithScope")
			}
			attempts = append(attempts, s.Attempt())
			launch = append(launch, s.Token("launch"))
			tag = append(tag, s.Token("tag"))
			if s.Attempt() < 3 {
				return awsretry.Retryable(errors.New("not yet"))
			}
			return nil
		})
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 3 || attempts[0] != 1 || attempts[2] != 3 {
		t.Errorf("Attempt() = %v, want 1, 2, 3", attempts)
	}
	for i := range launch {
		if launch[i] != launch[0] || tag[i] != tag[0] {
			t.Errorf("attempt %d: tokens %q, %q; want those of attempt 1, %q, %q", i+1, launch[i], tag[i], launch[0], tag[0])
		}
	}
	if launch[0] == tag[0] {
		t.Errorf("two names share the token %q", launch[0])
	}
	for _, token := range []string{launch[0], tag[0]} {
		if len(token) != 36 || !uuid4.MatchString(token) {
			t.Errorf("token %q is not a 36-character random UUID", token)
		}
	}
	first := launch[0]
	launch = nil
	if err := call(); err != nil {
		t.Fatal(err)
	}
	if launch[0] == first {
		t.Errorf("two Do calls share the token %q", first)
	}
}

// TestScopeConcurrentTokens: goroutines of one attempt asking for tokens
// at once get each name's one token.
func TestScopeConcurrentTokens(t *testing.T) {
	r := awsretry.MustNew(awsretry.WithScope())
	err := r.Do(context.Background(), func(ctx context.Context) error {
		s, _ := awsretry.ScopeFrom(ctx)
		want := s.Token("x")
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if got := s.Token("x"); got != want {
					t.Errorf("token %q, want %q", got, want)
				}
			})
		}
		wg.Wait()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoScope: without WithScope, or outside Do, there is no Scope.
func TestNoScope(t *testing.T) {
	if _, ok := awsretry.ScopeFrom(context.Background()); ok {
		t.Error("a Scope outside Do")
	}
	err := awsretry.MustNew().Do(context.Background(), func(ctx context.Context) error {
		if _, ok := awsretry.ScopeFrom(ctx); ok {
			t.Error("a Scope in a Do call of a Retrier made without WithScope")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1012 a nil context is an input a user can write
	if _, ok := awsretry.ScopeFrom(nil); ok { //nolint:staticcheck
		t.Error("a Scope in a nil context")
	}
}

// BenchmarkDoFirstTrySuccessScope is BenchmarkDoFirstTrySuccess with a
// Scope (one allocation: the context that carries it), and with a token
// asked for.
func BenchmarkDoFirstTrySuccessScope(b *testing.B) {
	ctx := context.Background()
	r := awsretry.MustNew(awsretry.WithScope())
	b.Run("unused", func(b *testing.B) {
		op := func(context.Context) error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Do(ctx, op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("token", func(b *testing.B) {
		op := func(ctx context.Context) error {
			s, _ := awsretry.ScopeFrom(ctx)
			_ = s.Token("launch")
			return nil
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Do(ctx, op); err != nil {
				b.Fatal(err)
			}
		}
	})
}
