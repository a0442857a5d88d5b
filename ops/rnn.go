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

// Recurrent runs a recurrent layer over the steps of X, as Keras' RNN
// layer with an LSTM, GRU or SimpleRNN cell does, sharing the weights
// between steps. The whole sequence is one op, and its gradient another:
//
//   - the forward op computes the input projections of all steps,
//     (X ⊙ InputDropout)·Kernel plus the bias, as one matrix product, then
//     walks the steps: the recurrent product h₋₁·R added into the
//     projections, the gates' activations (in place), the state update and
//     the mask. Its output holds the initial h, every step's h and the
//     final c; the gate activations and the cell states stay in a buffer
//     of the op, for the gradient op of the same pass;
//   - the gradient op walks the steps back (backpropagation through time)
//     and computes the gradients of X, Kernel, RecurrentKernel, the bias
//     and the initial states, each over all steps at once where it is a
//     sum (one large matrix product rather than one per step);
//   - the batch is cut into blocks of rows computed apart, on up to
//     GOMAXPROCS goroutines, each block walking all the steps with no
//     synchronisation (rows do not interact in a recurrence); the blocks
//     depend on the batch size only, so results do not depend on the
//     number of cores.
//
// Padded steps (Mask) leave the states as they were and get zero
// gradients.
func Recurrent(cfg RecurrentConfig, in RecurrentInputs) (*RecurrentOutputs, error) {
	g, err := newRNNGeom(cfg, in)
	if err != nil {
		return nil, err
	}
	seq, err := rnnSequence(g, in)
	if err != nil {
		return nil, err
	}
	out := &RecurrentOutputs{}
	mode := rnnFactorNone
	if in.Mask != nil {
		mode = rnnFactorSeen
		if cfg.ZeroOutputForMask {
			mode = rnnFactorReal
		}
	}
	last := g.steps // the slot of the last step's h
	if cfg.ReturnSequences {
		out.Output, err = rnnStackOutputs(g, seq, in.Mask, mode)
	} else {
		out.Output, err = rnnSlotOp(g, false, seq, last, in.Mask, mode, g.steps-1)
	}
	if err != nil {
		return nil, err
	}
	if out.H, err = rnnSlotOp(g, false, seq, last, nil, rnnFactorNone, 0); err != nil {
		return nil, err
	}
	if g.kind == LSTMCell {
		if out.C, err = rnnSlotOp(g, false, seq, g.steps+1, nil, rnnFactorNone, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rnnGeom is the geometry of one recurrent pass, shared by its ops.
type rnnGeom struct {
	kind                      CellKind
	batch, steps, feat, units int
	gates                     int
	backwards, inputOrder     bool
	act, ract                 *unaryKernel // nil: linear
	id                        string       // names the pass in op ids
	dt                        tensor.Dtype
	inputGates                int // of the input dropout mask: 1 or gates
	hasBias, hasMask          bool
	hasInDrop, hasRDrop       bool
	hasH0, hasC0              bool
}

// idx is the input step processed at step t.
func (g *rnnGeom) idx(t int) int {
	if g.backwards {
		return g.steps - 1 - t
	}
	return t
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
		id: fmt.Sprintf("%v#%d", cfg.Cell, rnnPasses.Add(1)), hasH0: in.H0 != nil, hasC0: in.C0 != nil}
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
		g.inputGates, g.hasInDrop = ds[1], true
	}
	if d := in.RecurrentDropout; d != nil {
		if !d.Shape().Eq(tensor.Shape{g.batch, G, u}) {
			return nil, errors.Errorf("ops: %v recurrent dropout mask must be (%d, %d, %d), got %v", cfg.Cell, g.batch, G, u, d.Shape())
		}
		g.hasRDrop = true
	}
	return g, nil
}
