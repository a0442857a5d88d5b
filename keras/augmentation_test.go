package keras

import (
	"math"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

func TestAugmentationLayerContract(t *testing.T) {
	for _, c := range augmentationContractCases() {
		runLayerTest(t, c)
	}
}

// augmentationContractCases are TestAugmentationLayerContract's cases (also
// listed in allContractCases).
func augmentationContractCases() []layerCase {
	img := []int{5, 6, 2}
	return []layerCase{
		{name: "RandomFlip", make: func() Layer { return &RandomFlip{} }, input: img, output: img},
		{name: "RandomFlip horizontal", make: func() Layer { return &RandomFlip{Mode: "horizontal"} }, input: img, output: img},
		{name: "RandomRotation", make: func() Layer { return &RandomRotation{Factor: []float64{0.2}} }, input: img, output: img},
		{name: "RandomRotation constant nearest", make: func() Layer {
			return &RandomRotation{Factor: []float64{-0.1, 0.3}, FillMode: "constant", Interpolation: "nearest", FillValue: 0.5}
		}, input: img, output: img},
		{name: "RandomTranslation", make: func() Layer {
			return &RandomTranslation{HeightFactor: []float64{0.2}, WidthFactor: []float64{-0.3, 0.1}, FillMode: "wrap"}
		}, input: img, output: img},
		{name: "RandomZoom", make: func() Layer { return &RandomZoom{HeightFactor: []float64{0.3}} }, input: img, output: img},
		{name: "RandomZoom width", make: func() Layer {
			return &RandomZoom{HeightFactor: []float64{-0.3, -0.1}, WidthFactor: []float64{0.2}, FillMode: "nearest"}
		}, input: img, output: img},
		{name: "RandomContrast", make: func() Layer { return &RandomContrast{Factor: []float64{0.5}, ValueRange: []float64{0, 1}} },
			input: img, output: img, lo: 0.2, hi: 0.8},
	}
}

// TestAugmentationTransforms checks what each layer does while training,
// with factors that leave no randomness, and that it does nothing at
// inference.
func TestAugmentationTransforms(t *testing.T) {
	const n = 4
	x := make([]float64, 2*n*n)
	for i := range x {
		x[i] = float64(i)
	}
	imgs := denseOf(tensor.Float64, x, 2, n, n, 1)
	at := func(v []float64, b, r, c int) float64 { return v[(b*n+r)*n+c] }
	cases := []struct {
		name string
		l    Layer
		want func(b, r, c int) float64
	}{
		// A quarter turn: output (r, c) reads input (row c, column n−1−r)
		// with Keras' matrix (x_in = cos·x − sin·y + …, y_in = sin·x + cos·y + …).
		{"rotation 90°", &RandomRotation{Factor: []float64{0.25, 0.25}, Interpolation: "nearest"},
			func(b, r, c int) float64 { return at(x, b, c, n-1-r) }},
		// Shift right by a quarter of the width, wrapping.
		{"translation", &RandomTranslation{HeightFactor: []float64{0, 0}, WidthFactor: []float64{0.25, 0.25}, FillMode: "wrap"},
			func(b, r, c int) float64 { return at(x, b, r, (c+n-1)%n) }},
		// Zoom factor −0.5 (in): coordinates halve about the centre 1.5.
		{"zoom in", &RandomZoom{HeightFactor: []float64{-0.5, -0.5}, Interpolation: "bilinear"},
			func(b, r, c int) float64 {
				ri, ci := 0.5*float64(r)+0.75, 0.5*float64(c)+0.75
				r0, c0 := int(ri), int(ci)
				fr, fc := ri-float64(r0), ci-float64(c0)
				return (1-fr)*((1-fc)*at(x, b, r0, c0)+fc*at(x, b, r0, c0+1)) + fr*((1-fc)*at(x, b, r0+1, c0)+fc*at(x, b, r0+1, c0+1))
			}},
	}
	for _, c := range cases {
		l := builtOn(t, c.l, tensor.Float64, []int{n, n, 1})
		y, _, _ := layerRun(t, l, graph.Train, tensor.Float64, []*tensor.Dense{imgs}, nil, nil)
		for b := 0; b < 2; b++ {
			for r := 0; r < n; r++ {
				for col := 0; col < n; col++ {
					if got, want := at(y, b, r, col), c.want(b, r, col); math.Abs(got-want) > 1e-12 {
						t.Fatalf("%s: image %d pixel (%d, %d) = %v, want %v", c.name, b, r, col, got, want)
					}
				}
			}
		}
		inf, _, _ := layerRun(t, l, graph.Infer, tensor.Float64, []*tensor.Dense{imgs}, nil, nil)
		if err := closeTo(inf, x, 0, 0); err != nil {
			t.Errorf("%s at inference: %v, want the input", c.name, err)
		}
	}
	// RandomFlip: each image is itself or its 180° turn (both flips from one draw).
	l := builtOn(t, &RandomFlip{}, tensor.Float64, []int{n, n, 1})
	y, _, _ := layerRun(t, l, graph.Train, tensor.Float64, []*tensor.Dense{imgs}, nil, nil)
	for b := 0; b < 2; b++ {
		same, turned := true, true
		for r := 0; r < n; r++ {
			for col := 0; col < n; col++ {
				same = same && at(y, b, r, col) == at(x, b, r, col)
				turned = turned && at(y, b, r, col) == at(x, b, n-1-r, n-1-col)
			}
		}
		if !same && !turned {
			t.Fatalf("RandomFlip image %d is neither the input nor its flip: %v", b, y)
		}
	}
	// RandomContrast stays within the value range.
	c := builtOn(t, &RandomContrast{Factor: []float64{0.9}, ValueRange: []float64{0, 10}}, tensor.Float64, []int{n, n, 1})
	y, _, _ = layerRun(t, c, graph.Train, tensor.Float64, []*tensor.Dense{imgs}, nil, nil)
	for i, v := range y {
		if v < 0 || v > 10 {
			t.Fatalf("RandomContrast pixel %d = %v, outside [0, 10]", i, v)
		}
	}
}

// TestAugmentationInModel: a seeded model augments repeatably, and an
// augmented model still evaluates on the raw images.
func TestAugmentationInModel(t *testing.T) {
	run := func() []float64 {
		m := NewSequential(&Input{Shape: []int{6, 6, 1}},
			&RandomRotation{Factor: []float64{0.1}}, &RandomZoom{HeightFactor: []float64{0.1}},
			&RandomTranslation{HeightFactor: []float64{0.1}, WidthFactor: []float64{0.1}},
			&RandomContrast{Factor: []float64{0.2}, ValueRange: []float64{0, 1}},
			&Flatten{}, &Dense{Units: 2, Activation: "softmax"})
		m.SetSeed(9)
		if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
			t.Fatal(err)
		}
		rng := newTestRand(3)
		x := randomTensor(rng, tensor.Float32, 0, 1, 16, 6, 6, 1)
		y := denseOf(tensor.Float32, []float64{0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0}, 16)
		if _, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 8}); err != nil {
			t.Fatal(err)
		}
		p, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		return Values(p)
	}
	a, b := run(), run()
	if err := closeTo(a, b, 0, 0); err != nil {
		t.Errorf("two seeded runs differ: %v", err)
	}
}
