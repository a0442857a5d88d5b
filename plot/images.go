package plot

import (
	"image"
	"image/color"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gorgonia.org/tensor"
)

// MaxImages is the most images one Images grid draws.
const MaxImages = 1000

// Layout of an Images grid, in pixels.
const (
	imagePad     = 4  // around and between images
	titleHeight  = 22 // above the grid, when there is a title
	captionSpace = 14 // under each image, when there are labels
	defaultCell  = 56 // default size of an image's longer side
)

// Images draws a grid of small images: digits, weights, filters, feature
// maps. Each image is drawn in grey, ink on paper (its largest value black,
// its smallest white), or, when Signed, in red (positive) and blue
// (negative) on white.
type Images struct {
	// Data holds the images: (n, h, w) or (n, h, w, 1) grey, or
	// (n, h, w, 3) colour; (h, w) is one image. float32 or float64.
	Data *tensor.Dense
	// Index picks the images to draw, in order.
	Index []int
	// Count, when Index is nil, draws the first Count images; 0 draws them
	// all (at most MaxImages).
	Count int
	// Labels, when not nil, are captions, one per image drawn.
	Labels []string
	// Title is drawn above the grid.
	Title string
	// Cols is the number of images in a row (default: 10, or fewer images).
	Cols int
	// Scale is the size of a data pixel in pixels (default: so that an
	// image's longer side is about 56 pixels).
	Scale int
	// Signed draws values around zero: red positive, blue negative, white
	// zero, as weights and gradients are usually shown.
	Signed bool
	// SharedRange maps every image with the same range (the range of all the
	// images drawn) instead of each with its own, so that they compare.
	SharedRange bool
}

// Figure draws the grid.
func (im Images) Figure() *Figure {
	g, err := im.layout()
	if err != nil {
		return errFigure(err)
	}
	return &Figure{width: g.width, height: g.height, draw: g.draw}
}

// PNG draws the grid as PNG; see Figure.PNG.
func (im Images) PNG() ([]byte, error) { return im.Figure().PNG() }

// Image draws the grid as an image; see Figure.Image.
func (im Images) Image() (image.Image, error) { return im.Figure().Image() }

// SVG draws the grid as SVG; see Figure.SVG.
func (im Images) SVG() ([]byte, error) { return im.Figure().SVG() }

// Save writes the grid as PNG or SVG; see Figure.Save.
func (im Images) Save(path string) error { return im.Figure().Save(path) }

type grid struct {
	imgs          []*image.RGBA
	labels        []string
	title         string
	cols, rows    int
	cellW, cellH  int // image size in pixels
	capH          int
	width, height int
}

