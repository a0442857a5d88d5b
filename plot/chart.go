package plot

import (
	"image"
	"image/color"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A Series is a line or a set of points on a Chart.
type Series struct {
	// Label names the series in the legend; "" leaves it out.
	Label string
	// X are the abscissas; nil means 0, 1, …, len(Y)−1.
	X []float64
	// Y are the values. Points whose X or Y is NaN or infinite (or, on a
	// log axis, not positive) are left out and break the line there.
	Y []float64
	// Points draws a mark at each point instead of a line.
	Points bool
	// Dashed draws a dashed line.
	Dashed bool
	// Color is "C0".."C9" (matplotlib's tab10 palette) or "#rrggbb";
	// "" takes the chart's next palette colour.
	Color string
}

// A Hist is a histogram of values on a Chart, drawn as translucent bars.
type Hist struct {
	// Label names the histogram in the legend; "" leaves it out.
	Label string
	// Values are the samples; NaN and infinite ones are left out.
	Values []float64
	// Bins is the number of bins (default 30).
	Bins int
	// Color as in Series.
	Color string
}

// A Chart is series and histograms drawn on one pair of axes.
type Chart struct {
	// Title is drawn above the chart; XLabel and YLabel along the axes.
	Title, XLabel, YLabel string
	// Series are drawn in order, after the histograms.
	Series []Series
	// Hists are histograms.
	Hists []Hist
	// Field, when not nil, colours the plane behind everything else.
	Field *Field
	// LogX and LogY draw the x or y axis on a log scale.
	LogX, LogY bool
	// XMin, XMax fix the x range when XMin < XMax; otherwise it fits the
	// data. YMin, YMax likewise.
	XMin, XMax, YMin, YMax float64
	// Width and Height in pixels; 0 means DefaultWidth × DefaultHeight.
	Width, Height int
	// LegendLeft and LegendBottom move the legend from the top right corner.
	LegendLeft, LegendBottom bool

	err error
}

// Func samples f at 201 evenly spaced points of [min, max] as a Series.
func Func(label string, f func(float64) float64, min, max float64) Series {
	const n = 201
	s := Series{Label: label, X: make([]float64, n), Y: make([]float64, n)}
	for i := range s.X {
		s.X[i] = min + (max-min)*float64(i)/(n-1)
		s.Y[i] = f(s.X[i])
	}
	return s
}

// Figure draws the chart.
func (c Chart) Figure() *Figure {
	if c.err != nil {
		return errFigure(c.err)
	}
	p, err := c.plot()
	if err != nil {
		return errFigure(err)
	}
	return plotFigure(p, c.Width, c.Height, "chart")
}

// plotFigure is a gonum plot as a Figure of w×h pixels (0: the default
// size) inside the charts' margin; what names the chart in errors.
func plotFigure(p *plot.Plot, w, h int, what string) *Figure {
	if w == 0 {
		w = DefaultWidth
	}
	if h == 0 {
		h = DefaultHeight
	}
	if w < 0 || h < 0 {
		return errFigure(errors.Errorf("plot: %s size must be positive, got %d×%d", what, w, h))
	}
	m := length(chartMargin)
	return &Figure{width: w, height: h, draw: func(c draw.Canvas) {
		p.Draw(draw.Crop(c, m, -m, m, -m))
	}}
}

// chartMargin is the white space around a chart, in pixels.
const chartMargin = 8

// sans is the typeface of every text: gonum/plot's Liberation Sans.
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// setFonts draws p's texts in sans-serif.
func setFonts(p *plot.Plot) {
	p.Title.TextStyle.Font = sans(13)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(10)
	}
	p.Legend.TextStyle.Font = sans(10)
}

// PNG draws the chart as PNG; see Figure.PNG.
func (c Chart) PNG() ([]byte, error) { return c.Figure().PNG() }

