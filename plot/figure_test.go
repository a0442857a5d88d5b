package plot

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// pngSize decodes data as PNG and returns its size.
func pngSize(t *testing.T, data []byte) (int, int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	b := img.Bounds()
	return b.Dx(), b.Dy()
}

// svgSize parses data as a whole XML document whose root is <svg> and returns
// its width and height attributes.
func svgSize(t *testing.T, data []byte) (string, string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var w, h string
	root := true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root {
			root = false
			if se.Name.Local != "svg" {
				t.Fatalf("root element is <%s>, want <svg>", se.Name.Local)
			}
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "width":
					w = a.Value
				case "height":
					h = a.Value
				}
			}
		}
	}
	if root {
		t.Fatal("no element in the SVG")
	}
	return w, h
}

func line() Chart {
	return Chart{Title: "t", XLabel: "x", YLabel: "y",
		Series: []Series{{Label: "a", Y: []float64{3, 1, 2}}, {Label: "b", X: []float64{0, 1}, Y: []float64{1, 2}, Dashed: true}}}
}

func digits(n int) *tensor.Dense {
	v := make([]float32, n*28*28)
	for i := range v {
		v[i] = float32(i%28) / 27
	}
	return tensor.New(tensor.WithShape(n, 28, 28), tensor.WithBacking(v))
}

// TestFigureSizes writes every kind of figure as PNG and SVG and checks the
// pixel size of the PNG and the point size of the SVG (3/4 of the pixels).
func TestFigureSizes(t *testing.T) {
	sized := line()
	sized.Width, sized.Height = 300, 200
	tests := []struct {
		name string
		fig  *Figure
		w, h int
	}{
		{"default chart", line().Figure(), DefaultWidth, DefaultHeight},
		{"sized chart", sized.Figure(), 300, 200},
		{"histogram", Chart{Hists: []Hist{{Label: "h", Values: []float64{1, 2, 2, 3}}}}.Figure(), DefaultWidth, DefaultHeight},
		// 12 digits of 28×28 at scale 2 in rows of 5: 3 rows;
		// width 4 + 5·(56+4) = 304, height 4 + 3·(56+4) = 184.
		{"images", Images{Data: digits(12), Cols: 5, Scale: 2}.Figure(), 304, 184},
		{"first 12 images", Images{Data: digits(30), Count: 12, Cols: 5, Scale: 2}.Figure(), 304, 184},
		// with a title (22) and captions (14 a row): 184 + 22 + 3·14 = 248.
		{"captioned images", Images{Data: digits(12), Cols: 5, Scale: 2, Title: "digits",
			Labels: strings.Split("0 1 2 3 4 5 6 7 8 9 a b", " ")}.Figure(), 304, 248},
		{"row", Row(sized.Figure(), line().Figure()), 300 + DefaultWidth, DefaultHeight},
		{"grid", Grid(2, sized.Figure(), sized.Figure(), sized.Figure()), 600, 400},
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
			img, err := tc.fig.Image()
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("Image is %d×%d, want %d×%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
			s, err := tc.fig.SVG()
			if err != nil {
				t.Fatal(err)
			}
			w, h := svgSize(t, s)
			ww, wh := ptString(tc.w), ptString(tc.h)
			if w != ww || h != wh {
				t.Errorf("SVG is %s×%s, want %s×%s", w, h, ww, wh)
			}
		})
	}
}

// ptString is px pixels at 96 dpi in points, as vgsvg writes it.
func ptString(px int) string {
	return strconv.FormatFloat(float64(px)*72/96, 'g', -1, 64) + "pt"
}

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }

func TestSave(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.png", "a.svg", "A.PNG"} {
		path := filepath.Join(dir, name)
		if err := line().Save(path); err != nil {
			t.Fatalf("Save(%q): %v", name, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(strings.ToLower(name), ".png") {
			if w, h := pngSize(t, data); w != DefaultWidth || h != DefaultHeight {
				t.Errorf("%s is %d×%d, want %d×%d", name, w, h, DefaultWidth, DefaultHeight)
			}
		} else if w, h := svgSize(t, data); w != "360pt" || h != "240pt" {
			t.Errorf("%s is %s×%s, want 360pt×240pt", name, w, h)
		}
	}
	err := line().Save(filepath.Join(dir, "a.jpg"))
	if err == nil || !strings.Contains(err.Error(), `".jpg"`) {
		t.Errorf("Save(a.jpg) = %v, want an error naming the extension", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.jpg")); err == nil {
		t.Error("Save(a.jpg) wrote a file")
	}
}

// TestFigureErrors checks that a bad part gives an error from PNG, SVG and
// Save, naming the problem, and no picture.
func TestFigureErrors(t *testing.T) {
	tests := []struct {
		name string
		fig  *Figure
		want string
	}{
		{"x and y lengths", Chart{Series: []Series{{X: []float64{1}, Y: []float64{1, 2}}}}.Figure(), "1 x and 2 y"},
		{"bad colour", Chart{Series: []Series{{Y: []float64{1}, Color: "red"}}}.Figure(), `"red"`},
		{"negative size", Chart{Width: -1}.Figure(), "-1"},
		{"negative bins", Chart{Hists: []Hist{{Values: []float64{1}, Bins: -2}}}.Figure(), "-2 bins"},
		{"empty histogram", Chart{Hists: []Hist{{Label: "nan", Values: []float64{nan()}}}}.Figure(), "no finite value"},
		{"nil data", Images{}.Figure(), "nil tensor"},
		{"rank 5", Images{Data: tensor.New(tensor.WithShape(1, 1, 1, 1, 1), tensor.Of(tensor.Float32))}.Figure(), "(n, h, w)"},
		{"two channels", Images{Data: tensor.New(tensor.WithShape(1, 2, 2, 2), tensor.Of(tensor.Float32))}.Figure(), "1 or 3 channels, got 2"},
		{"index", Images{Data: digits(2), Index: []int{2}}.Figure(), "index 2"},
		{"count", Images{Data: digits(2), Count: 3}.Figure(), "Count 3 is not in [0, 2]"},
		{"labels", Images{Data: digits(2), Labels: []string{"a"}}.Figure(), "1 labels for 2 images"},
		{"too many", Images{Data: digits(MaxImages + 1)}.Figure(), "pick some with Index"},
		{"int data", Images{Data: tensor.New(tensor.WithShape(1, 2, 2), tensor.Of(tensor.Int))}.Figure(), "float32 or float64"},
		{"row of bad", Row(line().Figure(), Images{}.Figure()), "figure 1"},
		{"empty grid", Grid(2), "at least one"},
		{"grid cols", Grid(0, line().Figure()), "cols > 0, got 0"},
		{"nil figure", nil, "nil figure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := tc.fig.PNG(); err == nil || p != nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PNG() = %d bytes, %v; want an error containing %q", len(p), err, tc.want)
			}
			if _, err := tc.fig.Image(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Image() error = %v; want one containing %q", err, tc.want)
			}
			if _, err := tc.fig.SVG(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SVG() error = %v; want one containing %q", err, tc.want)
			}
			if err := tc.fig.Save(filepath.Join(t.TempDir(), "f.png")); err == nil {
				t.Error("Save succeeded")
			}
		})
	}
}

// TestNonFinite: NaN and infinite values are left out, not an error: a
// diverging training run can still be drawn.
func TestNonFinite(t *testing.T) {
	c := Chart{LogY: true, Series: []Series{{Label: "loss", Y: []float64{2, 1, nan(), inf(), 0.5, 0, -1, 0.25}}}}
	segs := segments(c.Series[0], false, true)
	if len(segs) != 3 || len(segs[0]) != 2 || len(segs[1]) != 1 || len(segs[2]) != 1 {
		t.Errorf("segments = %v, want [[0 2] [1 1]] [[4 0.5]] [[7 0.25]]", segs)
	}
	if segs := segments(Series{Y: []float64{nan()}}, false, false); len(segs) != 0 {
		t.Errorf("segments of one NaN = %v, want none", segs)
	}
	// On a log x axis, x = 0 is left out.
	if segs := segments(Series{Y: []float64{1, 2, 3}}, true, false); len(segs) != 1 || len(segs[0]) != 2 {
		t.Errorf("segments on log x = %v, want [[1 2] [2 3]]", segs)
	}
	if _, err := (Chart{LogX: true, Series: []Series{{Y: []float64{1, 2, 3}}}}).PNG(); err != nil {
		t.Errorf("log x chart: %v", err)
	}
	if _, err := c.PNG(); err != nil {
		t.Errorf("PNG() error: %v", err)
	}
}
