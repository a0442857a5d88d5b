package plot

import (
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot/plotter"
	"gorgonia.org/tensor"
)

// A Field colours the plane behind a Chart's series with a function's values
// on a grid: a classifier's decision function (red positive, blue negative,
// white zero) or its predicted classes (one palette colour each, as
// Scatter's). Fill Data by evaluating the function at Points:
//
//	f := plot.Field{XMin: -3, XMax: 3, YMin: -3, YMax: 3, Rows: 100, Cols: 100}
//	f.Data, err = keras.DecisionFunction(model, f.Points())
//	chart := plot.Chart{Field: &f}
type Field struct {
	// XMin, XMax, YMin, YMax bound the region; Rows×Cols is the grid.
	XMin, XMax, YMin, YMax float64
	Rows, Cols             int
	// Data holds the values at Points, in that order: (Rows·Cols) or
	// (Rows·Cols, 1) values, drawn red and blue; or (Rows·Cols, k) scores
	// of k ≥ 2 classes, each point drawn in the colour of its largest score.
	Data *tensor.Dense
	// Limit saturates the colours of values beyond ±Limit; 0 means the
	// largest |value|.
	Limit float64
}

// Points returns the centres of the grid's cells as a (Rows·Cols, 2)
// float32 tensor, row by row from the top (YMax) and, in a row, from the
// left (XMin).
func (f Field) Points() *tensor.Dense {
	if f.Rows <= 0 || f.Cols <= 0 {
		return tensor.New(tensor.WithShape(0, 2), tensor.Of(tensor.Float32))
	}
	v := make([]float32, 0, 2*f.Rows*f.Cols)
	for r := 0; r < f.Rows; r++ {
		y := f.YMax - (float64(r)+0.5)*(f.YMax-f.YMin)/float64(f.Rows)
		for c := 0; c < f.Cols; c++ {
			x := f.XMin + (float64(c)+0.5)*(f.XMax-f.XMin)/float64(f.Cols)
			v = append(v, float32(x), float32(y))
		}
	}
	return tensor.New(tensor.WithShape(f.Rows*f.Cols, 2), tensor.WithBacking(v))
}

// plotter draws the field as an image over its region.
func (f Field) plotter() (*plotter.Image, error) {
	if f.Rows <= 0 || f.Cols <= 0 || !(f.XMin < f.XMax) || !(f.YMin < f.YMax) {
		return nil, errors.Errorf("plot: Field needs Rows, Cols > 0 and XMin < XMax, YMin < YMax, got %d×%d over [%g, %g]×[%g, %g]",
			f.Rows, f.Cols, f.XMin, f.XMax, f.YMin, f.YMax)
	}
	v, err := values(f.Data)
	if err != nil {
		return nil, errors.WithMessage(err, "Field")
	}
	n := f.Rows * f.Cols
	s := f.Data.Shape()
	k := 1
	switch {
	case len(s) == 1 && s[0] == n:
	case len(s) == 2 && s[0] == n:
		k = s[1]
	default:
		return nil, errors.Errorf("plot: Field of %d×%d needs Data of shape (%d) or (%d, k), got %v", f.Rows, f.Cols, n, n, s)
	}
	limit := f.Limit
	if limit == 0 && k == 1 {
		lo, hi := span(v)
		limit = math.Max(math.Abs(lo), math.Abs(hi))
	}
	img := image.NewRGBA(image.Rect(0, 0, f.Cols, f.Rows))
	for i := 0; i < n; i++ {
		var col color.RGBA
		if k == 1 {
			col = diverging(v[i], limit)
		} else {
			best := 0
			for j := 1; j < k; j++ {
				if v[i*k+j] > v[i*k+best] {
					best = j
				}
			}
			col = classColour(best, k)
		}
		img.SetRGBA(i%f.Cols, i/f.Cols, lighten(col))
	}
	return plotter.NewImage(img, f.XMin, f.YMin, f.XMax, f.YMax), nil
}

// lighten blends c two thirds of the way to white, so that points drawn
// over it show.
func lighten(c color.RGBA) color.RGBA {
	l := func(v uint8) uint8 { return uint8((int(v) + 2*255) / 3) }
	return color.RGBA{l(c.R), l(c.G), l(c.B), 0xff}
}

// classColour is the colour of class i of k: blue and red for two classes
// (the negative and positive sides of a decision function), the palette
// otherwise.
func classColour(i, k int) color.RGBA {
	if k == 2 {
		return [2]color.RGBA{palette[0], palette[3]}[i]
	}
	return palette[i%len(palette)]
}

// Scatter returns one Series of points per class of a 2-D data set: x is
// (n, 2) and y holds a class label per point, (n) or (n, 1). The classes are
// y's distinct values in increasing order (0 and 1, or −1 and 1, …), named
// by names (default "class 0", "class 1", …) and coloured as a Field colours
// them: blue and red for two classes.
func Scatter(x, y *tensor.Dense, names ...string) ([]Series, error) {
	xv, err := values(x)
	if err != nil {
		return nil, errors.WithMessage(err, "Scatter")
	}
	yv, err := values(y)
	if err != nil {
		return nil, errors.WithMessage(err, "Scatter")
	}
	if s := x.Shape(); len(s) != 2 || s[1] != 2 || len(yv) != s[0] {
		return nil, errors.Errorf("plot: Scatter needs x of shape (n, 2) and n labels, got %v and %v", x.Shape(), y.Shape())
	}
	seen := map[float64]bool{}
	var classes []float64
	for _, c := range yv {
		if !seen[c] {
			seen[c] = true
			classes = append(classes, c)
		}
	}
	sort.Float64s(classes)
	if len(names) != 0 && len(names) != len(classes) {
		return nil, errors.Errorf("plot: Scatter has %d names for %d classes %v", len(names), len(classes), classes)
	}
	series := make([]Series, len(classes))
	for i, c := range classes {
		col := classColour(i, len(classes))
		series[i] = Series{Label: "class " + strconv.FormatFloat(c, 'g', -1, 64), Points: true,
			Color: "#" + hex(col.R) + hex(col.G) + hex(col.B)}
		if len(names) != 0 { // gomacro passes an empty slice for no names
			series[i].Label = names[i]
		}
		for j, label := range yv {
			if label == c {
				series[i].X = append(series[i].X, xv[2*j])
				series[i].Y = append(series[i].Y, xv[2*j+1])
			}
		}
	}
	return series, nil
}

func hex(b uint8) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}
