package tracecheck_test

import (
	"cmp"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awsretry/awsretry/e2e/tracecheck"
)

// fixtureID is the trace in testdata/traces.json: Jaeger's answer to
// /api/traces?service=awsretry-e2e-client after one run of run.sh.
const fixtureID = "ddbe5bf78ce61c0fd0adb50477256452"

func loadFixture(t *testing.T) tracecheck.Trace {
	t.Helper()
	body, err := os.ReadFile("testdata/traces.json")
	if err != nil {
		t.Fatal(err)
	}
	traces, err := tracecheck.ParseResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 1 {
		t.Fatalf("fixture has %d traces", len(traces))
	}
	return traces[0]
}

// A handler's span may end well after its client read the answer (the
// handler's goroutine runs later on a loaded machine): only the SERVER
// span's start is bound by its CLIENT span.
func TestCheckAcceptsServerSpanEndingAfterItsClient(t *testing.T) {
	tr := mutate(t, loadFixture(t), func(tr *tracecheck.Trace) {
		client := nthByStart(tr, "POST EC2/CreateTags", 2)
		server := firstChild(tr, client.SpanID)
		server.Duration = client.End() + 5000 - server.StartTime
	})
	if problems := tracecheck.Check(searches(tr), fixtureID, expected()); len(problems) > 0 {
		t.Fatalf("problems:\n%s", strings.Join(problems, "\n"))
	}
}

// searches is what Jaeger answers for both services when tr is the only
// trace: the whole trace for each.
func searches(tr tracecheck.Trace) map[string][]tracecheck.Trace {
	e := expected()
	return map[string][]tracecheck.Trace{e.ClientService: {tr}, e.ServerService: {tr}}
}

func TestCheckAcceptsRecordedTrace(t *testing.T) {
	tr := loadFixture(t)
	if problems := tracecheck.Check(searches(tr), fixtureID, expected()); len(problems) > 0 {
		t.Fatalf("problems:\n%s", strings.Join(problems, "\n"))
	}
	const want = `launch-instance [awsretry-e2e-client internal]
  ec2.RunInstances [awsretry-e2e-client internal] awsretry.attempts=2 awsretry.outcome=success
    event awsretry.attempt: aws.request_id=req-0001 awsretry.attempt=1 awsretry.class=throttle awsretry.delay_seconds=0.1 awsretry.error_code=RequestLimitExceeded awsretry.will_retry=true error.type=RequestLimitExceeded http.response.status_code=503
    event awsretry.attempt: awsretry.attempt=2 awsretry.will_retry=false
    POST EC2/RunInstances [awsretry-e2e-client client] http.response.status_code=503
      EC2/RunInstances [awsfake-ec2 server] http.response.status_code=503 rpc.method=RunInstances
    POST EC2/RunInstances [awsretry-e2e-client client] http.response.status_code=200
      EC2/RunInstances [awsfake-ec2 server] http.response.status_code=200 rpc.method=RunInstances
  ec2.WaitForInstance [awsretry-e2e-client internal] awsretry.attempts=4 awsretry.outcome=success
`
	got := tracecheck.RenderTrace(&tr)
	if !strings.HasPrefix(got, want) {
		t.Errorf("RenderTrace begins:\n%s\nwant:\n%s", got[:min(len(got), len(want))], want)
	}
	// The call through the adapter: the SDK's spans, the events on its
	// operation span.
	const sdkWant = `  EC2.CreateTags [awsretry-e2e-client client] rpc.method=CreateTags
    event awsretry.attempt: aws.request_id=req-0007 awsretry.attempt=1 awsretry.class=throttle awsretry.delay_seconds=0.1 awsretry.error_code=RequestLimitExceeded awsretry.will_retry=true error.type=RequestLimitExceeded http.response.status_code=503
    event awsretry.attempt: aws.request_id=req-0008 awsretry.attempt=2 awsretry.class=throttle awsretry.delay_seconds=0.15 awsretry.error_code=RequestLimitExceeded awsretry.will_retry=true error.type=RequestLimitExceeded http.response.status_code=503
    event awsretry.attempt: awsretry.attempt=3 awsretry.will_retry=false
    steps: OperationSerializer
    RetryLoop [awsretry-e2e-client internal]
      Attempt [awsretry-e2e-client internal] operation.attempt=1
        steps: ComputePayloadSHA256 GetIdentity OperationDeserializer ResolveAuthScheme ResolveEndpoint SignRequest
        DoHTTPRequest [awsretry-e2e-client internal] http.status_code=503
          POST EC2/CreateTags [awsretry-e2e-client client] http.response.status_code=503
            EC2/CreateTags [awsfake-ec2 server] http.response.status_code=503 rpc.method=CreateTags
      Attempt [awsretry-e2e-client internal] operation.attempt=2
`
	if i := strings.Index(got, "  EC2.CreateTags "); i < 0 || !strings.HasPrefix(got[i:], sdkWant) {
		t.Errorf("RenderTrace of the call through the adapter:\n%s\nwant it to begin:\n%s", got[max(i, 0):], sdkWant)
	}
}

