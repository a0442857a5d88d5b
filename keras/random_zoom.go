package keras

import (
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// RandomZoom zooms each training image in or out about its centre by a
// random amount, as keras.layers.RandomZoom: HeightFactor is one number f
// for zooms in [−f, f] or two for [lower, upper], a positive value zooming
// out (the content shrinks by up to that fraction) and a negative one in;
// WidthFactor likewise, or nil to keep the aspect ratio (one draw for
// both). Pixels that come from outside are filled by FillMode (Keras'
// default "reflect") and read with Interpolation (default "bilinear").
// The identity outside training. Output shape = input shape; no weights.
type RandomZoom struct {
	Name string `json:"name,omitempty"`
	// HeightFactor is required: one number or two, each in [−1, 1].
	HeightFactor []float64 `json:"height_factor"`
	// WidthFactor, when given, zooms the width on its own.
	WidthFactor []float64 `json:"width_factor,omitempty"`
	// FillMode is "reflect" (""), "wrap", "nearest" or "constant".
	FillMode string `json:"fill_mode,omitempty"`
	// Interpolation is "bilinear" ("") or "nearest".
	Interpolation string `json:"interpolation,omitempty"`
	// FillValue fills with "constant" (Keras' default 0).
	FillValue float64 `json:"fill_value,omitempty"`
	Base
}

func init() { Register("RandomZoom", func() Layer { return &RandomZoom{} }) }

func (l *RandomZoom) ranges() (hlo, hhi, wlo, whi float64, err error) {
	if hlo, hhi, err = factorRange("RandomZoom", "height_factor", l.HeightFactor, -1, 1); err != nil || l.WidthFactor == nil {
		return
	}
	wlo, whi, err = factorRange("RandomZoom", "width_factor", l.WidthFactor, -1, 1)
	return
}

// OutputShape implements Layer.
func (l *RandomZoom) OutputShape(in []Shape) (Shape, error) {
	if _, _, _, _, err := l.ranges(); err != nil {
		return nil, err
	}
	if _, err := fillConfig("RandomZoom", l.Interpolation, l.FillMode, l.FillValue); err != nil {
		return nil, err
	}
	return imageShape("RandomZoom", in)
}

// Call implements Layer, with Keras' zoom matrix about ((W−1)/2, (H−1)/2).
func (l *RandomZoom) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	hlo, hhi, wlo, whi, err := l.ranges()
	if err != nil {
		return nil, err
	}
	cfg, err := fillConfig("RandomZoom", l.Interpolation, l.FillMode, l.FillValue)
	if err != nil {
		return nil, err
	}
	return transformImages(ctx, &l.Base, in[0], cfg, func(rng *rand.Rand, h, w int, t []float64) {
		zy := 1 + uniform(rng, hlo, hhi)
		zx := zy
		if l.WidthFactor != nil {
			zx = 1 + uniform(rng, wlo, whi)
		}
		clear(t)
		t[0], t[2] = zx, float64(w-1)/2*(1-zx)
		t[4], t[5] = zy, float64(h-1)/2*(1-zy)
	})
}
