package keras

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rnnWeightSpecs lists the weights of a recurrent layer of G gates.
func rnnWeightSpecs(prefix string, features, units, gates int, bias []int) []weightSpec {
	ws := []weightSpec{
		{prefix + "kernel", []int{features, gates * units}, true},
		{prefix + "recurrent_kernel", []int{units, gates * units}, true},
	}
	if bias != nil {
		ws = append(ws, weightSpec{prefix + "bias", bias, true})
	}
	return ws
}

// TestRecurrentLayerContract runs the layer contract (shapes, weights,
// config round trip, finite differences through the unrolled steps in
// both phases, one training step) on each recurrent layer and wrapper.
func TestRecurrentLayerContract(t *testing.T) {
	for _, c := range recurrentContractCases() {
		runLayerTest(t, c)
	}
	// With dropout the training loss is random (new masks every run), so
	// the contract's "one step lowers the loss" does not apply; the rest
	// does, the masks staying fixed within a gradient check.
	for _, c := range recurrentDropoutContractCases() {
		t.Run(c.name, func(t *testing.T) {
			checkShapesAndWeights(t, c)
			checkConfigRoundTrip(t, c)
			for _, ph := range []graph.Phase{graph.Infer, graph.Train} {
				l := builtLayer(t, c, tensor.Float64)
				randomizeWeights(l, 11)
				x := randomTensor(rand.New(rand.NewPCG(12, 0)), tensor.Float64, -1, 1, append([]int{contractBatch}, c.input...)...)
				if err := checkLayerGradients(l, ph, x, 13); err != nil {
					t.Errorf("%v phase: %+v", ph, err)
				}
			}
		})
	}
}

// lstmWeights are the weight specs of an LSTM of 2 units on 2 features.
func lstmWeights(prefix string) []weightSpec { return rnnWeightSpecs(prefix, 2, 2, 4, []int{8}) }

// recurrentContractCases are TestRecurrentLayerContract's full-contract
// cases (also listed in allContractCases).
func recurrentContractCases() []layerCase {
	return []layerCase{
		{name: "SimpleRNN", make: func() Layer { return &SimpleRNN{Units: 3} },
			input: []int{4, 2}, output: []int{3}, weights: rnnWeightSpecs("", 2, 3, 1, []int{3})},
		{name: "SimpleRNN_softsign_sequences_backwards", make: func() Layer {
			return &SimpleRNN{Units: 2, Activation: "softsign", ReturnSequences: true, GoBackwards: true}
		}, input: []int{3, 2}, output: []int{3, 2}, weights: rnnWeightSpecs("", 2, 2, 1, []int{2})},
		{name: "LSTM_sequences", make: func() Layer { return &LSTM{Units: 2, ReturnSequences: true} },
			input: []int{3, 2}, output: []int{3, 2}, weights: lstmWeights("")},
		{name: "GRU_sequences_backwards", make: func() Layer { return &GRU{Units: 2, ReturnSequences: true, GoBackwards: true} },
			input: []int{3, 2}, output: []int{3, 2}, weights: rnnWeightSpecs("", 2, 2, 3, []int{2, 6})},
		{name: "GRU_no_bias", make: func() Layer { return &GRU{Units: 2, NoBias: true} },
			input: []int{3, 3}, output: []int{2}, weights: rnnWeightSpecs("", 3, 2, 3, nil)},
		{name: "Bidirectional_LSTM_concat", make: func() Layer { return &Bidirectional{Layer: &LSTM{Units: 2, ReturnSequences: true}} },
			input: []int{3, 2}, output: []int{3, 4}, weights: append(lstmWeights("forward_lstm/"), lstmWeights("backward_lstm/")...)},
		{name: "Bidirectional_GRU_ave", make: func() Layer { return &Bidirectional{Layer: &GRU{Units: 2, Name: "g"}, MergeMode: "ave"} },
			input: []int{3, 2}, output: []int{2},
			weights: append(rnnWeightSpecs("forward_g/", 2, 2, 3, []int{2, 6}), rnnWeightSpecs("backward_g/", 2, 2, 3, []int{2, 6})...)},
		{name: "Bidirectional_SimpleRNN_mul", make: func() Layer {
			return &Bidirectional{Layer: &SimpleRNN{Units: 2, ReturnSequences: true}, MergeMode: "mul"}
		}, input: []int{3, 2}, output: []int{3, 2},
			weights: append(rnnWeightSpecs("forward_simple_rnn/", 2, 2, 1, []int{2}), rnnWeightSpecs("backward_simple_rnn/", 2, 2, 1, []int{2})...)},
		{name: "Bidirectional_SimpleRNN_sum", make: func() Layer { return &Bidirectional{Layer: &SimpleRNN{Units: 2}, MergeMode: "sum"} },
			input: []int{3, 2}, output: []int{2},
			weights: append(rnnWeightSpecs("forward_simple_rnn/", 2, 2, 1, []int{2}), rnnWeightSpecs("backward_simple_rnn/", 2, 2, 1, []int{2})...)},
		{name: "TimeDistributed_Dense", make: func() Layer { return &TimeDistributed{Layer: &Dense{Units: 3, Activation: "tanh"}} },
			input: []int{4, 2}, output: []int{4, 3}, weights: []weightSpec{{"dense/kernel", []int{2, 3}, true}, {"dense/bias", []int{3}, true}}},
		{name: "TimeDistributed_Flatten", make: func() Layer { return &TimeDistributed{Layer: &Flatten{}} },
			input: []int{3, 2, 2}, output: []int{3, 4}},
	}
}

