package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Permute reorders the axes of x: axis i of the result is axis perm[i] of
// x (NumPy's transpose(x, perm)). The result is a new contiguous tensor;
// the gradient is the inverse permutation of the incoming gradient.
func Permute(x *gorgonia.Node, perm ...int) (*gorgonia.Node, error) {
	xs := x.Shape()
	if len(perm) != xs.Dims() {
		return nil, errors.Errorf("ops: Permute: %d axes in %v for a tensor of shape %v", len(perm), perm, xs)
	}
	seen := make([]bool, len(perm))
	identity := true
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			return nil, errors.Errorf("ops: Permute: %v is not a permutation of the axes of %v", perm, xs)
		}
		seen[p] = true
		identity = identity && p == i
	}
	if identity {
		return x, nil
	}
	perm = append([]int(nil), perm...)
	d := len(perm)
	op := &customOp{
		id:    fmt.Sprintf("Permute%v", perm),
		arity: 1,
		typ:   fnType(d, d),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return permutedShape(in[0], perm), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			src := in[0].Shape()
			return dispatch(out, in,
				func(o []float32, x [][]float32) { permuteInto(o, x[0], src, perm) },
				func(o []float64, x [][]float64) { permuteInto(o, x[0], src, perm) })
		},
		diff: func(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			inv := make([]int, d)
			for i, p := range perm {
				inv[p] = i
			}
			gx, err := Permute(g, inv...)
			return gorgonia.Nodes{gx}, err
		},
	}
	return apply(op, x)
}

func permutedShape(s tensor.Shape, perm []int) tensor.Shape {
	out := make(tensor.Shape, len(perm))
	for i, p := range perm {
		out[i] = s[p]
	}
	return out
}

// permuteInto copies x (shape src) into out with its axes permuted; the
// innermost output axis is copied in one loop.
func permuteInto[T float](out, x []T, src tensor.Shape, perm []int) {
	d := len(perm)
	xstride := make([]int, d)
	s := 1
	for k := d - 1; k >= 0; k-- {
		xstride[k] = s
		s *= src[k]
	}
	shape := permutedShape(src, perm)
	stride := make([]int, d) // x's stride along each output axis
	for i, p := range perm {
		stride[i] = xstride[p]
	}
	inner, innerStride := shape[d-1], stride[d-1]
	idx := make([]int, d)
	j := 0
	for i := 0; i < len(out); i += inner {
		o := out[i : i+inner]
		for k := range o {
			o[k] = x[j+k*innerStride]
		}
		for a := d - 2; a >= 0; a-- {
			idx[a]++
			j += stride[a]
			if idx[a] < shape[a] {
				break
			}
			j -= stride[a] * shape[a]
			idx[a] = 0
		}
	}
}

// BatchMatMul multiplies matrices batch by batch: a is (n, m, k), or (n,
// k, m) with transA; b is (n, k, p), or (n, p, k) with transB; the result
// is (n, m, p). Each product is one BLAS gemm; the gradients are
// BatchMatMuls with flags, as MatMul's.
func BatchMatMul(a, b *gorgonia.Node, transA, transB bool) (*gorgonia.Node, error) {
	as, bs := a.Shape(), b.Shape()
	if as.Dims() != 3 || bs.Dims() != 3 || as[0] != bs[0] {
		return nil, errors.Errorf("ops: BatchMatMul wants (n, ·, ·) tensors with the same n, got %v and %v", as, bs)
	}
	if a.Dtype() != b.Dtype() {
		return nil, errors.Errorf("ops: BatchMatMul: a is %v, b is %v", a.Dtype(), b.Dtype())
	}
	_, k := dims2(as[1:], transA)
	k2, _ := dims2(bs[1:], transB)
	if k != k2 {
		return nil, errors.Errorf("ops: BatchMatMul: inner sizes differ: %v%s · %v%s", as, tick(transA), bs, tick(transB))
	}
	op := &customOp{
		id:    fmt.Sprintf("BatchMatMul(%v,%v)", transA, transB),
		arity: 2,
		typ:   fnType(3, 3, 3),
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			m, _ := dims2(in[0][1:], transA)
			_, p := dims2(in[1][1:], transB)
			return tensor.Shape{in[0][0], m, p}, nil
		},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			as, bs := in[0].Shape(), in[1].Shape()
			return dispatch(out, in,
				func(o []float32, x [][]float32) { batchGemm(o, x[0], x[1], as, bs, transA, transB) },
				func(o []float64, x [][]float64) { batchGemm(o, x[0], x[1], as, bs, transA, transB) })
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			return batchMatMulGrads(in[0], in[1], g, transA, transB)
		},
	}
	return apply(op, a, b)
}

func batchGemm[T float](out, a, b []T, as, bs tensor.Shape, transA, transB bool) {
	n := as[0]
	m, k := dims2(as[1:], transA)
	_, p := dims2(bs[1:], transB)
	sa, sb, so := as[1]*as[2], bs[1]*bs[2], m*p
	parallelFor(n, m*p*k, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gemm(transA, transB, m, p, k, 1, a[i*sa:(i+1)*sa], as[2], b[i*sb:(i+1)*sb], bs[2], 0, out[i*so:(i+1)*so], p)
		}
	})
}

// batchMatMulGrads mirrors matMulGrads batch by batch.
func batchMatMulGrads(a, b, g *gorgonia.Node, transA, transB bool) (gorgonia.Nodes, error) {
	type prod struct {
		x, y   *gorgonia.Node
		tx, ty bool
	}
	var da, db prod
	switch {
	case !transA && !transB:
		da, db = prod{g, b, false, true}, prod{a, g, true, false}
	case !transA && transB:
		da, db = prod{g, b, false, false}, prod{g, a, true, false}
	case transA && !transB:
		da, db = prod{b, g, false, true}, prod{a, g, false, false}
	default:
		da, db = prod{b, g, true, true}, prod{g, a, true, true}
	}
	ga, err := BatchMatMul(da.x, da.y, da.tx, da.ty)
	if err != nil {
		return nil, err
	}
	gb, err := BatchMatMul(db.x, db.y, db.tx, db.ty)
	return gorgonia.Nodes{ga, gb}, err
}
