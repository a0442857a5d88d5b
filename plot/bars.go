package plot

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A BarGroup is one bar in each category of a Bars chart: a model's
// accuracy on each kind of example, say.
type BarGroup struct {
	// Label names the group in the legend; "" leaves it out.
	Label string
	// Values are the bars' heights, one per category. A NaN or infinite
	// value leaves its bar out (a category with no examples).
	Values []float64
	// Color as in Series; "" takes the chart's next palette colour.
	Color string
}

// An HLine is a dashed horizontal line across a Bars chart: a chance
// level, a baseline.
type HLine struct {
	// Label names the line in the legend; "" leaves it out.
	Label string
	// Y is the line's height.
	Y float64
	// Color as in Series; "" is grey (C7).
	Color string
}

// Bars is a bar chart: named categories along the x axis and, in each, one
// bar per group, side by side in the order of Groups:
//
//	plot.Bars{Title: "test accuracy", YLabel: "accuracy",
//		Categories: []string{"depth 1", "depth 2", "depth 3"},
//		Groups: []plot.BarGroup{
//			{Label: "child-sum", Values: []float64{0.83, 0.62, 0.57}},
//			{Label: "binary", Values: []float64{0.99, 0.97, 0.95}},
//		}}
//
// Bars rise from zero (negative values hang below it).
type Bars struct {
	// Title is drawn above the chart; XLabel and YLabel along the axes.
	Title, XLabel, YLabel string
	// Categories name the x axis' positions, left to right.
	Categories []string
	// Groups are the bars; each has one value per category.
	Groups []BarGroup
	// Lines are drawn over the bars.
	Lines []HLine
	// ValueFormat, when not "", writes each bar's value above it with this
	// fmt verb, as "%.2f".
	ValueFormat string
	// YMin, YMax fix the y range when YMin < YMax; otherwise it spans zero
	// and the data.
	YMin, YMax float64
	// Width and Height in pixels; 0 means DefaultWidth × DefaultHeight.
	Width, Height int
	// LegendLeft and LegendBottom move the legend from the top right corner.
	LegendLeft, LegendBottom bool
}

// barSpan is the part of a category's width its bars fill together.
const barSpan = 0.8

// Figure draws the bar chart.
func (b Bars) Figure() *Figure {
	p, err := b.plot()
	if err != nil {
		return errFigure(err)
	}
	return plotFigure(p, b.Width, b.Height, "bar chart")
}

// PNG draws the bar chart as PNG; see Figure.PNG.
func (b Bars) PNG() ([]byte, error) { return b.Figure().PNG() }

// Image draws the bar chart as an image; see Figure.Image.
func (b Bars) Image() (image.Image, error) { return b.Figure().Image() }

// SVG draws the bar chart as SVG; see Figure.SVG.
func (b Bars) SVG() ([]byte, error) { return b.Figure().SVG() }

// Save writes the bar chart as PNG or SVG; see Figure.Save.
func (b Bars) Save(path string) error { return b.Figure().Save(path) }

func (b Bars) plot() (*plot.Plot, error) {
	n := len(b.Categories)
	if n == 0 {
		return nil, errors.New("plot: a bar chart needs at least one category")
	}
	p := plot.New()
	setFonts(p)
	p.Title.Text = b.Title
	p.X.Label.Text = b.XLabel
	p.Y.Label.Text = b.YLabel
	p.Legend.Top = !b.LegendBottom
	p.Legend.Left = b.LegendLeft
	p.NominalX(b.Categories...)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil // no lines between the categories' names
	p.Add(grid)
	bars, err := b.bars()
	if err != nil {
		return nil, err
	}
	for i, bp := range bars {
		p.Add(bp)
		if l := b.Groups[i].Label; l != "" {
			p.Legend.Add(l, bp)
		}
	}
	for i, l := range b.Lines {
		c := l.Color
		if c == "" {
			c = "C7"
		}
		col, err := parseColor(c, 0)
		if err != nil {
			return nil, errors.WithMessagef(err, "line %d (%q)", i, l.Label)
		}
		if math.IsNaN(l.Y) || math.IsInf(l.Y, 0) {
			return nil, errors.Errorf("plot: line %d (%q) is at %g", i, l.Label, l.Y)
		}
		line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: l.Y}, {X: float64(n) - 0.5, Y: l.Y}})
		if err != nil {
			return nil, errors.Wrapf(err, "plot: line %d (%q)", i, l.Label)
		}
		line.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.5),
			Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
		p.Add(line)
		if l.Label != "" {
			p.Legend.Add(l.Label, line)
		}
	}
	// Whole categories, however many groups are drawn.
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	if b.YMin < b.YMax {
		p.Y.Min, p.Y.Max = b.YMin, b.YMax
	}
	return p, nil
}

