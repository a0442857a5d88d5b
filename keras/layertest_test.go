package keras

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds the layer contract every layer test runs, like Keras'
// run_layer_test (keras/src/testing/test_case.py): declared and actual
// output shapes, weights, the JSON config round trip, finite-difference
// gradients of Call in float64, and one training step.

// layerCase describes one layer configuration for runLayerTest.
type layerCase struct {
	name string
	// make returns a fresh, unbuilt layer.
	make func() Layer
	// input is the sample shape, batch axis excluded.
	input []int
	// output is the sample shape OutputShape must declare.
	output []int
	// weights lists the weights Build must create, in order.
	weights []weightSpec
	// phases to gradient-check; nil means Infer and Train.
	phases []graph.Phase
	// lo, hi bound the random inputs (default [-1, 1)).
	lo, hi float64
	// ids > 0 makes the inputs integer ids in [0, ids) (Embedding), which
	// are not differentiated.
	ids int
	// inputs, when set, are the sample shapes of a layer with several
	// inputs (a merge layer), in place of input.
	inputs [][]int
	// fixedState says the layer's non-trainable weights are not moved by
	// training (Normalization's adapted statistics), unlike moving
	// averages.
	fixedState bool
}

// shapes returns the sample shapes of the case's inputs.
func (c layerCase) shapes() [][]int {
	if c.inputs != nil {
		return c.inputs
	}
	return [][]int{c.input}
}

// caseInputs draws a batch of n inputs for each input of c.
func caseInputs(c layerCase, rng *rand.Rand, dt tensor.Dtype, n int) []*tensor.Dense {
	if c.inputs == nil {
		return []*tensor.Dense{caseInput(c, rng, dt, n)}
	}
	var xs []*tensor.Dense
	for _, s := range c.inputs {
		xs = append(xs, randomTensor(rng, dt, c.lo, c.hi, append([]int{n}, s...)...))
	}
	return xs
}

// caseInput draws a batch of n inputs for c.
func caseInput(c layerCase, rng *rand.Rand, dt tensor.Dtype, n int) *tensor.Dense {
	shape := append([]int{n}, c.input...)
	if c.ids == 0 {
		return randomTensor(rng, dt, c.lo, c.hi, shape...)
	}
	v := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = float64(rng.IntN(c.ids))
	}
	return denseOf(dt, v, shape...)
}

// weightSpec is a weight's name suffix ("kernel"), shape and trainability.
type weightSpec struct {
	name      string
	shape     []int
	trainable bool
}

// contractBatch is the batch size of the contract's graphs: small enough
// for finite differences over every input, larger than 1 so batch
// statistics mean something.
const contractBatch = 3

// runLayerTest runs the whole contract on c.
func runLayerTest(t *testing.T, c layerCase) {
	t.Helper()
	t.Run(c.name, func(t *testing.T) {
		checkShapesAndWeights(t, c)
		checkConfigRoundTrip(t, c)
		phases := c.phases
		if phases == nil {
			phases = []graph.Phase{graph.Infer, graph.Train}
		}
		for _, ph := range phases {
			l := builtLayer(t, c, tensor.Float64)
			randomizeWeights(l, 11)
			xs := caseInputs(c, rand.New(rand.NewPCG(12, 0)), tensor.Float64, contractBatch)
			if err := checkLayerGradientsOf(l, ph, xs, c.ids == 0, 13); err != nil {
				t.Errorf("%v phase: %+v", ph, err)
			}
		}
		checkTrainingStep(t, c)
	})
}

