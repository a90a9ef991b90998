package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/awsretry/awsretry/benchmarks/internal/chart"
	"github.com/awsretry/awsretry/benchmarks/throttled"
)

// heatPanel is one heat map of the grid picture: a measure of a policy.
type heatPanel struct {
	title  string
	policy string
	value  func(throttled.Summary) float64
	worse  func(a, b float64) bool // a is worse than b
	color  func(v float64) color.Color
	text   func(v float64) string
	missed func(s throttled.Summary, sdk *throttled.Summary) bool
}

// gridRow is a row of the picture: a service (shape, capacity, bucket),
// the two throttle costs folded into their worse.
type gridRow struct {
	shape    throttled.Shape
	capacity float64
	burst    float64
}

// gridColumn is a column: the processes and the demand.
type gridColumn struct {
	processes int
	demand    float64
}

// DrawThrottledGrid draws the grid as heat maps, one row per service
// (shape, capacity, bucket; of the two throttle costs, the worse value),
// one column per fleet (processes, demand): the Limiter's goodput and
// throttled attempts per success beside the SDK's adaptive mode's, the
// medians over the seeds, cells that miss one of the Limiter's goals framed in
// black, cells where the policy did not run in grey. It writes a PNG at
// path.
func DrawThrottledGrid(sums []throttled.Summary, limiter, adaptive, path string) error {
	var rows []gridRow
	var cols []gridColumn
	for _, s := range sums {
		if s.Policy != limiter && s.Policy != adaptive {
			continue
		}
		if r := (gridRow{s.Shape, s.Capacity, s.Burst}); !slices.Contains(rows, r) {
			rows = append(rows, r)
		}
		if c := (gridColumn{s.Processes, s.Demand}); !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	if len(rows) == 0 {
		return fmt.Errorf("report: no rows of %q or %q to draw", limiter, adaptive)
	}
	slices.SortFunc(rows, func(a, b gridRow) int {
		if c := slices.Index(throttled.Shapes, a.shape) - slices.Index(throttled.Shapes, b.shape); c != 0 {
			return c
		}
		if c := cmpFloat(a.capacity, b.capacity); c != 0 {
			return c
		}
		return cmpFloat(a.burst, b.burst)
	})
	slices.SortFunc(cols, func(a, b gridColumn) int {
		if a.processes != b.processes {
			return a.processes - b.processes
		}
		return cmpFloat(a.demand, b.demand)
	})
	adaptiveSums := throttled.Only(sums, adaptive)
	goalMissed := func(names ...string) func(throttled.Summary, *throttled.Summary) bool {
		return func(s throttled.Summary, sdk *throttled.Summary) bool {
			for _, g := range throttled.Goals(s, sdk) {
				if !g.Met && slices.Contains(names, g.Name) {
					return true
				}
			}
			return false
		}
	}
	goodput := func(policy string) heatPanel {
		return heatPanel{
			title: policy + ": goodput", policy: policy,
			value: func(s throttled.Summary) float64 { return s.Goodput },
			worse: func(a, b float64) bool { return a < b },
			color: goodputColor, text: func(v float64) string { return fmt.Sprintf("%.2f", v) },
			missed: goalMissed("goodput", "goodput, 50 processes", "served with room"),
		}
	}
	waste := func(policy string) heatPanel {
		return heatPanel{
			title: policy + ": throttled / success", policy: policy,
			value: func(s throttled.Summary) float64 { return s.Waste },
			worse: func(a, b float64) bool { return a > b },
			color: wasteColor, text: wasteText,
			missed: goalMissed("throttles", "throttles vs SDK adaptive"),
		}
	}
	panels := []heatPanel{goodput(limiter), goodput(adaptive), waste(limiter), waste(adaptive)}

	const (
		cellW, cellH = 0.44 * vg.Inch, 0.2 * vg.Inch
		labelW       = 1.5 * vg.Inch
		headH        = 0.75 * vg.Inch
		gap          = 0.3 * vg.Inch
		titleH       = 0.45 * vg.Inch
		legendH      = 0.5 * vg.Inch
	)
	panelW := cellW * vg.Length(len(cols))
	width := labelW + (panelW+gap)*vg.Length(len(panels)) + gap
	height := titleH + headH + cellH*vg.Length(len(rows)) + legendH
	img := vgimg.New(width, height)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	text := func(size vg.Length, xalign draw.XAlignment, pt vg.Point, s string, c color.Color) {
		dc.FillText(draw.TextStyle{Color: c, Font: font.From(plot.DefaultFont, size), XAlign: xalign, YAlign: draw.YCenter,
			Handler: plot.DefaultTextHandler}, pt, s)
	}
	top := height - titleH
	text(12, draw.XCenter, vg.Point{X: width / 2, Y: height - titleH/2},
		"The grid of service shapes: medians over the seeds, the worse of the two throttle costs; framed: a goal missed; grey: not run", color.Black)

	// Row labels, with a rule between shapes.
	for i, r := range rows {
		y := top - headH - cellH*vg.Length(i) - cellH/2
		text(8, draw.XRight, vg.Point{X: labelW - 4, Y: y}, fmt.Sprintf("%s  C=%g  B=%gs", r.shape, r.capacity, r.burst), color.Black)
	}
	for p, panel := range panels {
		x0 := labelW + gap/2 + (panelW+gap)*vg.Length(p)
		text(10, draw.XCenter, vg.Point{X: x0 + panelW/2, Y: top - 0.15*vg.Inch}, panel.title, color.Black)
		for j, c := range cols {
			x := x0 + cellW*vg.Length(j) + cellW/2
			if j == 0 || cols[j-1].processes != c.processes {
				n := 0
				for _, d := range cols {
					if d.processes == c.processes {
						n++
					}
				}
				label := "1 process"
				if c.processes > 1 {
					label = fmt.Sprintf("%d processes", c.processes)
				}
				text(8, draw.XCenter, vg.Point{X: x0 + cellW*vg.Length(j) + cellW*vg.Length(n)/2, Y: top - 0.38*vg.Inch}, label, color.Black)
			}
			text(8, draw.XCenter, vg.Point{X: x, Y: top - 0.58*vg.Inch}, fmt.Sprintf("%gC", c.demand), color.Black)
		}
		for i, r := range rows {
			y1 := top - headH - cellH*vg.Length(i)
			for j, c := range cols {
				x := x0 + cellW*vg.Length(j)
				rect := vg.Rectangle{Min: vg.Point{X: x, Y: y1 - cellH}, Max: vg.Point{X: x + cellW, Y: y1}}
				v, missed, ok := foldCosts(sums, adaptiveSums, panel, r, c)
				fill := color.Color(color.RGBA{R: 0xdd, G: 0xdd, B: 0xdd, A: 0xff})
				label := "—"
				if ok {
					fill, label = panel.color(v), panel.text(v)
				}
				dc.SetColor(fill)
				dc.Fill(rectPath(rect))
				dc.SetColor(color.White)
				dc.SetLineWidth(0.5)
				dc.Stroke(rectPath(rect))
				if missed {
					inner := vg.Rectangle{Min: vg.Point{X: rect.Min.X + 1, Y: rect.Min.Y + 1}, Max: vg.Point{X: rect.Max.X - 1, Y: rect.Max.Y - 1}}
					dc.SetColor(color.Black)
					dc.SetLineWidth(1.6)
					dc.Stroke(rectPath(inner))
				}
				text(7, draw.XCenter, vg.Point{X: x + cellW/2, Y: y1 - cellH/2}, label, color.Black)
			}
			if i+1 < len(rows) && rows[i+1].shape != r.shape {
				dc.SetColor(color.Black)
				dc.SetLineWidth(1)
				y := y1 - cellH
				dc.Stroke(linePath(vg.Point{X: x0, Y: y}, vg.Point{X: x0 + panelW, Y: y}))
			}
		}
	}
	// Legends under the goodput and the throttle panels.
	legend := func(p int, stops []float64, f func(float64) color.Color, txt func(float64) string) {
		x0 := labelW + gap/2 + (panelW+gap)*vg.Length(p)
		w := (panelW*2 + gap) / vg.Length(len(stops))
		for k, v := range stops {
			rect := vg.Rectangle{Min: vg.Point{X: x0 + w*vg.Length(k), Y: legendH * 0.25}, Max: vg.Point{X: x0 + w*vg.Length(k+1), Y: legendH * 0.65}}
			dc.SetColor(f(v))
			dc.Fill(rectPath(rect))
			text(7, draw.XCenter, vg.Point{X: (rect.Min.X + rect.Max.X) / 2, Y: legendH * 0.45}, txt(v), color.Black)
		}
	}
	legend(0, []float64{0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 1}, goodputColor, func(v float64) string { return fmt.Sprintf("%g", v) })
	legend(2, []float64{0.001, 0.005, 0.01, 0.03, 0.1, 0.3, 1, 10}, wasteColor, func(v float64) string { return fmt.Sprintf("%g", v) })
	return chart.WritePNG(img, path)
}

// foldCosts returns the worse of a panel's values over the throttle costs
// of row and column, whether either missed a goal, and whether the policy
// ran there at all.
func foldCosts(sums, adaptive []throttled.Summary, panel heatPanel, r gridRow, c gridColumn) (v float64, missed, ok bool) {
	for _, s := range sums {
		if s.Policy != panel.policy || s.Shape != r.shape || s.Capacity != r.capacity || s.Burst != r.burst ||
			s.Processes != c.processes || s.Demand != c.demand {
			continue
		}
		x := panel.value(s)
		if !ok || panel.worse(x, v) {
			v = x
		}
		ok = true
		var sdk *throttled.Summary
		for i := range adaptive {
			if adaptive[i].Cell == s.Cell {
				sdk = &adaptive[i]
			}
		}
		missed = missed || panel.missed(s, sdk)
	}
	return v, missed, ok
}

func rectPath(r vg.Rectangle) vg.Path {
	var p vg.Path
	p.Move(r.Min)
	p.Line(vg.Point{X: r.Max.X, Y: r.Min.Y})
	p.Line(r.Max)
	p.Line(vg.Point{X: r.Min.X, Y: r.Max.Y})
	p.Close()
	return p
}

func linePath(a, b vg.Point) vg.Path {
	var p vg.Path
	p.Move(a)
	p.Line(b)
	return p
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Colours of the heat maps, from Okabe and Ito's palette: vermillion for
// bad, through a pale yellow, to bluish green for good.
var (
	bad    = [3]float64{0xd5, 0x5e, 0x00}
	middle = [3]float64{0xf5, 0xe8, 0x9a}
	good   = [3]float64{0x00, 0x9e, 0x73}
)

// ramp maps t in [0, 1] (0 bad, 1 good) to a colour.
func ramp(t float64) color.Color {
	t = min(max(t, 0), 1)
	a, b, u := bad, middle, t*2
	if t > 0.5 {
		a, b, u = middle, good, t*2-1
	}
	c := func(i int) uint8 { return uint8(math.Round(a[i] + (b[i]-a[i])*u)) }
	return color.RGBA{R: c(0), G: c(1), B: c(2), A: 0xff}
}

// goodputColor: 0.95 and up is the upper half, 0.5 and down the worst.
func goodputColor(v float64) color.Color {
	if v >= 0.95 {
		return ramp(0.5 + (v-0.95)/0.1)
	}
	return ramp(0.5 * (v - 0.5) / 0.45)
}

// wasteColor: throttled attempts per success on a log scale, 0.01 (the
// goal of one process at 100 per second and up) in the middle.
func wasteColor(v float64) color.Color {
	v = max(v, 1e-4)
	return ramp(0.5 - math.Log10(v/0.01)/4)
}

func wasteText(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	case v >= 0.1:
		return fmt.Sprintf("%.2f", v)
	}
	return strings.TrimPrefix(fmt.Sprintf("%.3f", v), "0")
}