// recurrentDropoutContractCases are TestRecurrentLayerContract's cases
// with dropout, which skip the training step.
func recurrentDropoutContractCases() []layerCase {
	return []layerCase{
		{name: "LSTM_dropout_backwards", make: func() Layer {
			return &LSTM{Units: 2, Dropout: 0.3, RecurrentDropout: 0.4, GoBackwards: true}
		}, input: []int{3, 2}, output: []int{2}, weights: lstmWeights("")},
		{name: "LSTM_input_dropout_only", make: func() Layer { return &LSTM{Units: 2, Dropout: 0.5, ReturnSequences: true} },
			input: []int{3, 2}, output: []int{3, 2}, weights: lstmWeights("")},
		{name: "GRU_dropout", make: func() Layer { return &GRU{Units: 2, Dropout: 0.4, RecurrentDropout: 0.2} },
			input: []int{3, 3}, output: []int{2}, weights: rnnWeightSpecs("", 3, 2, 3, []int{2, 6})},
		{name: "SimpleRNN_dropout", make: func() Layer { return &SimpleRNN{Units: 2, Dropout: 0.4, RecurrentDropout: 0.4, ReturnSequences: true} },
			input: []int{3, 3}, output: []int{3, 2}, weights: rnnWeightSpecs("", 3, 2, 1, []int{2})},
	}
}

// TestRecurrentInitializers: Keras' defaults: the forget gate's bias
// starts at 1 (unit_forget_bias), the recurrent kernel has orthonormal
// rows, the kernel is Glorot-uniform, GRU's bias is zero.
func TestRecurrentInitializers(t *testing.T) {
	l := &LSTM{Units: 4}
	if err := oneLayerModel(t, l, []int{3, 5}, tensor.Float64).ready(); err != nil {
		t.Fatal(err)
	}
	b := floatsOf(l.w.bias.Value)
	for j, v := range b {
		want := 0.0
		if j >= 4 && j < 8 {
			want = 1
		}
		if v != want {
			t.Fatalf("LSTM bias %v, want ones on the forget gate [4, 8) only", b)
		}
	}
	r := floatsOf(l.w.recurrent.Value) // (4, 16): R·Rᵀ = I
	for i := 0; i < 4; i++ {
		for k := 0; k < 4; k++ {
			var dot float64
			for j := 0; j < 16; j++ {
				dot += r[i*16+j] * r[k*16+j]
			}
			if want := btof(i == k); math.Abs(dot-want) > 1e-12 {
				t.Errorf("recurrent kernel rows %d·%d = %v, want %v", i, k, dot, want)
			}
		}
	}
	limit := math.Sqrt(6.0 / (5 + 16))
	for _, v := range floatsOf(l.w.kernel.Value) {
		if math.Abs(v) > limit {
			t.Fatalf("kernel value %v outside Glorot's ±%v", v, limit)
		}
	}
	noForget := &LSTM{Units: 2, NoUnitForgetBias: true}
	if err := oneLayerModel(t, noForget, []int{3, 5}, tensor.Float64).ready(); err != nil {
		t.Fatal(err)
	}
	for _, v := range floatsOf(noForget.w.bias.Value) {
		if v != 0 {
			t.Fatalf("NoUnitForgetBias: bias %v, want zeros", floatsOf(noForget.w.bias.Value))
		}
	}
}

