package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DropoutMaskFiller returns a function that fills a dropout mask: each
// entry is 0 with probability rate and 1/(1−rate) otherwise (inverted
// dropout, as in Keras, so the expected value of x·mask is x). It is meant
// for graph.Context.RandomInput, which refills the mask from the model's
// seeded source before every run.
//
// rate is clamped to [0, 1]: a rate of 0 or less (or NaN) keeps everything
// (a mask of ones), a rate of 1 or more drops everything (zeros, as Keras
// gives for rate 1). Layers should reject such rates before they get here.
// Tensors of other dtypes than float32 and float64 are left untouched.
func DropoutMaskFiller(rate float64) func(rng *rand.Rand, t *tensor.Dense) {
	if !(rate > 0) {
		rate = 0
	}
	keep := 0.0
	if rate < 1 {
		keep = 1 / (1 - rate)
	}
	return func(rng *rand.Rand, t *tensor.Dense) {
		switch d := t.Data().(type) {
		case []float32:
			fillMask(rng, d, rate, keep)
		case []float64:
			fillMask(rng, d, rate, keep)
		}
	}
}

func fillMask[T float](rng *rand.Rand, d []T, rate, keep float64) {
	k := T(keep)
	if rate == 0 || rate >= 1 {
		// Draw nothing: the mask is constant.
		for i := range d {
			d[i] = k
		}
		return
	}
	// Each 64-bit draw decides two entries, each by a 32-bit uniform u:
	// dropped when u < rate·2³² (so with probability rate, to 2⁻³²), with
	// no branch and no float conversion. The source is the same, the
	// masks differ from those of one Float64 per entry; a fifth of an MLP
	// training step went to drawing them that way.
	thr := uint64(math.Round(rate * (1 << 32)))
	kb := math.Float64bits(float64(k))
	fill := func(i int, u uint64) {
		// keepMask is all ones when u ≥ thr, else zero.
		keepMask := uint64(int64(thr-1-u) >> 63)
		d[i] = T(math.Float64frombits(kb & keepMask))
	}
	n := len(d) &^ 1
	for i := 0; i < n; i += 2 {
		u := rng.Uint64()
		fill(i, u>>32)
		fill(i+1, u&0xffffffff)
	}
	if n < len(d) {
		fill(n, rng.Uint64()>>32)
	}
}

// Dropout returns x·mask, the mask coming from DropoutMaskFiller (fed
// anew at every training step). The mask has x's shape, or x's rank with
// size 1 on the axes it is repeated over (Keras' noise_shape: a mask of
// shape (batch, 1, 1, channels) drops whole feature maps of an NHWC
// tensor). The gradient flows to x only: grad·mask.
//
// Unlike gorgonia.Dropout, whose gradient divides by the drop probability
// instead of the keep probability and whose random source cannot be
// seeded, the randomness here is an ordinary input.
func Dropout(x, mask *gorgonia.Node) (*gorgonia.Node, error) {
	xs, ms := x.Shape(), mask.Shape()
	if x.Dims() < 1 || xs.Dims() != ms.Dims() {
		return nil, errors.Errorf("ops: Dropout: mask shape %v does not fit input shape %v (want the same rank, each axis equal or 1)", ms, xs)
	}
	for k := range xs {
		if ms[k] != xs[k] && ms[k] != 1 {
			return nil, errors.Errorf("ops: Dropout: mask shape %v does not fit input shape %v (axis %d is %d, want %d or 1)", ms, xs, k, ms[k], xs[k])
		}
	}
	if x.Dtype() != mask.Dtype() {
		return nil, errors.Errorf("ops: Dropout: mask is %v, input is %v", mask.Dtype(), x.Dtype())
	}
	return apply(dropoutOp(x.Dims()), x, mask)
}

// dropoutOp multiplies its first input by its second, repeated over the
// axes where the second has size 1. Its gradient is itself applied to the
// incoming gradient.
func dropoutOp(d int) *customOp {
	op := &customOp{
		id:     fmt.Sprintf("Dropout(%d)", d),
		arity:  2,
		typ:    fnType(d, d, d),
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			xs, ms := in[0].Shape(), in[1].Shape()
			return dispatch(out, in,
				func(o []float32, in [][]float32) { maskMul(o, in[0], in[1], xs, ms) },
				func(o []float64, in [][]float64) { maskMul(o, in[0], in[1], xs, ms) })
		},
	}
	op.diff = func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
		// A fresh op: Gorgonia recycles the type an op returns, so a
		// customOp must not be applied twice.
		dx, err := apply(dropoutOp(d), grad, in[1])
		return gorgonia.Nodes{dx, nil}, err
	}
	return op
}

// maskMul sets out = x·m, m (shape ms) repeated over the axes of x (shape
// xs) where ms has size 1.
func maskMul[T float](out, x, m []T, xs, ms tensor.Shape) {
	if len(x) == len(m) {
		for i, v := range x {
			out[i] = v * m[i]
		}
		return
	}
	d := len(xs)
	if d == 0 || len(x) == 0 {
		return
	}
	// Strides of m in x's index space: 0 along repeated axes.
	strides := make([]int, d)
	s := 1
	for k := d - 1; k >= 0; k-- {
		if ms[k] != 1 {
			strides[k] = s
		}
		s *= ms[k]
	}
	inner, innerStride := xs[d-1], strides[d-1]
	idx := make([]int, d)
	j := 0 // offset in m of the current row
	for i := 0; i < len(x); i += inner {
		for k := range inner {
			out[i+k] = x[i+k] * m[j+k*innerStride]
		}
		for a := d - 2; a >= 0; a-- {
			idx[a]++
			j += strides[a]
			if idx[a] < xs[a] {
				break
			}
			j -= strides[a] * xs[a]
			idx[a] = 0
		}
	}
}
