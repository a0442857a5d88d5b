package keras

import (
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RandomContrast changes the contrast of each training image by a random
// factor, as keras.layers.RandomContrast: every channel becomes
// (x − mean)·factor + mean, mean being the channel's mean over the image,
// clipped to ValueRange. Factor is one number f for factors in [1−f, 1+f]
// (Keras' documented range) or two (lower, upper) for [1−lower, 1+upper],
// each in [0, 1]. The identity outside training. Output shape = input
// shape; no weights.
//
// Keras 3's code reads one number f as [1, 1+f] (it clamps the lower
// bound of (−f, f) to 0 before taking 1 − lower); Keragon follows the
// documentation: give [0, f] for Keras 3's behaviour.
type RandomContrast struct {
	Name string `json:"name,omitempty"`
	// Factor is required: one number or two, each in [0, 1].
	Factor []float64 `json:"factor"`
	// ValueRange is the (min, max) of the pixel values; nil means Keras'
	// (0, 255). Give []float64{0, 1} for images scaled to [0, 1].
	ValueRange []float64 `json:"value_range,omitempty"`
	Base
}

func init() { Register("RandomContrast", func() Layer { return &RandomContrast{} }) }

func (l *RandomContrast) settings() (lo, hi, vmin, vmax float64, err error) {
	switch len(l.Factor) {
	case 1:
		lo, hi = l.Factor[0], l.Factor[0]
	case 2:
		lo, hi = min(l.Factor[0], l.Factor[1]), max(l.Factor[0], l.Factor[1])
	default:
		return 0, 0, 0, 0, errors.Errorf("keras: RandomContrast factor must be one number or two, got %v", l.Factor)
	}
	if !(lo >= 0 && hi <= 1) {
		return 0, 0, 0, 0, errors.Errorf("keras: RandomContrast factor %v: each number must be in [0, 1]", l.Factor)
	}
	vmin, vmax = 0, 255
	if l.ValueRange != nil {
		if len(l.ValueRange) != 2 || !(l.ValueRange[0] < l.ValueRange[1]) {
			return 0, 0, 0, 0, errors.Errorf("keras: RandomContrast value range %v must be (min, max) with min < max", l.ValueRange)
		}
		vmin, vmax = l.ValueRange[0], l.ValueRange[1]
	}
	return lo, hi, vmin, vmax, nil
}

// OutputShape implements Layer.
func (l *RandomContrast) OutputShape(in []Shape) (Shape, error) {
	if _, _, _, _, err := l.settings(); err != nil {
		return nil, err
	}
	return imageShape("RandomContrast", in)
}

// Call implements Layer.
func (l *RandomContrast) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	lo, hi, vmin, vmax, err := l.settings()
	if err != nil || !ctx.Training() {
		return in[0], err
	}
	n := in[0].Shape()[0]
	f := ctx.RandomInput(l.name+"/factor", []int{n}, func(rng *rand.Rand, t *tensor.Dense) {
		v := make([]float64, n)
		for i := range v {
			v[i] = uniform(rng, 1-lo, 1+hi)
		}
		setValues(t, v)
	})
	return ops.AdjustContrast(in[0], f, vmin, vmax)
}
