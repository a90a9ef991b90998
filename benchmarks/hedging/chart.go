package hedging

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/awsretry/awsretry/benchmarks/internal/chart"
)

// ruleColors are Okabe and Ito's colours, distinguishable with common
// colour blindness, one per delay rule; no hedging is black. awsretry's
// lines are solid, failsafe-go's dashed.
var ruleColors = []color.Color{chart.Blue, chart.BluishGreen, chart.Vermillion, chart.ReddishPurple, chart.Orange}

// series is a policy's time series, the median over its seeds per bin.
type series struct {
	policy, library, rule string
	at                    []float64 // seconds
	p99, extra, delay     []float64 // seconds, share, seconds; NaN where there is none
}

// medianSeries returns each policy's time series, the median over its
// runs of each bin of width bin, placed at the bin's middle, in the order
// the policies first appear.
func medianSeries(results []*Result, bin time.Duration) []series {
	var out []series
	index := map[string]int{}
	runs := map[string][]*Result{}
	for _, r := range results {
		if _, ok := index[r.Policy]; !ok {
			index[r.Policy] = len(out)
			out = append(out, series{policy: r.Policy, library: r.Library, rule: r.Rule})
		}
		runs[r.Policy] = append(runs[r.Policy], r)
	}
	for i := range out {
		rs := runs[out[i].policy]
		bins := len(rs[0].Series)
		for b := range bins {
			var p99, extra, delay []float64
			for _, r := range rs {
				if b >= len(r.Series) {
					continue
				}
				pt := r.Series[b]
				p99 = append(p99, pt.P99.Seconds())
				extra = append(extra, pt.Extra)
				if pt.Delay > 0 {
					delay = append(delay, pt.Delay.Seconds())
				}
			}
			out[i].at = append(out[i].at, (rs[0].Series[b].At + bin/2).Seconds())
			out[i].p99 = append(out[i].p99, median(p99))
			out[i].extra = append(out[i].extra, median(extra))
			out[i].delay = append(out[i].delay, median(delay))
		}
	}
	return out
}

// median is the median of xs, NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return stat(xs, false).Median
}

// DrawChart draws the time series of results, the median over the seeds
// of each second: the calls' p99, the extra requests, and the delay after
// which hedges started, three panels side by side, as a PNG at path. cfg
// is the runs' configuration, for the slowdown's start.
func DrawChart(results []*Result, cfg Config, path string) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	all := medianSeries(results, cfg.Bin)
	if len(all) == 0 {
		return fmt.Errorf("hedging: no results to draw")
	}
	end := cfg.Duration().Seconds()
	p99 := newPanel("p99 of the calls started each second", "seconds (log scale)", end)
	p99.Y.Scale, p99.Y.Tick.Marker = plot.LogScale{}, plot.TickerFunc(logTicks)
	p99.Y.Min, p99.Y.Max = 0.02, 0.5
	extra := newPanel("Extra requests (requests/calls - 1)", "% of calls (log scale)", end)
	extra.Y.Scale, extra.Y.Tick.Marker = plot.LogScale{}, plot.TickerFunc(logTicks)
	extra.Y.Min, extra.Y.Max = 0.1, 100
	delay := newPanel("Hedge delay (median of the hedges sent)", "milliseconds (log scale)", end)
	delay.Y.Scale, delay.Y.Tick.Marker = plot.LogScale{}, plot.TickerFunc(logTicks)
	delay.Y.Min, delay.Y.Max = 5, 500
	for _, p := range []*plot.Plot{p99, extra, delay} {
		p.Y.Label.Position = draw.PosTop
		marker, err := plotter.NewLine(plotter.XYs{{X: cfg.SlowFrom().Seconds(), Y: p.Y.Min}, {X: cfg.SlowFrom().Seconds(), Y: p.Y.Max}})
		if err != nil {
			return err
		}
		marker.Color = color.Gray{Y: 0x80}
		marker.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(marker)
	}
	rules := []string{}
	for _, s := range all {
		if s.library != "" && !slices.Contains(rules, s.rule) {
			rules = append(rules, s.rule)
		}
	}
	for _, s := range all {
		c := color.Color(color.Black)
		if i := slices.Index(rules, s.rule); s.library != "" && i >= 0 {
			c = ruleColors[i%len(ruleColors)]
		}
		for _, panel := range []struct {
			p     *plot.Plot
			ys    []float64
			scale float64
		}{{p99, s.p99, 1}, {extra, s.extra, 100}, {delay, s.delay, 1000}} {
			if s.library == "" && panel.p != p99 {
				continue // no hedges: nothing to draw
			}
			var xys plotter.XYs
			for i, y := range panel.ys {
				y *= panel.scale
				if math.IsNaN(y) {
					continue
				}
				xys = append(xys, plotter.XY{X: s.at[i], Y: min(max(y, panel.p.Y.Min), panel.p.Y.Max)})
			}
			if len(xys) == 0 {
				continue
			}
			line, err := plotter.NewLine(xys)
			if err != nil {
				return err
			}
			line.Color = c
			line.Width = vg.Points(1.6)
			if s.library == "failsafe-go" {
				line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			panel.p.Add(line)
			if panel.p == p99 {
				panel.p.Legend.Add(s.policy, line)
			}
		}
	}
	p99.Legend.Top, p99.Legend.Left = true, true
	p99.Legend.XOffs, p99.Legend.YOffs = vg.Points(8), -vg.Points(4)
	title := fmt.Sprintf("%g calls/s, log-normal body (median %v, p99 %v), %s of requests %gx slower, %s stalled %v; "+
		"+%v on every request from %v (dotted line); median of %d seeds",
		cfg.Rate, cfg.Service.Median, cfg.Service.P99, pct(cfg.Service.SlowShare), cfg.Service.SlowFactor,
		pct(cfg.Service.StallShare), cfg.Service.Stall, cfg.Service.Slowdown, cfg.SlowFrom(), seedsOf(results))
	return chart.Write(path, 17*vg.Inch, 6*vg.Inch, title, p99, extra, delay)
}

// seedsOf is how many seeds results hold.
func seedsOf(results []*Result) int {
	seen := map[uint64]bool{}
	for _, r := range results {
		seen[r.Seed] = true
	}
	return len(seen)
}

func newPanel(title, yLabel string, end float64) *plot.Plot {
	p := chart.Panel(title, "seconds since the start", yLabel)
	p.X.Min, p.X.Max = 0, end
	return p
}

// logTicks label a logarithmic axis at 1-2-5 steps.
func logTicks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := 0.001; decade < 1e4; decade *= 10 {
		for _, m := range []float64{1, 2, 3, 4, 5, 6, 7, 8, 9} {
			v := m * decade
			if v < min*0.999 || v > max*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
