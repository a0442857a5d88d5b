package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ops of a recurrent pass: the sequence op (forward), its gradient op,
// the gradients read out of it, and the outputs read from the sequence.
//
// The sequence op's output, (steps+2, batch, units), holds in slot 0 the
// initial h, in slot t+1 the h after step t (in processing order: the
// state carried on, which a padded step leaves as it was), and in the last
// slot the final c of an LSTM (zeros for the other cells).

// rnnSlots are the positions of the sequence op's optional inputs after
// X, Kernel and RecurrentKernel (-1 when absent).
type rnnSlots struct{ bias, h0, c0, mask, idrop, rdrop int }

func rnnSlotsOf(g *rnnGeom) rnnSlots {
	s, n := rnnSlots{-1, -1, -1, -1, -1, -1}, 3
	for _, f := range []struct {
		on  bool
		pos *int
	}{{g.hasBias, &s.bias}, {g.hasH0, &s.h0}, {g.hasC0, &s.c0}, {g.hasMask, &s.mask}, {g.hasInDrop, &s.idrop}, {g.hasRDrop, &s.rdrop}} {
		if f.on {
			*f.pos, n = n, n+1
		}
	}
	return s
}

// rnnSequence applies the sequence op of pass g.
func rnnSequence(g *rnnGeom, in RecurrentInputs) (*gorgonia.Node, error) {
	sl := rnnSlotsOf(g)
	inputs := []*gorgonia.Node{in.X, in.Kernel, in.RecurrentKernel}
	for _, n := range []*gorgonia.Node{in.Bias, in.H0, in.C0, in.Mask, in.InputDropout, in.RecurrentDropout} {
		if n != nil {
			inputs = append(inputs, n)
		}
	}
	dims := make([]int, len(inputs)+1)
	for i, n := range inputs {
		dims[i] = n.Dims()
	}
	dims[len(inputs)] = 3
	var noDiff []int
	for _, i := range []int{sl.mask, sl.idrop, sl.rdrop} {
		if i >= 0 {
			noDiff = append(noDiff, i)
		}
	}
	st := &rnnStash{}
	op := &customOp{
		id:     fmt.Sprintf("RNNSequence(%s)", g.id),
		arity:  len(inputs),
		typ:    fnType(dims...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.steps + 2, g.batch, g.units}, nil },
		noDiff: noDiff,
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { rnnForward(g, st, y, rnnArgsOf(in, sl)) },
				func(y []float64, in [][]float64) { rnnForward(g, st, y, rnnArgsOf(in, sl)) })
		},
	}
	op.diff = func(ins gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
		return rnnSequenceGrads(g, st, sl, ins, out, grad)
	}
	return apply(op, inputs...)
}

// rnnArgs are the sequence op's inputs by name (nil when absent).
type rnnArgs[T float] struct{ x, k, r, bias, h0, c0, mask, idrop, rdrop []T }

func rnnArgsOf[T float](in [][]T, sl rnnSlots) rnnArgs[T] {
	return rnnArgs[T]{x: in[0], k: in[1], r: in[2], bias: optAt(in, sl.bias), h0: optAt(in, sl.h0), c0: optAt(in, sl.c0),
		mask: optAt(in, sl.mask), idrop: optAt(in, sl.idrop), rdrop: optAt(in, sl.rdrop)}
}

// optAt returns in[i], or nil when i < 0.
func optAt[T any](in []T, i int) (t T) {
	if i >= 0 {
		t = in[i]
	}
	return t
}

// rnnGradLayout places the gradients in the gradient op's flat output:
// X, Kernel, RecurrentKernel, then bias, h0 and c0 when present.
type rnnGradLayout struct {
	off    [6]int // of x, k, r, bias, h0, c0 (-1: absent)
	shapes [6]tensor.Shape
	size   int
}

func rnnLayoutOf(g *rnnGeom) rnnGradLayout {
	gu := g.gates * g.units
	bias := tensor.Shape{gu}
	if g.kind == GRUCell {
		bias = tensor.Shape{2, gu}
	}
	l := rnnGradLayout{shapes: [6]tensor.Shape{{g.batch, g.steps, g.feat}, {g.feat, gu}, {g.units, gu}, bias,
		{g.batch, g.units}, {g.batch, g.units}}}
	for i, on := range []bool{true, true, true, g.hasBias, g.hasH0, g.hasC0} {
		l.off[i] = -1
		if on {
			l.off[i] = l.size
			l.size += l.shapes[i].TotalSize()
		}
	}
	return l
}

// rnnSequenceGrads applies the gradient op and reads each input's gradient
// out of it.
func rnnSequenceGrads(g *rnnGeom, st *rnnStash, sl rnnSlots, in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	inputs := []*gorgonia.Node{grad, out, in[0], in[1], in[2]}
	for _, i := range []int{sl.mask, sl.idrop, sl.rdrop} {
		if i >= 0 {
			inputs = append(inputs, in[i])
		}
	}
	dims := make([]int, len(inputs)+1)
	for i, n := range inputs {
		dims[i] = n.Dims()
	}
	dims[len(inputs)] = 1
	// The optional inputs of the gradient op, after dY, Y, X, K and R.
	gs := rnnSlots{-1, -1, -1, -1, -1, -1}
	n := 5
	for _, f := range []struct {
		on  bool
		pos *int
	}{{g.hasMask, &gs.mask}, {g.hasInDrop, &gs.idrop}, {g.hasRDrop, &gs.rdrop}} {
		if f.on {
			*f.pos, n = n, n+1
		}
	}
	lay := rnnLayoutOf(g)
	op := &customOp{
		id:    fmt.Sprintf("RNNSequenceGrad(%s)", g.id),
		arity: len(inputs),
		typ:   fnType(dims...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{lay.size}, nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(o, in,
				func(o []float32, in [][]float32) {
					rnnBackward(g, st, lay, o, in[0], in[1], rnnArgs[float32]{x: in[2], k: in[3], r: in[4],
						mask: optAt(in, gs.mask), idrop: optAt(in, gs.idrop), rdrop: optAt(in, gs.rdrop)})
				},
				func(o []float64, in [][]float64) {
					rnnBackward(g, st, lay, o, in[0], in[1], rnnArgs[float64]{x: in[2], k: in[3], r: in[4],
						mask: optAt(in, gs.mask), idrop: optAt(in, gs.idrop), rdrop: optAt(in, gs.rdrop)})
				})
		},
	}
	flat, err := apply(op, inputs...)
	if err != nil {
		return nil, err
	}
	res := make(gorgonia.Nodes, len(in))
	for i, pos := range []int{0, 1, 2, sl.bias, sl.h0, sl.c0} {
		if pos < 0 {
			continue
		}
		if res[pos], err = rnnGradPart(g, flat, lay.off[i], lay.shapes[i]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// rnnGradPart copies one input's gradient out of the gradient op's flat
// output.
func rnnGradPart(g *rnnGeom, flat *gorgonia.Node, off int, shape tensor.Shape) (*gorgonia.Node, error) {
	n := shape.TotalSize()
	op := &customOp{
		id:    fmt.Sprintf("RNNGradPart(%s,off=%d)%v", g.id, off, shape),
		arity: 1,
		typ:   fnType(1, len(shape)),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(o, in,
				func(o []float32, in [][]float32) { copy(o, in[0][off:off+n]) },
				func(o []float64, in [][]float64) { copy(o, in[0][off:off+n]) })
		},
	}
	return apply(op, flat)
}

// rnnFactor says how the mask scales an output read from the sequence.
type rnnFactor int

const (
	rnnFactorNone rnnFactor = iota // no mask: 1
	rnnFactorReal                  // 1 at real steps, 0 at padding (zero_output_for_mask)
	rnnFactorSeen                  // 1 once a real step has been processed (Keras' default)
)

// factor is the scale of row bi's output at step t (in processing order).
func (g *rnnGeom) factor(mode rnnFactor, mask rnnMask, bi, t int) float64 {
	switch mode {
	case rnnFactorReal:
		if rnnReal(g.maskAt(mask, bi, g.idx(t))) {
			return 1
		}
		return 0
	case rnnFactorSeen:
		for s := 0; s <= t; s++ {
			if rnnReal(g.maskAt(mask, bi, g.idx(s))) {
				return 1
			}
		}
		return 0
	}
	return 1
}

// rnnSlotOp reads slot s of the sequence (batch, units), scaled by the
// mask factor of step t (place false), or places a gradient (batch,
// units) into slot s of a zero sequence (place true); each is the other's
// gradient.
func rnnSlotOp(g *rnnGeom, place bool, x *gorgonia.Node, s int, mask *gorgonia.Node, mode rnnFactor, t int) (*gorgonia.Node, error) {
	if mask == nil {
		mode = rnnFactorNone
	}
	inputs := []*gorgonia.Node{x}
	dims := []int{x.Dims()}
	m := -1
	if mode != rnnFactorNone {
		m, inputs, dims = 1, append(inputs, mask), append(dims, 2)
	}
	shape, name := tensor.Shape{g.batch, g.units}, "RNNSlot"
	if place {
		shape, name = tensor.Shape{g.steps + 2, g.batch, g.units}, "RNNSlotPlace"
	}
	op := &customOp{
		id:     fmt.Sprintf("%s(%s,s=%d,mode=%d,t=%d)", name, g.id, s, mode, t),
		arity:  len(inputs),
		typ:    fnType(append(dims, len(shape))...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) {
					rnnCopySlot(g, place, o, in[0], s, rnnMaskOf(optAt(in, m)), mode, t)
				},
				func(o []float64, in [][]float64) {
					rnnCopySlot(g, place, o, in[0], s, rnnMaskOf(optAt(in, m)), mode, t)
				})
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			d, err := rnnSlotOp(g, !place, grad, s, optAt(in, m), mode, t)
			res := gorgonia.Nodes{d}
			if m >= 0 {
				res = append(res, nil)
			}
			return res, err
		},
	}
	return apply(op, inputs...)
}