// allContractCases lists every case of the layer contract, from the
// layers' test files; a new layer's cases belong here too, which
// TestEveryLayerHasContractCase enforces.
func allContractCases() []layerCase {
	var all []layerCase
	for _, cases := range [][]layerCase{
		activationContractCases(),
		conv1DContractCases(), conv2DContractCases(), depthwiseConv2DContractCases(),
		denseContractCases(),
		dropoutContractCases(),
		embeddingContractCases(),
		batchNormContractCases(), batchNormImagesContractCases(), layerNormContractCases(),
		poolingContractCases(), paddingUpSamplingContractCases(),
		reshapeContractCases(),
		recurrentContractCases(), recurrentDropoutContractCases(), gruResetBeforeContractCases(),
		mergeContractCases(),
		preprocessingContractCases(), augmentationContractCases(),
		attentionContractCases(),
		separableTransposeContractCases(),
	} {
		all = append(all, cases...)
	}
	return all
}

// notContractClasses are registered classes the contract does not apply
// to: Input (no computation) and the tests' own layers.
var notContractClasses = map[string]string{
	"Input":            "a model's entry point, not a layer that computes",
	"CategoryEncoding": "integer ids in, counts out, no gradient (preprocessing_test.go checks shapes, configs and values)",
	"Discretization":   "bins of numbers, no gradient (preprocessing_test.go checks shapes, configs and values against Keras' algorithm)",
	"IntegerLookup":    "integer tokens in, indices out, no gradient (preprocessing_test.go)",
	"StringLookup":     "strings in, looked up on the host (preprocessing_test.go trains, saves and loads a model with one)",
	"twoHeads":         "a test double (multioutput_test.go)",
	"saveTestSum":      "a test double (save_test.go)",
}

// TestEveryLayerHasContractCase checks that every registered layer class
// is the outer layer of at least one contract case: the cases of
// allContractCases, or, for the tree layers, whose structure input the
// one-input contract cannot feed, treeLayerCases (tree_test.go runs the
// same checks on them: shapes, config, gradients, a training step).
func TestEveryLayerHasContractCase(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range allContractCases() {
		covered[ClassName(c.make())] = true
	}
	for _, c := range treeLayerCases {
		covered[ClassName(c.make())] = true
	}
	registryMu.RLock()
	classes := make([]string, 0, len(registry))
	for class := range registry {
		classes = append(classes, class)
	}
	registryMu.RUnlock()
	sort.Strings(classes)
	for _, class := range classes {
		if _, skip := notContractClasses[class]; !skip && !covered[class] {
			t.Errorf("layer class %s has no layer-contract case: add one to its test file and to allContractCases", class)
		}
	}
}

// oneLayerModel is Input → l, in dtype dt, seeded.
func oneLayerModel(t *testing.T, l Layer, input []int, dt tensor.Dtype) *Model {
	t.Helper()
	m := NewSequential(&Input{Shape: input, Dtype: dt.String()}, l)
	if err := m.Err(); err != nil {
		t.Fatalf("building a model of one %s on %v: %+v", ClassName(l), input, err)
	}
	m.SetSeed(7)
	return m
}

// layerModel is oneLayerModel for any number of inputs: a functional
// model of Inputs → l when there are several.
func layerModel(t *testing.T, l Layer, inputs [][]int, dt tensor.Dtype) *Model {
	t.Helper()
	if len(inputs) == 1 {
		return oneLayerModel(t, l, inputs[0], dt)
	}
	var ins []*Tensor
	for _, s := range inputs {
		ins = append(ins, Apply(&Input{Shape: s, Dtype: dt.String()}))
	}
	m, err := NewModel(ins, []*Tensor{Apply(l, ins...)})
	if err != nil {
		t.Fatalf("building a model of one %s on %v: %+v", ClassName(l), inputs, err)
	}
	m.SetSeed(7)
	return m
}

// builtLayer builds a fresh layer of c through a one-layer model, which
// names it, sets its dtype and draws its initial weights.
func builtLayer(t *testing.T, c layerCase, dt tensor.Dtype) Layer {
	t.Helper()
	l := c.make()
	m := layerModel(t, l, c.shapes(), dt)
	if err := m.ready(); err != nil {
		t.Fatalf("initialising: %+v", err)
	}
	return l
}

