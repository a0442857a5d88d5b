package plot

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution at which a figure's pixel sizes are drawn.
const DPI = 96

// Default sizes of a chart, in pixels.
const (
	DefaultWidth  = 480
	DefaultHeight = 320
)

// A Figure is a picture ready to be written as PNG or SVG: a Chart, an Images
// grid, or several figures placed side by side.
type Figure struct {
	width, height int
	draw          func(c draw.Canvas)
	err           error
}

// errFigure is a figure that reports err when written.
func errFigure(err error) *Figure { return &Figure{err: err} }

// Err is the first error met while making the figure, or nil.
func (f *Figure) Err() error {
	if f == nil {
		return errors.New("plot: nil figure")
	}
	return f.err
}

// Size is the figure's width and height in pixels.
func (f *Figure) Size() (width, height int) {
	if f == nil {
		return 0, 0
	}
	return f.width, f.height
}

// length converts pixels to a vg length at DPI.
func length(px int) vg.Length { return vg.Length(px) * vg.Inch / DPI }

// PNG returns the figure as a PNG image of Size pixels.
func (f *Figure) PNG() ([]byte, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	c := vgimg.NewWith(vgimg.UseWH(length(f.width), length(f.height)), vgimg.UseDPI(DPI))
	return f.render(c, vgimg.PngCanvas{Canvas: c})
}

// Image returns the figure drawn as an image of Size pixels. In a
// gophernotes notebook, display.Image(img) shows it.
func (f *Figure) Image() (image.Image, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	c := vgimg.NewWith(vgimg.UseWH(length(f.width), length(f.height)), vgimg.UseDPI(DPI))
	if err := f.paint(c); err != nil {
		return nil, err
	}
	return c.Image(), nil
}

// SVG returns the figure as an SVG document (Size pixels at 96 dpi, that is
// 3/4 as many points). Images inside it are embedded as PNG.
func (f *Figure) SVG() ([]byte, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	c := vgsvg.New(length(f.width), length(f.height))
	return f.render(c, c)
}

// paint draws the figure on c. gonum/plot panics on some bad input; the
// panic becomes an error here.
func (f *Figure) paint(c vg.CanvasSizer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("plot: drawing failed: %v", r)
		}
	}()
	f.draw(draw.New(c))
	return nil
}

// render paints the figure on c and returns what w then writes.
func (f *Figure) render(c vg.CanvasSizer, w io.WriterTo) ([]byte, error) {
	if err := f.paint(c); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, errors.Wrap(err, "plot: encoding the figure")
	}
	return buf.Bytes(), nil
}

// Save writes the figure to path as PNG or SVG, chosen by the extension
// (".png" or ".svg").
func (f *Figure) Save(path string) error {
	var data []byte
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		data, err = f.PNG()
	case ".svg":
		data, err = f.SVG()
	default:
		return errors.Errorf("plot: cannot save %q: the extension must be .png or .svg, got %q", path, ext)
	}
	if err != nil {
		return err
	}
	return errors.Wrap(os.WriteFile(path, data, 0o644), "plot")
}

// Row places figures side by side, top-aligned, on a white background.
func Row(figs ...*Figure) *Figure { return Grid(len(figs), figs...) }

// Grid places figures in rows of cols figures. Each column is as wide as its
// widest figure and each row as tall as its tallest; figures are placed at
// the top left of their cell.
func Grid(cols int, figs ...*Figure) *Figure {
	if len(figs) == 0 {
		return errFigure(errors.New("plot: Grid needs at least one figure"))
	}
	if cols <= 0 {
		return errFigure(errors.Errorf("plot: Grid needs cols > 0, got %d", cols))
	}
	for i, f := range figs {
		if err := f.Err(); err != nil {
			return errFigure(errors.WithMessagef(err, "figure %d", i))
		}
	}
	if cols > len(figs) {
		cols = len(figs)
	}
	rows := (len(figs) + cols - 1) / cols
	colW := make([]int, cols)
	rowH := make([]int, rows)
	for i, f := range figs {
		r, c := i/cols, i%cols
		colW[c] = max(colW[c], f.width)
		rowH[r] = max(rowH[r], f.height)
	}
	g := &Figure{}
	for _, w := range colW {
		g.width += w
	}
	for _, h := range rowH {
		g.height += h
	}
	g.draw = func(dc draw.Canvas) {
		y := 0
		for r := 0; r < rows; r++ {
			x := 0
			for c := 0; c < cols && r*cols+c < len(figs); c++ {
				f := figs[r*cols+c]
				f.draw(sub(dc, x, y, f.width, f.height))
				x += colW[c]
			}
			y += rowH[r]
		}
	}
	return g
}

// sub is the part of c at (x, y) pixels from its top left corner, w×h
// pixels large.
func sub(c draw.Canvas, x, y, w, h int) draw.Canvas {
	minX := c.Min.X + length(x)
	maxY := c.Max.Y - length(y)
	return draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: minX, Y: maxY - length(h)},
		Max: vg.Point{X: minX + length(w), Y: maxY},
	}}
}

// String describes the figure briefly.
func (f *Figure) String() string {
	if f == nil || f.err != nil {
		return fmt.Sprintf("plot.Figure(error: %v)", f.Err())
	}
	return fmt.Sprintf("plot.Figure(%d×%d)", f.width, f.height)
}
