package awsretry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
)

// objectSize is larger than a connection's buffers (net/http's 4 KiB
// bufio reader, the kernel's socket buffers on loopback), so that most of
// the body is still on the wire, or in the server, when the call returns.
const objectSize = 1 << 20

// object is the body the test server serves: deterministic bytes.
var object = func() []byte {
	b := make([]byte, objectSize)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

// objectServer serves object in 16 KiB chunks, flushing each. Its first
// stalls requests stall after the first chunk until the client goes away.
func objectServer(t *testing.T, stalls int) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		w.Header().Set("Content-Length", "1048576")
		for off := 0; off < len(object); off += 16 << 10 {
			if _, err := w.Write(object[off : off+16<<10]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if int(n) <= stalls {
				<-r.Context().Done()
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// get is an operation that GETs url and returns the response, whose body
// the caller reads.
func get(client *http.Client, url string) func(context.Context) (*http.Response, error) {
	return func(ctx context.Context) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		return client.Do(req)
	}
}

func readAll(t *testing.T, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, object) {
		t.Fatalf("read %d of %d bytes (equal: %v) after the call returned: %v", len(got), objectSize, bytes.Equal(got, object), err)
	}
}

// TestAttemptTimeoutLeavesTheBodyToTheCaller: the attempt timeout bounds
// the attempt, not the read of a body the successful attempt returned
// (an S3 object's, through a client, is one), through Do and DoValue.
func TestAttemptTimeoutLeavesTheBodyToTheCaller(t *testing.T) {
	srv, _ := objectServer(t, 0)
	client := srv.Client()
	r := awsretry.MustNew(awsretry.WithAttemptTimeout(30*time.Second), awsretry.WithClock(awsretrytest.NewClock()))
	t.Run("Do", func(t *testing.T) {
		var resp *http.Response
		var attemptCtx context.Context
		err := r.Do(context.Background(), func(ctx context.Context) (err error) {
			attemptCtx = ctx
			resp, err = get(client, srv.URL)(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// The transport watches the attempt's context while the body is
		// read: it must still be live.
		if err := attemptCtx.Err(); err != nil {
			t.Errorf("the successful attempt's context is done: %v", err)
		}
		readAll(t, resp)
	})
	t.Run("DoValue", func(t *testing.T) {
		resp, err := awsretry.DoValue(context.Background(), r, get(client, srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
	})
	t.Run("the deadline no longer applies", func(t *testing.T) {
		var attemptCtx context.Context
		err := r.Do(context.Background(), func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("no deadline during the attempt")
			}
			attemptCtx = ctx
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := attemptCtx.Deadline(); ok || attemptCtx.Err() != nil {
			t.Errorf("after the attempt: Deadline() = %v, %v, Err() = %v; want none and a live context", d, ok, attemptCtx.Err())
		}
	})
}

// TestAttemptTimeoutCutsAStalledRead: a body read inside the attempt that
// stalls is cut off at the attempt's deadline, and the attempt retried as
// a timeout.
func TestAttemptTimeoutCutsAStalledRead(t *testing.T) {
	srv, requests := objectServer(t, 1)
	client := srv.Client()
	var retried []awsretry.Attempt
	r := awsretry.MustNew(awsretry.WithAttemptTimeout(100*time.Millisecond), awsretry.WithClock(awsretrytest.NewClock()),
		awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { retried = append(retried, a) }))
	err := r.Do(context.Background(), func(ctx context.Context) error {
		resp, err := get(client, srv.URL)(ctx)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	})
	if err != nil || requests.Load() != 2 {
		t.Fatalf("Do = %v after %d requests, want success after 2", err, requests.Load())
	}
	if len(retried) != 1 || retried[0].Classification.Class != awsretry.ClassTimeout || !retried[0].Ambiguous {
		t.Errorf("retried %+v, want one ambiguous timeout", retried)
	}
}

// TestCallersContextStillCutsTheBody: after a successful attempt, the
// caller's context still governs the body.
func TestCallersContextStillCutsTheBody(t *testing.T) {
	srv, _ := objectServer(t, 1) // the body stalls: only the caller's context ends the read
	r := awsretry.MustNew(awsretry.WithAttemptTimeout(30 * time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := awsretry.DoValue(ctx, r, get(srv.Client(), srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := io.Copy(io.Discard, resp.Body); !errors.Is(err, context.Canceled) {
		t.Errorf("read = %v, want context.Canceled", err)
	}
}

// countingContext is a caller's context that counts the functions
// registered on it with context.AfterFunc and not yet stopped or run.
type countingContext struct {
	context.Context
	mu     sync.Mutex
	active int
}

func (c *countingContext) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	c.active++
	c.mu.Unlock()
	stop := context.AfterFunc(c.Context, f)
	return func() bool {
		stopped := stop()
		if stopped {
			c.mu.Lock()
			c.active--
			c.mu.Unlock()
		}
		return stopped
	}
}

func (c *countingContext) registered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}

// TestAttemptContextsAreReleased: a long-lived caller's context does not
// keep the contexts of attempts that are over: a failed attempt's at
// once, a successful attempt's once nothing refers to it any more (its
// body was read and dropped).
func TestAttemptContextsAreReleased(t *testing.T) {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	caller := &countingContext{Context: base}
	r := awsretry.MustNew(awsretry.WithAttemptTimeout(time.Minute), awsretry.WithTries(2), awsretry.WithDelay(0))
	failOnce := 0
	for range 100 {
		err := r.Do(caller, func(context.Context) error {
			failOnce++
			if failOnce%2 == 1 {
				return awsretry.Retryable(errors.New("once more"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20 && caller.registered() > 0; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond) // cleanups run on their own goroutine
	}
	if n := caller.registered(); n != 0 {
		t.Errorf("%d attempt contexts still registered on the caller's context after 200 attempts", n)
	}
}

// TestHTTPClientTimeoutIsRetried: an http.Client's own Timeout ends an
// attempt with context.DeadlineExceeded while the caller's context is
// live: a timeout of the attempt, retried, not the caller's cancellation.
func TestHTTPClientTimeoutIsRetried(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			<-r.Context().Done() // hangs until the client gives up
		}
	}))
	defer srv.Close()
	client := &http.Client{Timeout: 50 * time.Millisecond}
	var retried []awsretry.Attempt
	r := awsretry.MustNew(awsretry.WithClock(awsretrytest.NewClock()), awsretry.WithTries(3),
		awsretry.WithOnRetry(func(_ context.Context, a awsretry.Attempt) { retried = append(retried, a) }))
	err := r.Do(context.Background(), func(ctx context.Context) error {
		resp, err := get(client, srv.URL)(ctx)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
	if err != nil || requests.Load() != 2 {
		t.Fatalf("Do = %v after %d requests, want success after 2", err, requests.Load())
	}
	if len(retried) != 1 || retried[0].Classification.Class != awsretry.ClassTimeout || !retried[0].Ambiguous {
		t.Errorf("retried %+v, want one ambiguous timeout", retried)
	}
}