// randomizeWeights replaces every weight by random values: trainable ones
// in [-1, 1), state (moving variances, means) in [0.5, 1.5), so that the
// gradient check does not sit at a special point such as gamma = 1.
func randomizeWeights(l Layer, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	for _, w := range l.base().weights {
		lo, hi := -1.0, 1.0
		if !w.Trainable {
			lo, hi = 0.5, 1.5
		}
		d := make([]float64, w.Size())
		for i := range d {
			d[i] = lo + (hi-lo)*rng.Float64()
		}
		if err := w.Set(denseOf(w.Dtype, d, w.Shape...)); err != nil {
			panic(err) // the shapes and dtypes are the weight's own
		}
	}
}

func checkShapesAndWeights(t *testing.T, c layerCase) {
	t.Helper()
	var in []Shape
	for _, s := range c.shapes() {
		in = append(in, s)
	}
	out, err := c.make().OutputShape(in)
	if err != nil {
		t.Fatalf("OutputShape(%v): %+v", in, err)
	}
	if !out.Equal(c.output) {
		t.Errorf("OutputShape(%v) = %v, want %v", in, out, Shape(c.output))
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		l := c.make()
		m := layerModel(t, l, c.shapes(), dt)
		xs := caseInputs(c, rand.New(rand.NewPCG(1, 0)), dt, contractBatch)
		ys, err := m.PredictMulti(xs)
		var y *tensor.Dense
		if err == nil {
			y = ys[0]
		}
		if err != nil {
			t.Fatalf("%v Predict: %+v", dt, err)
		}
		want := append(tensor.Shape{contractBatch}, c.output...)
		if !y.Shape().Eq(want) || y.Dtype() != dt {
			t.Errorf("%v Predict gave %v %v, want %v %v", dt, y.Shape(), y.Dtype(), want, dt)
		}
		for i, v := range floatsOf(y) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%v Predict: output %d is %v", dt, i, v)
			}
		}
		ws := l.base().Weights()
		if len(ws) != len(c.weights) {
			t.Fatalf("%d weights, want %d (%v)", len(ws), len(c.weights), c.weights)
		}
		name := l.base().LayerName()
		for i, w := range ws {
			s := c.weights[i]
			if w.Name != name+"/"+s.name || !Shape(w.Shape).Equal(s.shape) || w.Trainable != s.trainable || w.Dtype != dt {
				t.Errorf("weight %d is %q %v trainable=%v %v, want %q %v trainable=%v %v",
					i, w.Name, w.Shape, w.Trainable, w.Dtype, name+"/"+s.name, s.shape, s.trainable, dt)
			}
		}
	}
}

// configFields returns a layer's configuration: its exported fields, Base
// excluded.
func configFields(l Layer) map[string]any {
	v := reflect.ValueOf(l).Elem()
	out := map[string]any{}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.IsExported() && !f.Anonymous {
			out[f.Name] = v.Field(i).Interface()
		}
	}
	return out
}

func checkConfigRoundTrip(t *testing.T, c layerCase) {
	t.Helper()
	l := c.make()
	raw, err := json.Marshal(l)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	fresh, err := newLayer(ClassName(l))
	if err != nil {
		t.Fatalf("the layer class is not registered: %+v", err)
	}
	if err := json.Unmarshal(raw, fresh); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v", raw, err)
	}
	if got, want := configFields(fresh), configFields(l); !reflect.DeepEqual(got, want) {
		t.Errorf("config after a JSON round trip through %s:\n got %#v\nwant %#v", raw, got, want)
	}
	again, err := json.Marshal(fresh)
	if err != nil || !bytes.Equal(again, raw) {
		t.Errorf("JSON after a round trip = %s (%v), want %s", again, err, raw)
	}
}

// checkLayerGradients compares the symbolic gradients of l's Call with
// central differences, in float64 and the given phase. The input is a
// trainable stand-in weight, so the graph package differentiates the cost
// with respect to it and to every trainable weight of l alike; the cost is
// Σ out ⊙ P (P fixed and random, so every Jacobian entry counts) plus the
// layer's added losses. The random inputs (dropout masks) are drawn again
// from the same seed before every run, so they stay fixed.
func checkLayerGradients(l Layer, phase graph.Phase, x *tensor.Dense, seed uint64) error {
	return checkLayerGradientsOf(l, phase, []*tensor.Dense{x}, true, seed)
}

