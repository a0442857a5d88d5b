package keras

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras/tree"
	"github.com/keragon/keragon/ops"
	"github.com/keragon/keragon/training"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Trees used by the tests; token ids are ignored (the tests feed
// features).

// sumTrees have any number of children: a three-child node, a one-child
// node, a lone leaf.
func sumTrees() []*tree.Tree {
	return []*tree.Tree{
		tree.New(0, tree.New(0, tree.Leaf(0), tree.Leaf(0), tree.Leaf(0)), tree.Leaf(0)),
		tree.Leaf(0),
		tree.New(0, tree.New(0, tree.Leaf(0), tree.Leaf(0)), tree.New(0, tree.Leaf(0))),
	}
}

// binTrees are binary, for the N-ary cells.
func binTrees() []*tree.Tree {
	return []*tree.Tree{
		tree.New(0, tree.New(0, tree.Leaf(0), tree.Leaf(0)), tree.Leaf(0)),
		tree.Leaf(0),
		tree.New(0, tree.New(0, tree.Leaf(0), tree.Leaf(0)), tree.New(0, tree.Leaf(0), tree.Leaf(0))),
	}
}

// encodeTrees returns the encoder fitted to trees (with arity) and the
// structure in dtype dt.
func encodeTrees(t *testing.T, trees []*tree.Tree, arity int, dt tensor.Dtype) (tree.Encoder, *tensor.Dense) {
	t.Helper()
	enc, err := tree.EncoderFor(trees, arity)
	if err != nil {
		t.Fatal(err)
	}
	enc.Dtype = dt.String()
	_, st, err := enc.Encode(trees)
	if err != nil {
		t.Fatal(err)
	}
	return enc, st
}

// treeModel is a model of one tree layer on node features (nodes, f) and a
// structure of the encoder's shape, in dtype dt, seeded.
func treeModel(t *testing.T, l Layer, enc tree.Encoder, f int, dt tensor.Dtype) *Model {
	t.Helper()
	x := Apply(&Input{Shape: []int{enc.MaxNodes, f}, Dtype: dt.String()})
	s := Apply(&Input{Shape: enc.StructureShape(), Dtype: dt.String()})
	m, err := NewModel([]*Tensor{x, s}, []*Tensor{Apply(l, x, s)})
	if err != nil {
		t.Fatalf("a model of one %s: %+v", ClassName(l), err)
	}
	m.SetSeed(7)
	if err := m.ready(); err != nil {
		t.Fatal(err)
	}
	return m
}

// fixedStructure is a tree layer with its structure bound, so that the
// one-input layer contract (checkLayerGradients) can drive it.
type fixedStructure struct {
	Layer
	st *tensor.Dense
}

func (f fixedStructure) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	s := gorgonia.NodeFromAny(ctx.G, f.st, gorgonia.WithName("structure"))
	return f.Layer.Call(ctx, []*gorgonia.Node{in[0], s})
}

type treeLayerCase struct {
	name  string
	make  func() Layer
	trees func() []*tree.Tree
	arity int
	nodes bool // ReturnNodes
}

var treeLayerCases = []treeLayerCase{
	{"TreeRNN", func() Layer { return &TreeRNN{Units: 3} }, sumTrees, 0, false},
	{"TreeRNN sigmoid N-ary", func() Layer { return &TreeRNN{Units: 3, Activation: "sigmoid", Arity: 2} }, binTrees, 2, false},
	{"TreeLSTM child-sum", func() Layer { return &TreeLSTM{Units: 3} }, sumTrees, 0, false},
	{"TreeLSTM child-sum nodes", func() Layer { return &TreeLSTM{Units: 2, ReturnNodes: true} }, sumTrees, 0, true},
	{"TreeLSTM N-ary", func() Layer { return &TreeLSTM{Units: 3, Arity: 2} }, binTrees, 2, false},
	{"TreeRNN N-ary nodes", func() Layer { return &TreeRNN{Units: 2, Arity: 2, ReturnNodes: true, NoBias: true} }, binTrees, 2, true},
}