func btof(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// layerGrads calls l (built) on x with a mask and returns its first
// output and the gradients of Σ output ⊙ up w.r.t. x and every weight.
func layerGrads(t *testing.T, l Layer, phase graph.Phase, x, mask, up *tensor.Dense) (out []float64, grads map[string][]float64) {
	t.Helper()
	ctx := graph.NewContext(phase, x.Shape()[0], x.Dtype(), rand.New(rand.NewPCG(3, 0)))
	xw := graph.NewWeight("x", x.Dtype(), x.Shape(), nil, true)
	if err := xw.Set(x); err != nil {
		t.Fatal(err)
	}
	xn, _ := ctx.Param(xw)
	outs, _, err := l.(MaskedLayer).CallMasked(ctx, []*gorgonia.Node{xn}, []*gorgonia.Node{gorgonia.NodeFromAny(ctx.G, mask, gorgonia.WithName("mask"))})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(outs[0], gorgonia.NodeFromAny(ctx.G, up, gorgonia.WithName("up"))))))
	p, err := graph.Compile(ctx, graph.Spec{Outputs: outs[:1], Loss: cost, Grad: true})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer p.Close()
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	o, _ := p.Output(0)
	gs, err := p.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	grads = map[string][]float64{}
	for _, g := range gs {
		grads[g.Weight.Name] = append([]float64(nil), floatsOf(materialized(g.Value))...)
	}
	return append([]float64(nil), floatsOf(o)...), grads
}

// TestPaddedStepsAreInert: changing the inputs at padded steps changes
// neither the outputs at real steps nor any gradient; the input gradient
// at padded steps is zero. The upstream gradient at padded steps is zero,
// as a masked loss makes it.
func TestPaddedStepsAreInert(t *testing.T) {
	const batch, steps, feat = 3, 5, 2
	// Right padding, a hole, left padding.
	mask := []float64{1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1}
	for _, c := range []struct {
		name string
		make func() Layer
	}{
		{"SimpleRNN", func() Layer { return &SimpleRNN{Units: 3, ReturnSequences: true} }},
		{"LSTM_dropout", func() Layer { return &LSTM{Units: 3, ReturnSequences: true, Dropout: 0.3, RecurrentDropout: 0.3} }},
		{"GRU_backwards", func() Layer { return &GRU{Units: 3, ReturnSequences: true, GoBackwards: true} }},
		{"Bidirectional_LSTM", func() Layer { return &Bidirectional{Layer: &LSTM{Units: 2, ReturnSequences: true}} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := c.make()
			m := oneLayerModel(t, l, []int{steps, feat}, tensor.Float64)
			if err := m.ready(); err != nil {
				t.Fatal(err)
			}
			randomizeWeights(l, 5)
			rng := newTestRand(9)
			x1 := randomTensor(rng, tensor.Float64, -1, 1, batch, steps, feat)
			x2 := x1.Clone().(*tensor.Dense)
			for i, mv := range mask {
				if mv == 0 {
					for j := 0; j < feat; j++ {
						x2.Data().([]float64)[i*feat+j] = 7 * rng.Float64()
					}
				}
			}
			outShape, _ := l.OutputShape([]Shape{{steps, feat}})
			up := randomTensor(rng, tensor.Float64, -1, 1, append([]int{batch}, outShape...)...)
			units := outShape[1]
			for i, mv := range mask {
				if mv == 0 {
					for j := 0; j < units; j++ {
						up.Data().([]float64)[i*units+j] = 0
					}
				}
			}
			mk := denseOf(tensor.Float64, mask, batch, steps)
			for _, phase := range []graph.Phase{graph.Infer, graph.Train} {
				o1, g1 := layerGrads(t, l, phase, x1, mk, up)
				o2, g2 := layerGrads(t, l, phase, x2, mk, up)
				for i, mv := range mask {
					for j := 0; j < units; j++ {
						if k := i*units + j; mv != 0 && o1[k] != o2[k] {
							t.Fatalf("%v: output at real step (%d, %d) changed with the padded inputs: %v vs %v", phase, i/steps, i%steps, o1[k], o2[k])
						}
					}
				}
				for name, g := range g1 {
					for k := range g {
						if g[k] != g2[name][k] {
							t.Fatalf("%v: gradient of %s changed with the padded inputs (entry %d: %v vs %v)", phase, name, k, g[k], g2[name][k])
						}
					}
				}
				for i, mv := range mask {
					for j := 0; j < feat; j++ {
						if v := g1["x"][i*feat+j]; mv == 0 && v != 0 {
							t.Fatalf("%v: input gradient %v at padded step (%d, %d)", phase, v, i/steps, i%steps)
						}
					}
				}
			}
		})
	}
}

