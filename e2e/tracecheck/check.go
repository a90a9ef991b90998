package tracecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Expectation is the trace one run of the scenario should leave in Jaeger.
type Expectation struct {
	// ClientService and ServerService are the service.name of the client
	// (the Retriers and the SDK's HTTP client) and of the endpoint.
	ClientService, ServerService string
	// Root is the name of the client's root span.
	Root string
	// Calls are the calls under Root, in order: the Retrier spans of Do,
	// and the SDK's operation spans of clients configured with the
	// adapter.
	Calls []Call
}

// Call is one call of the client, retried by a Retrier, with an
// awsretry.attempt event per attempt on its span. Each attempt is a CLIENT
// span "POST EC2/<Operation>" of the client service whose only child is a
// SERVER span "EC2/<Operation>" of the server service.
//
// Under Do (SDK nil), the span is the Retrier's, INTERNAL, with the
// attributes awsretry.attempts and awsretry.outcome, and the CLIENT spans
// are its children.
//
// Through a client configured with the awssdk adapter and traced by the
// SDK (SDK set), the span is the SDK's operation span, CLIENT, with the
// attempt events and none of the Retrier's attributes (the adapter borrows
// the span, it starts none), and the SDK's spans as they nest:
//
//	EC2.CreateTags                    the operation span, with the events
//	  steps: <SDK.Steps>
//	  RetryLoop
//	    Attempt operation.attempt=N   one per attempt, the wait included
//	      steps: <SDK.AttemptSteps>
//	      DoHTTPRequest http.status_code=S
//	        POST EC2/CreateTags       otelhttp's CLIENT span
//	          EC2/CreateTags          the endpoint's SERVER span
type Call struct {
	// Span is the call's span: the Retrier span's name (Retrier.Named), or
	// the SDK's operation span, "EC2.CreateTags".
	Span string
	// Operation is the EC2 action, e.g. "DescribeInstances".
	Operation string
	// SDK, when set, says the call went through the adapter, and lists the
	// SDK's spans that are steps of its middleware stack.
	SDK *SDKSpans
	// Attempts are the attempts in order; the last one succeeds.
	Attempts []Attempt
}

// SDKSpans are the spans aws-sdk-go-v2 starts for the steps of an
// operation's middleware stack that have no children: a "steps:" line of
// the rendering lists them, sorted, under their parent (see RenderTrace).
type SDKSpans struct {
	// Steps are the steps under the operation span, outside the retry
	// loop (OperationSerializer).
	Steps []string
	// AttemptSteps are the steps under each Attempt span (ResolveEndpoint,
	// SignRequest...), besides DoHTTPRequest.
	AttemptSteps []string
}

// The SDK's spans of an operation's retry loop (aws-sdk-go-v2's
// aws/retry and smithy-go's transport/http).
const (
	retryLoopSpan = "RetryLoop"
	attemptSpan   = "Attempt"
	doHTTPSpan    = "DoHTTPRequest"
)

// Attempt is what one attempt should have recorded.
type Attempt struct {
	// Status is the HTTP status the endpoint answered.
	Status int
	// Code is the AWS error code, "" when the attempt succeeded.
	Code string
	// Class is the classifier's class of Code: throttle,
	// eventual_consistency...
	Class string
	// RequestID is the request id of the endpoint's error document.
	RequestID string
	// Delay is the wait, in seconds, before the next attempt.
	Delay float64
}

// Tag keys rendered for each kind of span, in this order, when the span
// has them; the others are left out of the comparison (times, ports, user
// agent...). A key listed but absent is checked too: the SDK's operation
// span (CLIENT) must not have awsretry.attempts, nor otelhttp's CLIENT
// spans rpc.method.
var renderedTags = map[string][]string{
	"internal": {"awsretry.attempts", "awsretry.outcome", "error.type", "operation.attempt", "http.status_code"},
	"client":   {"awsretry.attempts", "awsretry.outcome", "http.response.status_code", "rpc.method"},
	"server":   {"http.response.status_code", "rpc.method"},
}