// TestTreeLayerGradients checks, by central differences in float64, the
// gradients through whole trees with respect to the node features and
// every weight.
func TestTreeLayerGradients(t *testing.T) {
	const f = 2
	for _, c := range treeLayerCases {
		enc, st := encodeTrees(t, c.trees(), c.arity, tensor.Float64)
		l := c.make()
		treeModel(t, l, enc, f, tensor.Float64)
		randomizeWeights(l, 11)
		x := randomTensor(rand.New(rand.NewPCG(12, 0)), tensor.Float64, -1, 1, 3, enc.MaxNodes, f)
		if err := checkLayerGradients(fixedStructure{l, st}, graph.Infer, x, 13); err != nil {
			t.Errorf("%s: %+v", c.name, err)
		}
	}
}

func TestTreeLayerConfigRoundTrip(t *testing.T) {
	cases := []func() Layer{
		func() Layer {
			return &TreeLSTM{Name: "t", Units: 4, Arity: 2, ReturnNodes: true, KernelInitializer: "he_normal",
				RecurrentInitializer: "glorot_uniform", BiasInitializer: "ones", NoUnitForgetBias: true,
				KernelRegularizer: &ops.L1L2{L2: 0.01}}
		},
		func() Layer { return &TreeRNN{Units: 4, Activation: "relu", Arity: 3, NoBias: true} },
	}
	for _, mk := range cases {
		checkConfigRoundTrip(t, layerCase{make: mk})
	}
}