// checkLayerGradientsOf is checkLayerGradients for a layer with one or
// several inputs, each a stand-in weight, differentiated only when
// diffInput is set (not for token ids).
func checkLayerGradientsOf(l Layer, phase graph.Phase, xs []*tensor.Dense, diffInput bool, seed uint64) error {
	pcg := rand.NewPCG(seed, 1)
	ctx := graph.NewContext(phase, xs[0].Shape()[0], tensor.Float64, rand.New(pcg))
	var xws []*graph.Weight
	var xns []*gorgonia.Node
	for i, x := range xs {
		name := "input"
		if i > 0 {
			name = fmt.Sprintf("input_%d", i)
		}
		xw := graph.NewWeight(name, tensor.Float64, x.Shape(), nil, diffInput)
		if err := xw.Set(x); err != nil {
			return err
		}
		xn, err := ctx.Param(xw)
		if err != nil {
			return err
		}
		xws, xns = append(xws, xw), append(xns, xn)
	}
	out, err := l.Call(ctx, xns)
	if err != nil {
		return errors.WithMessage(err, "Call")
	}
	proj := randomTensor(rand.New(rand.NewPCG(seed, 2)), tensor.Float64, -1, 1, out.Shape()...)
	cost, err := gorgonia.HadamardProd(out, gorgonia.NodeFromAny(ctx.G, proj, gorgonia.WithName("projection")))
	if err != nil {
		return err
	}
	if cost, err = gorgonia.Sum(cost); err != nil {
		return err
	}
	for _, extra := range ctx.Losses() {
		if cost, err = gorgonia.Add(cost, extra); err != nil {
			return err
		}
	}
	// Reading out keeps Gorgonia from computing out ⊙ P in out's register,
	// which may alias the input when the layer only reshapes it (see
	// TestGorgoniaReshapeAliasesBoundValue).
	p, err := graph.Compile(ctx, graph.Spec{Outputs: []*gorgonia.Node{out}, Loss: cost, Grad: true})
	if err != nil {
		return err
	}
	defer p.Close()
	bound := append(append([]*graph.Weight(nil), xws...), l.base().weights...)
	before := snapshot(bound)
	run := func() (float64, error) {
		pcg.Seed(seed, 1)
		if err := p.Run(); err != nil {
			return 0, err
		}
		return p.Loss()
	}
	if _, err := run(); err != nil {
		return err
	}
	for i, w := range bound {
		if !reflect.DeepEqual(floatsOf(w.Value), before[i]) {
			return errors.Errorf("running the graph changed the values of %s", w.Name)
		}
	}
	grads, err := p.Gradients()
	if err != nil {
		return err
	}
	want := map[*graph.Weight]bool{}
	for _, xw := range xws {
		want[xw] = diffInput
	}
	for _, w := range l.base().weights {
		if w.Trainable {
			want[w] = true
		}
	}
	symbolic := map[*graph.Weight][]float64{}
	for _, g := range grads {
		symbolic[g.Weight] = append([]float64(nil), floatsOf(materialized(g.Value))...)
	}
	for w, wanted := range want {
		if wanted && symbolic[w] == nil {
			return errors.Errorf("no gradient for %s", w.Name)
		}
	}
	const step, absTol, relTol = 1e-6, 1e-6, 1e-4
	worst, worstRatio := "", 0.0
	for _, g := range grads {
		data := g.Weight.Value.Data().([]float64)
		sym := symbolic[g.Weight]
		if len(sym) != len(data) {
			return errors.Errorf("gradient of %s has %d entries, want %d", g.Weight.Name, len(sym), len(data))
		}
		for j := range data {
			x0 := data[j]
			data[j] = x0 + step
			fp, err := run()
			if err != nil {
				return err
			}
			data[j] = x0 - step
			fm, err := run()
			if err != nil {
				return err
			}
			data[j] = x0
			num := (fp - fm) / (2 * step)
			ratio := math.Abs(num-sym[j]) / (absTol + relTol*math.Abs(num))
			if math.IsNaN(ratio) {
				ratio = math.Inf(1)
			}
			if ratio > worstRatio {
				worstRatio = ratio
				worst = fmt.Sprintf("%s entry %d: symbolic %.10g, numeric %.10g", g.Weight.Name, j, sym[j], num)
			}
		}
	}
	if worstRatio > 1 {
		return errors.New("gradient check: " + worst)
	}
	return nil
}

