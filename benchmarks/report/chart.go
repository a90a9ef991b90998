package report

import (
	"fmt"
	"image/color"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/awsretry/awsretry/benchmarks/contention"
	"github.com/awsretry/awsretry/benchmarks/internal/chart"
)

// palette holds one colour per policy, distinguishable with common colour
// blindness, in the order of contention.Policies.
var palette = []color.Color{chart.Vermillion, chart.Black, chart.Blue, chart.BluishGreen, chart.ReddishPurple, chart.Orange}

// Series returns the points of each policy, in the order policies first
// appear in points.
func Series(points []contention.Point) (names []string, series map[string][]contention.Point) {
	series = map[string][]contention.Point{}
	for _, p := range points {
		if _, ok := series[p.Policy]; !ok {
			names = append(names, p.Policy)
		}
		series[p.Policy] = append(series[p.Policy], p)
	}
	return names, series
}

// DrawChart draws two panels side by side, total calls and completion time
// against the number of clients, one line per policy, and writes them to
// path as a PNG.
func DrawChart(points []contention.Point, path string) error {
	names, series := Series(points)
	if len(names) == 0 {
		return fmt.Errorf("report: no contention points to draw")
	}
	runs := points[0].Runs

	calls := newPanel("Work: writes sent to the record", "total calls (mean)")
	completion := newPanel("Time until the last client succeeded", "completion time (s, mean, log scale)")
	completion.Y.Scale = plot.LogScale{}
	completion.Y.Tick.Marker = plot.TickerFunc(secondTicks)
	completion.Y.Min = 0.2
	// gonum pads for the label of a log axis as if the axis were linear;
	// anchored at the top, the label needs no padding above the axis.
	completion.Y.Label.Position = draw.PosTop
	for i, name := range names {
		var xyCalls, xyTime plotter.XYs
		for _, p := range series[name] {
			xyCalls = append(xyCalls, plotter.XY{X: float64(p.Clients), Y: p.Calls})
			xyTime = append(xyTime, plotter.XY{X: float64(p.Clients), Y: p.Completion.Seconds()})
		}
		style := i % len(palette)
		for _, panel := range []struct {
			p   *plot.Plot
			xys plotter.XYs
		}{{calls, xyCalls}, {completion, xyTime}} {
			line, marks, err := plotter.NewLinePoints(panel.xys)
			if err != nil {
				return err
			}
			line.Color = palette[style]
			line.Width = vg.Points(1.8)
			if i%2 == 1 { // every other line dashed, so that lines on top of each other both show
				line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			marks.Color = palette[style]
			marks.Shape = draw.GlyphDrawer([]draw.GlyphDrawer{
				draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
				draw.PyramidGlyph{}, draw.RingGlyph{}, draw.CrossGlyph{},
			}[style])
			marks.Radius = vg.Points(2.6)
			panel.p.Add(line, marks)
			panel.p.Legend.Add(name, line, marks)
		}
	}
	for _, p := range []*plot.Plot{calls, completion} {
		p.Legend.Top = true
		p.Legend.Left = true
		p.Legend.XOffs = vg.Points(8)
		p.Legend.YOffs = -vg.Points(4)
	}
	completion.Legend.Top = false
	completion.Legend.Left = false
	completion.Legend.XOffs = -vg.Points(8)
	completion.Legend.YOffs = vg.Points(4)

	title := fmt.Sprintf("N clients, one optimistic-concurrency write each, retried by awsretry "+
		"(network N(10 ms, 2 ms), base 5 ms, cap 2 s; mean of %d seeded runs)", runs)
	return chart.Write(path, 13*vg.Inch, 5*vg.Inch, title, calls, completion)
}

func newPanel(title, yLabel string) *plot.Plot {
	p := chart.Panel(title, "clients", yLabel)
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Y.Min = 0
	p.X.Min, p.X.Max = 0, 200
	p.X.Tick.Marker = plot.ConstantTicks(clientTicks())
	p.Y.Tick.Marker = plainTicks{}
	return p
}

// clientTicks labels the client axis every 30 clients from 10, with minor
// ticks every 10.
func clientTicks() []plot.Tick {
	var ticks []plot.Tick
	for n := 0; n <= 200; n += 10 {
		t := plot.Tick{Value: float64(n)}
		if n%30 == 10 {
			t.Label = strconv.Itoa(n)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// secondTicks label a logarithmic axis of seconds at 1-2-5 steps.
func secondTicks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := 0.01; decade < 1e4; decade *= 10 {
		for _, m := range []float64{1, 2, 3, 4, 5, 6, 7, 8, 9} {
			if m*decade < min || m*decade > max {
				continue
			}
			t := plot.Tick{Value: m * decade}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(m*decade, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// plainTicks are gonum's default ticks labelled without trailing zeros.
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}

// seconds is a helper for tables: a duration in seconds with two decimals.
func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
