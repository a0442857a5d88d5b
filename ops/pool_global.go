package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GlobalMaxPool2D takes the maximum over height and width of x (batch,
// height, width, channels), giving (batch, channels). The gradient goes to
// the first maximum of each channel (in row-major order) on ties.
func GlobalMaxPool2D(x *gorgonia.Node) (*gorgonia.Node, error) {
	return globalPool("GlobalMaxPool2D", x, 2, true)
}

// GlobalAvgPool2D averages x (batch, height, width, channels) over height
// and width, giving (batch, channels).
func GlobalAvgPool2D(x *gorgonia.Node) (*gorgonia.Node, error) {
	return globalPool("GlobalAvgPool2D", x, 2, false)
}

// GlobalMaxPool1D takes the maximum over the steps of x (batch, steps,
// channels), giving (batch, channels).
func GlobalMaxPool1D(x *gorgonia.Node) (*gorgonia.Node, error) {
	return globalPool("GlobalMaxPool1D", x, 1, true)
}

// GlobalAvgPool1D averages x (batch, steps, channels) over the steps,
// giving (batch, channels).
func GlobalAvgPool1D(x *gorgonia.Node) (*gorgonia.Node, error) {
	return globalPool("GlobalAvgPool1D", x, 1, false)
}

// globalPool reduces the spatial axes of x, seen as (n, s, c).
func globalPool(name string, x *gorgonia.Node, rank int, isMax bool) (*gorgonia.Node, error) {
	n, h, w, c, err := spatial(name, "input", x.Shape(), rank)
	if err != nil {
		return nil, err
	}
	return apply(globalPoolOp(x.Shape(), n, h*w, c, isMax), x)
}

func globalPoolOp(xs tensor.Shape, n, s, c int, isMax bool) *customOp {
	xs = xs.Clone()
	kind := "Avg"
	if isMax {
		kind = "Max"
	}
	return checked(&customOp{
		id:    fmt.Sprintf("Global%sPool%v", kind, xs),
		arity: 1,
		typ:   fnType(len(xs), 2),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{n, c}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { globalReduce(y, in[0], s, c, isMax) },
				func(y []float64, in [][]float64) { globalReduce(y, in[0], s, c, isMax) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			args := gorgonia.Nodes{grad}
			if isMax {
				args = gorgonia.Nodes{in[0], grad}
			}
			dx, err := apply(globalPoolGradOp(xs, s, c, isMax), args...)
			return gorgonia.Nodes{dx}, err
		},
	}, xs)
}

// globalPoolGradOp maps (x, grad) for the maximum, grad for the mean, to
// the gradient of x. The mean's is linear, the adjoint of the mean, so its
// own gradient is the mean again.
func globalPoolGradOp(xs tensor.Shape, s, c int, isMax bool) *customOp {
	gs := tensor.Shape{xs[0], c}
	kind, arity, typ, want := "Avg", 1, fnType(2, len(xs)), []tensor.Shape{gs}
	if isMax {
		kind, arity, typ, want = "Max", 2, fnType(len(xs), 2, len(xs)), []tensor.Shape{xs, gs}
	}
	op := &customOp{
		id:    fmt.Sprintf("Global%sPool'%v", kind, xs),
		arity: arity,
		typ:   typ,
		shape: func([]tensor.Shape) (tensor.Shape, error) { return xs.Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			if isMax {
				return dispatch(out, in,
					func(dx []float32, in [][]float32) { globalMaxGrad(dx, in[0], in[1], s, c) },
					func(dx []float64, in [][]float64) { globalMaxGrad(dx, in[0], in[1], s, c) })
			}
			return dispatch(out, in,
				func(dx []float32, in [][]float32) { globalAvgGrad(dx, in[0], s, c) },
				func(dx []float64, in [][]float64) { globalAvgGrad(dx, in[0], s, c) })
		},
	}
	checked(op, want...)
	if !isMax {
		op.diff = func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			n := xs[0]
			dg, err := apply(globalPoolOp(xs, n, s, c, false), grad)
			return gorgonia.Nodes{dg}, err
		}
	}
	return op
}

// globalReduce sets y (n, c) to the maximum or the mean over s of x (n, s, c).
// Means are summed in float64.
func globalReduce[T float](y, x []T, s, c int, isMax bool) {
	acc := make([]float64, c)
	for i := 0; i < len(y); i += c {
		xn := x[i*s : (i+c)*s]
		yn := y[i : i+c]
		if isMax {
			copy(yn, xn[:c])
			for k := c; k < len(xn); k += c {
				for ch, v := range xn[k : k+c] {
					yn[ch] = max(yn[ch], v)
				}
			}
			continue
		}
		clear(acc)
		for k := 0; k < len(xn); k += c {
			for ch, v := range xn[k : k+c] {
				acc[ch] += float64(v)
			}
		}
		for ch, v := range acc {
			yn[ch] = T(v / float64(s))
		}
	}
}

// globalMaxGrad sets dx: each (image, channel) gradient goes to the first
// maximum.
func globalMaxGrad[T float](dx, x, grad []T, s, c int) {
	clear(dx)
	best := make([]T, c)
	at := make([]int, c)
	for i := 0; i < len(grad); i += c {
		base := i * s
		xn := x[base : base+s*c]
		copy(best, xn[:c])
		for ch := range at {
			at[ch] = ch
		}
		for k := c; k < len(xn); k += c {
			for ch, v := range xn[k : k+c] {
				b, a := best[ch], at[ch]
				if v > b {
					a = k + ch
				}
				best[ch], at[ch] = max(b, v), a
			}
		}
		for ch, gv := range grad[i : i+c] {
			dx[base+at[ch]] += gv
		}
	}
}

// globalAvgGrad sets dx[n, ·, c] = grad[n, c]/s.
func globalAvgGrad[T float](dx, grad []T, s, c int) {
	inv := 1 / T(s)
	for i := 0; i < len(grad); i += c {
		gn := grad[i : i+c]
		dn := dx[i*s : (i+c)*s]
		for k := 0; k < len(dn); k += c {
			for ch, v := range gn {
				dn[k+ch] = v * inv
			}
		}
	}
}
