// Command traceview renders one trace, as Jaeger's query API returns it,
// into a self-contained HTML page laid out like Jaeger's trace timeline: a
// row per span (service, operation, a bar on the time axis, span kind and
// status), and under each span that has events, its events with their
// fields. run.sh opens the page in headless Chromium for the README's
// screenshot.
//
// It exists because the Jaeger built from the Go module proxy serves no UI:
// Jaeger's UI assets are built from a separate repository with npm and are
// not part of the Go module, so its query service only shows a placeholder
// page. The page is drawn from the same JSON the UI would load,
// GET /api/traces/{id}.
//
//	traceview -jaeger http://127.0.0.1:16686 -trace <id> -o trace.html
package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/awsretry/awsretry/e2e/tracecheck"
)

func main() {
	var (
		jaeger  = flag.String("jaeger", "http://127.0.0.1:16686", "Jaeger query service")
		traceID = flag.String("trace", "", "trace id")
		out     = flag.String("o", "trace.html", "HTML file to write")
	)
	flag.Parse()
	if *traceID == "" {
		log.Fatal("traceview: -trace is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &tracecheck.Client{BaseURL: strings.TrimSuffix(*jaeger, "/")}
	tr, err := c.Trace(ctx, *traceID)
	if err != nil {
		log.Fatal("traceview: ", err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal("traceview: ", err)
	}
	if err := render(f, &tr, *jaeger); err != nil {
		log.Fatal("traceview: ", err)
	}
	if err := f.Close(); err != nil {
		log.Fatal("traceview: ", err)
	}
}

// row is one span of the page.
type row struct {
	Depth      int
	Service    string
	Color      string
	Name       string
	Kind       string
	Error      bool
	Status     string // HTTP status, if any
	Left       float64
	Width      float64 // percent of the trace's duration
	Right      float64 // Left+Width
	Duration   string
	Events     []event
	EventMarks []float64 // percent positions of events on the time axis
}

// event is a span event of a row.
type event struct {
	At     string // time since the trace started
	Name   string
	Fields []field
}

type field struct{ Key, Value string }

// page is what the template renders.
type page struct {
	Root      string
	RootSvc   string
	TraceID   string
	Start     string
	Duration  string
	Services  []service
	Spans     int
	Depth     int
	Ticks     []tick
	Rows      []row
	Source    string
	Generated string
}

type service struct {
	Name  string
	Color string
	Spans int
}

type tick struct {
	Left  float64
	Label string
}

// palette holds Jaeger UI's first service colours.
var palette = []string{"#17B8BE", "#F8DCA1", "#B7885E", "#FFCB99", "#F89570"}

func render(w *os.File, tr *tracecheck.Trace, source string) error {
	byID := map[string]*tracecheck.Span{}
	for i := range tr.Spans {
		byID[tr.Spans[i].SpanID] = &tr.Spans[i]
	}
	children := map[string][]*tracecheck.Span{}
	var roots []*tracecheck.Span
	start, end := int64(0), int64(0)
	for i := range tr.Spans {
		s := &tr.Spans[i]
		if start == 0 || s.StartTime < start {
			start = s.StartTime
		}
		end = max(end, s.End())
		if p := s.Parent(); p != "" && byID[p] != nil {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	total := float64(max(end-start, 1))
	pct := func(t int64) float64 { return float64(t-start) / total * 100 }

	// Services in order of first appearance, the root's first.
	colors := map[string]string{}
	var services []service
	var p page
	var walk func(s *tracecheck.Span, depth int)
	walk = func(s *tracecheck.Span, depth int) {
		svc := tr.Processes[s.ProcessID].ServiceName
		if _, ok := colors[svc]; !ok {
			colors[svc] = palette[len(services)%len(palette)]
			services = append(services, service{Name: svc, Color: colors[svc]})
		}
		for i := range services {
			if services[i].Name == svc {
				services[i].Spans++
			}
		}
		r := row{Depth: depth, Service: svc, Color: colors[svc], Name: s.OperationName,
			Kind: str(s, "span.kind"), Left: pct(s.StartTime), Width: max(float64(s.Duration)/total*100, 0.15),
			Duration: micros(s.Duration)}
		r.Right = r.Left + r.Width
		if v, ok := s.Tag("error"); ok && fmt.Sprint(v) == "true" {
			r.Error = true
		}
		if v, ok := s.Tag("http.response.status_code"); ok {
			r.Status = fmt.Sprint(v)
		}
		logs := slices.Clone(s.Logs)
		slices.SortStableFunc(logs, func(a, b tracecheck.Log) int { return int(a.Timestamp - b.Timestamp) })
		for _, l := range logs {
			ev := event{At: micros(l.Timestamp - start)}
			for _, f := range l.Fields {
				if f.Key == "event" {
					ev.Name = fmt.Sprint(f.Value)
					continue
				}
				ev.Fields = append(ev.Fields, field{f.Key, fmt.Sprint(f.Value)})
			}
			slices.SortFunc(ev.Fields, func(a, b field) int { return strings.Compare(fieldOrder(a.Key), fieldOrder(b.Key)) })
			r.Events = append(r.Events, ev)
			r.EventMarks = append(r.EventMarks, pct(l.Timestamp))
		}
		p.Rows = append(p.Rows, r)
		p.Depth = max(p.Depth, depth+1)
		kids := children[s.SpanID]
		slices.SortStableFunc(kids, func(a, b *tracecheck.Span) int { return int(a.StartTime - b.StartTime) })
		for _, c := range kids {
			walk(c, depth+1)
		}
	}
	slices.SortStableFunc(roots, func(a, b *tracecheck.Span) int { return int(a.StartTime - b.StartTime) })
	for _, r := range roots {
		walk(r, 0)
	}
	if len(roots) > 0 {
		p.Root = roots[0].OperationName
		p.RootSvc = tr.Processes[roots[0].ProcessID].ServiceName
	}
	p.TraceID = tr.TraceID
	p.Start = time.UnixMicro(start).UTC().Format("2006-01-02 15:04:05.000 MST")
	p.Duration = micros(end - start)
	p.Services = services
	p.Spans = len(tr.Spans)
	for i := 0; i <= 4; i++ {
		p.Ticks = append(p.Ticks, tick{Left: float64(i) * 25, Label: micros(int64(total) * int64(i) / 4)})
	}
	p.Source = strings.TrimSuffix(source, "/") + "/api/traces/" + tr.TraceID
	p.Generated = "Jaeger v1.76.0 (in-memory storage)"
	return tmpl.Execute(w, p)
}

// fieldOrder puts an attempt's most telling fields first.
func fieldOrder(k string) string {
	for i, first := range []string{"awsretry.attempt", "awsretry.error_code", "http.response.status_code",
		"awsretry.class", "awsretry.will_retry", "awsretry.delay_seconds", "aws.request_id"} {
		if k == first {
			return fmt.Sprintf("%02d", i)
		}
	}
	return "99" + k
}

func str(s *tracecheck.Span, key string) string {
	v, _ := s.Tag(key)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// micros formats a duration in microseconds the way Jaeger's UI does.
func micros(us int64) string {
	switch {
	case us >= 1_000_000:
		return fmt.Sprintf("%.2fs", float64(us)/1e6)
	case us >= 1000:
		return fmt.Sprintf("%.2fms", float64(us)/1e3)
	default:
		return fmt.Sprintf("%dμs", us)
	}
}

var tmpl = template.Must(template.New("trace").Funcs(template.FuncMap{
	"indent": func(d int) string { return fmt.Sprintf("%dpx", 10+d*18) },
	"pct":    func(f float64) string { return fmt.Sprintf("%.3f%%", f) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Root}} · {{.TraceID}}</title>
<style>
body { margin: 0; font: 13px/1.35 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #222; background: #fff; }
header { background: #f6f6f6; border-bottom: 1px solid #ddd; padding: 10px 16px 8px; }
h1 { font-size: 19px; font-weight: 500; margin: 0 0 4px; }
h1 .svc { font-weight: 600; }
h1 .id { color: #777; font-size: 14px; font-family: monospace; margin-left: 8px; }
.meta span { margin-right: 22px; color: #555; } .meta b { color: #222; font-weight: 600; }
.legend { margin-top: 4px; } .legend i { display: inline-block; width: 10px; height: 10px; margin: 0 5px 0 0; border-radius: 2px; vertical-align: -1px; }
.legend span { margin-right: 18px; }
.src { color: #888; font-size: 11px; margin-top: 4px; }
.grid { display: grid; grid-template-columns: 34% 66%; }
.hdr { background: #ececec; border-bottom: 1px solid #ccc; height: 26px; font-weight: 600; color: #444; }
.hdr .name { padding: 5px 10px; }
.ruler { position: relative; }
.axis { position: absolute; left: 8px; right: 90px; top: 0; bottom: 0; }
.ruler span { position: absolute; top: 5px; font-size: 11px; font-weight: 400; color: #555; transform: translateX(-50%); white-space: nowrap; }
.ruler span:first-child { transform: none; } .ruler span:last-child { transform: translateX(-100%); }
.row { border-bottom: 1px solid #eee; height: 24px; }
.row:nth-child(4n+1), .row:nth-child(4n+2) { background: #fcfcfc; }
.name { position: relative; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 4px 10px 0 0; border-right: 1px solid #ddd; }
.name .bar { position: absolute; left: 0; top: 0; bottom: 0; width: 4px; }
.name .sv { font-weight: 600; } .name .op { color: #555; margin-left: 6px; }
.name .err { color: #db2828; font-weight: 700; margin-right: 4px; }
.name .kind { color: #999; font-size: 11px; margin-left: 6px; }
.tl { position: relative; }
.tl .axis { left: 8px; }
.tl .vline { position: absolute; top: 0; bottom: 0; border-left: 1px solid #eee; }
.tl .span { position: absolute; top: 5px; height: 14px; border-radius: 2px; min-width: 2px; }
.tl .mark { position: absolute; top: 3px; height: 18px; width: 2px; background: #333; opacity: .75; }
.tl .lab { position: absolute; top: 4px; font-size: 11px; color: #555; white-space: nowrap; padding-left: 5px; }
.detail { grid-column: 1 / span 2; background: #f8f9fb; border-bottom: 1px solid #e3e3e3; border-left: 4px solid; padding: 5px 14px 6px; }
.detail .title { font-weight: 600; color: #444; margin-bottom: 2px; }
.ev { font-family: Menlo, Consolas, monospace; font-size: 11.5px; padding: 1px 0 1px 70px; text-indent: -70px; }
.ev .at { display: inline-block; width: 70px; text-indent: 0; color: #777; } .ev .n { color: #333; font-weight: 600; margin-right: 8px; }
.ev .k { color: #888; } .ev .v { color: #111; margin-right: 10px; } .ev .kv { white-space: nowrap; }
</style></head>
<body>
<header>
<h1><span class="svc">{{.RootSvc}}:</span> {{.Root}}<span class="id">{{.TraceID}}</span></h1>
<div class="meta"><span>Trace Start <b>{{.Start}}</b></span><span>Duration <b>{{.Duration}}</b></span><span>Services <b>{{len .Services}}</b></span><span>Depth <b>{{.Depth}}</b></span><span>Total Spans <b>{{.Spans}}</b></span></div>
<div class="legend">{{range .Services}}<span><i style="background:{{.Color}}"></i>{{.Name}} ({{.Spans}} spans)</span>{{end}}</div>
<div class="src">Drawn from {{.Generated}}: GET {{.Source}} (the module-proxy build of Jaeger carries no UI assets, so this page stands in for its trace view)</div>
</header>
<div class="grid">
<div class="hdr name">Service &amp; Operation</div>
<div class="hdr ruler"><div class="axis">{{range .Ticks}}<span style="left:{{pct .Left}}">{{.Label}}</span>{{end}}</div></div>
{{range .Rows}}{{$r := .}}
<div class="row name" style="padding-left:{{indent .Depth}}"><span class="bar" style="background:{{.Color}}"></span>{{if .Error}}<span class="err">!</span>{{end}}<span class="sv">{{.Service}}</span><span class="op">{{.Name}}</span><span class="kind">{{.Kind}}{{if .Status}} · {{.Status}}{{end}}</span></div>
<div class="row tl"><div class="axis">{{range $.Ticks}}<span class="vline" style="left:{{pct .Left}}"></span>{{end}}<span class="span" style="left:{{pct .Left}};width:{{pct .Width}};background:{{.Color}}"></span>{{range .EventMarks}}<span class="mark" style="left:{{pct .}}"></span>{{end}}<span class="lab" style="left:{{pct .Right}}">{{.Duration}}</span></div></div>
{{if .Events}}<div class="detail" style="border-left-color:{{.Color}}"><div class="title">{{.Name}} · Events ({{len .Events}})</div>
{{range .Events}}<div class="ev"><span class="at">{{.At}}</span><span class="n">{{.Name}}</span>{{range .Fields}}<span class="kv"><span class="k">{{.Key}}=</span><span class="v">{{.Value}}</span></span> {{end}}</div>
{{end}}</div>{{end}}
{{end}}
</div>
</body></html>
`))
