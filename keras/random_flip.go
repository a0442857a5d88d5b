package keras

import (
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// RandomFlip flips each training image with probability 1/2, as
// keras.layers.RandomFlip: Mode "horizontal" (left-right), "vertical"
// (top-bottom) or "horizontal_and_vertical" (the default, ""), where, as
// in Keras 3, one draw per image decides both flips. The identity outside
// training. Output shape = input shape; no weights.
type RandomFlip struct {
	Name string `json:"name,omitempty"`
	// Mode is "horizontal", "vertical" or "horizontal_and_vertical" ("").
	Mode string `json:"mode,omitempty"`
	Base
}

func init() { Register("RandomFlip", func() Layer { return &RandomFlip{} }) }

// OutputShape implements Layer.
func (l *RandomFlip) OutputShape(in []Shape) (Shape, error) {
	switch l.Mode {
	case "", "horizontal", "vertical", "horizontal_and_vertical":
	default:
		return nil, errors.Errorf("keras: RandomFlip mode %q (want \"horizontal\", \"vertical\" or \"horizontal_and_vertical\")", l.Mode)
	}
	return imageShape("RandomFlip", in)
}

// Call implements Layer: a flip is the transform x → W−1−x (y → H−1−y),
// read exactly with nearest interpolation.
func (l *RandomFlip) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	horizontal := l.Mode != "vertical"
	vertical := l.Mode != "horizontal"
	cfg := ops.ImageTransformConfig{Interpolation: "nearest", FillMode: "nearest"}
	return transformImages(ctx, &l.Base, in[0], cfg, func(rng *rand.Rand, h, w int, t []float64) {
		clear(t)
		t[0], t[4] = 1, 1
		if rng.Float64() > 0.5 { // Keras flips where uniform() <= 0.5
			return
		}
		if horizontal {
			t[0], t[2] = -1, float64(w-1)
		}
		if vertical {
			t[4], t[5] = -1, float64(h-1)
		}
	})
}