// Image draws the chart as an image; see Figure.Image.
func (c Chart) Image() (image.Image, error) { return c.Figure().Image() }

// SVG draws the chart as SVG; see Figure.SVG.
func (c Chart) SVG() ([]byte, error) { return c.Figure().SVG() }

// Save writes the chart as PNG or SVG; see Figure.Save.
func (c Chart) Save(path string) error { return c.Figure().Save(path) }

func (c Chart) plot() (*plot.Plot, error) {
	p := plot.New()
	setFonts(p)
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Legend.Top = !c.LegendBottom
	p.Legend.Left = c.LegendLeft
	if c.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{}
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{}
	}
	if c.Field != nil {
		img, err := c.Field.plotter()
		if err != nil {
			return nil, err
		}
		p.Add(img)
	}
	p.Add(plotter.NewGrid())
	next := 0
	for i, h := range c.Hists {
		col, err := parseColor(h.Color, next)
		if err != nil {
			return nil, errors.WithMessagef(err, "histogram %d (%q)", i, h.Label)
		}
		next++
		bins := h.Bins
		if bins == 0 {
			bins = 30
		}
		if bins < 0 {
			return nil, errors.Errorf("plot: histogram %d (%q) has %d bins", i, h.Label, bins)
		}
		vals := plotter.Values{}
		for _, v := range h.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			return nil, errors.Errorf("plot: histogram %d (%q) has no finite value", i, h.Label)
		}
		hist, err := plotter.NewHist(vals, bins)
		if err != nil {
			return nil, errors.Wrapf(err, "plot: histogram %d (%q)", i, h.Label)
		}
		// Half-transparent fill: col's components, not premultiplied.
		hist.FillColor = color.NRGBA{R: col.R, G: col.G, B: col.B, A: 0x80}
		hist.LineStyle.Color = col
		p.Add(hist)
		if h.Label != "" {
			p.Legend.Add(h.Label, hist)
		}
	}
	for i, s := range c.Series {
		col, err := parseColor(s.Color, next)
		if err != nil {
			return nil, errors.WithMessagef(err, "series %d (%q)", i, s.Label)
		}
		if s.Color == "" {
			next++
		}
		if s.X != nil && len(s.X) != len(s.Y) {
			return nil, errors.Errorf("plot: series %d (%q) has %d x and %d y values", i, s.Label, len(s.X), len(s.Y))
		}
		var thumb plot.Thumbnailer
		for _, seg := range segments(s, c.LogX, c.LogY) {
			if s.Points {
				sc, err := plotter.NewScatter(seg)
				if err != nil {
					return nil, errors.Wrapf(err, "plot: series %d (%q)", i, s.Label)
				}
				sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
				p.Add(sc)
				thumb = sc
				continue
			}
			l, err := plotter.NewLine(seg)
			if err != nil {
				return nil, errors.Wrapf(err, "plot: series %d (%q)", i, s.Label)
			}
			l.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.5)}
			if s.Dashed {
				l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			thumb = l
		}
		if s.Label != "" && thumb != nil {
			p.Legend.Add(s.Label, thumb)
		}
	}
	if c.XMin < c.XMax {
		p.X.Min, p.X.Max = c.XMin, c.XMax
	}
	if c.YMin < c.YMax {
		p.Y.Min, p.Y.Max = c.YMin, c.YMax
	}
	return p, nil
}

// segments splits a series into runs of drawable points.
func segments(s Series, logX, logY bool) []plotter.XYs {
	var segs []plotter.XYs
	var cur plotter.XYs
	for i, y := range s.Y {
		x := float64(i)
		if s.X != nil {
			x = s.X[i]
		}
		ok := !math.IsNaN(x) && !math.IsInf(x, 0) && !math.IsNaN(y) && !math.IsInf(y, 0) &&
			(!logX || x > 0) && (!logY || y > 0)
		if ok {
			cur = append(cur, plotter.XY{X: x, Y: y})
			continue
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}