// TestStepsInAnyOrder: the SDK's steps, microseconds apart, may start in
// the same microsecond as Jaeger records them; the check does not depend
// on their order.
func TestStepsInAnyOrder(t *testing.T) {
	tr := mutate(t, loadFixture(t), func(tr *tracecheck.Trace) {
		for i := range tr.Spans {
			s := &tr.Spans[i]
			if s.OperationName == "SignRequest" || s.OperationName == "GetIdentity" {
				s.StartTime = tr.Spans[indexOf(tr, s.Parent())].StartTime
			}
		}
	})
	if problems := tracecheck.Check(searches(tr), fixtureID, expected()); len(problems) > 0 {
		t.Fatalf("problems:\n%s", strings.Join(problems, "\n"))
	}
}

func indexOf(tr *tracecheck.Trace, spanID string) int {
	for i := range tr.Spans {
		if tr.Spans[i].SpanID == spanID {
			return i
		}
	}
	panic("no span " + spanID)
}

// mutate returns a deep copy of tr changed by f.
func mutate(t *testing.T, tr tracecheck.Trace, f func(*tracecheck.Trace)) tracecheck.Trace {
	t.Helper()
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var c tracecheck.Trace
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	f(&c)
	return c
}

func spanNamed(tr *tracecheck.Trace, name string, nth int) *tracecheck.Span {
	for i := range tr.Spans {
		if tr.Spans[i].OperationName == name {
			if nth == 0 {
				return &tr.Spans[i]
			}
			nth--
		}
	}
	panic("no span " + name)
}