// seqTagger is Embedding(mask_zero) → Bidirectional(LSTM) → GRU →
// TimeDistributed(Dense softmax): a masked sequence tagger.
func seqTagger(t *testing.T, steps int, dt tensor.Dtype) *Model {
	t.Helper()
	m := NewSequential(&Input{Shape: []int{steps}, Dtype: dt.String()},
		&Embedding{InputDim: 7, OutputDim: 3, MaskZero: true},
		&Bidirectional{Layer: &LSTM{Units: 3, ReturnSequences: true}},
		&GRU{Units: 3, ReturnSequences: true},
		&TimeDistributed{Layer: &Dense{Units: 4, Activation: "softmax"}})
	m.SetSeed(4)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatalf("%+v", err)
	}
	return m
}

// TestMaskedTaggerTargetsInert: the labels of padded steps change neither
// the loss nor any gradient of a masked sequence tagger.
func TestMaskedTaggerTargetsInert(t *testing.T) {
	ids := []float64{5, 2, 1, 0, 0, 0, 3, 4, 0, 6, 1, 1}
	grads := func(y []float64) (float64, map[string][]float64) {
		m := seqTagger(t, 4, tensor.Float32)
		return fitGradients(t, m, denseOf(tensor.Float32, ids, 3, 4), denseOf(tensor.Float32, y, 3, 4))
	}
	l1, g1 := grads([]float64{1, 2, 3, 0, 0, 0, 1, 2, 3, 3, 2, 1})
	l2, g2 := grads([]float64{1, 2, 3, 3, 1, 2, 1, 2, 0, 3, 2, 1})
	if l1 != l2 {
		t.Errorf("loss changed with the labels of padded steps: %v vs %v", l1, l2)
	}
	for name, g := range g1 {
		for k := range g {
			if g[k] != g2[name][k] {
				t.Fatalf("gradient of %s changed with the labels of padded steps", name)
			}
		}
	}
}

// TestPaddedEqualsUnpadded: a sequence padded on either side gives the
// final output (and states) of the same sequence unpadded, through the
// same layers.
func TestPaddedEqualsUnpadded(t *testing.T) {
	for _, c := range []struct {
		name string
		rnn  func() Layer
	}{
		{"LSTM", func() Layer { return &LSTM{Units: 3} }},
		{"GRU_backwards", func() Layer { return &GRU{Units: 3, GoBackwards: true} }},
		{"SimpleRNN", func() Layer { return &SimpleRNN{Units: 3} }},
		{"Bidirectional_LSTM", func() Layer { return &Bidirectional{Layer: &LSTM{Units: 2}} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			padded, short := NewInput(6), NewInput(3)
			for _, in := range []*Tensor{padded, short} {
				in.layer.(*Input).Dtype = "float64"
			}
			emb := &Embedding{InputDim: 9, OutputDim: 2, MaskZero: true}
			rnn := c.rnn()
			m, err := NewModel([]*Tensor{padded, short}, []*Tensor{Apply(rnn, Apply(emb, padded)), Apply(rnn, Apply(emb, short))})
			if err != nil {
				t.Fatalf("%+v", err)
			}
			m.SetSeed(2)
			// Sample 0 right-padded, sample 1 left-padded, sample 2 with holes.
			p := denseOf(tensor.Float64, []float64{4, 8, 2, 0, 0, 0, 0, 0, 0, 1, 5, 3, 0, 6, 0, 7, 0, 2}, 3, 6)
			s := denseOf(tensor.Float64, []float64{4, 8, 2, 1, 5, 3, 6, 7, 2}, 3, 3)
			outs, err := m.PredictMulti([]*tensor.Dense{p, s})
			if err != nil {
				t.Fatalf("%+v", err)
			}
			if err := closeTo(floatsOf(outs[0]), floatsOf(outs[1]), 1e-14, 0); err != nil {
				t.Errorf("padded vs unpadded: %v", err)
			}
		})
	}
}

