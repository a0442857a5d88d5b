package keras

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A Model is a graph of layers with inputs and outputs: a Sequential stack
// or a functional model. Compile it, then Fit, Evaluate and Predict.
//
// A Model is not safe for concurrent use; separate models train in
// parallel safely.
type Model struct {
	name    string
	inputs  []*Tensor
	outputs []*Tensor
	nodes   []*Tensor // topological order
	layers  []Layer   // in order of first use

	sequential bool
	pending    []Layer // Sequential layers not yet built (no Input yet)

	dtype       tensor.Dtype
	src         *rand.PCG // the model's one random stream; programs share it
	rng         *rand.Rand
	initialized bool

	cache    *graph.Cache
	compiled *compiled
	deferred *CompileConfig // Compile of a Sequential model not built yet
	err      error
}

// NewSequential stacks layers, as keras.Sequential. Start with an Input to
// fix the input shape; without one the model is built when it first sees
// data (or on Build). Errors are reported by Compile, Fit and the like.
func NewSequential(layers ...Layer) *Model {
	m := &Model{name: "sequential", sequential: true}
	for _, l := range layers {
		m.Add(l)
	}
	return m
}

// Add appends a layer to a Sequential model.
func (m *Model) Add(l Layer) {
	if m.err != nil {
		return
	}
	if !m.sequential {
		m.err = errors.New("keras: Add works on Sequential models only")
		return
	}
	if m.initialized || m.compiled != nil {
		m.err = errors.New("keras: cannot Add a layer after the model is compiled or initialised")
		return
	}
	if l == nil {
		m.err = errors.New("keras: Add(nil)")
		return
	}
	m.pending = append(m.pending, l)
	if in, ok := m.pending[0].(*Input); ok {
		m.err = m.buildSequential(in.Shape)
	}
}

// Build fixes the input shape of a Sequential model that has no Input
// layer (batch axis excluded), as Keras' model.build.
func (m *Model) Build(inputShape ...int) error {
	if m.err != nil {
		return m.err
	}
	if !m.sequential {
		return nil
	}
	if len(m.inputs) > 0 {
		if !m.inputs[0].shape.Equal(inputShape) {
			return errors.Errorf("keras: the model is built for inputs of shape %v, not %v", m.inputs[0].shape, Shape(inputShape))
		}
		return nil
	}
	if m.err = m.buildSequential(inputShape); m.err != nil {
		return m.err
	}
	if cfg := m.deferred; cfg != nil {
		m.deferred = nil
		return m.Compile(*cfg)
	}
	return nil
}

func (m *Model) buildSequential(shape []int) error {
	layers := m.pending
	var t *Tensor
	if in, ok := layers[0].(*Input); ok {
		t = Apply(in)
		layers = layers[1:]
	} else {
		t = Apply(&Input{Shape: shape})
	}
	for _, l := range layers {
		if _, ok := l.(*Input); ok {
			return errors.New("keras: an Input layer can only come first in a Sequential model")
		}
		t = Apply(l, t)
	}
	if t.err != nil {
		return t.err
	}
	return m.setGraph([]*Tensor{t.root()}, []*Tensor{t})
}

// root follows first inputs back to the Input tensor.
func (t *Tensor) root() *Tensor {
	for len(t.inputs) > 0 {
		t = t.inputs[0]
	}
	return t
}

// NewModel makes a functional model from its input and output Tensors, as
// keras.Model(inputs=..., outputs=...).
func NewModel(inputs, outputs []*Tensor) (*Model, error) {
	m := &Model{name: "functional"}
	if err := m.setGraph(inputs, outputs); err != nil {
		return nil, err
	}
	return m, nil
}