func TestCheckReportsMismatches(t *testing.T) {
	base := loadFixture(t)
	e := expected()
	tests := []struct {
		name     string
		searches func() map[string][]tracecheck.Trace
		traceID  string
		want     []string // substrings of the problems
	}{{
		name: "server span lost",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				s := nthByStart(tr, "EC2/DescribeInstances", 2) // attempt 3, a 400
				tr.Spans = deleteSpan(tr.Spans, s.SpanID)
			}))
		},
		want: []string{"differs from the expectation", "\n-       EC2/DescribeInstances [awsfake-ec2 server] http.response.status_code=400 rpc.method=DescribeInstances\n"},
	}, {
		name: "server spans in a trace of their own",
		searches: func() map[string][]tracecheck.Trace {
			other := mutate(t, base, func(tr *tracecheck.Trace) { tr.TraceID = "0123456789abcdef0123456789abcdef" })
			return map[string][]tracecheck.Trace{e.ClientService: {base}, e.ServerService: {other}}
		},
		want: []string{"want one trace across both"},
	}, {
		name: "no trace of the server",
		searches: func() map[string][]tracecheck.Trace {
			return map[string][]tracecheck.Trace{e.ClientService: {base}}
		},
		want: []string{"service awsfake-ec2: 0 traces found [], want 1"},
	}, {
		name: "two traces of the client",
		searches: func() map[string][]tracecheck.Trace {
			return map[string][]tracecheck.Trace{e.ClientService: {base, base}, e.ServerService: {base}}
		},
		want: []string{"service awsretry-e2e-client: 2 traces found"},
	}, {
		name:     "another trace id reported",
		searches: func() map[string][]tracecheck.Trace { return searches(base) },
		traceID:  "0123456789abcdef0123456789abcdef",
		want:     []string{"trace " + fixtureID + " found, want 0123456789abcdef0123456789abcdef"},
	}, {
		name: "wrong delay",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				setField(spanNamed(tr, "ec2.WaitForInstance", 0), 2, "awsretry.delay_seconds", json.Number("0.16"))
			}))
		},
		want: []string{"\n-     event awsretry.attempt: aws.request_id=req-0004 awsretry.attempt=2 awsretry.class=eventual_consistency awsretry.delay_seconds=0.15 ",
			"\n+     event awsretry.attempt: aws.request_id=req-0004 awsretry.attempt=2 awsretry.class=eventual_consistency awsretry.delay_seconds=0.16 "},
	}, {
		name: "an attempt too many",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				s := spanNamed(tr, "ec2.WaitForInstance", 0)
				s.Logs = append(s.Logs, s.Logs[len(s.Logs)-1])
			}))
		},
		want: []string{"\n+     event awsretry.attempt: awsretry.attempt=4 awsretry.will_retry=false\n"},
	}, {
		name: "client span outside the Retrier span",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				root := spanNamed(tr, "launch-instance", 0)
				spanNamed(tr, "POST EC2/RunInstances", 0).References[0].SpanID = root.SpanID
			}))
		},
		want: []string{"differs from the expectation", "\n+   POST EC2/RunInstances [awsretry-e2e-client client] http.response.status_code="},
	}, {
		name: "server span recorded by the client",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				spanNamed(tr, "EC2/RunInstances", 0).ProcessID = spanNamed(tr, "launch-instance", 0).ProcessID
			}))
		},
		want: []string{"EC2/RunInstances [awsretry-e2e-client server]"},
	}, {
		name: "retry sooner than the delay",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				// Move attempt 4 (client and server span) to 50 ms after
				// attempt 3's event; the delay was 225 ms.
				do := spanNamed(tr, "ec2.WaitForInstance", 0)
				c := lastChild(tr, do.SpanID)
				s := lastChild(tr, c.SpanID)
				shift := c.StartTime - (do.Logs[2].Timestamp + 50_000)
				c.StartTime -= shift
				s.StartTime -= shift
			}))
		},
		want: []string{"ec2.WaitForInstance: attempt 4 started 0.05", "want at least the 0.225 s delay"},
	}, {
		name: "adapter event dropped",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				op := spanNamed(tr, "EC2.CreateTags", 0)
				op.Logs = slices.DeleteFunc(op.Logs, func(l tracecheck.Log) bool {
					id, _ := l.Field("aws.request_id")
					return id == "req-0008"
				})
			}))
		},
		want: []string{"differs from the expectation",
			"\n-     event awsretry.attempt: aws.request_id=req-0008 awsretry.attempt=2 awsretry.class=throttle awsretry.delay_seconds=0.15 "},
	}, {
		name: "adapter event on the SDK's Attempt span",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				op := spanNamed(tr, "EC2.CreateTags", 0)
				attempt := firstChild(tr, spanNamed(tr, "RetryLoop", 0).SpanID)
				attempt.Logs = append(attempt.Logs, op.Logs[0])
				op.Logs = op.Logs[1:]
			}))
		},
		want: []string{"differs from the expectation",
			"\n-     event awsretry.attempt: aws.request_id=req-0007 awsretry.attempt=1 ",
			"\n+         event awsretry.attempt: aws.request_id=req-0007 awsretry.attempt=1 "},
	}, {
		name: "adapter event on the caller's span",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				op := spanNamed(tr, "EC2.CreateTags", 0)
				root := spanNamed(tr, "launch-instance", 0)
				root.Logs, op.Logs = op.Logs, nil
			}))
		},
		want: []string{"\n+   event awsretry.attempt: aws.request_id=req-0008 awsretry.attempt=2 ",
			"\n-     event awsretry.attempt: awsretry.attempt=3 awsretry.will_retry=false\n"},
	}, {
		name: "adapter event before its attempt's answer",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				// Attempt 2's event, moved to 5 ms before its CLIENT span
				// ended: still after attempt 1's event, so the rendering
				// is the same.
				op := spanNamed(tr, "EC2.CreateTags", 0)
				client := nthByStart(tr, "POST EC2/CreateTags", 1)
				for i := range op.Logs {
					if n, _ := op.Logs[i].Field("awsretry.attempt"); n == json.Number("2") {
						op.Logs[i].Timestamp = client.End() - 5000
					}
				}
			}))
		},
		want: []string{"EC2.CreateTags: attempt 2: event at ", "before its CLIENT span ended"},
	}, {
		name: "SDK step lost",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				tr.Spans = deleteSpan(tr.Spans, spanNamed(tr, "SignRequest", 1).SpanID)
			}))
		},
		want: []string{"\n+         steps: ComputePayloadSHA256 GetIdentity OperationDeserializer ResolveAuthScheme ResolveEndpoint\n"},
	}, {
		// The handler may return well after the client has read its
		// answer; only the SERVER span's start is bound.
		name: "server span starts before its client span",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				client := nthByStart(tr, "POST EC2/CreateTags", 2)
				server := firstChild(tr, client.SpanID)
				end := server.End()
				server.StartTime = client.StartTime - 10
				server.Duration = end - server.StartTime
			}))
		},
		want: []string{"EC2.CreateTags: attempt 3: SERVER span from ", "outside its CLIENT span"},
	}, {
		name: "server span starts after its client span ended",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				client := nthByStart(tr, "POST EC2/CreateTags", 2)
				server := firstChild(tr, client.SpanID)
				server.StartTime, server.Duration = client.End()+10, 5
			}))
		},
		want: []string{"EC2.CreateTags: attempt 3: SERVER span from ", "outside its CLIENT span"},
	}, {
		name: "last adapter event after the operation span ended",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				op := spanNamed(tr, "EC2.CreateTags", 0)
				for i := range op.Logs {
					if n, _ := op.Logs[i].Field("awsretry.attempt"); n == json.Number("3") {
						op.Logs[i].Timestamp = op.End() + 500
					}
				}
			}))
		},
		want: []string{"EC2.CreateTags: attempt 3: event at ", "outside its EC2.CreateTags span"},
	}, {
		name: "a warning of Jaeger",
		searches: func() map[string][]tracecheck.Trace {
			return searches(mutate(t, base, func(tr *tracecheck.Trace) {
				spanNamed(tr, "launch-instance", 0).Warnings = []string{"clock skew adjustment disabled"}
			}))
		},
		want: []string{`"launch-instance" warning: clock skew adjustment disabled`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := tracecheck.Check(tt.searches(), tt.traceID, e)
			all := strings.Join(problems, "\n")
			if len(problems) == 0 {
				t.Fatal("no problem reported")
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems do not contain %q:\n%s", w, all)
				}
			}
		})
	}
}

