package ops

import (
	"fmt"
	"strings"

	"github.com/keragon/keragon/internal/vmath"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fusable are the activations the fused ops apply themselves: those whose
// derivative follows from the output alone (unaryKernel.dfy). The others
// (softmax and sigmoid among them, which losses look through to their
// logits with LogitsOf and SigmoidLogitsOf) are applied as their own op
// after the fused one.
var fusable = map[string]*unaryKernel{
	"relu": reluK, "relu6": relu6K, "tanh": tanhK, "selu": seluK, "exponential": exponentialK,
}

// fusedKernel returns the kernel that the fused ops apply for activation
// name, nil for a linear one; ok is false when the activation must be
// applied as its own op.
func fusedKernel(name string) (k *unaryKernel, ok bool) {
	name = strings.ToLower(name)
	if name == "" || name == "linear" {
		return nil, true
	}
	k, ok = fusable[name]
	return k, ok && k.dfy != nil
}

// Dense returns activation(x·kernel + bias), x being (batch, in), kernel
// (in, units) and bias (units) or nil; activation is a name Activation
// accepts ("" is linear). It computes what MatMul, BiasAdd and the
// activation compose, bitwise (the same gemm call, then one pass that adds
// the bias and applies the activation), as one op whose output buffer is
// kept across runs. ReLU, ReLU6, tanh, SELU, exponential and linear are
// fused; other activations follow as their own op.
//
// Its gradient is four ops: the activation's derivative from the output,
// then MatMul with transpose flags for x and the kernel, and SumLeading
// for the bias.
func Dense(x, kernel, bias *gorgonia.Node, activation string) (*gorgonia.Node, error) {
	after, err := Activation(activation)
	if err != nil {
		return nil, err
	}
	xs, ks := x.Shape(), kernel.Shape()
	if x.Dims() != 2 || kernel.Dims() != 2 || xs[1] != ks[0] {
		return nil, errors.Errorf("ops: Dense: input %v and kernel %v do not make (batch, in)·(in, units)", xs, ks)
	}
	if x.Dtype() != kernel.Dtype() {
		return nil, errors.Errorf("ops: Dense: input is %v, kernel %v", x.Dtype(), kernel.Dtype())
	}
	in := gorgonia.Nodes{x, kernel}
	if bias != nil {
		if bias.Dims() != 1 || bias.Shape()[0] != ks[1] {
			return nil, errors.Errorf("ops: Dense: bias shape %v, want (%d)", bias.Shape(), ks[1])
		}
		in = append(in, bias)
	}
	k, fused := fusedKernel(activation)
	y, err := apply(denseOp(k, bias != nil), in...)
	if err != nil || fused {
		return y, err
	}
	return after(y)
}

// BiasActivation returns activation(x + bias), the bias (C) added along
// the last axis of x (…, C) as BiasAdd does; bias may be nil. Fusable
// activations (see Dense) are applied in the same pass, bitwise as the
// composed ops; the others follow as their own op.
func BiasActivation(x, bias *gorgonia.Node, activation string) (*gorgonia.Node, error) {
	after, err := Activation(activation)
	if err != nil {
		return nil, err
	}
	k, fused := fusedKernel(activation)
	if bias == nil || !fused {
		if bias != nil {
			if x, err = BiasAdd(x, bias); err != nil {
				return nil, err
			}
		}
		return after(x)
	}
	xs := x.Shape()
	if bias.Dims() != 1 || xs.Dims() < 1 || xs[len(xs)-1] != bias.Shape()[0] {
		return nil, errors.Errorf("ops: BiasActivation: bias shape %v does not match the last axis of %v", bias.Shape(), xs)
	}
	if k == nil {
		return BiasAdd(x, bias)
	}
	d := xs.Dims()
	op := &customOp{
		id:    fmt.Sprintf("BiasActivation(%d,%s%v)", d, k.name, k.params),
		arity: 2,
		typ:   fnType(d, 1, d),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return biasActInto(out, in[0], in[1], k)
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dz, err := activationGrad(k, out, grad)
			if err != nil {
				return nil, err
			}
			db, err := SumLeading(dz)
			return gorgonia.Nodes{dz, db}, err
		},
	}
	return apply(op, x, bias)
}