// Render returns the trace e describes, in the form of RenderTrace, so
// that the two compare line by line.
func (e *Expectation) Render() string {
	var b strings.Builder
	line(&b, 0, spanLine(e.Root, e.ClientService, "internal", nil))
	for _, c := range e.Calls {
		n := len(c.Attempts)
		if c.SDK == nil {
			line(&b, 1, spanLine(c.Span, e.ClientService, "internal",
				[]string{"awsretry.attempts=" + strconv.Itoa(n), "awsretry.outcome=success"}))
		} else {
			line(&b, 1, spanLine(c.Span, e.ClientService, "client", []string{"rpc.method=" + c.Operation}))
		}
		for i, a := range c.Attempts {
			line(&b, 2, eventLine("awsretry.attempt", a.fields(i+1, i == n-1)))
		}
		if c.SDK == nil {
			for _, a := range c.Attempts {
				e.renderHTTP(&b, 2, c.Operation, a.Status)
			}
			continue
		}
		if len(c.SDK.Steps) > 0 {
			line(&b, 2, stepsLine(c.SDK.Steps))
		}
		line(&b, 2, spanLine(retryLoopSpan, e.ClientService, "internal", nil))
		for i, a := range c.Attempts {
			line(&b, 3, spanLine(attemptSpan, e.ClientService, "internal", []string{"operation.attempt=" + strconv.Itoa(i+1)}))
			if len(c.SDK.AttemptSteps) > 0 {
				line(&b, 4, stepsLine(c.SDK.AttemptSteps))
			}
			line(&b, 4, spanLine(doHTTPSpan, e.ClientService, "internal", []string{"http.status_code=" + strconv.Itoa(a.Status)}))
			e.renderHTTP(&b, 5, c.Operation, a.Status)
		}
	}
	return b.String()
}

// fields returns the fields of attempt n's event, sorted.
func (a Attempt) fields(n int, last bool) []string {
	fields := []string{"awsretry.attempt=" + strconv.Itoa(n)}
	fields = append(fields, "awsretry.will_retry="+strconv.FormatBool(!last))
	if a.Code != "" {
		fields = append(fields,
			"aws.request_id="+a.RequestID,
			"awsretry.class="+a.Class,
			"awsretry.error_code="+a.Code,
			"error.type="+a.Code,
			"http.response.status_code="+strconv.Itoa(a.Status))
	}
	if !last {
		fields = append(fields, "awsretry.delay_seconds="+formatFloat(a.Delay))
	}
	slices.Sort(fields)
	return fields
}

// renderHTTP renders an attempt's CLIENT span at depth, and its SERVER
// span under it.
func (e *Expectation) renderHTTP(b *strings.Builder, depth int, operation string, status int) {
	code := "http.response.status_code=" + strconv.Itoa(status)
	line(b, depth, spanLine("POST EC2/"+operation, e.ClientService, "client", []string{code}))
	line(b, depth+1, spanLine("EC2/"+operation, e.ServerService, "server", []string{code, "rpc.method=" + operation}))
}