// setGraph checks and orders the graph, names and builds its layers.
func (m *Model) setGraph(inputs, outputs []*Tensor) error {
	if len(inputs) == 0 || len(outputs) == 0 {
		return errors.New("keras: a model needs at least one input and one output")
	}
	for i, t := range append(append([]*Tensor(nil), inputs...), outputs...) {
		if t == nil {
			return errors.Errorf("keras: model tensor %d is nil", i)
		}
		if t.err != nil {
			return t.err
		}
	}
	isInput := map[*Tensor]bool{}
	for i, in := range inputs {
		if _, ok := in.layer.(*Input); !ok {
			return errors.Errorf("keras: model input %d is not an Input tensor (made by %s)", i, ClassName(in.layer))
		}
		isInput[in] = true
	}
	// Depth-first topological order from the outputs.
	var order []*Tensor
	state := map[*Tensor]int{} // 1 visiting, 2 done
	var visit func(t *Tensor) error
	visit = func(t *Tensor) error {
		switch state[t] {
		case 1:
			return errors.New("keras: the layer graph has a cycle")
		case 2:
			return nil
		}
		state[t] = 1
		if _, ok := t.layer.(*Input); ok && !isInput[t] {
			return errors.Errorf("keras: an output depends on an Input (shape %v) that is not among the model's inputs", t.shape)
		}
		for _, in := range t.inputs {
			if err := visit(in); err != nil {
				return err
			}
		}
		state[t] = 2
		order = append(order, t)
		return nil
	}
	for _, o := range outputs {
		if err := visit(o); err != nil {
			return err
		}
	}
	dtype := tensor.Float32
	for i, in := range inputs {
		il := in.layer.(*Input)
		dt := tensor.Float32
		if il.Dtype == "float64" {
			dt = tensor.Float64
		}
		if i > 0 && dt != dtype {
			return errors.New("keras: all inputs of a model must have the same dtype")
		}
		dtype = dt
	}
	m.inputs, m.outputs, m.nodes, m.dtype = inputs, outputs, order, dtype
	// Name and build each layer once, with its first application's shapes.
	m.layers = nil
	seen := map[Layer]bool{}
	names := map[string]bool{}
	counts := map[string]int{}
	for _, t := range order {
		l := t.layer
		if seen[l] {
			continue
		}
		seen[l] = true
		m.layers = append(m.layers, l)
		b := l.base()
		if b.built {
			if b.dtype != dtype {
				return errors.Errorf("keras: layer %q was built as %v, the model is %v", b.name, b.dtype, dtype)
			}
			if names[b.name] {
				return errors.Errorf("keras: two layers are named %q", b.name)
			}
			names[b.name] = true
			continue
		}
		name := configName(l)
		if name != "" {
			if names[name] {
				return errors.Errorf("keras: two layers are named %q", name)
			}
		} else {
			base := snake(ClassName(l))
			if _, ok := l.(*Input); ok {
				base = "input_layer"
			}
			for {
				name = base
				if n := counts[base]; n > 0 {
					name = fmt.Sprintf("%s_%d", base, n)
				}
				counts[base]++
				if !names[name] {
					break
				}
			}
		}
		names[name] = true
		b.name, b.dtype = name, dtype
		shapes := make([]Shape, len(t.inputs))
		for i, in := range t.inputs {
			shapes[i] = in.shape
		}
		if err := l.Build(shapes); err != nil {
			return errors.WithMessagef(err, "keras: building layer %q (%s)", name, ClassName(l))
		}
		b.built = true
	}
	m.cache = graph.NewCache(m.buildProgram)
	return nil
}

// seedStream is the second half of every model's PCG seed ("keragon").
const seedStream = 0x6b657261676f6e

// SetSeed makes weight initialisation, shuffling and dropout repeatable.
// Call it before the first Compile (which initialises the weights);
// calling it later restarts the stream used for shuffling and dropout.
func (m *Model) SetSeed(seed uint64) {
	if m.src == nil {
		m.src = rand.NewPCG(seed, seedStream)
		m.rng = rand.New(m.src)
		return
	}
	// Reseed in place: compiled programs hold this source.
	m.src.Seed(seed, seedStream)
}

// randomState returns the random stream's state, which Save stores so that
// a loaded model continues the same stream.
func (m *Model) randomState() ([]byte, error) {
	if m.src == nil {
		return nil, nil
	}
	return m.src.MarshalBinary()
}