func (im Images) layout() (*grid, error) {
	v, err := values(im.Data)
	if err != nil {
		return nil, errors.WithMessage(err, "Images")
	}
	s := im.Data.Shape()
	var n, h, w, c int
	switch len(s) {
	case 2:
		n, h, w, c = 1, s[0], s[1], 1
	case 3:
		n, h, w, c = s[0], s[1], s[2], 1
	case 4:
		n, h, w, c = s[0], s[1], s[2], s[3]
	default:
		return nil, errors.Errorf("plot: Images needs data of shape (n, h, w), (n, h, w, 1|3) or (h, w), got %v", s)
	}
	if c != 1 && c != 3 {
		return nil, errors.Errorf("plot: Images draws 1 or 3 channels, got %d in %v (plot.Channels draws each channel apart)", c, s)
	}
	index := im.Index
	if im.Count < 0 || im.Count > n {
		return nil, errors.Errorf("plot: Images: Count %d is not in [0, %d]", im.Count, n)
	}
	if index == nil && im.Count > 0 {
		n = im.Count
	}
	if index == nil {
		if n > MaxImages {
			return nil, errors.Errorf("plot: Images would draw %d images, more than %d: pick some with Index", n, MaxImages)
		}
		index = make([]int, n)
		for i := range index {
			index[i] = i
		}
	}
	if len(index) == 0 || len(index) > MaxImages {
		return nil, errors.Errorf("plot: Images draws 1 to %d images, got %d", MaxImages, len(index))
	}
	for _, i := range index {
		if i < 0 || i >= n {
			return nil, errors.Errorf("plot: Images: index %d is outside the %d images", i, n)
		}
	}
	if im.Labels != nil && len(im.Labels) != len(index) {
		return nil, errors.Errorf("plot: Images has %d labels for %d images", len(im.Labels), len(index))
	}
	cols := im.Cols
	if cols < 0 || im.Scale < 0 {
		return nil, errors.Errorf("plot: Images needs Cols, Scale ≥ 0, got %d, %d", cols, im.Scale)
	}
	if cols == 0 {
		cols = 10
	}
	cols = min(cols, len(index))
	scale := im.Scale
	if scale == 0 {
		scale = max(1, int(math.Round(defaultCell/float64(max(h, w)))))
	}
	g := &grid{labels: im.Labels, title: im.Title, cols: cols,
		rows: (len(index) + cols - 1) / cols, cellW: w * scale, cellH: h * scale}
	if im.Labels != nil {
		g.capH = captionSpace
	}
	size := h * w * c
	lo, hi := math.Inf(1), math.Inf(-1)
	if im.SharedRange {
		for _, i := range index {
			l, u := span(v[i*size : (i+1)*size])
			lo, hi = math.Min(lo, l), math.Max(hi, u)
		}
	}
	for _, i := range index {
		px := v[i*size : (i+1)*size]
		l, u := lo, hi
		if !im.SharedRange {
			l, u = span(px)
		}
		g.imgs = append(g.imgs, raster(px, h, w, c, scale, l, u, im.Signed))
	}
	g.width = imagePad + cols*(g.cellW+imagePad)
	g.height = imagePad + g.rows*(g.cellH+g.capH+imagePad)
	if g.title != "" {
		g.height += titleHeight
	}
	return g, nil
}

// span is the range of the finite values of v.
func span(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi
}

// raster draws one image, each data pixel a scale×scale square.
func raster(px []float64, h, w, c, scale int, lo, hi float64, signed bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	m := math.Max(math.Abs(lo), math.Abs(hi))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var col color.RGBA
			p := px[(y*w+x)*c : (y*w+x+1)*c]
			switch {
			case signed:
				col = diverging(p[0], m)
			case c == 3:
				col = color.RGBA{level(p[0], lo, hi, false), level(p[1], lo, hi, false), level(p[2], lo, hi, false), 0xff}
			default:
				g := level(p[0], lo, hi, true)
				col = color.RGBA{g, g, g, 0xff}
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetRGBA(x*scale+dx, y*scale+dy, col)
				}
			}
		}
	}
	return img
}

// level maps v in [lo, hi] to 0..255, inverted for ink on paper. A flat
// image (lo == hi) and NaN are paper.
func level(v, lo, hi float64, ink bool) uint8 {
	t := 0.0
	if hi > lo && !math.IsNaN(v) {
		t = math.Min(1, math.Max(0, (v-lo)/(hi-lo)))
	}
	if ink {
		t = 1 - t
	}
	return uint8(math.Round(255 * t))
}

// diverging maps v in [−m, m] to blue, white, red.
func diverging(v, m float64) color.RGBA {
	if m == 0 || math.IsNaN(v) {
		return color.RGBA{0xff, 0xff, 0xff, 0xff}
	}
	t := math.Min(1, math.Abs(v)/m)
	fade := uint8(math.Round(255 * (1 - t)))
	if v > 0 {
		return color.RGBA{0xff, fade, fade, 0xff}
	}
	return color.RGBA{fade, fade, 0xff, 0xff}
}

func (g *grid) draw(c draw.Canvas) {
	top := 0
	sty := text.Style{Color: color.Black, Font: sans(10),
		Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YTop}
	if g.title != "" {
		ts := sty
		ts.Font = sans(12)
		c.FillText(ts, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - length(4)}, g.title)
		top = titleHeight
	}
	for k, img := range g.imgs {
		r, col := k/g.cols, k%g.cols
		x := imagePad + col*(g.cellW+imagePad)
		y := top + imagePad + r*(g.cellH+g.capH+imagePad)
		cell := sub(c, x, y, g.cellW, g.cellH)
		c.DrawImage(cell.Rectangle, img)
		if g.labels != nil {
			c.FillText(sty, vg.Point{X: cell.Min.X + length(g.cellW)/2, Y: cell.Min.Y - length(1)}, g.labels[k])
		}
	}
}
