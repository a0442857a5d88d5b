package keras

import (
	"math/rand/v2"
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// What SimpleRNN, LSTM and GRU share: Keras' RNN layer around a cell.
// Each layer keeps its own exported configuration fields; rnnSpec is the
// view of them that the shared code reads.

// rnnSpec is a recurrent layer's configuration.
type rnnSpec struct {
	class                               string
	cell                                ops.CellKind
	units                               int
	activation, recurrentActivation     string
	noBias, unitForgetBias              bool
	kernelInit, recurrentInit, biasInit string
	kernelReg, recurrentReg, biasReg    *ops.L1L2
	dropout, recurrentDropout           float64
	returnSequences, returnState        bool
	goBackwards, zeroOutputForMask      bool
	inputOrder                          bool // set by Bidirectional on its backward half
}

// states is the number of state tensors: 2 for LSTM (h, c), else 1.
func (s rnnSpec) states() int {
	if s.cell == ops.LSTMCell {
		return 2
	}
	return 1
}

// rnnWeights are what Build creates.
type rnnWeights struct {
	kernel, recurrent, bias *graph.Weight
}

// recurrentLayer is implemented by SimpleRNN, LSTM and GRU; Bidirectional
// wraps them through it.
type recurrentLayer interface {
	MaskedLayer
	MultiOutputLayer
	spec() rnnSpec
	// setDirection sets go_backwards, zero_output_for_mask and whether a
	// backwards output sequence is put back in input order.
	setDirection(goBackwards, zeroOutput, inputOrder bool)
}

// rnnOutputShapes checks the inputs, [sequence (steps, features), initial
// states (units)…], and returns the output shapes: the output, then the
// final states with ReturnState.
func rnnOutputShapes(s rnnSpec, w *rnnWeights, in []Shape) ([]Shape, error) {
	if s.units <= 0 {
		return nil, errors.Errorf("keras: %s needs a positive Units, got %d", s.class, s.units)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"Dropout", s.dropout}, {"RecurrentDropout", s.recurrentDropout}} {
		if !(r.v >= 0 && r.v < 1) {
			return nil, errors.Errorf("keras: %s %s must be in [0, 1), got %v", s.class, r.name, r.v)
		}
	}
	for _, a := range []string{s.activation, s.recurrentActivation} {
		if a == "" {
			continue
		}
		if !contains(ops.RecurrentActivationNames(), strings.ToLower(a)) {
			return nil, errors.Errorf("keras: %s activation %q is not supported in recurrent cells (known: %s)", s.class, a, strings.Join(ops.RecurrentActivationNames(), ", "))
		}
	}
	if len(in) == 0 {
		return nil, errors.Errorf("keras: %s takes a sequence and optionally its initial states, got no input", s.class)
	}
	seq := in[0]
	if len(seq) != 2 || seq[0] < 1 {
		return nil, errors.Errorf("keras: %s takes (steps, features) sequences, got samples of shape %v", s.class, seq)
	}
	if n := len(in) - 1; n != 0 && n != s.states() {
		return nil, errors.Errorf("keras: %s takes the sequence and %d initial state(s), got %d inputs", s.class, s.states(), len(in))
	}
	for i, st := range in[1:] {
		if !st.Equal(Shape{s.units}) {
			return nil, errors.Errorf("keras: %s initial state %d must have shape %v, got %v", s.class, i, Shape{s.units}, st)
		}
	}
	if err := checkBuilt(s.class, w.kernel, 0, seq[1]); err != nil {
		return nil, err
	}
	out := []Shape{{s.units}}
	if s.returnSequences {
		out[0] = Shape{seq[0], s.units}
	}
	if s.returnState {
		for i := 0; i < s.states(); i++ {
			out = append(out, Shape{s.units})
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rnnBuild creates kernel (features, G·units), recurrent_kernel
// (units, G·units) and bias (G·units; GRU: (2, 3·units)).
func rnnBuild(b *Base, s rnnSpec, w *rnnWeights, in []Shape) error {
	G, u := s.cell.Gates(), s.units
	ki, err := initializer(s.kernelInit, "glorot_uniform")
	if err != nil {
		return err
	}
	ri, err := initializer(s.recurrentInit, "orthogonal")
	if err != nil {
		return err
	}
	w.kernel = b.AddWeight("kernel", []int{in[0][1], G * u}, ki, true)
	w.recurrent = b.AddWeight("recurrent_kernel", []int{u, G * u}, ri, true)
	if s.noBias {
		return nil
	}
	bi, err := initializer(s.biasInit, "zeros")
	if err != nil {
		return err
	}
	shape := []int{G * u}
	switch {
	case s.cell == ops.GRUCell:
		shape = []int{2, G * u}
	case s.cell == ops.LSTMCell && s.unitForgetBias:
		bi = forgetBiasInit{base: bi, units: u}
	}
	w.bias = b.AddWeight("bias", shape, bi, true)
	return nil
}

// forgetBiasInit is Keras' unit_forget_bias: the base initialiser, then
// ones on the forget gate's block.
type forgetBiasInit struct {
	base  ops.Initializer
	units int
}

func (f forgetBiasInit) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	if err := f.base.Initialize(rng, t); err != nil {
		return err
	}
	switch d := t.Data().(type) {
	case []float32:
		for j := f.units; j < 2*f.units; j++ {
			d[j] = 1
		}
	case []float64:
		for j := f.units; j < 2*f.units; j++ {
			d[j] = 1
		}
	}
	return nil
}

// rnnCall runs the layer: outputs (output, then the final states with
// ReturnState) and their masks (the input mask on a returned sequence).
func rnnCall(ctx *graph.Context, b *Base, s rnnSpec, w *rnnWeights, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	var mask *gorgonia.Node
	for i, m := range masks {
		if m == nil {
			continue
		}
		if i > 0 {
			return nil, nil, errors.Errorf("keras: %s input %d (an initial state, not a sequence) carries a mask of shape %v; masks belong to sequences", s.class, i, m.Shape())
		}
		mask = m
	}
	x := in[0]
	if mask != nil {
		xs := x.Shape()
		if !mask.Shape().Eq(tensor.Shape{xs[0], xs[1]}) {
			return nil, nil, errors.Errorf("keras: %s got a mask of shape %v for sequences of shape %v; want (batch, steps) = (%d, %d)", s.class, mask.Shape(), xs, xs[0], xs[1])
		}
	}
	k, err := ctx.Param(w.kernel)
	if err != nil {
		return nil, nil, err
	}
	r, err := ctx.Param(w.recurrent)
	if err != nil {
		return nil, nil, err
	}
	ri := ops.RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r, Mask: mask}
	if err := regularize(ctx, s.kernelReg, k); err != nil {
		return nil, nil, err
	}
	if err := regularize(ctx, s.recurrentReg, r); err != nil {
		return nil, nil, err
	}
	if w.bias != nil {
		if ri.Bias, err = ctx.Param(w.bias); err != nil {
			return nil, nil, err
		}
		if err := regularize(ctx, s.biasReg, ri.Bias); err != nil {
			return nil, nil, err
		}
	}
	if len(in) > 1 {
		ri.H0 = in[1]
		if len(in) > 2 {
			ri.C0 = in[2]
		}
	}
	if ctx.Training() {
		// Keras draws one mask per sequence, the same at every step; with
		// recurrent dropout it uses one mask per gate (implementation 1).
		G, batch := s.cell.Gates(), ctx.Batch
		gates := 1
		if s.recurrentDropout > 0 {
			gates = G
		}
		if s.dropout > 0 {
			ri.InputDropout = ctx.RandomInput(b.name+"/dropout_mask", []int{batch, gates, x.Shape()[2]}, ops.DropoutMaskFiller(s.dropout))
		}
		if s.recurrentDropout > 0 {
			ri.RecurrentDropout = ctx.RandomInput(b.name+"/recurrent_dropout_mask", []int{batch, G, s.units}, ops.DropoutMaskFiller(s.recurrentDropout))
		}
	}
	cfg := ops.RecurrentConfig{
		Cell: s.cell, Activation: s.activation, RecurrentActivation: s.recurrentActivation,
		GoBackwards: s.goBackwards, ReturnSequences: s.returnSequences,
		ZeroOutputForMask: s.zeroOutputForMask, InputOrder: s.inputOrder,
	}
	res, err := ops.Recurrent(cfg, ri)
	if err != nil {
		return nil, nil, errors.WithMessagef(err, "keras: %s", s.class)
	}
	outs := []*gorgonia.Node{res.Output}
	outMasks := []*gorgonia.Node{nil}
	if s.returnSequences {
		// As Keras: the input's mask, even when GoBackwards reversed the
		// output.
		outMasks[0] = mask
	}
	if s.returnState {
		outs = append(outs, res.H)
		outMasks = append(outMasks, nil)
		if s.cell == ops.LSTMCell {
			outs = append(outs, res.C)
			outMasks = append(outMasks, nil)
		}
	}
	return outs, outMasks, nil
}

// firstShape returns the first of several output shapes.
func firstShape(shapes []Shape, err error) (Shape, error) {
	if err != nil {
		return nil, err
	}
	return shapes[0], nil
}

// firstNode returns the first of several outputs.
func firstNode(outs []*gorgonia.Node, err error) (*gorgonia.Node, error) {
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}