// setRandomState restores what randomState returned.
func (m *Model) setRandomState(b []byte) error {
	if m.src == nil {
		m.SetSeed(0)
	}
	return errors.Wrap(m.src.UnmarshalBinary(b), "keras: restoring the random state")
}

// Name is the model's name ("sequential" or "functional").
func (m *Model) Name() string { return m.name }

// SetName renames the model.
func (m *Model) SetName(name string) { m.name = name }

// Err is the first error met while declaring the model.
func (m *Model) Err() error { return m.err }

// Layers returns the model's layers in order (Input layers included).
func (m *Model) Layers() []Layer { return append([]Layer(nil), m.layers...) }

// Layer returns the layer with the given name.
func (m *Model) Layer(name string) (Layer, error) {
	for _, l := range m.layers {
		if l.base().name == name {
			return l, nil
		}
	}
	return nil, errors.Errorf("keras: no layer named %q", name)
}

// Inputs and Outputs return the model's symbolic inputs and outputs.
func (m *Model) Inputs() []*Tensor  { return append([]*Tensor(nil), m.inputs...) }
func (m *Model) Outputs() []*Tensor { return append([]*Tensor(nil), m.outputs...) }

// Dtype is the model's element type.
func (m *Model) Dtype() tensor.Dtype { return m.dtype }

// Weights returns every weight of the model, layer by layer.
func (m *Model) Weights() []*graph.Weight {
	var ws []*graph.Weight
	for _, l := range m.layers {
		ws = append(ws, l.base().weights...)
	}
	return ws
}

// TrainableWeights returns the weights the optimizer updates.
func (m *Model) TrainableWeights() []*graph.Weight {
	var ws []*graph.Weight
	for _, w := range m.Weights() {
		if w.Trainable {
			ws = append(ws, w)
		}
	}
	return ws
}

// ready reports why the model cannot run yet, if it cannot.
func (m *Model) ready() error {
	if m.err != nil {
		return m.err
	}
	if len(m.inputs) == 0 {
		if m.sequential && len(m.pending) == 0 {
			return errors.New("keras: the Sequential model has no layers")
		}
		return errors.New("keras: the model has no input shape yet: start it with an Input layer or call Build")
	}
	return m.initialize()
}

// initialize draws the initial weights once, from the model's seed.
func (m *Model) initialize() error {
	if m.initialized {
		return nil
	}
	if m.rng == nil {
		m.SetSeed(uint64(time.Now().UnixNano()))
	}
	for _, w := range m.Weights() {
		if w.Value != nil {
			continue // set by the user (Weight.Set) before first use
		}
		if err := w.Initialize(m.rng); err != nil {
			return err
		}
	}
	m.initialized = true
	return nil
}

// Program returns the compiled program for a mode and batch size,
// building it on first use (training.Model).
func (m *Model) Program(k graph.Key) (*graph.Program, error) {
	if err := m.ready(); err != nil {
		return nil, err
	}
	if k.Mode != graph.Predict && m.compiled == nil {
		return nil, errors.New("keras: the model must be compiled first (Compile)")
	}
	return m.cache.Get(k)
}