// denseOp maps (x, kernel[, bias]) to k(x·kernel + bias); k nil is linear.
func denseOp(k *unaryKernel, hasBias bool) *customOp {
	name, arity, typ := "linear", 2, fnType(2, 2, 2)
	if k != nil {
		name = fmt.Sprintf("%s%v", k.name, k.params)
	}
	if hasBias {
		arity, typ = 3, fnType(2, 2, 1, 2)
	}
	return &customOp{
		id:    fmt.Sprintf("Dense(%s,bias=%v)", name, hasBias),
		arity: arity,
		typ:   typ,
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{in[0][0], in[1][1]}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			if err := matMulInto(out, in[0], in[1], false, false); err != nil {
				return err
			}
			var b *tensor.Dense
			if hasBias {
				b = in[2]
			}
			if b == nil && k == nil {
				return nil
			}
			return biasActInto(out, out, b, k)
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dz, err := activationGrad(k, out, grad)
			if err != nil {
				return nil, err
			}
			grads, err := matMulGrads(in[0], in[1], dz, false, false)
			if err != nil || !hasBias {
				return grads, err
			}
			db, err := SumLeading(dz)
			return append(grads, db), err
		},
	}
}

// biasActInto sets out = k(x + b) along the last axis; b nil adds
// nothing, k nil applies nothing. out may be x.
func biasActInto(out, x, b *tensor.Dense, k *unaryKernel) error {
	c := lastAxis(x.Shape())
	return dispatch(out, nil,
		func(o []float32, _ [][]float32) {
			biasAct(o, x.Data().([]float32), dataOf[float32](b), c, k, k != nil && k.f32 != nil)
		},
		func(o []float64, _ [][]float64) { biasAct(o, x.Data().([]float64), dataOf[float64](b), c, k, false) })
}

// biasAct is biasActInto's kernel, over the cores by rows. fast selects
// k.f32, which must then be non-nil and T float32.
func biasAct[T float](out, x, b []T, c int, k *unaryKernel, fast bool) {
	// float32 with a bias and no activation or ReLU: one vector pass.
	vec := fast && k == reluK || k == nil && b != nil && isFloat32[T]()
	parallelElems(len(x), c, func(lo, hi int) {
		o, xs := out[lo:hi], x[lo:hi]
		if vec {
			vmath.BiasAct(any(o).([]float32), any(xs).([]float32), any(b).([]float32), k == reluK)
			return
		}
		if b != nil {
			for i := 0; i < len(xs); i += c {
				// Rows of len(b): no bounds checks in the loop.
				or, xr := o[i:i+len(b)], xs[i:i+len(b)]
				for j, v := range b {
					or[j] = xr[j] + v
				}
			}
			xs = o
		}
		switch {
		case k == nil:
			if b == nil {
				copy(o, xs)
			}
		case fast:
			k.f32(any(o).([]float32), any(xs).([]float32))
		default:
			for i, v := range xs {
				o[i] = T(k.f(float64(v)))
			}
		}
	})
}

// activationGrad returns g·k'(y) from the output y of a fused activation,
// and g itself when there is no activation (k nil: linear).
func activationGrad(k *unaryKernel, y, g *gorgonia.Node) (*gorgonia.Node, error) {
	if k == nil {
		return g, nil
	}
	op := &customOp{
		id:    fmt.Sprintf("%s%v'(y)", k.name, k.params),
		arity: 2,
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) {
					dst, y, g := o, in[0], in[1]
					if k.dfy32 != nil {
						parallelElems(len(dst), 16, func(lo, hi int) { k.dfy32(dst[lo:hi], y[lo:hi], g[lo:hi]) })
						return
					}
					gradFromOutput(dst, y, g, k.dfy)
				},
				func(o []float64, in [][]float64) { gradFromOutput(o, in[0], in[1], k.dfy) })
		},
	}
	return apply(op, y, g)
}
