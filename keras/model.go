package keras

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
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
// # Concurrency
//
// Predict, Evaluate, Save and the other methods that only read the model
// are safe to call from any number of goroutines at once, also while one
// goroutine trains the model with Fit. Each call runs its own compiled
// program (a model keeps a bounded pool of them per batch size) and sees
// the weights of one moment: Fit updates them between calls' batches, never
// during one call, so a concurrent reader sees the weights before or after
// a training step, never a mix. A call waits for the training step under
// way, and a training step waits for the calls under way.
//
// Only one Fit runs at a time: a second one returns an error, as do
// Compile, Add and Build while Fit runs. Declaring a model (NewSequential,
// Add, Apply, NewModel) is not meant to be shared between goroutines.
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

	// mu guards the weights, the optimizer and the random stream: readers
	// (Predict, Evaluate, Save) hold it shared for a whole call; training
	// steps, Compile and weight loads hold it exclusively.
	mu sync.RWMutex
	// buildMu makes program builds one at a time: layers' Call methods
	// are not written to run concurrently on one layer.
	buildMu sync.Mutex
	// fitting is set while Fit runs.
	fitting atomic.Bool
	// prepared and isCompiled mirror, for lock-free reads, that the model
	// is built and initialised, and that it is compiled.
	prepared   atomic.Bool
	isCompiled atomic.Bool
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

// Add appends a layer to a Sequential model. An error in the layer (it
// cannot be built on the previous output, or is nil) is also kept and
// reported by Compile, Fit and the like, as with NewSequential's layers.
// Adding to a model that is already compiled or initialised is refused and
// leaves the model as it was, still usable.
func (m *Model) Add(l Layer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if !m.sequential {
		return errors.New("keras: Add works on Sequential models only")
	}
	if m.initialized || m.compiled != nil || m.fitting.Load() {
		return errors.New("keras: cannot Add a layer after the model is compiled or initialised (the model is unchanged)")
	}
	if l == nil {
		m.err = errors.New("keras: Add(nil)")
		return m.err
	}
	m.pending = append(m.pending, l)
	if in, ok := m.pending[0].(*Input); ok {
		m.err = m.buildSequential(in.Shape)
	}
	return m.err
}

// Build fixes the input shape of a Sequential model that has no Input
// layer (batch axis excluded), as Keras' model.build.
func (m *Model) Build(inputShape ...int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.build(inputShape)
}

func (m *Model) build(inputShape []int) error {
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
		return m.compile(*cfg)
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
	first := true
	for _, in := range inputs {
		il := in.layer.(*Input)
		if il.Dtype == "string" {
			continue // fed the indices of its StringLookup (encodeStrings)
		}
		dt := tensor.Float32
		if il.Dtype == "float64" {
			dt = tensor.Float64
		}
		if !first && dt != dtype {
			return errors.New("keras: all inputs of a model must have the same dtype")
		}
		dtype, first = dt, false
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
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seed(seed)
}

func (m *Model) seed(seed uint64) {
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
		m.seed(0)
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
		m.prepared.Store(true)
		return nil
	}
	if m.rng == nil {
		m.seed(uint64(time.Now().UnixNano()))
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
	m.prepared.Store(true)
	return nil
}

// Program lends the compiled program for a mode and batch size, building
// it on first use (training.Model): the caller has it to itself until it
// gives it back with ReleaseProgram, and should not run it while another
// goroutine trains the model. Programs are for tools and tests that need
// a graph's nodes; Fit, Evaluate and Predict manage their own.
func (m *Model) Program(k graph.Key) (*graph.Program, error) {
	if !m.prepared.Load() {
		m.mu.Lock()
		err := m.ready()
		m.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	if k.Mode != graph.Predict && !m.isCompiled.Load() {
		return nil, errors.New("keras: the model must be compiled first (Compile)")
	}
	return m.cache.Get(k)
}

// ReleaseProgram gives back a program lent by Program
// (training.ProgramReleaser), to be reused.
func (m *Model) ReleaseProgram(p *graph.Program) { m.cache.Put(p) }

// SetProgramLimits bounds the compiled programs the model keeps: at most
// perBatchSize idle programs for each (mode, batch size) — the number of
// goroutines that can run one without waiting for a build; the default is
// GOMAXPROCS, at least 2 — and programs for at most batchSizes
// (mode, batch size) pairs, the least recently used dropped first (default
// 16). Bounds apply to what is kept between calls: a program in use is
// never taken away.
func (m *Model) SetProgramLimits(perBatchSize, batchSizes int) error {
	if m.cache == nil {
		return errors.New("keras: SetProgramLimits: the model has no input shape yet")
	}
	return errors.WithMessage(m.cache.SetLimits(perBatchSize, batchSizes), "keras: SetProgramLimits")
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
	m.buildMu.Lock()
	defer m.buildMu.Unlock()
	ctx := graph.NewContext(k.Mode.Phase(), k.Batch, m.dtype, m.rng)
	inputs, outputs, masks, err := m.forward(ctx)
	if err != nil {
		return nil, err
	}
	spec := graph.Spec{Inputs: inputs, Outputs: outputs,
		Layout: graph.Layout{Inputs: len(inputs), Outputs: len(outputs)}}
	if k.Mode != graph.Predict {
		c := m.compiled
		var terms, raws, sws []*gorgonia.Node
		// With several outputs, each output's unweighted loss is also an
		// output of the program, logged as "<output>_loss" (Keras 3).
		several := len(outputs) > 1
		for i, out := range outputs {
			lf := c.losses[i]
			target := ctx.Input(fmt.Sprintf("target_%d", i), append([]int{k.Batch}, lf.targetShape...)...)
			sw := ctx.Input(fmt.Sprintf("sample_weight_%d", i), k.Batch)
			spec.Inputs = append(spec.Inputs, target)
			sws = append(sws, sw)
			scale := c.lossWeights[i]
			if several {
				scale = 1
			}
			var term *gorgonia.Node
			if masks[i] != nil {
				term, err = maskedLoss(lf, target, out, sw, masks[i], scale)
			} else {
				var per *gorgonia.Node
				if per, err = lf.perSample(target, out); err == nil {
					term, err = weightedMean(ctx, per, sw, scale)
				}
			}
			if err == nil && several {
				raws = append(raws, term)
				spec.Layout.Losses = append(spec.Layout.Losses, m.outputName(i)+"_loss")
				if w := c.lossWeights[i]; w != 1 {
					term, err = gorgonia.Mul(term, ctx.Constant(w))
				}
			}
			if err != nil {
				return nil, errors.WithMessagef(err, "keras: loss %q of output %d", lf.name, i)
			}
			terms = append(terms, term)
		}
		spec.Inputs = append(spec.Inputs, sws...)
		spec.Layout.Targets = len(outputs)
		// The masks of masked outputs follow the outputs, for the metrics.
		for i, mk := range masks {
			if mk != nil {
				spec.Outputs = append(spec.Outputs, mk)
				spec.Layout.Masked = append(spec.Layout.Masked, i)
			}
		}
		spec.Outputs = append(spec.Outputs, raws...)
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
	dot := p.DOT()
	m.ReleaseProgram(p)
	_, err = io.WriteString(w, dot)
	return errors.Wrap(err, "keras: WriteDOT")
}