func deleteSpan(spans []tracecheck.Span, id string) []tracecheck.Span {
	var out []tracecheck.Span
	for _, s := range spans {
		if s.SpanID != id {
			out = append(out, s)
		}
	}
	return out
}

// nthByStart returns the span named name that starts after nth others of
// that name.
func nthByStart(tr *tracecheck.Trace, name string, nth int) *tracecheck.Span {
	var spans []*tracecheck.Span
	for i := range tr.Spans {
		if tr.Spans[i].OperationName == name {
			spans = append(spans, &tr.Spans[i])
		}
	}
	slices.SortFunc(spans, func(a, b *tracecheck.Span) int { return cmp.Compare(a.StartTime, b.StartTime) })
	return spans[nth]
}

// firstChild returns the child of parent that starts first.
func firstChild(tr *tracecheck.Trace, parent string) *tracecheck.Span {
	var first *tracecheck.Span
	for i := range tr.Spans {
		if s := &tr.Spans[i]; s.Parent() == parent && (first == nil || s.StartTime < first.StartTime) {
			first = s
		}
	}
	return first
}

// lastChild returns the child of parent that starts last.
func lastChild(tr *tracecheck.Trace, parent string) *tracecheck.Span {
	var last *tracecheck.Span
	for i := range tr.Spans {
		if s := &tr.Spans[i]; s.Parent() == parent && (last == nil || s.StartTime > last.StartTime) {
			last = s
		}
	}
	return last
}

// setField sets a field of the span's event with the given 1-based
// awsretry.attempt.
func setField(s *tracecheck.Span, attempt int, key string, v any) {
	for i := range s.Logs {
		if n, _ := s.Logs[i].Field("awsretry.attempt"); n == json.Number(strconv.Itoa(attempt)) {
			for j := range s.Logs[i].Fields {
				if s.Logs[i].Fields[j].Key == key {
					s.Logs[i].Fields[j].Value = v
				}
			}
		}
	}
}

func TestDiff(t *testing.T) {
	got := tracecheck.Diff("a\nb\nc\n", "a\nx\nc\nd\n")
	const want = "  a\n- b\n+ x\n  c\n+ d\n"
	if got != want {
		t.Errorf("Diff = %q, want %q", got, want)
	}
}
