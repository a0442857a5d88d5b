package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// L2Normalize divides x by its Euclidean norm along axis, as Keras'
// ops.normalize(x, axis, order=2) (used by the Dot layer's normalize):
//
//	y = x · rsqrt(max(Σ x², epsilon²))
//
// so a zero vector stays zero, with a finite gradient. Keras' epsilon is
// 1e-7.
func L2Normalize(x *gorgonia.Node, axis int, epsilon float64) (*gorgonia.Node, error) {
	xs := x.Shape()
	if axis < 0 || axis >= xs.Dims() {
		return nil, errors.Errorf("ops: L2Normalize: axis %d of a tensor of shape %v", axis, xs)
	}
	if !(epsilon >= 0) {
		return nil, errors.Errorf("ops: L2Normalize: epsilon %v must be >= 0", epsilon)
	}
	d := xs.Dims()
	floor := epsilon * epsilon
	op := &customOp{
		id:    fmt.Sprintf("L2Normalize(%d,%v,%d)", axis, epsilon, d),
		arity: 1,
		typ:   fnType(d, d),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			o, n, i := axisSplit(in[0].Shape(), axis)
			return dispatch(out, in,
				func(y []float32, x [][]float32) { l2Normalize(y, x[0], nil, o, n, i, floor) },
				func(y []float64, x [][]float64) { l2Normalize(y, x[0], nil, o, n, i, floor) })
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			gop := &customOp{
				id:    fmt.Sprintf("L2NormalizeGrad(%d,%v,%d)", axis, epsilon, d),
				arity: 2,
				typ:   fnType(d, d, d),
				do: func(out *tensor.Dense, in []*tensor.Dense) error {
					o, n, i := axisSplit(in[0].Shape(), axis)
					return dispatch(out, in,
						func(y []float32, x [][]float32) { l2Normalize(y, x[0], x[1], o, n, i, floor) },
						func(y []float64, x [][]float64) { l2Normalize(y, x[0], x[1], o, n, i, floor) })
				},
			}
			gx, err := apply(gop, in[0], g)
			return gorgonia.Nodes{gx}, err
		},
	}
	return apply(op, x)
}

// axisSplit views a shape as (outer, n, inner) around axis.
func axisSplit(s tensor.Shape, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for k, v := range s {
		switch {
		case k < axis:
			outer *= v
		case k > axis:
			inner *= v
		}
	}
	return outer, s[axis], inner
}

// l2Normalize sets out to x/‖x‖ along the middle axis of (outer, n,
// inner), or, given g, to the gradient g·r − x·r³·Σ g·x (r = 1/‖x‖; just
// g·r where the norm is clamped).
func l2Normalize[T float](out, x, g []T, outer, n, inner int, floor float64) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			var ss, gx float64
			for k := 0; k < n; k++ {
				v := float64(x[base+k*inner])
				ss += v * v
				if g != nil {
					gx += float64(g[base+k*inner]) * v
				}
			}
			clamped := ss < floor
			r := 1 / math.Sqrt(max(ss, floor))
			for k := 0; k < n; k++ {
				j := base + k*inner
				if g == nil {
					out[j] = T(float64(x[j]) * r)
					continue
				}
				d := float64(g[j]) * r
				if !clamped {
					d -= float64(x[j]) * r * r * r * gx
				}
				out[j] = T(d)
			}
		}
	}
}
