// Package chart holds what the benchmarks' charts share: Okabe and Ito's
// colours, distinguishable with common colour blindness, and the writing
// of panels side by side under a title to a PNG file.
package chart

import (
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Okabe and Ito's colours.
var (
	Black         color.Color = color.RGBA{R: 0x00, G: 0x00, B: 0x00, A: 0xff}
	Orange        color.Color = color.RGBA{R: 0xe6, G: 0x9f, B: 0x00, A: 0xff}
	Blue          color.Color = color.RGBA{R: 0x00, G: 0x72, B: 0xb2, A: 0xff}
	BluishGreen   color.Color = color.RGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff}
	Vermillion    color.Color = color.RGBA{R: 0xd5, G: 0x5e, B: 0x00, A: 0xff}
	ReddishPurple color.Color = color.RGBA{R: 0xcc, G: 0x79, B: 0xa7, A: 0xff}
)

// Write draws panels side by side under title on a white canvas of width
// by height, and writes it to path as a PNG.
func Write(path string, width, height vg.Length, title string, panels ...*plot.Plot) error {
	img := vgimg.New(width, height)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	top, body := dc, dc
	top.Min.Y = dc.Max.Y - vg.Points(28)
	body.Max.Y = dc.Max.Y - vg.Points(28)
	top.FillText(draw.TextStyle{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, vg.Points(13)),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}, top.Center(), title)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Points(18), PadLeft: vg.Points(6), PadRight: vg.Points(12), PadBottom: vg.Points(6)}
	for i, p := range panels {
		p.Draw(tiles.At(body, i, 0))
	}
	return WritePNG(img, path)
}

// WritePNG writes img to path as a PNG.
func WritePNG(img *vgimg.Canvas, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Panel returns a plot with the charts' title and label sizes, the labels
// given and a grid; the caller sets its axes' range and ticks.
func Panel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	p.Y.Tick.Label.Font.Size = vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Add(plotter.NewGrid())
	return p
}