func rnnCopySlot[T float](g *rnnGeom, place bool, out, x []T, s int, mask rnnMask, mode rnnFactor, t int) {
	bu := g.batch * g.units
	if place {
		clear(out)
		out, x = out[s*bu:(s+1)*bu], x[:bu]
	} else {
		out, x = out[:bu], x[s*bu:(s+1)*bu]
	}
	if mode == rnnFactorNone {
		copy(out, x)
		return
	}
	u := g.units
	for bi := 0; bi < g.batch; bi++ {
		f := T(g.factor(mode, mask, bi, t))
		for j, v := range x[bi*u : (bi+1)*u] {
			out[bi*u+j] = f * v
		}
	}
}

// rnnStackOutputs is the output sequence (batch, steps, units): step t's
// h, scaled by its mask factor, at position t (or at its input position
// with InputOrder).
func rnnStackOutputs(g *rnnGeom, seq, mask *gorgonia.Node, mode rnnFactor) (*gorgonia.Node, error) {
	return rnnStackOp(g, false, seq, mask, mode)
}

// rnnStackOp stacks the outputs (grad false) or, as its gradient, places
// the gradient of the output sequence into the slots of a zero sequence.
func rnnStackOp(g *rnnGeom, grad bool, x, mask *gorgonia.Node, mode rnnFactor) (*gorgonia.Node, error) {
	if mask == nil {
		mode = rnnFactorNone
	}
	inputs := []*gorgonia.Node{x}
	m := -1
	if mode != rnnFactorNone {
		m, inputs = 1, append(inputs, mask)
	}
	shape, name := tensor.Shape{g.batch, g.steps, g.units}, "RNNOutputs"
	if grad {
		shape, name = tensor.Shape{g.steps + 2, g.batch, g.units}, "RNNOutputsGrad"
	}
	dims := []int{3, 3}
	if m >= 0 {
		dims = []int{3, 2, 3}
	}
	op := &customOp{
		id:     fmt.Sprintf("%s(%s,mode=%d)", name, g.id, mode),
		arity:  len(inputs),
		typ:    fnType(dims...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { rnnStackSeq(g, grad, o, in[0], rnnMaskOf(optAt(in, m)), mode) },
				func(o []float64, in [][]float64) { rnnStackSeq(g, grad, o, in[0], rnnMaskOf(optAt(in, m)), mode) })
		},
		diff: func(in gorgonia.Nodes, _, dout *gorgonia.Node) (gorgonia.Nodes, error) {
			d, err := rnnStackOp(g, !grad, dout, optAt(in, m), mode)
			res := gorgonia.Nodes{d}
			if m >= 0 {
				res = append(res, nil)
			}
			return res, err
		},
	}
	return apply(op, inputs...)
}

// slot is the output position of step t.
func (g *rnnGeom) slot(t int) int {
	if g.inputOrder {
		return g.idx(t)
	}
	return t
}

// rnnStackSeq writes the output sequence from slots 1…steps of the
// sequence op's output (grad false: out is the output sequence, x the
// sequence), or the other way round for the gradient (slots 0 and last
// zero).
func rnnStackSeq[T float](g *rnnGeom, grad bool, out, x []T, mask rnnMask, mode rnnFactor) {
	u, steps, bu := g.units, g.steps, g.batch*g.units
	if grad {
		clear(out[:bu])
		clear(out[(steps+1)*bu:])
	}
	for t := 0; t < steps; t++ {
		s := g.slot(t)
		for bi := 0; bi < g.batch; bi++ {
			f := T(g.factor(mode, mask, bi, t))
			outRow, seqRow := (bi*steps+s)*u, (t+1)*bu+bi*u
			if grad {
				outRow, seqRow = seqRow, outRow
			}
			dst, src := out[outRow:outRow+u], x[seqRow:seqRow+u]
			if mode == rnnFactorNone {
				copy(dst, src)
				continue
			}
			for j, v := range src {
				dst[j] = f * v
			}
		}
	}
}
