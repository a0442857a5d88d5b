package keras

import (
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// RandomTranslation shifts each training image by a random fraction of its
// height and width, as keras.layers.RandomTranslation: HeightFactor and
// WidthFactor are one number f for shifts in [−f, f] of the size, or two
// for [lower, upper]; a positive shift moves the content down (right).
// Pixels that come from outside are filled by FillMode (Keras' default
// "reflect") and read with Interpolation (default "bilinear"). The
// identity outside training. Output shape = input shape; no weights.
type RandomTranslation struct {
	Name string `json:"name,omitempty"`
	// HeightFactor and WidthFactor are required: one number or two, each
	// in [−1, 1].
	HeightFactor []float64 `json:"height_factor"`
	WidthFactor  []float64 `json:"width_factor"`
	// FillMode is "reflect" (""), "wrap", "nearest" or "constant".
	FillMode string `json:"fill_mode,omitempty"`
	// Interpolation is "bilinear" ("") or "nearest".
	Interpolation string `json:"interpolation,omitempty"`
	// FillValue fills with "constant" (Keras' default 0).
	FillValue float64 `json:"fill_value,omitempty"`
	Base
}

func init() { Register("RandomTranslation", func() Layer { return &RandomTranslation{} }) }

func (l *RandomTranslation) ranges() (hlo, hhi, wlo, whi float64, err error) {
	if hlo, hhi, err = factorRange("RandomTranslation", "height_factor", l.HeightFactor, -1, 1); err != nil {
		return
	}
	wlo, whi, err = factorRange("RandomTranslation", "width_factor", l.WidthFactor, -1, 1)
	return
}

// OutputShape implements Layer.
func (l *RandomTranslation) OutputShape(in []Shape) (Shape, error) {
	if _, _, _, _, err := l.ranges(); err != nil {
		return nil, err
	}
	if _, err := fillConfig("RandomTranslation", l.Interpolation, l.FillMode, l.FillValue); err != nil {
		return nil, err
	}
	return imageShape("RandomTranslation", in)
}

// Call implements Layer, with Keras' translation matrix.
func (l *RandomTranslation) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	hlo, hhi, wlo, whi, err := l.ranges()
	if err != nil {
		return nil, err
	}
	cfg, err := fillConfig("RandomTranslation", l.Interpolation, l.FillMode, l.FillValue)
	if err != nil {
		return nil, err
	}
	return transformImages(ctx, &l.Base, in[0], cfg, func(rng *rand.Rand, h, w int, t []float64) {
		// Keras draws the height shift first, then the width shift.
		dy := uniform(rng, hlo, hhi) * float64(h)
		dx := uniform(rng, wlo, whi) * float64(w)
		clear(t)
		t[0], t[2], t[4], t[5] = 1, -dx, 1, -dy
	})
}