// TestRecurrentSaveLoad: a model with every recurrent layer and wrapper,
// and a functional encoder–decoder with initial states and ReturnState,
// predict the same after Save and Load.
func TestRecurrentSaveLoad(t *testing.T) {
	tagger := NewSequential(&Input{Shape: []int{5}},
		&Embedding{InputDim: 7, OutputDim: 3, MaskZero: true},
		&Bidirectional{Layer: &LSTM{Units: 3, ReturnSequences: true, Dropout: 0.2}, MergeMode: "sum"},
		&GRU{Units: 3, ReturnSequences: true, GoBackwards: true, RecurrentDropout: 0.1},
		&SimpleRNN{Units: 2, ReturnSequences: true, Activation: "relu", KernelRegularizer: nil},
		&TimeDistributed{Layer: &Dense{Units: 4, Activation: "softmax"}})
	x := denseOf(tensor.Float32, []float64{1, 2, 3, 0, 0, 6, 5, 0, 4, 3}, 2, 5)
	y := denseOf(tensor.Float32, []float64{1, 2, 3, 0, 0, 3, 2, 0, 1, 1}, 2, 5)

	encIn, decIn := NewInput(4, 2), NewInput(3, 2)
	enc := ApplyMulti(&LSTM{Units: 3, ReturnState: true, Name: "encoder"}, encIn)
	dec := Apply(&LSTM{Units: 3, ReturnSequences: true, Name: "decoder"}, decIn, enc[1], enc[2])
	bi := ApplyMulti(&Bidirectional{Layer: &GRU{Units: 2, ReturnState: true}}, decIn)
	out := Apply(&TimeDistributed{Layer: &Dense{Units: 2}}, dec)
	seq2seq, err := NewModel([]*Tensor{encIn, decIn}, []*Tensor{out, bi[0], bi[1], bi[2]})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	rng := newTestRand(3)
	xs := []*tensor.Dense{randomTensor(rng, tensor.Float32, -1, 1, 2, 4, 2), randomTensor(rng, tensor.Float32, -1, 1, 2, 3, 2)}
	ys := []*tensor.Dense{randomTensor(rng, tensor.Float32, -1, 1, 2, 3, 2), randomTensor(rng, tensor.Float32, -1, 1, 2, 4),
		randomTensor(rng, tensor.Float32, -1, 1, 2, 2), randomTensor(rng, tensor.Float32, -1, 1, 2, 2)}

	for _, c := range []struct {
		name string
		m    *Model
		xs   []*tensor.Dense
		ys   []*tensor.Dense
		loss string
	}{
		{"tagger", tagger, []*tensor.Dense{x}, []*tensor.Dense{y}, "sparse_categorical_crossentropy"},
		{"seq2seq", seq2seq, xs, ys, "mse"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m
			m.SetSeed(8)
			if err := m.Compile(CompileConfig{Optimizer: &training.Adam{}, Loss: c.loss}); err != nil {
				t.Fatalf("%+v", err)
			}
			if _, err := m.FitMulti(c.xs, c.ys, FitConfig{Epochs: 2, BatchSize: 2}); err != nil {
				t.Fatalf("%+v", err)
			}
			before, err := m.PredictMulti(c.xs)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), c.name+".keragon")
			if err := m.Save(path); err != nil {
				t.Fatalf("%+v", err)
			}
			l, err := Load(path)
			if err != nil {
				t.Fatalf("%+v", err)
			}
			after, err := l.PredictMulti(c.xs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range before {
				if err := identicalBits(before[i], after[i]); err != nil {
					t.Errorf("output %d after Load: %v", i, err)
				}
			}
			// Training resumes identically (optimizer state and random
			// stream included).
			if _, err := m.FitMulti(c.xs, c.ys, FitConfig{Epochs: 1, BatchSize: 2}); err != nil {
				t.Fatal(err)
			}
			if _, err := l.FitMulti(c.xs, c.ys, FitConfig{Epochs: 1, BatchSize: 2}); err != nil {
				t.Fatal(err)
			}
			for i, w := range m.Weights() {
				if err := identicalBits(w.Value, l.Weights()[i].Value); err != nil {
					t.Errorf("weight %s after one more epoch: %v", w.Name, err)
				}
			}
		})
	}
}