// checkTrainingStep trains a one-layer model on a tiny regression (random
// targets of the output's shape, mean squared error) for one full-batch
// step of SGD. With trainable weights the training-phase loss on the same
// batch must fall; with state only, the state must move; without weights,
// the model must not change.
func checkTrainingStep(t *testing.T, c layerCase) {
	t.Helper()
	l := c.make()
	m := layerModel(t, l, c.shapes(), tensor.Float64)
	const n = 8
	rng := rand.New(rand.NewPCG(21, 0))
	xs := caseInputs(c, rng, tensor.Float64, n)
	y := randomTensor(rng, tensor.Float64, -1, 1, append([]int{n}, c.output...)...)
	ys := []*tensor.Dense{y}
	if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.05}, Loss: "mse"}); err != nil {
		t.Fatalf("Compile: %+v", err)
	}
	trainLoss := func() float64 {
		t.Helper()
		p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: n})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(append(append([]*tensor.Dense(nil), xs...), y, onesTensor(tensor.Float64, n))...); err != nil {
			t.Fatal(err)
		}
		loss, err := p.Loss()
		if err != nil {
			t.Fatal(err)
		}
		return loss
	}
	evalLoss := func() float64 {
		t.Helper()
		loss, _, err := m.EvaluateMulti(xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		return loss
	}
	trainable := len(m.TrainableWeights()) > 0
	var before float64
	if trainable {
		before = trainLoss()
	} else {
		before = evalLoss()
	}
	weightsBefore := snapshot(m.Weights())
	if _, err := m.FitMulti(xs, ys, FitConfig{Epochs: 1, BatchSize: n, NoShuffle: true}); err != nil {
		t.Fatalf("Fit: %+v", err)
	}
	if trainable {
		if after := trainLoss(); !(after < before) {
			t.Errorf("one SGD step: training loss %v → %v, want it lower", before, after)
		}
		return
	}
	if len(m.Weights()) > 0 && !c.fixedState {
		// State only (a BatchNormalization without gamma and beta): the
		// step must have moved the moving averages.
		for i, w := range m.Weights() {
			if reflect.DeepEqual(floatsOf(w.Value), weightsBefore[i]) {
				t.Errorf("state weight %s did not change in a training step", w.Name)
			}
		}
		return
	}
	// No weights (the training loss of Dropout is random), or fixed state:
	// the inference loss must stay as it was.
	if after := evalLoss(); after != before {
		t.Errorf("no weights, yet one step moved the loss %v → %v", before, after)
	}
}

// TestLayerGradientCheckCatchesWrongGradient guards the contract's
// checker: a layer that reads a weight outside the differentiated graph
// (so its symbolic gradient is zero) must fail it.
func TestLayerGradientCheckCatchesWrongGradient(t *testing.T) {
	l := &hiddenWeightLayer{}
	if err := oneLayerModel(t, l, []int{3}, tensor.Float64).ready(); err != nil {
		t.Fatal(err)
	}
	randomizeWeights(l, 1)
	x := randomTensor(rand.New(rand.NewPCG(2, 0)), tensor.Float64, -1, 1, 2, 3)
	err := checkLayerGradients(l, graph.Infer, x, 3)
	if err == nil {
		t.Fatal("a layer whose kernel gradient is missing passed the gradient check")
	}
	t.Logf("rejected as expected: %v", err)
}

