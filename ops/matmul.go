package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatMul returns op(a)·op(b) for matrices, op transposing its argument
// when the flag says so: a is (m, k), or (k, m) with transA; b is (k, n),
// or (n, k) with transB; the result is (m, n).
//
// It is gorgonia.Mul for matrices with two differences: its output buffer
// is kept from one run to the next (Gorgonia's matrix product allocates
// it anew on every step: 3.7 MB per training step of an MNIST MLP), and
// transposes never materialise (the gradients are MatMuls with flags).
// The product is one BLAS gemm call (internal/gemm, the BLAS Gorgonia is
// given too), the same call gorgonia.Mul makes, so the results are
// bitwise the same.
func MatMul(a, b *gorgonia.Node, transA, transB bool) (*gorgonia.Node, error) {
	if a.Dims() != 2 || b.Dims() != 2 {
		return nil, errors.Errorf("ops: MatMul wants matrices, got shapes %v and %v", a.Shape(), b.Shape())
	}
	if a.Dtype() != b.Dtype() {
		return nil, errors.Errorf("ops: MatMul: a is %v, b is %v", a.Dtype(), b.Dtype())
	}
	_, k := dims2(a.Shape(), transA)
	k2, _ := dims2(b.Shape(), transB)
	if k != k2 {
		return nil, errors.Errorf("ops: MatMul: inner sizes differ: %v%s · %v%s", a.Shape(), tick(transA), b.Shape(), tick(transB))
	}
	return apply(matMulOp(transA, transB), a, b)
}

// dims2 returns the (rows, cols) of a matrix of shape s, transposed or not.
func dims2(s tensor.Shape, trans bool) (int, int) {
	if trans {
		return s[1], s[0]
	}
	return s[0], s[1]
}

func tick(trans bool) string {
	if trans {
		return "ᵀ"
	}
	return ""
}

func matMulOp(transA, transB bool) *customOp {
	return &customOp{
		id:    fmt.Sprintf("MatMul(%v,%v)", transA, transB),
		arity: 2,
		typ:   fnType(2, 2, 2),
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			m, _ := dims2(in[0], transA)
			_, n := dims2(in[1], transB)
			return tensor.Shape{m, n}, nil
		},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return matMulInto(out, in[0], in[1], transA, transB)
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			return matMulGrads(in[0], in[1], g, transA, transB)
		},
	}
}

// matMulInto sets out = op(a)·op(b).
func matMulInto(out, a, b *tensor.Dense, transA, transB bool) error {
	m, k := dims2(a.Shape(), transA)
	_, n := dims2(b.Shape(), transB)
	return dispatch(out, nil,
		func(o []float32, _ [][]float32) {
			gemm(transA, transB, m, n, k, 1, a.Data().([]float32), a.Shape()[1], b.Data().([]float32), b.Shape()[1], 0, o, n)
		},
		func(o []float64, _ [][]float64) {
			gemm(transA, transB, m, n, k, 1, a.Data().([]float64), a.Shape()[1], b.Data().([]float64), b.Shape()[1], 0, o, n)
		})
}

// matMulGrads returns the gradients of op(a)·op(b) given g, as
// Gorgonia's own matrix product does: with C = A·B, dA = G·Bᵀ and
// dB = Aᵀ·G, and the transposed cases likewise, each one MatMul.
func matMulGrads(a, b, g *gorgonia.Node, transA, transB bool) (gorgonia.Nodes, error) {
	type prod struct {
		x, y   *gorgonia.Node
		tx, ty bool
	}
	var da, db prod
	switch {
	case !transA && !transB: // C = A·B
		da, db = prod{g, b, false, true}, prod{a, g, true, false}
	case !transA && transB: // C = A·Bᵀ
		da, db = prod{g, b, false, false}, prod{g, a, true, false}
	case transA && !transB: // C = Aᵀ·B
		da, db = prod{b, g, false, true}, prod{a, g, false, false}
	default: // C = Aᵀ·Bᵀ
		da, db = prod{b, g, true, true}, prod{g, a, true, true}
	}
	ga, err := MatMul(da.x, da.y, da.tx, da.ty)
	if err != nil {
		return nil, err
	}
	gb, err := MatMul(db.x, db.y, db.tx, db.ty)
	return gorgonia.Nodes{ga, gb}, err
}
