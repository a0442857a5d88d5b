package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The small ops around the fused cells: the input projection, the first
// pack, the outputs read from the packs, and the gathered gradients.

// rnnProject is P = (X ⊙ dm)·K, (batch, steps, G·units).
func rnnProject(g *rnnGeom, X, K, dm *gorgonia.Node) (*gorgonia.Node, error) {
	inputs := []*gorgonia.Node{X, K}
	dims := []int{3, 2}
	d := -1
	if dm != nil {
		d, inputs, dims = 2, append(inputs, dm), append(dims, 3)
	}
	gu := g.gates * g.units
	var sc rnnScratch
	op := &customOp{
		id:     fmt.Sprintf("RNNProject(%s)", g.id),
		arity:  len(inputs),
		typ:    fnType(append(dims, 3)...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.steps, gu}, nil },
		noDiff: []int{2},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() {
					rnnProjectForward(g, rnn32(out), rnn32(in[0]), rnn32(in[1]), rnnOpt32(in, d), g.inputGates, &sc)
				},
				func() {
					rnnProjectForward(g, rnn64(out), rnn64(in[0]), rnn64(in[1]), rnnOpt64(in, d), g.inputGates, &sc)
				})
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := rnnProjectGrad(g, "X", grad, in[1], rnnOpt(in, d))
			if err != nil {
				return nil, err
			}
			dk, err := rnnProjectGrad(g, "K", grad, in[0], rnnOpt(in, d))
			if err != nil {
				return nil, err
			}
			res := gorgonia.Nodes{dx, dk}
			if d >= 0 {
				res = append(res, nil)
			}
			return res, nil
		},
	}
	return apply(op, inputs...)
}

// rnnProjectGrad is the gradient of the projection with respect to X
// (other = K) or K (other = X).
func rnnProjectGrad(g *rnnGeom, wrt string, grad, other, dm *gorgonia.Node) (*gorgonia.Node, error) {
	inputs := []*gorgonia.Node{grad, other}
	dims := []int{3, other.Dims()}
	d := -1
	if dm != nil {
		d, inputs, dims = 2, append(inputs, dm), append(dims, 3)
	}
	shape := tensor.Shape{g.batch, g.steps, g.feat}
	if wrt == "K" {
		shape = tensor.Shape{g.feat, g.gates * g.units}
	}
	var sc rnnScratch
	op := &customOp{
		id:    fmt.Sprintf("RNNProjectGrad%s(%s)", wrt, g.id),
		arity: len(inputs),
		typ:   fnType(append(dims, len(shape))...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			if wrt == "X" {
				return rnnDispatch(out,
					func() { rnnProjectGradX(g, rnn32(out), rnn32(in[0]), rnn32(in[1]), rnnOpt32(in, d), g.inputGates, &sc) },
					func() { rnnProjectGradX(g, rnn64(out), rnn64(in[0]), rnn64(in[1]), rnnOpt64(in, d), g.inputGates, &sc) })
			}
			return rnnDispatch(out,
				func() { rnnProjectGradK(g, rnn32(out), rnn32(in[1]), rnn32(in[0]), rnnOpt32(in, d), g.inputGates, &sc) },
				func() { rnnProjectGradK(g, rnn64(out), rnn64(in[1]), rnn64(in[0]), rnnOpt64(in, d), g.inputGates, &sc) })
		},
	}
	return apply(op, inputs...)
}