// hiddenWeightLayer computes x·K but gives Gorgonia K through a node that
// shares K's memory and is not the weight's parameter node, a bug the
// gradient check must see.
type hiddenWeightLayer struct {
	Base
	k *graph.Weight
}

func (l *hiddenWeightLayer) OutputShape(in []Shape) (Shape, error) { return in[0], nil }

func (l *hiddenWeightLayer) Build(in []Shape) error {
	l.k = l.AddWeight("kernel", []int{in[0][0], in[0][0]}, nil, true)
	return nil
}

func (l *hiddenWeightLayer) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	p, err := ctx.Param(l.k)
	if err != nil {
		return nil, err
	}
	hidden := gorgonia.NodeFromAny(ctx.G, l.k.Value, gorgonia.WithName("hidden"))
	y, err := gorgonia.Mul(in[0], hidden)
	if err != nil {
		return nil, err
	}
	// 0·Σ K keeps the parameter in the graph, with a zero gradient.
	zero, err := gorgonia.Mul(gorgonia.Must(gorgonia.Sum(p)), ctx.Constant(0))
	if err != nil {
		return nil, err
	}
	return gorgonia.Add(y, zero)
}

// Helpers shared by the keras tests.

// randomTensor returns a tensor of dtype dt, uniform in [lo, hi); lo = hi
// = 0 means [-1, 1).
func randomTensor(rng *rand.Rand, dt tensor.Dtype, lo, hi float64, shape ...int) *tensor.Dense {
	if lo == 0 && hi == 0 {
		lo, hi = -1, 1
	}
	n := tensor.Shape(shape).TotalSize()
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return denseOf(dt, v, shape...)
}

// denseOf makes a tensor of dtype dt from float64 values.
func denseOf(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

// onesTensor is a vector of n ones (sample weights).
func onesTensor(dt tensor.Dtype, n int) *tensor.Dense {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return denseOf(dt, v, n)
}

// setFloats writes float64 values into a float32 or float64 tensor.
func setFloats(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	case []float64:
		copy(d, v)
	}
}

// materialized returns a contiguous copy of a view, or t itself.
func materialized(t *tensor.Dense) *tensor.Dense {
	if t.IsView() {
		return t.Materialize().(*tensor.Dense)
	}
	return t
}

// snapshot copies the values of weights.
func snapshot(ws []*graph.Weight) [][]float64 {
	out := make([][]float64, len(ws))
	for i, w := range ws {
		out[i] = append([]float64(nil), floatsOf(w.Value)...)
	}
	return out
}

// closeTo reports the first i with |got[i] − want[i]| > abs + rel·|want[i]|.
func closeTo(got, want []float64, abs, rel float64) error {
	if len(got) != len(want) {
		return errors.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= abs+rel*math.Abs(want[i])) {
			return errors.Errorf("value %d is %.17g, want %.17g (|diff| %.3g)", i, got[i], want[i], d)
		}
	}
	return nil
}

// identicalBits reports the first element where two tensors differ
// bitwise (so NaNs compare by payload and -0 differs from 0).
func identicalBits(a, b *tensor.Dense) error {
	if !a.Shape().Eq(b.Shape()) || a.Dtype() != b.Dtype() {
		return errors.Errorf("%v %v vs %v %v", a.Shape(), a.Dtype(), b.Shape(), b.Dtype())
	}
	switch x := a.Data().(type) {
	case []float32:
		y := b.Data().([]float32)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return errors.Errorf("element %d: %v vs %v", i, x[i], y[i])
			}
		}
	case []float64:
		y := b.Data().([]float64)
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return errors.Errorf("element %d: %v vs %v", i, x[i], y[i])
			}
		}
	default:
		return errors.Errorf("unsupported dtype %v", a.Dtype())
	}
	return nil
}

// newTestRand is a seeded source for test data.
func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }
