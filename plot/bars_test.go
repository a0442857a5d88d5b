package plot

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

func accuracyBars() Bars {
	return Bars{Title: "accuracy", XLabel: "depth", YLabel: "accuracy",
		Categories: []string{"1", "2", "3"},
		Groups: []BarGroup{
			{Label: "MAX", Values: []float64{1, 0.88, 0.77}},
			{Label: "SM", Values: []float64{0.41, nan(), 0.1}, Color: "C3"},
			{Values: []float64{-0.2, 0.5, 0.6}},
		},
		Lines:       []HLine{{Label: "chance", Y: 0.115}},
		ValueFormat: "%.2f",
	}
}

// TestBarsSizes writes bar charts as PNG and SVG and checks their sizes,
// as TestFigureSizes does for the other figures.
func TestBarsSizes(t *testing.T) {
	sized := accuracyBars()
	sized.Width, sized.Height, sized.YMin, sized.YMax, sized.LegendBottom = 300, 200, 0, 1.2, true
	one := Bars{Categories: []string{"all"}, Groups: []BarGroup{{Values: []float64{0.9}}}}
	tests := []struct {
		name string
		fig  *Figure
		w, h int
	}{
		{"default", accuracyBars().Figure(), DefaultWidth, DefaultHeight},
		{"sized, fixed y range", sized.Figure(), 300, 200},
		{"one bar", one.Figure(), DefaultWidth, DefaultHeight},
		{"row", Row(accuracyBars().Figure(), line().Figure()), 2 * DefaultWidth, DefaultHeight},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if w, h := tc.fig.Size(); w != tc.w || h != tc.h {
				t.Errorf("Size() = %d×%d, want %d×%d", w, h, tc.w, tc.h)
			}
			p, err := tc.fig.PNG()
			if err != nil {
				t.Fatal(err)
			}
			if w, h := pngSize(t, p); w != tc.w || h != tc.h {
				t.Errorf("PNG is %d×%d, want %d×%d", w, h, tc.w, tc.h)
			}
			s, err := tc.fig.SVG()
			if err != nil {
				t.Fatal(err)
			}
			w, h := svgSize(t, s)
			if ww, wh := ptString(tc.w), ptString(tc.h); w != ww || h != wh {
				t.Errorf("SVG is %s×%s, want %s×%s", w, h, ww, wh)
			}
		})
	}
}

// TestBarsLayout checks where the bars go: three groups share 0.8 of each
// category's unit width, left to right, and the y range spans zero.
func TestBarsLayout(t *testing.T) {
	b := accuracyBars()
	bars, err := b.bars()
	if err != nil {
		t.Fatal(err)
	}
	if len(bars) != 3 {
		t.Fatalf("%d bar plotters, want 3", len(bars))
	}
	const w = 0.8 / 3
	for i, bp := range bars {
		if want := -0.4 + w*float64(i); math.Abs(bp.offset-want) > 1e-12 || math.Abs(bp.width-w) > 1e-12 {
			t.Errorf("group %d: offset %g, width %g; want %g, %g", i, bp.offset, bp.width, want, w)
		}
	}
	if bars[1].color != palette[3] || bars[2].color != palette[2] {
		t.Errorf("colours %v, %v; want C3 (given) and C2 (the third group's)", bars[1].color, bars[2].color)
	}
	// The NaN bar is left out of the range; -0.2 takes it below zero.
	xmin, xmax, ymin, ymax := bars[1].DataRange()
	if xmin != -0.5 || xmax != 2.5 || ymin != 0 || ymax != 0.41 {
		t.Errorf("SM's DataRange = x [%g, %g], y [%g, %g]; want x [-0.5, 2.5], y [0, 0.41]", xmin, xmax, ymin, ymax)
	}
	if _, _, ymin, _ := bars[2].DataRange(); ymin != -0.2 {
		t.Errorf("ymin = %g, want -0.2", ymin)
	}
	p, err := b.plot()
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min != -0.5 || p.X.Max != 2.5 {
		t.Errorf("x axis [%g, %g], want [-0.5, 2.5]", p.X.Min, p.X.Max)
	}
	// One value written per finite bar: 3 + 2 + 3. (Only the bars' boxes
	// count: since gonum/plot v0.17 the reference lines have glyph boxes too.)
	if n := barGlyphBoxes(p, bars); n != 8 {
		t.Errorf("%d glyph boxes, want 8", n)
	}
	b.ValueFormat = ""
	if bars, err = b.bars(); err != nil {
		t.Fatal(err)
	}
	if n := barGlyphBoxes(p, bars); n != 0 {
		t.Errorf("glyph boxes without ValueFormat: %d, want 0", n)
	}
}

// TestBarsErrors checks that bad input gives an error naming the problem.
func TestBarsErrors(t *testing.T) {
	cats := []string{"a", "b"}
	group := []BarGroup{{Values: []float64{1, 2}}}
	tests := []struct {
		name string
		bars Bars
		want string
	}{
		{"no categories", Bars{Groups: group}, "at least one category"},
		{"no groups", Bars{Categories: cats}, "at least one group"},
		{"values", Bars{Categories: cats, Groups: []BarGroup{{Label: "g", Values: []float64{1}}}}, `"g") has 1 values for 2 categories`},
		{"colour", Bars{Categories: cats, Groups: []BarGroup{{Values: []float64{1, 2}, Color: "blue"}}}, `"blue"`},
		{"line colour", Bars{Categories: cats, Groups: group, Lines: []HLine{{Y: 1, Color: "C"}}}, `"C"`},
		{"line at NaN", Bars{Categories: cats, Groups: group, Lines: []HLine{{Label: "l", Y: nan()}}}, "NaN"},
		{"size", Bars{Categories: cats, Groups: group, Height: -3}, "-3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := tc.bars.PNG(); err == nil || p != nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PNG() = %d bytes, %v; want an error containing %q", len(p), err, tc.want)
			}
			if _, err := tc.bars.SVG(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SVG() error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

// barGlyphBoxes counts the glyph boxes of the bar plotters only.
func barGlyphBoxes(p *plot.Plot, bars []*barPlotter) int {
	n := 0
	for _, bp := range bars {
		n += len(bp.GlyphBoxes(p))
	}
	return n
}