// rnnInitialPack returns the pack before the first step: zeros, or the given
// initial states (then trainable reports that they take a gradient).
func rnnInitialPack(g *rnnGeom, in RecurrentInputs) (pack *gorgonia.Node, trainable bool, err error) {
	if in.H0 == nil && in.C0 == nil {
		zero := tensor.New(tensor.Of(g.dt), tensor.WithShape(g.batch, g.width))
		return gorgonia.NodeFromAny(in.X.Graph(), zero, gorgonia.WithName(g.id+".zero_state")), false, nil
	}
	var inputs []*gorgonia.Node
	var offs []int
	for i, s := range []*gorgonia.Node{in.H0, in.C0} {
		if s != nil {
			inputs, offs = append(inputs, s), append(offs, i*g.units)
		}
	}
	op := &customOp{
		id:    fmt.Sprintf("RNNInitialState(%s)%v", g.id, offs),
		arity: len(inputs),
		typ:   fnType(append(rnnRepeat(2, len(inputs)), 2)...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.width}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() { rnnPlaceStates(g, rnn32(out), offs, func(i int) []float32 { return rnn32(in[i]) }) },
				func() { rnnPlaceStates(g, rnn64(out), offs, func(i int) []float64 { return rnn64(in[i]) }) })
		},
		diff: func(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			res := make(gorgonia.Nodes, len(offs))
			for i, off := range offs {
				var err error
				if res[i], err = rnnPackPart(g, grad, off, nil, rnnFactorNone, 0); err != nil {
					return nil, err
				}
			}
			return res, nil
		},
	}
	pack, err = apply(op, inputs...)
	return pack, true, err
}

// rnnPlaceStates writes states (batch, u) at column offsets of zero packs.
func rnnPlaceStates[T float](g *rnnGeom, out []T, offs []int, state func(i int) []T) {
	clear(out)
	u, S := g.units, g.width
	for i, off := range offs {
		s := state(i)
		for bi := 0; bi < g.batch; bi++ {
			copy(out[bi*S+off:bi*S+off+u], s[bi*u:(bi+1)*u])
		}
	}
}

// rnnFactor says how the mask scales an output read from a pack.
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

// rnnPackPart reads u columns at off of a pack, scaled by the mask factor of
// step t: the last output, or a final state.
func rnnPackPart(g *rnnGeom, pack *gorgonia.Node, off int, mask *gorgonia.Node, mode rnnFactor, t int) (*gorgonia.Node, error) {
	return rnnPartOp(g, false, pack, off, mask, mode, t)
}