// forward adds the model's layers to ctx and returns the input nodes to
// feed, the output nodes and the outputs' masks (nil where unmasked).
func (m *Model) forward(ctx *graph.Context) (inputs, outputs, masks []*gorgonia.Node, err error) {
	vals := map[*Tensor]*gorgonia.Node{}
	maskOf := map[*Tensor]*gorgonia.Node{}
	for _, t := range m.inputs {
		shape := append([]int{ctx.Batch}, t.shape...)
		n := ctx.Input(t.layer.base().name, shape...)
		vals[t] = n
		inputs = append(inputs, n)
	}
	for _, t := range m.nodes {
		if _, ok := vals[t]; ok {
			continue // an input, or computed with a sibling output
		}
		if err := m.call(ctx, t.app, vals, maskOf); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, o := range m.outputs {
		outputs = append(outputs, vals[o])
		masks = append(masks, maskOf[o])
	}
	return inputs, outputs, masks, nil
}

// call computes one layer application: every output and its mask.
func (m *Model) call(ctx *graph.Context, app *application, vals, maskOf map[*Tensor]*gorgonia.Node) error {
	l := app.layer
	b := l.base()
	fail := func(err error) error { return errors.WithMessagef(err, "keras: layer %q (%s)", b.name, ClassName(l)) }
	ins := make([]*gorgonia.Node, len(app.inputs))
	inMasks := make([]*gorgonia.Node, len(app.inputs))
	for i, in := range app.inputs {
		ins[i], inMasks[i] = vals[in], maskOf[in]
	}
	var outs, outMasks []*gorgonia.Node
	switch ml := l.(type) {
	case MaskedLayer:
		var err error
		if outs, outMasks, err = ml.CallMasked(ctx, ins, inMasks); err != nil {
			return fail(err)
		}
	case MultiOutputLayer:
		var err error
		if outs, err = ml.CallMulti(ctx, ins); err != nil {
			return fail(err)
		}
	default:
		out, err := l.Call(ctx, ins)
		if err != nil {
			return fail(err)
		}
		outs = []*gorgonia.Node{out}
	}
	if outMasks == nil {
		outMasks = make([]*gorgonia.Node, len(outs))
		if mp, ok := l.(MaskPasser); ok && mp.PassesMask() && len(inMasks) > 0 {
			for i := range outMasks {
				outMasks[i] = inMasks[0]
			}
		}
	}
	if len(outs) != len(app.outputs) || len(outMasks) != len(outs) {
		return fail(errors.Errorf("returned %d outputs and %d masks, declared %d outputs", len(outs), len(outMasks), len(app.outputs)))
	}
	for i, t := range app.outputs {
		want := append(tensor.Shape{ctx.Batch}, t.shape...)
		if outs[i] == nil || !outs[i].Shape().Eq(want) {
			got := tensor.Shape(nil)
			if outs[i] != nil {
				got = outs[i].Shape()
			}
			return fail(errors.Errorf("output %d has shape %v, declared %v", i, got, want))
		}
		if mk := outMasks[i]; mk != nil && (mk.Dims() != 2 || mk.Shape()[0] != ctx.Batch || len(t.shape) < 1 || mk.Shape()[1] != t.shape[0]) {
			return fail(errors.Errorf("output %d of shape %v has a mask of shape %v, want (%d, %d)", i, want, mk.Shape(), ctx.Batch, want[1]))
		}
		vals[t], maskOf[t] = outs[i], outMasks[i]
	}
	return nil
}

// buildProgram builds the graph for one mode and batch size.
func (m *Model) buildProgram(k graph.Key) (*graph.Program, error) {
	ctx := graph.NewContext(k.Mode.Phase(), k.Batch, m.dtype, m.rng)
	inputs, outputs, masks, err := m.forward(ctx)
	if err != nil {
		return nil, err
	}
	spec := graph.Spec{Inputs: inputs, Outputs: outputs}
	if k.Mode != graph.Predict {
		c := m.compiled
		var terms []*gorgonia.Node
		var sws []*gorgonia.Node
		for i, out := range outputs {
			lf := c.losses[i]
			target := ctx.Input(fmt.Sprintf("target_%d", i), append([]int{k.Batch}, lf.targetShape...)...)
			sw := ctx.Input(fmt.Sprintf("sample_weight_%d", i), k.Batch)
			spec.Inputs = append(spec.Inputs, target)
			sws = append(sws, sw)
			var term *gorgonia.Node
			if masks[i] != nil {
				term, err = maskedLoss(lf, target, out, sw, masks[i], c.lossWeights[i])
			} else {
				var per *gorgonia.Node
				if per, err = lf.perSample(target, out); err == nil {
					term, err = weightedMean(ctx, per, sw, c.lossWeights[i])
				}
			}
			if err != nil {
				return nil, errors.WithMessagef(err, "keras: loss %q of output %d", lf.name, i)
			}
			terms = append(terms, term)
		}
		spec.Inputs = append(spec.Inputs, sws...)
		// The masks of masked outputs follow the outputs, for the metrics.
		for _, mk := range masks {
			if mk != nil {
				spec.Outputs = append(spec.Outputs, mk)
			}
		}
		terms = append(terms, ctx.Losses()...)
		total := terms[0]
		for _, t := range terms[1:] {
			if total, err = gorgonia.Add(total, t); err != nil {
				return nil, errors.Wrap(err, "keras: summing the losses")
			}
		}
		spec.Loss = total
		spec.Grad = k.Mode == graph.Fit
	}
	p, err := graph.Compile(ctx, spec)
	return p, errors.WithMessagef(err, "keras: compiling the %s program for batch %d", k.Mode, k.Batch)
}

// maskedLoss is the loss of a masked sequence output (batch, steps, …):
// one loss per (sample, step), weighted by the sample weight and the mask,
// summed and divided by the number of real steps, as Keras reduces a
// masked loss.
func maskedLoss(lf *lossFunc, target, out, sw, mask *gorgonia.Node, scale float64) (*gorgonia.Node, error) {
	fold := func(n *gorgonia.Node) (*gorgonia.Node, error) {
		s := n.Shape()
		if s.Dims() < 2 {
			return nil, errors.Errorf("keras: a masked output needs a time axis, got shape %v", s)
		}
		return reshapeNode(n, append(tensor.Shape{s[0] * s[1]}, s[2:]...))
	}
	o, err := fold(out)
	if err != nil {
		return nil, err
	}
	t, err := fold(target)
	if err != nil {
		return nil, err
	}
	per, err := lf.perSample(t, o)
	if err != nil {
		return nil, err
	}
	w, err := ops.MaskedLossWeights(sw, mask)
	if err != nil {
		return nil, err
	}
	prod, err := gorgonia.HadamardProd(per, w)
	if err != nil {
		return nil, errors.Wrap(err, "keras: weighting a masked loss")
	}
	sum, err := gorgonia.Sum(prod)
	if err != nil {
		return nil, errors.Wrap(err, "keras: summing a masked loss")
	}
	if scale == 1 {
		return sum, nil
	}
	return gorgonia.Mul(sum, gorgonia.NewConstant(castLike(out, scale)))
}

// castLike returns x in n's dtype, for a constant.
func castLike(n *gorgonia.Node, x float64) any {
	if n.Dtype() == tensor.Float32 {
		return float32(x)
	}
	return x
}

// weightedMean is Keras' "sum_over_batch_size": Σ w_i·loss_i / batch.
func weightedMean(ctx *graph.Context, per, sw *gorgonia.Node, scale float64) (*gorgonia.Node, error) {
	prod, err := gorgonia.HadamardProd(per, sw)
	if err != nil {
		return nil, errors.Wrapf(err, "keras: weighting a loss of shape %v", per.Shape())
	}
	sum, err := gorgonia.Sum(prod)
	if err != nil {
		return nil, errors.Wrap(err, "keras: summing a loss")
	}
	return gorgonia.Mul(sum, ctx.Constant(scale/float64(ctx.Batch)))
}

// CountParams returns the number of trainable and non-trainable scalars.
func (m *Model) CountParams() (trainable, nonTrainable int) {
	for _, w := range m.Weights() {
		if w.Trainable {
			trainable += w.Size()
		} else {
			nonTrainable += w.Size()
		}
	}
	return
}

// WriteDOT writes the graph of the program for mode (and batch size 1) in
// Graphviz's DOT language: for graph.Fit it includes the loss and the
// symbolic gradient, so backpropagation can be drawn with `dot -Tsvg`.
func (m *Model) WriteDOT(w io.Writer, mode graph.Mode) error {
	p, err := m.Program(graph.Key{Mode: mode, Batch: 1})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, p.DOT())
	return errors.Wrap(err, "keras: WriteDOT")
}
