package keras

import (
	"math"
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// What the image augmentation layers (RandomFlip, RandomRotation,
// RandomTranslation, RandomZoom, RandomContrast) share. They act while
// training only and are the identity in Evaluate and Predict, as in
// Keras. Their random draws come from the model's seeded source, through
// a random input of the graph refilled before every step (as Dropout's
// masks), one draw per image; Keras' per-layer seed is not needed. Images
// are NHWC, (batch, height, width, channels).

// imageShape checks an augmentation layer's input.
func imageShape(class string, in []Shape) (Shape, error) {
	s, err := single(class, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, errors.Errorf("keras: %s takes (height, width, channels) images, got samples of shape %v", class, s)
	}
	return s, nil
}

// factorRange reads a Keras factor: one number f is (−|f|, |f|), two are
// (lower, upper) (sorted), each within [lo, hi].
func factorRange(class, field string, f []float64, lo, hi float64) (float64, float64, error) {
	var a, b float64
	switch len(f) {
	case 1:
		a, b = -math.Abs(f[0]), math.Abs(f[0])
	case 2:
		a, b = min(f[0], f[1]), max(f[0], f[1])
	default:
		return 0, 0, errors.Errorf("keras: %s %s must be one number or two (lower, upper), got %v", class, field, f)
	}
	for _, v := range f {
		if !(v >= lo && v <= hi) {
			return 0, 0, errors.Errorf("keras: %s %s %v: each number must be in [%v, %v]", class, field, f, lo, hi)
		}
	}
	return a, b, nil
}

// fillConfig checks and returns a geometric layer's fill settings.
func fillConfig(class, interpolation, fillMode string, fillValue float64) (ops.ImageTransformConfig, error) {
	cfg := ops.ImageTransformConfig{Interpolation: interpolation, FillMode: fillMode, FillValue: fillValue}
	switch interpolation {
	case "", "bilinear", "nearest":
	default:
		return cfg, errors.Errorf("keras: %s interpolation %q (want \"bilinear\" or \"nearest\")", class, interpolation)
	}
	switch fillMode {
	case "", "reflect", "wrap", "nearest", "constant":
	default:
		return cfg, errors.Errorf("keras: %s fill mode %q (want \"reflect\", \"wrap\", \"nearest\" or \"constant\")", class, fillMode)
	}
	return cfg, nil
}

// transformImages applies, while training, one transform per image drawn
// by draw (given the image height and width) into its 8 numbers.
func transformImages(ctx *graph.Context, b *Base, x *gorgonia.Node, cfg ops.ImageTransformConfig,
	draw func(rng *rand.Rand, h, w int, t []float64)) (*gorgonia.Node, error) {
	if !ctx.Training() {
		return x, nil
	}
	s := x.Shape()
	h, w := s[1], s[2]
	tr := ctx.RandomInput(b.name+"/transform", []int{s[0], 8}, func(rng *rand.Rand, t *tensor.Dense) {
		v := make([]float64, t.Shape().TotalSize())
		for i := 0; i < s[0]; i++ {
			draw(rng, h, w, v[i*8:(i+1)*8])
		}
		setValues(t, v)
	})
	return ops.ImageTransform(x, tr, cfg)
}

// uniform draws from [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
