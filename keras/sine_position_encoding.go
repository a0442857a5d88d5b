package keras

import (
	"math"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SinePositionEncoding is the fixed sinusoidal encoding of positions of
// Vaswani et al. 2017, as keras-hub's keras_hub.layers.SinePositionEncoding:
// for inputs (batch, T, features) it outputs, at position p and feature i,
//
//	sin(p·w_i) for even i, cos(p·w_i) for odd i,  w_i = MaxWavelength^(−2⌊i/2⌋/features)
//
// repeated over the batch; add it to token embeddings. No weights (it is
// computed in float64 and rounded to the model's dtype); no mask passed on.
type SinePositionEncoding struct {
	Name string `json:"name,omitempty"`
	// MaxWavelength defaults to 10000.
	MaxWavelength float64 `json:"max_wavelength,omitempty"`
	Base
}

func init() { Register("SinePositionEncoding", func() Layer { return &SinePositionEncoding{} }) }

// OutputShape implements Layer.
func (l *SinePositionEncoding) OutputShape(in []Shape) (Shape, error) {
	return positionShape("SinePositionEncoding", in, 0)
}

// Call implements Layer.
func (l *SinePositionEncoding) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	s := in[0].Shape()
	T, D := s[1], s[2]
	wl := l.MaxWavelength
	if wl == 0 {
		wl = 10000
	}
	v := make([]float64, T*D)
	for p := 0; p < T; p++ {
		for i := 0; i < D; i++ {
			a := float64(p) * math.Pow(1/wl, float64(2*(i/2))/float64(D))
			if i%2 == 0 {
				v[p*D+i] = math.Sin(a)
			} else {
				v[p*D+i] = math.Cos(a)
			}
		}
	}
	c := gorgonia.NodeFromAny(ctx.G, denseLike(ctx.Dtype, v, 1, T, D), gorgonia.WithName(uniqueConstant(l.name+"/encoding")))
	return ops.BroadcastTo(c, tensor.Shape(s).Clone())
}
