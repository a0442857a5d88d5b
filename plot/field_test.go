package plot

import (
	"bytes"
	"image/color"
	"image/png"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestFieldPoints(t *testing.T) {
	f := Field{XMin: 0, XMax: 4, YMin: 0, YMax: 2, Rows: 2, Cols: 2}
	p := f.Points()
	if !reflect.DeepEqual([]int(p.Shape()), []int{4, 2}) {
		t.Fatalf("shape %v, want (4, 2)", p.Shape())
	}
	// cell centres, top row first: (1, 1.5), (3, 1.5), (1, 0.5), (3, 0.5).
	if want := []float32{1, 1.5, 3, 1.5, 1, 0.5, 3, 0.5}; !reflect.DeepEqual(p.Data(), want) {
		t.Errorf("points %v, want %v", p.Data(), want)
	}
}

// quadrants spreads four values (top left, top right, bottom left, bottom
// right) over a 16×16 grid, k numbers per point.
func quadrants(k int, q [4][]float32) *tensor.Dense {
	var v []float32
	for r := 0; r < 16; r++ {
		for c := 0; c < 16; c++ {
			v = append(v, q[2*(r/8)+c/8]...)
		}
	}
	return tensor.New(tensor.WithShape(256, k), tensor.WithBacking(v))
}

// TestFieldColours draws a field filling a chart's data area and reads back
// the colour inside each quadrant.
func TestFieldColours(t *testing.T) {
	white := color.RGBA{255, 255, 255, 255}
	tests := []struct {
		name string
		data *tensor.Dense
		want [4]color.RGBA // top left, top right, bottom left, bottom right
	}{
		// Limit 2: 1 is half red (255, 128, 128), lightened two thirds
		// of the way to white.
		{"signed", quadrants(1, [4][]float32{{1}, {-1}, {0}, {2}}),
			[4]color.RGBA{{255, 212, 212, 255}, {212, 212, 255, 255}, white, {255, 170, 170, 255}}},
		{"classes", quadrants(3, [4][]float32{{0, 0, 1}, {0, 1, 0}, {0, 0, 1}, {0, 1, 0}}),
			[4]color.RGBA{lighten(palette[2]), lighten(palette[1]), lighten(palette[2]), lighten(palette[1])}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &Field{XMin: 0, XMax: 2, YMin: 0, YMax: 2, Rows: 16, Cols: 16, Data: tc.data}
			data, err := Chart{Field: f, XMin: 0, XMax: 2, YMin: 0, YMax: 2}.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			// The data area lies within the margins and axes of the default
			// 480×320 chart: roughly x in [50, 470], y in [10, 280]. Sample
			// inside each quadrant, away from its edges.
			xs, ys := []int{160, 370}, []int{75, 215}
			for k, want := range tc.want {
				x, y := xs[k%2], ys[k/2]
				if got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); !near(got, want) {
					t.Errorf("quadrant %d at (%d, %d) = %v, want %v", k, x, y, got, want)
				}
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	d := tensor.New(tensor.WithShape(3), tensor.Of(tensor.Float32))
	tests := []struct {
		f    Field
		want string
	}{
		{Field{Rows: 0, Cols: 2, XMax: 1, YMax: 1, Data: d}, "Rows, Cols > 0"},
		{Field{Rows: 2, Cols: 2, XMin: 1, XMax: 1, YMax: 1, Data: d}, "XMin < XMax"},
		{Field{Rows: 2, Cols: 2, XMax: 1, YMax: 1, Data: d}, "needs Data of shape (4) or (4, k), got (3)"},
		{Field{Rows: 1, Cols: 3, XMax: 1, YMax: 1, Data: tensor.New(tensor.WithShape(3, 1, 1), tensor.Of(tensor.Float32))}, "got (3, 1, 1)"},
		{Field{Rows: 2, Cols: 2, XMax: 1, YMax: 1}, "nil tensor"},
	}
	for _, tc := range tests {
		f := tc.f
		_, err := Chart{Field: &f}.PNG()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.f, err, tc.want)
		}
	}
}

func TestScatter(t *testing.T) {
	x := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float32{0, 1, 2, 3, 4, 5, 6, 7}))
	y := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{1, -1, 1, -1}))
	s, err := Scatter(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].Label != "class -1" || s[1].Label != "class 1" {
		t.Fatalf("series %+v, want class -1 then class 1", s)
	}
	if !reflect.DeepEqual(s[0].X, []float64{2, 6}) || !reflect.DeepEqual(s[0].Y, []float64{3, 7}) ||
		!reflect.DeepEqual(s[1].X, []float64{0, 4}) || !reflect.DeepEqual(s[1].Y, []float64{1, 5}) {
		t.Errorf("points %+v", s)
	}
	if s[0].Color != "#1f77b4" || s[1].Color != "#d62728" || !s[0].Points {
		t.Errorf("colours %s, %s (points %v), want blue and red points", s[0].Color, s[1].Color, s[0].Points)
	}
	if s, err := Scatter(x, y, []string{}...); err != nil || s[0].Label != "class -1" {
		t.Errorf("empty names: %v, %v; want default names", s, err)
	}
	s, err = Scatter(x, y, "no", "yes")
	if err != nil || s[1].Label != "yes" {
		t.Errorf("names: %v, %v", s, err)
	}
	if _, err := Scatter(x, y, "one"); err == nil || !strings.Contains(err.Error(), "1 names for 2 classes") {
		t.Errorf("one name: error %v", err)
	}
	if _, err := Scatter(y, y); err == nil || !strings.Contains(err.Error(), "(n, 2)") {
		t.Errorf("1-D x: error %v", err)
	}
}
