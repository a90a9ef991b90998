package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/awsretry/awsretry/benchmarks/throttled"
)

// throttledPalette adds two colours of Okabe and Ito's to palette, for the
// seven policies of the throttled simulation.
var throttledPalette = append(append([]color.Color{}, palette...),
	color.RGBA{R: 0x56, G: 0xb4, B: 0xe9, A: 0xff}, // sky blue
	color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}, // grey
)

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
	draw.PyramidGlyph{}, draw.RingGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}

// DrawThrottled draws the throttled simulation's rows of one process:
// goodput, throttled attempts per success and p99 latency against the
// demand, one line per policy, three panels side by side, as a PNG at path.
func DrawThrottled(rows []throttled.Row, path string) error {
	var names []string
	series := map[string][]throttled.Row{}
	for _, r := range rows {
		if r.Processes != 1 {
			continue
		}
		if _, ok := series[r.Policy]; !ok {
			names = append(names, r.Policy)
		}
		series[r.Policy] = append(series[r.Policy], r)
	}
	if len(names) == 0 {
		return fmt.Errorf("report: no throttled rows of one process to draw")
	}
	goodput := demandPanel("Goodput", "successful calls per second / capacity")
	goodput.Y.Min, goodput.Y.Max = 0, 1.05
	waste := demandPanel("Throttled attempts per successful call", "throttled / success (log scale)")
	waste.Y.Scale, waste.Y.Tick.Marker = plot.LogScale{}, plot.TickerFunc(decadeTicks)
	waste.Y.Min, waste.Y.Max = 0.001, 2000
	p99 := demandPanel("p99 latency of successful calls", "seconds (log scale)")
	p99.Y.Scale, p99.Y.Tick.Marker = plot.LogScale{}, plot.TickerFunc(secondTicks)
	p99.Y.Min, p99.Y.Max = 0.02, 20
	for _, p := range []*plot.Plot{goodput, waste, p99} {
		p.Y.Label.Position = draw.PosTop
	}
	for i, name := range names {
		var xyGood, xyWaste, xyP99 plotter.XYs
		for _, r := range series[name] {
			x := math.Log2(r.Demand)
			xyGood = append(xyGood, plotter.XY{X: x, Y: r.Goodput})
			xyWaste = append(xyWaste, plotter.XY{X: x, Y: max(r.ThrottledPerSuccess, 0.001)})
			xyP99 = append(xyP99, plotter.XY{X: x, Y: max(r.P99.Seconds(), 0.02)})
		}
		for _, panel := range []struct {
			p   *plot.Plot
			xys plotter.XYs
		}{{goodput, xyGood}, {waste, xyWaste}, {p99, xyP99}} {
			line, marks, err := plotter.NewLinePoints(panel.xys)
			if err != nil {
				return err
			}
			style := i % len(throttledPalette)
			line.Color, line.Width = throttledPalette[style], vg.Points(1.8)
			if strings.HasPrefix(name, "SDK") {
				line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			marks.Color, marks.Shape, marks.Radius = throttledPalette[style], glyphs[style%len(glyphs)], vg.Points(2.6)
			panel.p.Add(line, marks)
			if panel.p == goodput {
				panel.p.Legend.Add(name, line, marks)
			}
		}
	}
	goodput.Legend.Top, goodput.Legend.Left = false, true
	goodput.Legend.XOffs, goodput.Legend.YOffs = vg.Points(8), vg.Points(6)

	title := fmt.Sprintf("One process of %d callers against a service of %d requests/s, halved for a third of a %g s run; "+
		"every policy driven for real, in virtual time", throttled.DefaultClients, throttled.DefaultCapacity, throttled.DefaultDuration.Seconds())
	return writeChart(path, 16*vg.Inch, 5.5*vg.Inch, title, goodput, waste, p99)
}

func demandPanel(title, yLabel string) *plot.Plot {
	p := newPanel(title, yLabel)
	p.X.Label.Text = "demand, in multiples of the capacity"
	p.X.Min, p.X.Max = -1.2, 2.5
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{
		{Value: -1, Label: "0.5"}, {Value: 0, Label: "1"}, {Value: 1, Label: "2"}, {Value: math.Log2(5), Label: "5"}})
	return p
}

// decadeTicks label a logarithmic axis at powers of ten.
func decadeTicks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for v := 0.001; v <= max*1.0001; v *= 10 {
		if v >= min/1.0001 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	return ticks
}
