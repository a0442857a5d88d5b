package keras

import (
	"math"
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// RandomRotation rotates each training image about its centre by a random
// angle, as keras.layers.RandomRotation: Factor is a fraction of a full
// turn, one number f for angles in [−f·360°, f·360°] or two for [lower,
// upper]; 0.1 rotates by up to ±36°. Pixels that come from outside the
// image are filled by FillMode (Keras' default "reflect"), and the image
// is read with Interpolation (default "bilinear"). The identity outside
// training. Output shape = input shape; no weights.
type RandomRotation struct {
	Name string `json:"name,omitempty"`
	// Factor is required: one number or two, each in [−1, 1].
	Factor []float64 `json:"factor"`
	// FillMode is "reflect" (""), "wrap", "nearest" or "constant".
	FillMode string `json:"fill_mode,omitempty"`
	// Interpolation is "bilinear" ("") or "nearest".
	Interpolation string `json:"interpolation,omitempty"`
	// FillValue fills with "constant" (Keras' default 0).
	FillValue float64 `json:"fill_value,omitempty"`
	Base
}

func init() { Register("RandomRotation", func() Layer { return &RandomRotation{} }) }

// OutputShape implements Layer.
func (l *RandomRotation) OutputShape(in []Shape) (Shape, error) {
	if _, _, err := factorRange("RandomRotation", "factor", l.Factor, -1, 1); err != nil {
		return nil, err
	}
	if _, err := fillConfig("RandomRotation", l.Interpolation, l.FillMode, l.FillValue); err != nil {
		return nil, err
	}
	return imageShape("RandomRotation", in)
}

// Call implements Layer, with Keras' rotation matrix about ((W−1)/2,
// (H−1)/2).
func (l *RandomRotation) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	lo, hi, err := factorRange("RandomRotation", "factor", l.Factor, -1, 1)
	if err != nil {
		return nil, err
	}
	cfg, err := fillConfig("RandomRotation", l.Interpolation, l.FillMode, l.FillValue)
	if err != nil {
		return nil, err
	}
	return transformImages(ctx, &l.Base, in[0], cfg, func(rng *rand.Rand, h, w int, t []float64) {
		rotationMatrix(t, uniform(rng, lo*360, hi*360), h, w)
	})
}

// rotationMatrix writes Keras' _compute_affine_matrix for a rotation by
// degrees about the image centre.
func rotationMatrix(t []float64, degrees float64, h, w int) {
	a := degrees * math.Pi / 180
	cos, sin := math.Cos(a), math.Sin(a)
	cx, cy := 0.5*float64(w-1), 0.5*float64(h-1)
	t[0], t[1], t[2] = cos, -sin, cx-cx*cos+cy*sin
	t[3], t[4], t[5] = sin, cos, cy-cx*sin-cy*cos
	t[6], t[7] = 0, 0
}
