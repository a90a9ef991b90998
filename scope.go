package awsretry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
)

// Scope is one Do call as its operation sees it: the number of the attempt
// under way, and idempotency tokens that stay the same across the call's
// attempts. Read it from the operation's context with ScopeFrom, in a Do
// call of a Retrier made WithScope.
//
// Why tokens: a request that failed ambiguously (the connection reset after
// the request was written, the attempt timed out, a 5xx after the service
// acted) may have done its work. AWS operations that create things take an
// idempotency token (EC2's ClientToken, DynamoDB's ClientRequestToken...):
// a request repeating a token the service has seen returns the original
// result instead of acting again. aws-sdk-go-v2 fills the token once per
// call and resends it on its own retries; a retry around the call is a new
// call, with a new token, unless the token comes from the Do call:
//
//	err := r.Do(ctx, func(ctx context.Context) error {
//		scope, _ := awsretry.ScopeFrom(ctx)
//		_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{
//			ClientToken: aws.String(scope.Token("web")), ...})
//		return err
//	})
//
// Package awssdk's InsideDo does this for every token the SDK fills itself.
// A Scope is safe for concurrent use by the goroutines of one attempt.
type Scope struct {
	attempt atomic.Int64

	seedOnce sync.Once
	seed     [16]byte // random, drawn on the first Token

	mu          sync.Mutex
	occurrences map[string]int // per name, in the attempt occurrencesOf
	occurOf     int64
}

// ScopeFrom returns the Scope of the Do call whose operation received ctx
// (or a context made from it), and false outside such a call, or when the
// call's Retrier was not made WithScope.
func ScopeFrom(ctx context.Context) (*Scope, bool) {
	if ctx == nil {
		return nil, false
	}
	s, ok := ctx.Value(scopeKey{}).(*Scope)
	return s, ok && s != nil
}

// Attempt returns the number of the attempt under way, starting at 1.
func (s *Scope) Attempt() int { return int(s.attempt.Load()) }

// Token returns the idempotency token of name in this Do call: the same
// string for the same name in every attempt of the call, different for
// another name, and different in every other Do call (it is derived from
// 128 random bits drawn for the call). It is shaped as a random UUID:
// 36 characters of hexadecimal digits and hyphens, within the limits of
// every AWS token field (DynamoDB's ClientRequestToken, the shortest,
// takes 36). Name each call that takes a token: two calls asking for one
// name send one token, and the service takes the second for a repeat of
// the first.
func (s *Scope) Token(name string) string {
	s.seedOnce.Do(func() { _, _ = rand.Read(s.seed[:]) }) // crypto/rand.Read never fails
	sum := sha256.Sum256(append(s.seed[:len(s.seed):len(s.seed)], name...))
	// The layout of a version 4 UUID (RFC 9562): its version and variant
	// bits, so that services that check the shape accept it.
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], sum[0:4])
	hex.Encode(b[9:13], sum[4:6])
	hex.Encode(b[14:18], sum[6:8])
	hex.Encode(b[19:23], sum[8:10])
	hex.Encode(b[24:36], sum[10:16])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b[:])
}

// occurrence counts a use of name in the attempt under way and returns its
// number, from 1: the position of a call among the calls of the same name
// in one attempt, which stays the same across attempts that make the same
// calls in the same order.
func (s *Scope) occurrence(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.attempt.Load(); s.occurOf != n || s.occurrences == nil {
		s.occurrences, s.occurOf = map[string]int{}, n
	}
	s.occurrences[name]++
	return s.occurrences[name]
}

// begin notes that attempt n begins; a nil Scope notes nothing.
func (s *Scope) begin(n int) {
	if s != nil {
		s.attempt.Store(int64(n))
	}
}

type scopeKey struct{}

// scopeContext carries a Do call's Scope: one allocation for both.
type scopeContext struct {
	context.Context
	scope Scope
}

func (c *scopeContext) Value(key any) any {
	if key == (scopeKey{}) {
		return &c.scope
	}
	return c.Context.Value(key)
}

// withScope returns ctx carrying a new Scope, and the Scope.
func withScope(ctx context.Context) (context.Context, *Scope) {
	c := &scopeContext{Context: ctx}
	return c, &c.scope
}