// RenderTrace renders t as an indented tree: each span as
// "name [service kind] tag=value...", children in order of start under
// their parent, after the span's events "event name: field=value...".
//
// A child that is only a step, an INTERNAL span without children, events
// or rendered tags (the SDK's ResolveEndpoint, SignRequest...), is not a
// line of its own: the names of a span's steps make one line
// "steps: name...", sorted, before its other children. The SDK's steps are
// microseconds apart, and Jaeger keeps microseconds, so their order of
// start is not reliable; their names and number are.
func RenderTrace(t *Trace) string {
	byID := map[string]*Span{}
	for i := range t.Spans {
		byID[t.Spans[i].SpanID] = &t.Spans[i]
	}
	children := map[string][]*Span{}
	var roots []*Span
	for i := range t.Spans {
		s := &t.Spans[i]
		if p := s.Parent(); p != "" && byID[p] != nil {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	tagsOf := func(s *Span) []string {
		var tags []string
		for _, k := range renderedTags[tagString(s, "span.kind")] {
			if v, ok := s.Tag(k); ok {
				tags = append(tags, k+"="+formatValue(v))
			}
		}
		return tags
	}
	isStep := func(s *Span) bool {
		return tagString(s, "span.kind") == "internal" && len(children[s.SpanID]) == 0 && len(s.Logs) == 0 && len(tagsOf(s)) == 0
	}
	var b strings.Builder
	var walk func(s *Span, depth int)
	walk = func(s *Span, depth int) {
		kind := tagString(s, "span.kind")
		l := spanLine(s.OperationName, t.Processes[s.ProcessID].ServiceName, kind, tagsOf(s))
		if p := s.Parent(); p != "" && byID[p] == nil {
			l += " (parent " + p + " missing)"
		}
		line(&b, depth, l)
		logs := slices.Clone(s.Logs)
		slices.SortStableFunc(logs, func(a, b Log) int { return cmpInt(a.Timestamp, b.Timestamp) })
		for _, lg := range logs {
			name := ""
			var fields []string
			for _, f := range lg.Fields {
				if f.Key == "event" {
					name = formatValue(f.Value)
					continue
				}
				fields = append(fields, f.Key+"="+formatValue(f.Value))
			}
			slices.Sort(fields)
			line(&b, depth+1, eventLine(name, fields))
		}
		var steps []string
		var spans []*Span
		for _, c := range children[s.SpanID] {
			if isStep(c) {
				steps = append(steps, c.OperationName)
			} else {
				spans = append(spans, c)
			}
		}
		if len(steps) > 0 {
			line(&b, depth+1, stepsLine(steps))
		}
		for _, c := range sortByStart(spans) {
			walk(c, depth+1)
		}
	}
	for _, r := range sortByStart(roots) {
		walk(r, 0)
	}
	return b.String()
}

// Check returns what is wrong with the traces found by searching Jaeger
// for each of e's services (searches maps a service name to its search
// results), against e; none when all is as expected. traceID, when not
// empty, is the id the client reported.
func Check(searches map[string][]Trace, traceID string, e *Expectation) []string {
	var problems []string
	var trace *Trace
	for _, service := range []string{e.ClientService, e.ServerService} {
		found := searches[service]
		ids := make([]string, len(found))
		for i := range found {
			ids[i] = found[i].TraceID
		}
		switch {
		case len(found) != 1:
			problems = append(problems, fmt.Sprintf("service %s: %d traces found %v, want 1", service, len(found), ids))
		case traceID != "" && found[0].TraceID != traceID:
			problems = append(problems, fmt.Sprintf("service %s: trace %s found, want %s", service, found[0].TraceID, traceID))
		case trace != nil && found[0].TraceID != trace.TraceID:
			problems = append(problems, fmt.Sprintf("services %s and %s: traces %s and %s, want one trace across both",
				e.ClientService, service, trace.TraceID, found[0].TraceID))
		case trace == nil:
			trace = &found[0]
		}
	}
	if trace == nil {
		return problems
	}
	for _, w := range trace.Warnings {
		problems = append(problems, "trace warning: "+w)
	}
	for _, s := range trace.Spans {
		for _, w := range s.Warnings {
			problems = append(problems, fmt.Sprintf("span %s %q warning: %s", s.SpanID, s.OperationName, w))
		}
	}
	want, got := e.Render(), RenderTrace(trace)
	if want != got {
		problems = append(problems, "trace "+trace.TraceID+" differs from the expectation (- want, + got):\n"+Diff(want, got))
		return problems
	}
	return append(problems, checkTimes(trace, e)...)
}

// checkTimes checks a trace of the expected shape in time: each CLIENT
// span and each event lies within its call's span, and each SERVER span
// starts within its CLIENT span; each attempt's event falls between the
// end of its CLIENT span and the start of the next, and the next attempt starts
// at least the event's delay after the CLIENT span ended. The CLIENT spans
// are the call span's children under Do, its descendants through the
// adapter.
func checkTimes(t *Trace, e *Expectation) []string {
	const slack = 1000 // µs: Jaeger keeps microseconds, the SDK nanoseconds
	// Jaeger truncates start and duration to microseconds, each.
	const truncation = 2 // µs
	var problems []string
	for _, c := range e.Calls {
		do := findSpan(t, c.Span)
		clients := sortByStart(descendants(t, do.SpanID, "POST EC2/"+c.Operation))
		within := func(what string, start, end int64, in *Span) {
			if start < in.StartTime-truncation || end > in.End()+truncation {
				problems = append(problems, fmt.Sprintf("%s: %s from %d to %d µs, outside its %s span, from %d to %d µs",
					c.Span, what, start, end, in.OperationName, in.StartTime, in.End()))
			}
		}
		for i, client := range clients {
			within(fmt.Sprintf("attempt %d: CLIENT span", i+1), client.StartTime, client.End(), do)
			for _, server := range descendants(t, client.SpanID, "EC2/"+c.Operation) {
				// Only the start is bound by causality: the server gets
				// the request after the client sent it and before the
				// client has its answer. The span ends when the handler
				// returns, after it wrote the answer, and on a loaded
				// machine that goroutine may run well after the client
				// has read it (0.56 ms and 1.04 ms seen), so the end is
				// not checked against the CLIENT span.
				if server.StartTime < client.StartTime-truncation || server.StartTime > client.End()+truncation {
					problems = append(problems, fmt.Sprintf("%s: attempt %d: SERVER span from %d to %d µs, outside its CLIENT span, from %d to %d µs",
						c.Span, i+1, server.StartTime, server.End(), client.StartTime, client.End()))
				}
			}
		}
		logs := slices.Clone(do.Logs)
		slices.SortStableFunc(logs, func(a, b Log) int { return cmpInt(a.Timestamp, b.Timestamp) })
		for i, l := range logs {
			within(fmt.Sprintf("attempt %d: event at", i+1), l.Timestamp, l.Timestamp, do)
		}
		for i, a := range c.Attempts {
			if logs[i].Timestamp < clients[i].End()-slack {
				problems = append(problems, fmt.Sprintf("%s: attempt %d: event at %d µs, before its CLIENT span ended at %d µs",
					c.Span, i+1, logs[i].Timestamp, clients[i].End()))
			}
			if i+1 == len(c.Attempts) {
				break
			}
			if logs[i].Timestamp > clients[i+1].StartTime {
				problems = append(problems, fmt.Sprintf("%s: attempt %d: event at %d µs, after attempt %d started at %d µs",
					c.Span, i+1, logs[i].Timestamp, i+2, clients[i+1].StartTime))
			}
			gap := clients[i+1].StartTime - clients[i].End()
			if float64(gap) < a.Delay*1e6-slack {
				problems = append(problems, fmt.Sprintf("%s: attempt %d started %.3f s after attempt %d ended, want at least the %g s delay",
					c.Span, i+2, float64(gap)/1e6, i+1, a.Delay))
			}
		}
	}
	return problems
}

// Wait polls Jaeger until the trace of traceID (any, if empty) is as e
// describes or timeout passes, and returns the trace and the problems
// found by the last poll, none on success. An error of the API is a
// problem too: Jaeger may still be starting, or storing the spans. A poll
// cut short by the timeout does not count: the problems are those of the
// last poll that was answered.
func Wait(ctx context.Context, c *Client, traceID string, e *Expectation, timeout time.Duration) (*Trace, []string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last []string // the problems of the last poll answered
	still := func() []string { return append(last, fmt.Sprintf("(still so after %v of polling)", timeout)) }
	for {
		searches := map[string][]Trace{}
		var problems []string
		for _, service := range []string{e.ClientService, e.ServerService} {
			found, err := c.Search(ctx, service, 20)
			if err != nil {
				problems = append(problems, err.Error())
			}
			searches[service] = found
		}
		if problems != nil && ctx.Err() != nil && last != nil {
			return nil, still()
		}
		if problems == nil {
			problems = Check(searches, traceID, e)
		}
		if len(problems) == 0 {
			t := searches[e.ClientService][0]
			return &t, nil
		}
		last = problems
		select {
		case <-ctx.Done():
			return nil, still()
		case <-tick.C:
		}
	}
}

// descendants returns the spans named name under the span of id parent,
// at any depth.
func descendants(t *Trace, parent, name string) []*Span {
	under := map[string]bool{parent: true}
	var found []*Span
	for grew := true; grew; {
		grew = false
		for i := range t.Spans {
			s := &t.Spans[i]
			if !under[s.SpanID] && under[s.Parent()] {
				under[s.SpanID] = true
				grew = true
				if s.OperationName == name {
					found = append(found, s)
				}
			}
		}
	}
	return found
}

func findSpan(t *Trace, name string) *Span {
	for i := range t.Spans {
		if t.Spans[i].OperationName == name {
			return &t.Spans[i]
		}
	}
	return nil
}

func sortByStart(spans []*Span) []*Span {
	slices.SortStableFunc(spans, func(a, b *Span) int {
		if c := cmpInt(a.StartTime, b.StartTime); c != 0 {
			return c
		}
		return strings.Compare(a.OperationName, b.OperationName)
	})
	return spans
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func tagString(s *Span, key string) string {
	v, _ := s.Tag(key)
	return formatValue(v)
}

// formatValue renders a tag or field value; numbers in their shortest
// form, so that 0.1 is 0.1 whatever Jaeger's JSON encoder wrote.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
		if f, err := v.Float64(); err == nil {
			return formatFloat(f)
		}
		return v.String()
	case float64:
		return formatFloat(v)
	default:
		return fmt.Sprint(v)
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func spanLine(name, service, kind string, tags []string) string {
	l := fmt.Sprintf("%s [%s %s]", name, service, kind)
	if len(tags) > 0 {
		l += " " + strings.Join(tags, " ")
	}
	return l
}

func stepsLine(names []string) string {
	return "steps: " + strings.Join(slices.Sorted(slices.Values(names)), " ")
}

func eventLine(name string, fields []string) string {
	return "event " + name + ": " + strings.Join(fields, " ")
}

func line(b *strings.Builder, depth int, s string) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString(s)
	b.WriteByte('\n')
}

// Diff returns a line diff of want and got: common lines prefixed "  ",
// lines only in want "- ", lines only in got "+ ".
func Diff(want, got string) string {
	a := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	b := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out.WriteString("  " + a[i] + "\n")
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out.WriteString("- " + a[i] + "\n")
			i++
		default:
			out.WriteString("+ " + b[j] + "\n")
			j++
		}
	}
	return out.String()
}