// TestTreeLayerHandComputed works a three-node tree r(a, b) by hand, one
// feature and one unit: x_a = 1, x_b = 2, x_r = 3.
func TestTreeLayerHandComputed(t *testing.T) {
	tr := &tree.Tree{Vector: []float64{3}, Children: []*tree.Tree{{Vector: []float64{1}}, {Vector: []float64{2}}}}
	enc := tree.Encoder{MaxNodes: 3, MaxChildren: 2, MaxHeight: 1, MaxWidth: 1, Dtype: "float64"}
	x, st, err := enc.EncodeVectors([]*tree.Tree{tr}, 1)
	if err != nil {
		t.Fatal(err)
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

	// TreeRNN, W = 0.5, U = −1, b = 0.1:
	//   h_a = tanh(0.6) = 0.5370495669980353
	//   h_b = tanh(1.1) = 0.8004990217606297
	//   h_r = tanh(1.5 + 0.1 − (h_a + h_b)) = tanh(0.262451411241335)
	rnn := &TreeRNN{Units: 1}
	m := treeModel(t, rnn, enc, 1, tensor.Float64)
	setWeights(t, rnn, [][]float64{{0.5}, {-1}, {0.1}})
	want := math.Tanh(1.6 - math.Tanh(0.6) - math.Tanh(1.1))
	checkPredict(t, "TreeRNN", m, x, st, []float64{want})

	// Child-sum TreeLSTM, kernel [i o u f] = [0.1 0.2 0.3 0.4], recurrent
	// [0.5 −0.5 1 −1], bias [0 0 0 1] (the unit forget bias):
	lstm := &TreeLSTM{Units: 1}
	m = treeModel(t, lstm, enc, 1, tensor.Float64)
	setWeights(t, lstm, [][]float64{{0.1, 0.2, 0.3, 0.4}, {0.5, -0.5, 1, -1}, {0, 0, 0, 1}})
	leaf := func(x float64) (h, c float64) {
		c = sig(0.1*x) * math.Tanh(0.3*x)
		return sig(0.2*x) * math.Tanh(c), c
	}
	ha, ca := leaf(1)
	hb, cb := leaf(2)
	hs := ha + hb
	i, o, u := sig(0.3+0.5*hs), sig(0.6-0.5*hs), math.Tanh(0.9+hs)
	fa, fb := sig(1.2+1-ha), sig(1.2+1-hb)
	c := i*u + fa*ca + fb*cb
	checkPredict(t, "TreeLSTM", m, x, st, []float64{o * math.Tanh(c)})
}

// setWeights sets a layer's weights in order.
func setWeights(t *testing.T, l Layer, vals [][]float64) {
	t.Helper()
	ws := l.base().Weights()
	if len(ws) != len(vals) {
		t.Fatalf("%d weights, %d values", len(ws), len(vals))
	}
	for i, w := range ws {
		setWeight(t, w, vals[i])
	}
}

func checkPredict(t *testing.T, what string, m *Model, x, st *tensor.Dense, want []float64) {
	t.Helper()
	y, err := m.PredictMulti([]*tensor.Dense{x, st})
	if err != nil {
		t.Fatalf("%s: %+v", what, err)
	}
	if err := closeTo(floatsOf(y[0]), want, 1e-14, 1e-12); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// TestTreeLayerBatching checks that a batch of trees gives each tree's
// output alone, that any batch size (with a partial last batch) gives the
// same, and that a roomier encoding (more node slots, levels, width and
// child columns) changes nothing: padding is inert.
func TestTreeLayerBatching(t *testing.T) {
	const f = 3
	for _, c := range treeLayerCases {
		trees := append(c.trees(), c.trees()...)
		trees = append(trees, c.trees()[0])
		enc, _ := encodeTrees(t, trees, c.arity, tensor.Float64)
		l := c.make()
		m := treeModel(t, l, enc, f, tensor.Float64)
		randomizeWeights(l, 5)
		rng := rand.New(rand.NewPCG(6, 0))
		for _, tr := range trees {
			setVectors(rng, tr, f)
		}
		x, st, err := enc.EncodeVectors(trees, f)
		if err != nil {
			t.Fatal(err)
		}
		all, err := m.PredictMulti([]*tensor.Dense{x, st}, EvalConfig{BatchSize: len(trees)})
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		want := floatsOf(all[0])
		for _, bs := range []int{1, 3} {
			got, err := m.PredictMulti([]*tensor.Dense{x, st}, EvalConfig{BatchSize: bs})
			if err != nil {
				t.Fatalf("%s: %+v", c.name, err)
			}
			if err := closeTo(floatsOf(got[0]), want, 1e-13, 1e-12); err != nil {
				t.Errorf("%s, batches of %d: %v", c.name, bs, err)
			}
		}
		if c.nodes {
			continue // the node axis grows with MaxNodes
		}
		big := enc
		big.MaxNodes += 3
		big.MaxHeight += 2
		big.MaxWidth += 1
		if c.arity == 0 {
			big.MaxChildren += 2
		}
		xb, stb, err := big.EncodeVectors(trees, f)
		if err != nil {
			t.Fatal(err)
		}
		l2 := c.make()
		m2 := treeModel(t, l2, big, f, tensor.Float64)
		for i, w := range l2.base().Weights() {
			setWeight(t, w, floatsOf(l.base().Weights()[i].Value))
		}
		got, err := m2.PredictMulti([]*tensor.Dense{xb, stb})
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		if err := closeTo(floatsOf(got[0]), want, 1e-13, 1e-12); err != nil {
			t.Errorf("%s, roomier encoding: %v", c.name, err)
		}
	}
}

// setVectors gives every node of tr a random vector of f values.
func setVectors(rng *rand.Rand, tr *tree.Tree, f int) {
	tr.Vector = make([]float64, f)
	for i := range tr.Vector {
		tr.Vector[i] = rng.Float64()*2 - 1
	}
	for _, c := range tr.Children {
		setVectors(rng, c, f)
	}
}

// TestTreeLayerTrains fits a child-sum TreeLSTM and a TreeRNN on a task
// that needs the structure: is the root's deepest leaf at depth 2 or more
// (so leaves alone say nothing)? One full-batch step must lower the
// training loss, and a few epochs must fit the training set.
func TestTreeLayerTrains(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var trees []*tree.Tree
	var labels []float64
	for range 64 {
		tr := randomTree(rng, 3, 3)
		trees = append(trees, tr)
		labels = append(labels, boolFloat(tr.Height() >= 2))
	}
	enc, err := tree.EncoderFor(trees, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trees {
		setVectors(rng, tr, 2)
	}
	x, st, err := enc.EncodeVectors(trees, 2)
	if err != nil {
		t.Fatal(err)
	}
	y := denseOf(tensor.Float32, labels, len(labels), 1)
	for _, l := range []Layer{&TreeLSTM{Units: 8}, &TreeRNN{Units: 8}} {
		xi := Apply(&Input{Shape: []int{enc.MaxNodes, 2}})
		si := Apply(&Input{Shape: enc.StructureShape()})
		out := Apply(&Dense{Units: 1, Activation: "sigmoid"}, Apply(l, xi, si))
		m, err := NewModel([]*Tensor{xi, si}, []*Tensor{out})
		if err != nil {
			t.Fatal(err)
		}
		m.SetSeed(1)
		if err := m.Compile(CompileConfig{Optimizer: &training.Adam{LearningRate: 0.02}, Loss: "binary_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
			t.Fatal(err)
		}
		xs, ys := []*tensor.Dense{x, st}, []*tensor.Dense{y}
		before, _ := fitGradientsMulti(t, m, xs, ys)
		if _, err := m.FitMulti(xs, ys, FitConfig{Epochs: 1, BatchSize: len(labels), NoShuffle: true}); err != nil {
			t.Fatalf("%s: %+v", ClassName(l), err)
		}
		after, _ := fitGradientsMulti(t, m, xs, ys)
		if !(after < before) {
			t.Errorf("%s: one step: loss %v → %v, want it lower", ClassName(l), before, after)
		}
		if _, err := m.FitMulti(xs, ys, FitConfig{Epochs: 60, BatchSize: 16}); err != nil {
			t.Fatalf("%s: %+v", ClassName(l), err)
		}
		_, metrics, err := m.EvaluateMulti(xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		if acc := metrics["accuracy"]; acc < 0.95 {
			t.Errorf("%s: training accuracy %.3f after 60 epochs, want ≥ 0.95", ClassName(l), acc)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// randomTree draws a tree of height ≤ depth with up to k children a node.
func randomTree(rng *rand.Rand, depth, k int) *tree.Tree {
	if depth == 0 || rng.IntN(3) == 0 {
		return tree.Leaf(0)
	}
	tr := tree.New(0)
	for range 1 + rng.IntN(k) {
		tr.Children = append(tr.Children, randomTree(rng, depth-1, k))
	}
	return tr
}

// TestTreeLayerSaveLoad saves a trained tree model and loads it back:
// same predictions, same configuration.
func TestTreeLayerSaveLoad(t *testing.T) {
	trees := binTrees()
	enc, _ := encodeTrees(t, trees, 2, tensor.Float32)
	rng := rand.New(rand.NewPCG(8, 0))
	for _, tr := range trees {
		setVectors(rng, tr, 2)
	}
	x, st, err := enc.EncodeVectors(trees, 2)
	if err != nil {
		t.Fatal(err)
	}
	xi := Apply(&Input{Shape: []int{enc.MaxNodes, 2}})
	si := Apply(&Input{Shape: enc.StructureShape()})
	h := Apply(&TreeLSTM{Units: 3, Arity: 2, Name: "tree"}, xi, si)
	h2 := Apply(&TreeRNN{Units: 2, ReturnNodes: true}, xi, si)
	out1 := Apply(&Dense{Units: 2}, h)
	out2 := Apply(&Dense{Units: 2}, Apply(&Flatten{}, h2))
	m, err := NewModel([]*Tensor{xi, si}, []*Tensor{out1, out2})
	if err != nil {
		t.Fatal(err)
	}
	m.SetSeed(2)
	if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	xs := []*tensor.Dense{x, st}
	y := randomTensor(rng, tensor.Float32, -1, 1, len(trees), 2)
	if _, err := m.FitMulti(xs, []*tensor.Dense{y, y}, FitConfig{Epochs: 2, BatchSize: 2}); err != nil {
		t.Fatal(err)
	}
	want, err := m.PredictMulti(xs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tree.keragon")
	if err := m.Save(path); err != nil {
		t.Fatalf("Save: %+v", err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %+v", err)
	}
	got, err := loaded.PredictMulti(xs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if err := identicalBits(got[i], want[i]); err != nil {
			t.Errorf("output %d after Load: %v", i, err)
		}
	}
	l, err := loaded.Layer("tree")
	if err != nil {
		t.Fatal(err)
	}
	if tl, ok := l.(*TreeLSTM); !ok || tl.Arity != 2 || tl.Units != 3 {
		t.Errorf("loaded layer %q is %#v", "tree", l)
	}
}

// TestTreeLayerBadInput: wrong configurations fail at Apply, malformed
// structures at run time, with errors naming the problem.
func TestTreeLayerBadInput(t *testing.T) {
	shapes := []struct {
		name string
		l    Layer
		in   [][]int
		want string
	}{
		{"one input", &TreeLSTM{Units: 2}, [][]int{{5, 3}}, "TreeLSTM takes two inputs"},
		{"features of rank 3", &TreeRNN{Units: 2}, [][]int{{5, 3, 1}, {2, 1, 3}}, "node features of shape (nodes, features), got (None, 5, 3, 1)"},
		{"structure of rank 2", &TreeLSTM{Units: 2}, [][]int{{5, 3}, {2, 3}}, "structure of shape (levels, width, 1+children)"},
		{"zero units", &TreeLSTM{}, [][]int{{5, 3}, {2, 1, 3}}, "TreeLSTM needs a positive Units, got 0"},
		{"arity mismatch", &TreeLSTM{Units: 2, Arity: 3}, [][]int{{5, 3}, {2, 1, 3}}, "TreeLSTM with Arity 3 needs a structure with 3 child columns"},
		{"negative arity", &TreeRNN{Units: 2, Arity: -1}, [][]int{{5, 3}, {2, 1, 3}}, "TreeRNN needs Arity ≥ 0"},
		{"bad activation", &TreeRNN{Units: 2, Activation: "nope"}, [][]int{{5, 3}, {2, 1, 3}}, "nope"},
	}
	for _, c := range shapes {
		var ins []*Tensor
		for _, s := range c.in {
			ins = append(ins, NewInput(s...))
		}
		out := Apply(c.l, ins...)
		if err := out.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}

	// Run time: hand-made structures. Tree 0 of binTrees is 4(2(0, 1), 3),
	// levels [2 0 1] and [4 2 3].
	runs := []struct {
		name  string
		arity int
		edit  func(st []float32)
		want  string
	}{
		{"child out of range", 0, func(st []float32) { st[1] = 9 }, "tree 0, level 0, slot 0, column 1: index 9 is not −1 or a node in [0, 7)"},
		{"missing child of an N-ary node", 2, func(st []float32) { st[2] = -1 }, "node 2 has children [0 -1]; an N-ary cell with arity 2 needs all 2 or none"},
		{"a cycle", 0, func(st []float32) { st[2] = 4 }, "child 4 is scheduled at level 1, not before its parent 2"},
	}
	for _, c := range runs {
		enc, st := encodeTrees(t, binTrees(), 2, tensor.Float32)
		c.edit(st.Data().([]float32))
		m := treeModel(t, &TreeLSTM{Units: 2, Arity: c.arity}, enc, 1, tensor.Float32)
		x := randomTensor(rand.New(rand.NewPCG(1, 0)), tensor.Float32, -1, 1, 3, enc.MaxNodes, 1)
		_, err := m.PredictMulti([]*tensor.Dense{x, st})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestTreeLayerNodeLabels trains on every node (ReturnNodes, targets from
// EncodeLabels): the layer masks padding slots, so their targets change
// neither the loss nor the accuracy, and the loss is the mean over real
// nodes.
func TestTreeLayerNodeLabels(t *testing.T) {
	trees := sumTrees()
	rng := rand.New(rand.NewPCG(4, 0))
	var label func(tr *tree.Tree)
	label = func(tr *tree.Tree) {
		tr.Label = rng.IntN(3)
		for _, c := range tr.Children {
			label(c)
		}
	}
	for _, tr := range trees {
		label(tr)
		setVectors(rng, tr, 2)
	}
	enc, _ := encodeTrees(t, trees, 0, tensor.Float64)
	x, st, err := enc.EncodeVectors(trees, 2)
	if err != nil {
		t.Fatal(err)
	}
	y, err := enc.EncodeLabels(trees)
	if err != nil {
		t.Fatal(err)
	}
	xi := Apply(&Input{Shape: []int{enc.MaxNodes, 2}, Dtype: "float64"})
	si := Apply(&Input{Shape: enc.StructureShape(), Dtype: "float64"})
	out := Apply(&Dense{Units: 3, Activation: "softmax"}, Apply(&TreeLSTM{Units: 4, ReturnNodes: true}, xi, si))
	m, err := NewModel([]*Tensor{xi, si}, []*Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	m.SetSeed(3)
	if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	xs := []*tensor.Dense{x, st}
	loss, metrics, err := m.EvaluateMulti(xs, []*tensor.Dense{y})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	// By hand: the mean of −log p(label) over the trees' nodes.
	probs, err := m.PredictMulti(xs)
	if err != nil {
		t.Fatal(err)
	}
	p, labels := floatsOf(probs[0]), floatsOf(y)
	var sum float64
	var n int
	for s, tr := range trees {
		for i := range tr.Size() {
			sum -= math.Log(p[(s*enc.MaxNodes+i)*3+int(labels[s*enc.MaxNodes+i])])
			n++
		}
	}
	if want := sum / float64(n); math.Abs(loss-want) > 1e-12 {
		t.Errorf("node loss %v, by hand over %d nodes %v", loss, n, want)
	}
	// Other targets on the padding slots change nothing.
	y2 := y.Clone().(*tensor.Dense)
	v := y2.Data().([]float64)
	for s, tr := range trees {
		for i := tr.Size(); i < enc.MaxNodes; i++ {
			v[s*enc.MaxNodes+i] = 2
		}
	}
	loss2, metrics2, err := m.EvaluateMulti(xs, []*tensor.Dense{y2})
	if err != nil {
		t.Fatal(err)
	}
	if loss2 != loss || metrics2["accuracy"] != metrics["accuracy"] {
		t.Errorf("padding targets moved the loss %v → %v, accuracy %v → %v", loss, loss2, metrics["accuracy"], metrics2["accuracy"])
	}
}

// TestTreeLayerVocabSize: with VocabSize the layer takes token ids, and
// its kernel rows are the input pre-activations, so it equals the layer
// on one-hot features with the same weights; a token outside the table is
// an error naming it.
func TestTreeLayerVocabSize(t *testing.T) {
	const vocab = 4
	trees := sumTrees()
	rng := rand.New(rand.NewPCG(9, 0))
	var tokens func(tr *tree.Tree)
	tokens = func(tr *tree.Tree) {
		tr.Token = rng.IntN(vocab)
		tr.Vector = make([]float64, vocab)
		tr.Vector[tr.Token] = 1
		for _, c := range tr.Children {
			tokens(c)
		}
	}
	for _, tr := range trees {
		tokens(tr)
	}
	enc, _ := encodeTrees(t, trees, 0, tensor.Float64)
	tok, st, err := enc.Encode(trees)
	if err != nil {
		t.Fatal(err)
	}
	onehot, _, err := enc.EncodeVectors(trees, vocab)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		ids, feats Layer
	}{
		{"TreeLSTM", &TreeLSTM{Units: 3, VocabSize: vocab, ReturnNodes: true}, &TreeLSTM{Units: 3, ReturnNodes: true}},
		{"TreeRNN", &TreeRNN{Units: 3, VocabSize: vocab}, &TreeRNN{Units: 3}},
	} {
		xi := Apply(&Input{Shape: []int{enc.MaxNodes}, Dtype: "float64"})
		si := Apply(&Input{Shape: enc.StructureShape(), Dtype: "float64"})
		m, err := NewModel([]*Tensor{xi, si}, []*Tensor{Apply(c.ids, xi, si)})
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		m.SetSeed(1)
		mf := treeModel(t, c.feats, enc, vocab, tensor.Float64)
		if err := m.ready(); err != nil {
			t.Fatal(err)
		}
		for i, w := range c.ids.base().Weights() {
			if !Shape(w.Shape).Equal(c.feats.base().Weights()[i].Shape) {
				t.Fatalf("%s: weight %s has shape %v, the one-hot layer's %v", c.name, w.Name, w.Shape, c.feats.base().Weights()[i].Shape)
			}
			setWeight(t, w, floatsOf(c.feats.base().Weights()[i].Value))
		}
		got, err := m.PredictMulti([]*tensor.Dense{tok, st})
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		want, err := mf.PredictMulti([]*tensor.Dense{onehot, st})
		if err != nil {
			t.Fatal(err)
		}
		if err := closeTo(floatsOf(got[0]), floatsOf(want[0]), 1e-14, 1e-12); err != nil {
			t.Errorf("%s: token ids vs one-hot features: %v", c.name, err)
		}
		bad := tok.Clone().(*tensor.Dense)
		bad.Data().([]float64)[1] = vocab
		if _, err := m.PredictMulti([]*tensor.Dense{bad, st}); err == nil || !strings.Contains(err.Error(), "index 4 at position 1 is not a row of a table of 4") {
			t.Errorf("%s: token outside the vocabulary: %v", c.name, err)
		}
	}
	if err := Apply(&TreeLSTM{Units: 2, VocabSize: 5}, NewInput(4, 2), NewInput(1, 1, 3)).Err(); err == nil || !strings.Contains(err.Error(), "VocabSize 5 takes token ids of shape (nodes)") {
		t.Errorf("features with VocabSize: %v", err)
	}
	checkConfigRoundTrip(t, layerCase{make: func() Layer { return &TreeLSTM{Units: 2, VocabSize: 5} }})
}
