package ops

import (
	"fmt"
	"sync/atomic"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CellKind names a recurrent cell.
type CellKind int

const (
	// SimpleRNNCell: h = act(x·K + b + h₋₁·R).
	SimpleRNNCell CellKind = iota
	// LSTMCell: gates i, f, c, o (Keras' order, in blocks of K's columns);
	// c = f⊙c₋₁ + i⊙act(z_c), h = o⊙act(c), i, f, o through the recurrent
	// activation.
	LSTMCell
	// GRUCell is Keras' default GRU (reset_after): gates z, r, h;
	// h = z⊙h₋₁ + (1−z)⊙act(x·K_h + b_h + r⊙(h₋₁·R_h + rb_h)), with an
	// input bias b and a recurrent bias rb.
	GRUCell
	// GRUResetBeforeCell is Keras' GRU with reset_after=False (Cho et al.
	// 2014's original): the reset gate applies before the recurrent
	// product, h = z⊙h₋₁ + (1−z)⊙act(x·K_h + b_h + (r⊙h₋₁)·R_h), with one
	// bias (3·units).
	GRUResetBeforeCell
)

func (k CellKind) String() string {
	switch k {
	case SimpleRNNCell:
		return "SimpleRNN"
	case LSTMCell:
		return "LSTM"
	case GRUCell:
		return "GRU"
	case GRUResetBeforeCell:
		return "GRUResetBefore"
	}
	return fmt.Sprintf("CellKind(%d)", int(k))
}

// Gates is the number of gate blocks of the cell's kernels: 1, 4 or 3.
func (k CellKind) Gates() int {
	switch k {
	case LSTMCell:
		return 4
	case GRUCell, GRUResetBeforeCell:
		return 3
	}
	return 1
}

// RecurrentConfig configures Recurrent.
type RecurrentConfig struct {
	Cell CellKind
	// Activation defaults to "tanh", RecurrentActivation (the gates of
	// LSTM and GRU) to "sigmoid". See RecurrentActivationNames.
	Activation, RecurrentActivation string
	// GoBackwards processes the steps last to first.
	GoBackwards bool
	// ReturnSequences makes Output the output of every step, in the order
	// processed (reversed for GoBackwards, as Keras), rather than the last.
	ReturnSequences bool
	// ZeroOutputForMask outputs zeros at padded steps instead of the last
	// real output (Keras' zero_output_for_mask).
	ZeroOutputForMask bool
	// InputOrder puts the output sequence of a GoBackwards pass back in
	// the input's order, as Bidirectional does with its backward half.
	InputOrder bool
}

// RecurrentInputs are the nodes of one recurrent pass.
type RecurrentInputs struct {
	// X is the sequence (batch, steps, features).
	X *gorgonia.Node
	// Kernel (features, G·units), RecurrentKernel (units, G·units) and
	// Bias (G·units; GRU: (2, 3·units), input and recurrent biases), G
	// being Cell.Gates(). Bias may be nil.
	Kernel, RecurrentKernel, Bias *gorgonia.Node
	// H0 and C0 (LSTM only) are initial states (batch, units); nil means
	// zeros.
	H0, C0 *gorgonia.Node
	// Mask (batch, steps) marks real steps with 1 and padding with 0: a
	// padded step leaves the states as they were and outputs the last
	// real output (zeros before the first one), as Keras does.
	Mask *gorgonia.Node
	// InputDropout (batch, 1 or G, features) multiplies the input of every
	// step, one mask for all gates or one per gate; RecurrentDropout
	// (batch, G, units) multiplies h₋₁ before each gate's recurrent
	// product. Either may be nil. (Keras' dropout and recurrent_dropout:
	// the masks stay the same over the steps.)
	InputDropout, RecurrentDropout *gorgonia.Node
}

// RecurrentOutputs are Recurrent's results.
type RecurrentOutputs struct {
	// Output is (batch, steps, units) with ReturnSequences, else the last
	// output (batch, units).
	Output *gorgonia.Node
	// H and C (LSTM) are the final states (batch, units).
	H, C *gorgonia.Node
}

// Recurrent unrolls a recurrent layer over the steps of X, as Keras'
// RNN layer with an LSTM, GRU or SimpleRNN cell does, sharing the weights
// between steps:
//
//   - the input projections of all steps, X·Kernel, are one matrix product;
//   - each step is one fused op: the recurrent product h₋₁·R, the gates'
//     activations, the state update and the mask; its state ("pack",
//     batch × width) also keeps the gate activations for the gradient;
//   - the gradients of the projections, of R and of the bias are gathered
//     over all steps into one op each (one large matrix product rather
//     than one small product and one addition per step).
//
// Gradient notes: every step records the gradient of its gate inputs on a
// tape shared by the steps of this pass; the first step, which Gorgonia
// differentiates last (every other step depends on it), builds the
// gathered gradients from the tape. Padded steps get zero gradients.
func Recurrent(cfg RecurrentConfig, in RecurrentInputs) (*RecurrentOutputs, error) {
	g, err := newRNNGeom(cfg, in)
	if err != nil {
		return nil, err
	}
	P, err := rnnProject(g, in.X, in.Kernel, in.InputDropout)
	if err != nil {
		return nil, err
	}
	tape := &rnnTape{g: g, prevs: make([]*gorgonia.Node, g.steps), dz: make([]*gorgonia.Node, g.steps)}
	prev, trainInit, err := rnnInitialPack(g, in)
	if err != nil {
		return nil, err
	}
	packs := make([]*gorgonia.Node, g.steps)
	tape.packs = packs
	for t := 0; t < g.steps; t++ {
		tape.prevs[t] = prev
		if prev, err = rnnCellStep(tape, t, P, prev, trainInit, in); err != nil {
			return nil, err
		}
		packs[t] = prev
	}
	last := packs[g.steps-1]
	out := &RecurrentOutputs{}
	mode := rnnFactorNone
	if in.Mask != nil {
		mode = rnnFactorSeen
		if cfg.ZeroOutputForMask {
			mode = rnnFactorReal
		}
	}
	if cfg.ReturnSequences {
		out.Output, err = rnnStackOutputs(g, packs, in.Mask, mode)
	} else {
		out.Output, err = rnnPackPart(g, last, 0, in.Mask, mode, g.steps-1)
	}
	if err != nil {
		return nil, err
	}
	if out.H, err = rnnPackPart(g, last, 0, nil, rnnFactorNone, 0); err != nil {
		return nil, err
	}
	if g.kind == LSTMCell {
		if out.C, err = rnnPackPart(g, last, g.units, nil, rnnFactorNone, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rnnGeom is the geometry of one recurrent pass, shared by its ops.
type rnnGeom struct {
	kind                       CellKind
	batch, steps, feat, units  int
	gates                      int
	width                      int // of a pack
	backwards, inputOrder      bool
	act, ract                  *rnnAct
	id                         string // names the pass in op ids
	dt                         tensor.Dtype
	inputGates                 int // of the input dropout mask: 1 or gates
	hasBias, hasMask, hasRDrop bool
}

// idx is the input step processed at step t.
func (g *rnnGeom) idx(t int) int {
	if g.backwards {
		return g.steps - 1 - t
	}
	return t
}

// dzWidth is the width of a step's gate-input gradient: GRU keeps the
// input and recurrent sides apart.
func (g *rnnGeom) dzWidth() int {
	if g.kind == GRUCell {
		return 2 * g.gates * g.units
	}
	return g.gates * g.units
}

// rnnPasses numbers recurrent passes, so that no two ops of different passes
// hash alike.
var rnnPasses atomic.Int64

func newRNNGeom(cfg RecurrentConfig, in RecurrentInputs) (*rnnGeom, error) {
	if in.X == nil || in.Kernel == nil || in.RecurrentKernel == nil {
		return nil, errors.New("ops: Recurrent needs X, Kernel and RecurrentKernel")
	}
	xs, ks, rs := in.X.Shape(), in.Kernel.Shape(), in.RecurrentKernel.Shape()
	if xs.Dims() != 3 || xs[1] < 1 {
		return nil, errors.Errorf("ops: Recurrent needs a sequence (batch, steps, features) with steps ≥ 1, got %v", xs)
	}
	G := cfg.Cell.Gates()
	if cfg.Cell < SimpleRNNCell || cfg.Cell > GRUResetBeforeCell {
		return nil, errors.Errorf("ops: Recurrent: unknown cell %v", cfg.Cell)
	}
	if rs.Dims() != 2 || rs[1] != G*rs[0] || rs[0] < 1 {
		return nil, errors.Errorf("ops: %v recurrent kernel must be (units, %d·units), got %v", cfg.Cell, G, rs)
	}
	u := rs[0]
	if ks.Dims() != 2 || ks[0] != xs[2] || ks[1] != G*u {
		return nil, errors.Errorf("ops: %v kernel must be (%d, %d) for inputs %v, got %v", cfg.Cell, xs[2], G*u, xs, ks)
	}
	g := &rnnGeom{kind: cfg.Cell, batch: xs[0], steps: xs[1], feat: xs[2], units: u, gates: G,
		backwards: cfg.GoBackwards, inputOrder: cfg.InputOrder && cfg.GoBackwards, dt: in.X.Dtype(),
		id: fmt.Sprintf("%v#%d", cfg.Cell, rnnPasses.Add(1))}
	switch cfg.Cell {
	case SimpleRNNCell:
		g.width = u
	case LSTMCell:
		g.width = 7 * u // h, c, i, f, act(z_c), o, act(c)
	case GRUCell:
		g.width = 5 * u // h, z, r, candidate, recurrent part of the candidate
	case GRUResetBeforeCell:
		g.width = 5 * u // h, z, r, candidate, r⊙h₋₁ (⊙ its dropout mask)
	}
	var err error
	if g.act, err = rnnActivation(cfg.Activation, "tanh"); err != nil {
		return nil, err
	}
	if g.ract, err = rnnActivation(cfg.RecurrentActivation, "sigmoid"); err != nil {
		return nil, err
	}
	for _, n := range []*gorgonia.Node{in.Kernel, in.RecurrentKernel, in.Bias, in.H0, in.C0, in.Mask, in.InputDropout, in.RecurrentDropout} {
		if n != nil && n.Dtype() != g.dt {
			return nil, errors.Errorf("ops: Recurrent: all inputs must be %v, got %v", g.dt, n.Dtype())
		}
	}
	if b := in.Bias; b != nil {
		want := tensor.Shape{G * u}
		if cfg.Cell == GRUCell {
			want = tensor.Shape{2, G * u}
		}
		if !b.Shape().Eq(want) {
			return nil, errors.Errorf("ops: %v bias must be %v, got %v", cfg.Cell, want, b.Shape())
		}
		g.hasBias = true
	}
	state := tensor.Shape{g.batch, u}
	if in.H0 != nil && !in.H0.Shape().Eq(state) {
		return nil, errors.Errorf("ops: %v initial state h must be %v, got %v", cfg.Cell, state, in.H0.Shape())
	}
	if in.C0 != nil {
		if cfg.Cell != LSTMCell {
			return nil, errors.Errorf("ops: %v has no carry state c", cfg.Cell)
		}
		if !in.C0.Shape().Eq(state) {
			return nil, errors.Errorf("ops: LSTM initial state c must be %v, got %v", state, in.C0.Shape())
		}
	}
	if m := in.Mask; m != nil {
		if !m.Shape().Eq(tensor.Shape{g.batch, g.steps}) {
			return nil, errors.Errorf("ops: %v mask must be (batch, steps) = (%d, %d), got %v", cfg.Cell, g.batch, g.steps, m.Shape())
		}
		g.hasMask = true
	}
	if d := in.InputDropout; d != nil {
		ds := d.Shape()
		if ds.Dims() != 3 || ds[0] != g.batch || (ds[1] != 1 && ds[1] != G) || ds[2] != g.feat {
			return nil, errors.Errorf("ops: %v input dropout mask must be (%d, 1 or %d, %d), got %v", cfg.Cell, g.batch, G, g.feat, ds)
		}
		g.inputGates = ds[1]
	}
	if d := in.RecurrentDropout; d != nil {
		if !d.Shape().Eq(tensor.Shape{g.batch, G, u}) {
			return nil, errors.Errorf("ops: %v recurrent dropout mask must be (%d, %d, %d), got %v", cfg.Cell, g.batch, G, u, d.Shape())
		}
		g.hasRDrop = true
	}
	return g, nil
}

// rnnTape collects, during differentiation, each step's gate-input
// gradient; the previous packs are the steps' inputs.
type rnnTape struct {
	g     *rnnGeom
	prevs []*gorgonia.Node
	dz    []*gorgonia.Node
	packs []*gorgonia.Node // each step's output pack
}

// cell input positions: P, prev, R, then the optional ones.
type rnnSlots struct{ bias, mask, rdrop int }

func rnnSlotsOf(g *rnnGeom) rnnSlots {
	s, n := rnnSlots{-1, -1, -1}, 3
	if g.hasBias {
		s.bias, n = n, n+1
	}
	if g.hasMask {
		s.mask, n = n, n+1
	}
	if g.hasRDrop {
		s.rdrop = n
	}
	return s
}

// rnnCellStep applies step t's fused cell.
func rnnCellStep(tape *rnnTape, t int, P, prev *gorgonia.Node, trainableInit bool, in RecurrentInputs) (*gorgonia.Node, error) {
	g := tape.g
	sl := rnnSlotsOf(g)
	inputs := []*gorgonia.Node{P, prev, in.RecurrentKernel}
	dims := []int{3, 2, 2}
	if g.hasBias {
		inputs, dims = append(inputs, in.Bias), append(dims, in.Bias.Dims())
	}
	if g.hasMask {
		inputs, dims = append(inputs, in.Mask), append(dims, 2)
	}
	if g.hasRDrop {
		inputs, dims = append(inputs, in.RecurrentDropout), append(dims, 3)
	}
	noDiff := []int{}
	for _, i := range []int{sl.mask, sl.rdrop} {
		if i >= 0 {
			noDiff = append(noDiff, i)
		}
	}
	if t > 0 {
		// The first step returns the gathered gradients of these.
		noDiff = append(noDiff, 0, 2)
		if sl.bias >= 0 {
			noDiff = append(noDiff, sl.bias)
		}
	} else if !trainableInit {
		noDiff = append(noDiff, 1)
	}
	var sc [2]rnnScratch
	op := &customOp{
		id:     fmt.Sprintf("RNNCell(%s,t=%d)%v", g.id, t, []int{g.batch, g.width}),
		arity:  len(inputs),
		typ:    fnType(append(dims, 2)...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.width}, nil },
		noDiff: noDiff,
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() {
					rnnCellForward(g, t, rnn32(out), rnn32(in[0]), rnn32(in[1]), rnn32(in[2]), rnnOpt32(in, sl.bias),
						rnnMaskOf(in, sl.mask), rnnOpt32(in, sl.rdrop), sc[:])
				},
				func() {
					rnnCellForward(g, t, rnn64(out), rnn64(in[0]), rnn64(in[1]), rnn64(in[2]), rnnOpt64(in, sl.bias),
						rnnMaskOf(in, sl.mask), rnnOpt64(in, sl.rdrop), sc[:])
				})
		},
	}
	op.diff = func(ins gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
		return rnnCellDiff(tape, t, sl, ins, out, grad, t > 0 || trainableInit)
	}
	return apply(op, inputs...)
}

// rnnCellDiff is step t's gradient: its gate-input gradient goes on the tape,
// the previous pack gets its gradient here, and the first step also
// returns the gathered gradients of P, R and the bias.
func rnnCellDiff(tape *rnnTape, t int, sl rnnSlots, in gorgonia.Nodes, out, grad *gorgonia.Node, wantPrev bool) (gorgonia.Nodes, error) {
	g := tape.g
	res := make(gorgonia.Nodes, len(in))
	dz, err := rnnGradZ(g, t, grad, out, in[1], in[2], rnnOpt(in, sl.mask), rnnOpt(in, sl.rdrop))
	if err != nil {
		return nil, err
	}
	tape.dz[t] = dz
	if wantPrev {
		if res[1], err = rnnGradPrev(g, t, dz, grad, out, in[2], rnnOpt(in, sl.mask), rnnOpt(in, sl.rdrop)); err != nil {
			return nil, err
		}
	}
	if t > 0 {
		return res, nil
	}
	dzs := make([]*gorgonia.Node, g.steps)
	for i, d := range tape.dz {
		if d == nil {
			// A step Gorgonia did not differentiate does not reach the
			// loss: its gradient is zero.
			d = gorgonia.NodeFromAny(out.Graph(), tensor.New(tensor.Of(g.dt), tensor.WithShape(g.batch, g.dzWidth())),
				gorgonia.WithName(fmt.Sprintf("%s.zero_dz_%d", g.id, i)))
		}
		dzs[i] = d
	}
	if res[0], err = rnnStackGradZ(g, dzs); err != nil {
		return nil, err
	}
	if res[2], err = rnnRecKernelGradOp(g, tape.prevs, dzs, tape.packs, rnnOpt(in, sl.rdrop)); err != nil {
		return nil, err
	}
	if sl.bias >= 0 {
		if res[sl.bias], err = rnnBiasGradOp(g, dzs); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// rnnGradZ is step t's gate-input gradient (batch, dzWidth). The
// reset-before GRU also reads the recurrent kernel (and its dropout mask):
// its reset gate's gradient goes through the candidate's recurrent
// product.
func rnnGradZ(g *rnnGeom, t int, grad, pack, prev, R, mask, rdrop *gorgonia.Node) (*gorgonia.Node, error) {
	inputs := []*gorgonia.Node{grad, pack, prev}
	dims := []int{2, 2, 2}
	r, m, rd := -1, -1, -1
	if g.kind == GRUResetBeforeCell {
		r, inputs, dims = len(inputs), append(inputs, R), append(dims, 2)
	}
	if mask != nil {
		m, inputs, dims = len(inputs), append(inputs, mask), append(dims, 2)
	}
	if g.kind == GRUResetBeforeCell && rdrop != nil {
		rd, inputs, dims = len(inputs), append(inputs, rdrop), append(dims, 3)
	}
	var sc rnnScratch
	op := &customOp{
		id:    fmt.Sprintf("RNNCellGradZ(%s,t=%d)", g.id, t),
		arity: len(inputs),
		typ:   fnType(append(dims, 2)...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.dzWidth()}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() {
					rnnCellGradZ(g, t, rnn32(out), rnn32(in[0]), rnn32(in[1]), rnn32(in[2]), rnnMaskOf(in, m))
					if r >= 0 {
						rnnResetBeforeGradR(g, rnn32(out), rnn32(in[1]), rnn32(in[2]), rnn32(in[r]), rnnOpt32(in, rd), &sc)
					}
				},
				func() {
					rnnCellGradZ(g, t, rnn64(out), rnn64(in[0]), rnn64(in[1]), rnn64(in[2]), rnnMaskOf(in, m))
					if r >= 0 {
						rnnResetBeforeGradR(g, rnn64(out), rnn64(in[1]), rnn64(in[2]), rnn64(in[r]), rnnOpt64(in, rd), &sc)
					}
				})
		},
	}
	return apply(op, inputs...)
}

// rnnGradPrev is the gradient of step t's previous pack.
func rnnGradPrev(g *rnnGeom, t int, dz, grad, pack, R, mask, rdrop *gorgonia.Node) (*gorgonia.Node, error) {
	inputs := []*gorgonia.Node{dz, grad, pack, R}
	dims := []int{2, 2, 2, 2}
	m, rd := -1, -1
	if mask != nil {
		m, inputs, dims = len(inputs), append(inputs, mask), append(dims, 2)
	}
	if rdrop != nil {
		rd, inputs, dims = len(inputs), append(inputs, rdrop), append(dims, 3)
	}
	var sc [3]rnnScratch
	op := &customOp{
		id:    fmt.Sprintf("RNNCellGradPrev(%s,t=%d)", g.id, t),
		arity: len(inputs),
		typ:   fnType(append(dims, 2)...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{g.batch, g.width}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return rnnDispatch(out,
				func() {
					rnnCellGradPrev(g, t, rnn32(out), rnn32(in[0]), rnn32(in[1]), rnn32(in[2]), rnn32(in[3]), rnnMaskOf(in, m), rnnOpt32(in, rd), sc[:])
				},
				func() {
					rnnCellGradPrev(g, t, rnn64(out), rnn64(in[0]), rnn64(in[1]), rnn64(in[2]), rnn64(in[3]), rnnMaskOf(in, m), rnnOpt64(in, rd), sc[:])
				})
		},
	}
	return apply(op, inputs...)
}

// rnnRepeat returns n copies of v.
func rnnRepeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// rnnOpt returns in[i], or nil when i < 0.
func rnnOpt(in gorgonia.Nodes, i int) *gorgonia.Node {
	if i < 0 {
		return nil
	}
	return in[i]
}

func rnn32(d *tensor.Dense) []float32 { return d.Data().([]float32) }
func rnn64(d *tensor.Dense) []float64 { return d.Data().([]float64) }

func rnnOpt32(in []*tensor.Dense, i int) []float32 {
	if i < 0 {
		return nil
	}
	return rnn32(in[i])
}

func rnnOpt64(in []*tensor.Dense, i int) []float64 {
	if i < 0 {
		return nil
	}
	return rnn64(in[i])
}

// rnnMaskOf reads an optional mask input.
func rnnMaskOf(in []*tensor.Dense, i int) rnnMask {
	if i < 0 {
		return nil
	}
	switch d := in[i].Data().(type) {
	case []float32:
		return rnnMask32(d)
	case []float64:
		return rnnMask64(d)
	}
	return nil
}

// rnnDispatch runs the kernel of out's dtype.
func rnnDispatch(out *tensor.Dense, k32, k64 func()) error {
	return f32or64(out, func() error { k32(); return nil }, func() error { k64(); return nil })
}
