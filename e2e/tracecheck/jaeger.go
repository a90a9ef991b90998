// Package tracecheck reads traces from Jaeger's HTTP query API and checks
// that one holds the spans and events that awsretry's retries should
// produce across two services: a Retrier span per Do with an event per
// attempt, a CLIENT span per attempt under it, and a SERVER span of the
// other service under each CLIENT span; and for a client configured with
// the awssdk adapter, the SDK's own spans (operation, RetryLoop, Attempt,
// DoHTTPRequest), with the events on the operation span and the CLIENT
// and SERVER spans under each Attempt.
package tracecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Response is the JSON document of Jaeger's /api/traces endpoints.
type Response struct {
	Data   []Trace         `json:"data"`
	Errors []ResponseError `json:"errors"`
}

// ResponseError is an error reported in a Response.
type ResponseError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// Trace is one trace as Jaeger's query API returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

// Span is a span of a Trace. Times are in microseconds since the epoch.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []KeyValue  `json:"tags"`
	Logs          []Log       `json:"logs"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

// End returns the span's end time in microseconds since the epoch.
func (s *Span) End() int64 { return s.StartTime + s.Duration }

// Tag returns the value of the span's tag key, and whether it has one.
func (s *Span) Tag(key string) (any, bool) { return lookup(s.Tags, key) }

// Parent returns the span id of the span's CHILD_OF reference in the same
// trace, or "" for a root span.
func (s *Span) Parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" && r.TraceID == s.TraceID {
			return r.SpanID
		}
	}
	return ""
}

// Reference links a span to another.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// KeyValue is a tag or a log field. Value is a string, a bool or a
// json.Number, whatever Type says.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Log is a span event: Jaeger keeps its name in the "event" field.
type Log struct {
	Timestamp int64      `json:"timestamp"`
	Fields    []KeyValue `json:"fields"`
}

// Field returns the value of the event's field key, and whether it has one.
func (l *Log) Field(key string) (any, bool) { return lookup(l.Fields, key) }

// Process is the service that produced some of a trace's spans.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

func lookup(kvs []KeyValue, key string) (any, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Client queries a Jaeger query service.
type Client struct {
	// BaseURL is the query service's address, e.g. http://127.0.0.1:16686.
	BaseURL string
	// HTTP is the client used; nil means one with a 10 s timeout.
	HTTP *http.Client
}

// Search returns the traces that have spans of service, as
// /api/traces?service=... finds them: at most limit of the last hour's.
func (c *Client) Search(ctx context.Context, service string, limit int) ([]Trace, error) {
	q := url.Values{"service": {service}, "lookback": {"1h"}, "limit": {strconv.Itoa(limit)}}
	return c.get(ctx, "/api/traces?"+q.Encode())
}

// Trace returns the trace with the given id, from /api/traces/{id}.
func (c *Client) Trace(ctx context.Context, traceID string) (Trace, error) {
	traces, err := c.get(ctx, "/api/traces/"+url.PathEscape(traceID))
	if err != nil {
		return Trace{}, err
	}
	if len(traces) != 1 {
		return Trace{}, fmt.Errorf("jaeger: trace %s: %d traces returned", traceID, len(traces))
	}
	return traces[0], nil
}

func (c *Client) get(ctx context.Context, path string) ([]Trace, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jaeger: GET %s: %s: %.200s", path, resp.Status, body)
	}
	return ParseResponse(body)
}

// ParseResponse decodes a /api/traces document; an error it reports is
// returned as an error.
func ParseResponse(body []byte) ([]Trace, error) {
	var r Response
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("jaeger: decoding traces: %w", err)
	}
	if len(r.Errors) > 0 {
		return nil, fmt.Errorf("jaeger: %d: %s", r.Errors[0].Code, r.Errors[0].Msg)
	}
	return r.Data, nil
}
