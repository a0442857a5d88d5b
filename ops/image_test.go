package ops

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type numpyArray struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (a numpyArray) tensor() *tensor.Dense { return vec(a.Shape, append([]float64(nil), a.Data...)...) }

func loadNumpyImage(t *testing.T) map[string]numpyArray {
	t.Helper()
	b, err := os.ReadFile("testdata/numpy_image.json")
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 ops/testdata/numpy_image.py)", err)
	}
	var f struct {
		Cases map[string]numpyArray `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// TestImageTransformMatchesKeras compares rotations, zooms and
// translations with Keras 3's NumPy backend for every fill mode and
// interpolation.
func TestImageTransformMatchesKeras(t *testing.T) {
	ref := loadNumpyImage(t)
	for _, interp := range []string{"bilinear", "nearest"} {
		for _, fill := range []string{"reflect", "wrap", "nearest", "constant"} {
			cfg := ImageTransformConfig{Interpolation: interp, FillMode: fill, FillValue: 0.25}
			got := run1(t, func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return ImageTransform(in[0], in[1], cfg)
			}, ref["images"].tensor(), ref["transforms"].tensor())
			want := ref[interp+"_"+fill].Data
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Errorf("%s/%s: element %d = %.15g, want %.15g", interp, fill, i, got[i], want[i])
					break
				}
			}
		}
	}
	got := run1(t, func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return AdjustContrast(in[0], in[1], 0, 1)
	}, ref["images"].tensor(), ref["contrast_factors"].tensor())
	want := ref["contrast"].Data
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("contrast: element %d = %.15g, want %.15g", i, got[i], want[i])
		}
	}
}

func TestImageOpGradients(t *testing.T) {
	ref := loadNumpyImage(t)
	rng := rand.New(rand.NewPCG(61, 62))
	for _, interp := range []string{"bilinear", "nearest"} {
		for _, fill := range []string{"reflect", "wrap", "nearest", "constant"} {
			cfg := ImageTransformConfig{Interpolation: interp, FillMode: fill, FillValue: 0.25}
			err := gradcheck.Check(func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return ImageTransform(in[0], in[1], cfg)
			}, []*tensor.Dense{gradcheck.Random(rng, 0, 1, 3, 5, 6, 2), ref["transforms"].tensor()}, gradcheck.Options{Wrt: []int{0}})
			if err != nil {
				t.Errorf("ImageTransform %s/%s: %v", interp, fill, err)
			}
		}
	}
	// Factors that clip some pixels to [0.2, 0.8] and leave others.
	err := gradcheck.Check(func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return AdjustContrast(in[0], in[1], 0.2, 0.8)
	}, []*tensor.Dense{gradcheck.Random(rng, 0, 1, 2, 3, 4, 2), vec([]int{2}, 0.6, 1.8)}, gradcheck.Options{Wrt: []int{0}})
	if err != nil {
		t.Errorf("AdjustContrast: %v", err)
	}
}

func TestImageOpErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	n := func(name string, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float64, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name))
	}
	img, tr := n("img", 2, 3, 3, 1), n("tr", 2, 8)
	for i, cfg := range []ImageTransformConfig{{Interpolation: "bicubic"}, {FillMode: "mirror"}} {
		if _, err := ImageTransform(img, tr, cfg); err == nil {
			t.Errorf("config %d (%+v) accepted", i, cfg)
		}
	}
	if _, err := ImageTransform(img, n("tr6", 2, 6), ImageTransformConfig{}); err == nil {
		t.Error("transforms of 6 numbers accepted")
	}
	if _, err := AdjustContrast(img, n("f", 3), 0, 1); err == nil {
		t.Error("3 factors for 2 images accepted")
	}
	if _, err := AdjustContrast(img, n("f2", 2), 1, 1); err == nil {
		t.Error("empty value range accepted")
	}
}