// bars lays out the groups' bars.
func (b Bars) bars() ([]*barPlotter, error) {
	if len(b.Groups) == 0 {
		return nil, errors.New("plot: a bar chart needs at least one group")
	}
	width := barSpan / float64(len(b.Groups))
	var out []*barPlotter
	for i, g := range b.Groups {
		if len(g.Values) != len(b.Categories) {
			return nil, errors.Errorf("plot: bar group %d (%q) has %d values for %d categories", i, g.Label, len(g.Values), len(b.Categories))
		}
		col, err := parseColor(g.Color, i)
		if err != nil {
			return nil, errors.WithMessagef(err, "bar group %d (%q)", i, g.Label)
		}
		out = append(out, &barPlotter{values: g.Values, color: col, width: width,
			offset: -barSpan/2 + width*float64(i), format: b.ValueFormat})
	}
	return out, nil
}

// barPlotter draws one group's bars: bar i spans [i+offset, i+offset+width]
// in data units along x, from 0 to values[i].
type barPlotter struct {
	values        []float64
	color         color.RGBA
	width, offset float64
	format        string
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Plot implements plot.Plotter.
func (bp *barPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := bp.textStyle()
	for i, v := range bp.values {
		if !finite(v) {
			continue
		}
		x0 := trX(float64(i) + bp.offset)
		x1 := trX(float64(i) + bp.offset + bp.width)
		y0, y1 := trY(0), trY(v)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(bp.color, c.ClipPolygonXY(pts))
		if bp.format == "" {
			continue
		}
		pt := vg.Point{X: (x0 + x1) / 2, Y: y1 + valueGap}
		sty.YAlign = draw.YBottom
		if v < 0 {
			pt.Y, sty.YAlign = y1-valueGap, draw.YTop
		}
		// The value goes in the room GlyphBoxes asked for, outside c; it
		// is left out when the bar's end is cut off by YMin or YMax.
		if c.ContainsY(y1) {
			c.FillText(sty, pt, fmt.Sprintf(bp.format, v))
		}
	}
}

// valueGap separates a bar from the value written above it.
const valueGap = vg.Length(1.5)

func (bp *barPlotter) textStyle() text.Style {
	return text.Style{Color: color.Black, Font: sans(8), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter}
}

// GlyphBoxes implements plot.GlyphBoxer: the values written over the bars,
// for which the plot then leaves room.
func (bp *barPlotter) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	if bp.format == "" {
		return nil
	}
	sty := bp.textStyle()
	var boxes []plot.GlyphBox
	for i, v := range bp.values {
		if !finite(v) {
			continue
		}
		txt := fmt.Sprintf(bp.format, v)
		w, h := sty.Width(txt), sty.Height(txt)+valueGap
		r := vg.Rectangle{Min: vg.Point{X: -w / 2}, Max: vg.Point{X: w / 2, Y: h}}
		if v < 0 {
			r.Min.Y, r.Max.Y = -h, 0
		}
		boxes = append(boxes, plot.GlyphBox{X: p.X.Norm(float64(i) + bp.offset + bp.width/2), Y: p.Y.Norm(v), Rectangle: r})
	}
	return boxes
}

// DataRange implements plot.DataRanger: the bars and zero.
func (bp *barPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = 0, 0
	for _, v := range bp.values {
		if finite(v) {
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
	}
	return -0.5, float64(len(bp.values)) - 0.5, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer: a filled square in the legend.
func (bp *barPlotter) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(bp.color, c.ClipPolygonXY(pts))
}
