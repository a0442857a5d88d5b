package plot

import (
	"bytes"
	"image/color"
	"image/png"
	"testing"

	"gorgonia.org/tensor"
)

// TestImagesColours draws a 2×2 image at scale 10 and reads back the colour
// of each data pixel's square in the PNG.
func TestImagesColours(t *testing.T) {
	white := color.RGBA{255, 255, 255, 255}
	black := color.RGBA{0, 0, 0, 255}
	red := color.RGBA{255, 0, 0, 255}
	blue := color.RGBA{0, 0, 255, 255}
	tests := []struct {
		name string
		im   Images
		want [4]color.RGBA // pixels (0,0), (0,1), (1,0), (1,1) as (row, col)
	}{
		{"grey: max is ink, min is paper, middle is grey",
			Images{Data: tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0, 1, 0.5, 0}))},
			[4]color.RGBA{white, black, {128, 128, 128, 255}, white}},
		{"grey range is the image's own",
			Images{Data: tensor.New(tensor.WithShape(1, 2, 2), tensor.WithBacking([]float32{10, 20, 20, 10}))},
			[4]color.RGBA{white, black, black, white}},
		{"flat image is paper",
			Images{Data: tensor.New(tensor.WithShape(1, 2, 2, 1), tensor.WithBacking([]float32{3, 3, 3, 3}))},
			[4]color.RGBA{white, white, white, white}},
		{"signed: red positive, blue negative, symmetric range",
			Images{Signed: true, Data: tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{-2, 2, 0, 1}))},
			[4]color.RGBA{blue, red, white, {255, 128, 128, 255}}},
		{"RGB",
			Images{Data: tensor.New(tensor.WithShape(1, 2, 2, 3), tensor.WithBacking([]float64{1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0}))},
			[4]color.RGBA{red, blue, white, black}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.im.Scale = 10
			data, err := tc.im.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 28 || b.Dy() != 28 { // 4 + 20 + 4
				t.Fatalf("PNG is %d×%d, want 28×28", b.Dx(), b.Dy())
			}
			for k, want := range tc.want {
				r, c := k/2, k%2
				x, y := imagePad+10*c+5, imagePad+10*r+5
				if got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); !near(got, want) {
					t.Errorf("pixel (%d,%d) = %v, want %v", r, c, got, want)
				}
			}
		})
	}
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) bool { return x-y <= 2 || y-x <= 2 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

// TestImagesSharedRange: with SharedRange a faint image stays faint.
func TestImagesSharedRange(t *testing.T) {
	data := tensor.New(tensor.WithShape(2, 1, 1), tensor.WithBacking([]float64{1, 0.5}))
	g, err := Images{Data: data, SharedRange: true}.layout()
	if err != nil {
		t.Fatal(err)
	}
	// range [0.5, 1]: 1 is ink, 0.5 is paper.
	if got := g.imgs[0].RGBAAt(0, 0).R; got != 0 {
		t.Errorf("image 0 level = %d, want 0", got)
	}
	if got := g.imgs[1].RGBAAt(0, 0).R; got != 255 {
		t.Errorf("image 1 level = %d, want 255", got)
	}
	g, err = Images{Data: data, Index: []int{1}}.layout()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.imgs) != 1 || g.cellW != 56 {
		t.Errorf("Index {1}: %d images of %d px, want 1 of 56", len(g.imgs), g.cellW)
	}
}
