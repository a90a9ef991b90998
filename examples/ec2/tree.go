package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// treeRecorder is a span processor that keeps the ended spans, to print the
// trace as an indented tree next to the exporter's output.
type treeRecorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (r *treeRecorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *treeRecorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, s)
}
func (r *treeRecorder) Shutdown(context.Context) error   { return nil }
func (r *treeRecorder) ForceFlush(context.Context) error { return nil }

// print writes the spans as a tree, children in start order, with the
// attributes and events that tell the retry story.
func (r *treeRecorder) print(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	for _, s := range r.spans {
		children[s.Parent().SpanID()] = append(children[s.Parent().SpanID()], s)
	}
	for _, list := range children {
		sort.Slice(list, func(i, j int) bool { return list[i].StartTime().Before(list[j].StartTime()) })
	}
	var walk func(parent trace.SpanID, depth int)
	walk = func(parent trace.SpanID, depth int) {
		for _, s := range children[parent] {
			indent := strings.Repeat("  ", depth)
			fmt.Fprintf(w, "%s%s [%s] %v%s%s\n", indent, s.Name(), s.SpanKind(),
				s.EndTime().Sub(s.StartTime()).Round(1e6), attrs(s.Attributes(), "awsretry.attempts", "awsretry.outcome", "http.response.status_code"), status(s))
			for _, e := range s.Events() {
				fmt.Fprintf(w, "%s  * %s%s\n", indent, e.Name, attrs(e.Attributes, "awsretry.attempt", "awsretry.error_code",
					"awsretry.class", "awsretry.delay_seconds", "aws.request_id"))
			}
			walk(s.SpanContext().SpanID(), depth+1)
		}
	}
	walk(trace.SpanID{}, 0)
}

func attrs(kvs []attribute.KeyValue, keys ...string) string {
	var b strings.Builder
	for _, k := range keys {
		for _, kv := range kvs {
			if string(kv.Key) == k {
				fmt.Fprintf(&b, " %s=%s", strings.TrimPrefix(k, "awsretry."), kv.Value.String())
			}
		}
	}
	return b.String()
}

func status(s sdktrace.ReadOnlySpan) string {
	if s.Status().Code.String() == "Error" {
		return strings.TrimRight(" ERROR "+s.Status().Description, " ")
	}
	return ""
}