// rnnPartOp reads a part of a pack (place false) or writes a gradient into a
// zero pack (place true); each is the other's gradient.
func rnnPartOp(g *rnnGeom, place bool, x *gorgonia.Node, off int, mask *gorgonia.Node, mode rnnFactor, t int) (*gorgonia.Node, error) {
	if mask == nil {
		mode = rnnFactorNone
	}
	inputs := []*gorgonia.Node{x}
	dims := []int{2}
	m := -1
	if mode != rnnFactorNone {
		m, inputs, dims = 1, append(inputs, mask), append(dims, 2)
	}
	u, S := g.units, g.width
	shape := tensor.Shape{g.batch, u}
	name := "RNNPackPart"
	if place {
		shape, name = tensor.Shape{g.batch, S}, "RNNPackPlace"
	}
	op := &customOp{
		id:     fmt.Sprintf("%s(%s,off=%d,mode=%d,t=%d)", name, g.id, off, mode, t),
		arity:  len(inputs),
		typ:    fnType(append(dims, 2)...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() { rnnCopyPart(g, place, rnn32(out), rnn32(in[0]), off, rnnMaskOf(in, m), mode, t) },
				func() { rnnCopyPart(g, place, rnn64(out), rnn64(in[0]), off, rnnMaskOf(in, m), mode, t) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			d, err := rnnPartOp(g, !place, grad, off, rnnOpt(in, m), mode, t)
			res := gorgonia.Nodes{d}
			if m >= 0 {
				res = append(res, nil)
			}
			return res, err
		},
	}
	return apply(op, inputs...)
}

func rnnCopyPart[T float](g *rnnGeom, place bool, out, x []T, off int, mask rnnMask, mode rnnFactor, t int) {
	u, S := g.units, g.width
	if place {
		clear(out)
	}
	for bi := 0; bi < g.batch; bi++ {
		f := T(g.factor(mode, mask, bi, t))
		var src, dst []T
		if place {
			src, dst = x[bi*u:(bi+1)*u], out[bi*S+off:bi*S+off+u]
		} else {
			src, dst = x[bi*S+off:bi*S+off+u], out[bi*u:(bi+1)*u]
		}
		for j := range dst {
			dst[j] = f * src[j]
		}
	}
}

// rnnStackOutputs is the output sequence (batch, steps, u): step t's h,
// scaled by its mask factor, at position t (or at its input position with
// InputOrder).
func rnnStackOutputs(g *rnnGeom, packs []*gorgonia.Node, mask *gorgonia.Node, mode rnnFactor) (*gorgonia.Node, error) {
	inputs := append([]*gorgonia.Node(nil), packs...)
	m := -1
	if mode != rnnFactorNone {
		m, inputs = len(inputs), append(inputs, mask)
	}
	op := &customOp{
		id:     fmt.Sprintf("RNNSequence(%s,mode=%d)", g.id, mode),
		arity:  len(inputs),
		typ:    fnType(append(rnnRepeat(2, len(inputs)), 3)...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.steps, g.units}, nil },
		noDiff: []int{len(packs)},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() {
					rnnStackSeq(g, false, rnn32(out), func(t int) []float32 { return rnn32(in[t]) }, rnnMaskOf(in, m), mode, -1)
				},
				func() {
					rnnStackSeq(g, false, rnn64(out), func(t int) []float64 { return rnn64(in[t]) }, rnnMaskOf(in, m), mode, -1)
				})
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			res := make(gorgonia.Nodes, len(in))
			for t := range packs {
				var err error
				if res[t], err = rnnSeqGradStep(g, grad, rnnOpt(in, m), mode, t); err != nil {
					return nil, err
				}
			}
			return res, nil
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

// rnnStackSeq writes the output sequence from the packs (only >= 0: the
// gradient of step only's pack from the sequence's gradient seq).
func rnnStackSeq[T float](g *rnnGeom, grad bool, seq []T, pack func(t int) []T, mask rnnMask, mode rnnFactor, only int) {
	u, S, steps := g.units, g.width, g.steps
	for t := 0; t < steps; t++ {
		if only >= 0 && t != only {
			continue
		}
		p, s := pack(t), g.slot(t)
		for bi := 0; bi < g.batch; bi++ {
			f := T(g.factor(mode, mask, bi, t))
			row := seq[(bi*steps+s)*u : (bi*steps+s+1)*u]
			if grad {
				d := p[bi*S : (bi+1)*S]
				clear(d)
				for j := range row {
					d[j] = f * row[j]
				}
				continue
			}
			for j, v := range p[bi*S : bi*S+u] {
				row[j] = f * v
			}
		}
	}
}

// rnnSeqGradStep is the gradient of step t's pack from the gradient of
// the output sequence.
func rnnSeqGradStep(g *rnnGeom, grad, mask *gorgonia.Node, mode rnnFactor, t int) (*gorgonia.Node, error) {
	inputs := []*gorgonia.Node{grad}
	dims := []int{3}
	m := -1
	if mode != rnnFactorNone {
		m, inputs, dims = 1, append(inputs, mask), append(dims, 2)
	}
	op := &customOp{
		id:    fmt.Sprintf("RNNSequenceGrad(%s,mode=%d,t=%d)", g.id, mode, t),
		arity: len(inputs),
		typ:   fnType(append(dims, 2)...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.width}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() {
					rnnStackSeq(g, true, rnn32(in[0]), func(int) []float32 { return rnn32(out) }, rnnMaskOf(in, m), mode, t)
				},
				func() {
					rnnStackSeq(g, true, rnn64(in[0]), func(int) []float64 { return rnn64(out) }, rnnMaskOf(in, m), mode, t)
				})
		},
	}
	return apply(op, inputs...)
}

// rnnStackGradZ gathers the steps' input-side gate gradients into the
// gradient of P (batch, steps, G·u).
func rnnStackGradZ(g *rnnGeom, dzs []*gorgonia.Node) (*gorgonia.Node, error) {
	gu, W := g.gates*g.units, g.dzWidth()
	op := &customOp{
		id:    fmt.Sprintf("RNNProjectionGrad(%s)", g.id),
		arity: len(dzs),
		typ:   fnType(append(rnnRepeat(2, len(dzs)), 3)...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.steps, gu}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() { rnnGatherSteps(g, rnn32(out), func(t int) []float32 { return rnn32(in[t]) }, gu, W) },
				func() { rnnGatherSteps(g, rnn64(out), func(t int) []float64 { return rnn64(in[t]) }, gu, W) })
		},
	}
	return apply(op, dzs...)
}

func rnnGatherSteps[T float](g *rnnGeom, out []T, dz func(t int) []T, gu, W int) {
	for t := 0; t < g.steps; t++ {
		d, i := dz(t), g.idx(t)
		for bi := 0; bi < g.batch; bi++ {
			copy(out[(bi*g.steps+i)*gu:(bi*g.steps+i+1)*gu], d[bi*W:bi*W+gu])
		}
	}
}

// rnnRecKernelGradOp is the gradient of R over all steps. The reset-before
// GRU also reads each step's pack, whose r⊙h₋₁ multiplies the candidate's
// block of R.
func rnnRecKernelGradOp(g *rnnGeom, prevs, dzs, packs []*gorgonia.Node, rdrop *gorgonia.Node) (*gorgonia.Node, error) {
	T := g.steps
	inputs := append(append([]*gorgonia.Node(nil), prevs...), dzs...)
	dims := rnnRepeat(2, 2*T)
	rd := -1
	if rdrop != nil {
		rd, inputs, dims = 2*T, append(inputs, rdrop), append(dims, 3)
	}
	pk := -1
	if g.kind == GRUResetBeforeCell {
		pk, inputs, dims = len(inputs), append(inputs, packs...), append(dims, rnnRepeat(2, T)...)
	}
	var sc [3]rnnScratch
	op := &customOp{
		id:    fmt.Sprintf("RNNRecurrentKernelGrad(%s)", g.id),
		arity: len(inputs),
		typ:   fnType(append(dims, 2)...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.units, g.gates * g.units}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() {
					p, d := make([][]float32, T), make([][]float32, T)
					for t := range p {
						p[t], d[t] = rnn32(in[t]), rnn32(in[T+t])
					}
					rnnRecKernelGrad(g, rnn32(out), p, d, rnnOpt32(in, rd), sc[:])
					if pk >= 0 {
						s := make([][]float32, T)
						for t := range s {
							s[t] = rnn32(in[pk+t])
						}
						rnnResetBeforeKernelGrad(g, rnn32(out), s, d, sc[:])
					}
				},
				func() {
					p, d := make([][]float64, T), make([][]float64, T)
					for t := range p {
						p[t], d[t] = rnn64(in[t]), rnn64(in[T+t])
					}
					rnnRecKernelGrad(g, rnn64(out), p, d, rnnOpt64(in, rd), sc[:])
					if pk >= 0 {
						s := make([][]float64, T)
						for t := range s {
							s[t] = rnn64(in[pk+t])
						}
						rnnResetBeforeKernelGrad(g, rnn64(out), s, d, sc[:])
					}
				})
		},
	}
	return apply(op, inputs...)
}

// rnnBiasGradOp is the bias gradient: the gate-input gradients summed over
// steps and samples (GRU: input side, then recurrent side).
func rnnBiasGradOp(g *rnnGeom, dzs []*gorgonia.Node) (*gorgonia.Node, error) {
	gu, W := g.gates*g.units, g.dzWidth()
	shape := tensor.Shape{gu}
	if g.kind == GRUCell {
		shape = tensor.Shape{2, gu}
	}
	op := &customOp{
		id:    fmt.Sprintf("RNNBiasGrad(%s)", g.id),
		arity: len(dzs),
		typ:   fnType(append(rnnRepeat(2, len(dzs)), len(shape))...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() { rnnSumSteps(rnn32(out), func(t int) []float32 { return rnn32(in[t]) }, len(in), g.batch, W) },
				func() { rnnSumSteps(rnn64(out), func(t int) []float64 { return rnn64(in[t]) }, len(in), g.batch, W) })
		},
	}
	return apply(op, dzs...)
}

// rnnSumSteps sets out (W) to the sum of the rows of every dz (batch, W).
func rnnSumSteps[T float](out []T, dz func(t int) []T, steps, batch, W int) {
	clear(out)
	for t := 0; t < steps; t++ {
		d := dz(t)
		for bi := 0; bi < batch; bi++ {
			for j, v := range d[bi*W : (bi+1)*W] {
				out[j] += v
			}
		}
	}
}