// TestRecurrentDropoutIsSeeded: a seeded model with dropout trains the
// same twice; its training loss differs from the inference loss.
func TestRecurrentDropoutIsSeeded(t *testing.T) {
	run := func() (*Model, float64) {
		m := NewSequential(&Input{Shape: []int{4, 3}}, &LSTM{Units: 4, Dropout: 0.5, RecurrentDropout: 0.5}, &Dense{Units: 1})
		m.SetSeed(11)
		if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
			t.Fatal(err)
		}
		rng := newTestRand(1)
		x, y := randomTensor(rng, tensor.Float32, -1, 1, 8, 4, 3), randomTensor(rng, tensor.Float32, -1, 1, 8, 1)
		h, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		trainLoss, _ := h.Last("loss")
		evalLoss, _, err := m.Evaluate(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if trainLoss == evalLoss {
			t.Errorf("training loss %v equals the inference loss: no dropout?", trainLoss)
		}
		return m, trainLoss
	}
	m1, l1 := run()
	m2, l2 := run()
	if l1 != l2 {
		t.Errorf("seeded runs: losses %v and %v", l1, l2)
	}
	for i, w := range m1.Weights() {
		if err := identicalBits(w.Value, m2.Weights()[i].Value); err != nil {
			t.Errorf("seeded runs: %s differs: %v", w.Name, err)
		}
	}
}

func TestRecurrentMultiOutputShapes(t *testing.T) {
	x := NewInput(5, 3)
	for _, c := range []struct {
		l    Layer
		want []Shape
	}{
		{&LSTM{Units: 4, ReturnState: true}, []Shape{{4}, {4}, {4}}},
		{&LSTM{Units: 4, ReturnSequences: true, ReturnState: true}, []Shape{{5, 4}, {4}, {4}}},
		{&GRU{Units: 2, ReturnState: true}, []Shape{{2}, {2}}},
		{&SimpleRNN{Units: 2, ReturnState: true, ReturnSequences: true}, []Shape{{5, 2}, {2}}},
		{&Bidirectional{Layer: &LSTM{Units: 2, ReturnState: true}}, []Shape{{4}, {2}, {2}, {2}, {2}}},
		{&Bidirectional{Layer: &GRU{Units: 2, ReturnState: true, ReturnSequences: true}, MergeMode: "sum"}, []Shape{{5, 2}, {2}, {2}}},
	} {
		outs := ApplyMulti(c.l, x)
		var got []Shape
		for _, o := range outs {
			if o.Err() != nil {
				t.Fatalf("%s: %+v", ClassName(c.l), o.Err())
			}
			got = append(got, o.Shape())
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s outputs %v, want %v", ClassName(c.l), got, c.want)
		}
	}
}

// TestRecurrentBadInput: mistakes give errors naming the problem.
func TestRecurrentBadInput(t *testing.T) {
	seq := NewInput(4, 3)
	h2, h3 := NewInput(2), NewInput(3)
	flat := NewInput(3)
	for _, c := range []struct {
		name string
		out  *Tensor
		want string
	}{
		{"LSTM initial state of the wrong size", Apply(&LSTM{Units: 3}, seq, h2, h3), "LSTM initial state 0 must have shape (None, 3), got (None, 2)"},
		{"LSTM with only h", Apply(&LSTM{Units: 3}, seq, h3), "LSTM takes the sequence and 2 initial state(s), got 2 inputs"},
		{"GRU with two states", Apply(&GRU{Units: 3}, seq, h3, h3), "GRU takes the sequence and 1 initial state(s), got 3 inputs"},
		{"Bidirectional states", Apply(&Bidirectional{Layer: &GRU{Units: 3}}, seq, h3), "Bidirectional takes the sequence and 2 initial states (forward, then backward), got 2 inputs"},
		{"not a sequence", Apply(&LSTM{Units: 3}, flat), "LSTM takes (steps, features) sequences, got samples of shape (None, 3)"},
		{"no units", Apply(&GRU{}, seq), "GRU needs a positive Units, got 0"},
		{"dropout 1", Apply(&SimpleRNN{Units: 2, Dropout: 1}, seq), "SimpleRNN Dropout must be in [0, 1), got 1"},
		{"activation", Apply(&LSTM{Units: 2, RecurrentActivation: "softmax"}, seq), `LSTM activation "softmax" is not supported`},
		{"Bidirectional of Dense", Apply(&Bidirectional{Layer: &Dense{Units: 2}}, seq), "Bidirectional wraps SimpleRNN, LSTM or GRU, got Dense"},
		{"Bidirectional backwards", Apply(&Bidirectional{Layer: &LSTM{Units: 2, GoBackwards: true}}, seq), "must not set GoBackwards"},
		{"merge mode", Apply(&Bidirectional{Layer: &LSTM{Units: 2}, MergeMode: "max"}, seq), `MergeMode must be "concat", "sum", "mul", "ave" or "none", got "max"`},
		{"TimeDistributed non-sequence", Apply(&TimeDistributed{Layer: &Dense{Units: 2}}, flat), "TimeDistributed takes (steps, …) samples"},
	} {
		if err := c.out.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}

	// An id outside the vocabulary, through Embedding into an LSTM.
	m := NewSequential(&Input{Shape: []int{3}}, &Embedding{InputDim: 5, OutputDim: 2, MaskZero: true}, &LSTM{Units: 2})
	m.SetSeed(1)
	if _, err := m.Predict(denseOf(tensor.Float32, []float64{1, 2, 3, 4, 9, 0}, 2, 3)); err == nil || !strings.Contains(err.Error(), "index 9 at position 4 is not a row of a table of 5") {
		t.Errorf("id outside the vocabulary: got %v", err)
	}

	// Masks on a non-sequence (an initial state) and of the wrong shape.
	l := &LSTM{Units: 2}
	if err := NewSequential(&Input{Shape: []int{4, 3}}, l).ready(); err != nil {
		t.Fatal(err)
	}
	ctx := graph.NewContext(graph.Infer, 2, tensor.Float32, newTestRand(1))
	x := ctx.Input("x", 2, 4, 3)
	h, c := ctx.Input("h", 2, 2), ctx.Input("c", 2, 2)
	if _, _, err := l.CallMasked(ctx, []*gorgonia.Node{x, h, c}, []*gorgonia.Node{nil, ctx.Input("m", 2, 2), nil}); err == nil ||
		!strings.Contains(err.Error(), "input 1 (an initial state, not a sequence) carries a mask") {
		t.Errorf("mask on a state: got %v", err)
	}
	if _, _, err := l.CallMasked(ctx, []*gorgonia.Node{x}, []*gorgonia.Node{ctx.Input("m2", 2, 3)}); err == nil ||
		!strings.Contains(err.Error(), "got a mask of shape (2, 3) for sequences of shape (2, 4, 3)") {
		t.Errorf("mask of the wrong shape: got %v", err)
	}

	// A Bidirectional config naming an unknown layer fails Load's decoding.
	var b Bidirectional
	if err := b.UnmarshalJSON([]byte(`{"layer":{"class_name":"Nope","config":{}}}`)); err == nil || !strings.Contains(err.Error(), `unknown layer class "Nope"`) {
		t.Errorf("unknown wrapped class: got %v", err)
	}
	if err := b.UnmarshalJSON([]byte(`{"layer":{"class_name":"LSTM","config":{"units":2,"bogus":1}}}`)); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown field in a wrapped config: got %v", err)
	}
}
