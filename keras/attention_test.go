package keras

import (
	"fmt"
	"math"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

var mhaWeights = []string{"query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
	"attention_output/kernel", "attention_output/bias"}

func TestAttentionLayerContract(t *testing.T) {
	for _, c := range attentionContractCases() {
		runLayerTest(t, c)
	}
}

// attentionContractCases are TestAttentionLayerContract's cases (also
// listed in allContractCases).
func attentionContractCases() []layerCase {
	w := func(dq, dk, dv, h, kd, vd, out int) []weightSpec {
		return []weightSpec{{"query/kernel", []int{dq, h, kd}, true}, {"query/bias", []int{h, kd}, true},
			{"key/kernel", []int{dk, h, kd}, true}, {"key/bias", []int{h, kd}, true},
			{"value/kernel", []int{dv, h, vd}, true}, {"value/bias", []int{h, vd}, true},
			{"attention_output/kernel", []int{h, vd, out}, true}, {"attention_output/bias", []int{out}, true}}
	}
	return []layerCase{
		{name: "self", make: func() Layer { return &MultiHeadAttention{NumHeads: 2, KeyDim: 3} },
			inputs: [][]int{{4, 5}, {4, 5}}, output: []int{4, 5}, weights: w(5, 5, 5, 2, 3, 3, 5)},
		{name: "cross with key, causal, dropout", make: func() Layer {
			return &MultiHeadAttention{NumHeads: 2, KeyDim: 2, ValueDim: 3, OutputDim: 4, UseCausalMask: true, Dropout: 0.3}
		}, inputs: [][]int{{3, 5}, {4, 2}, {4, 6}}, output: []int{3, 4}, weights: w(5, 6, 2, 2, 2, 3, 4)},
		{name: "no bias", make: func() Layer { return &MultiHeadAttention{NumHeads: 1, KeyDim: 4, NoBias: true} },
			inputs: [][]int{{3, 2}, {3, 2}}, output: []int{3, 2}, weights: []weightSpec{{"query/kernel", []int{2, 1, 4}, true},
				{"key/kernel", []int{2, 1, 4}, true}, {"value/kernel", []int{2, 1, 4}, true}, {"attention_output/kernel", []int{1, 4, 2}, true}}},
		// The position layers' outputs do not depend on the input's values:
		// fed ids (not differentiated), their weights are checked.
		{name: "PositionEmbedding", make: func() Layer { return &PositionEmbedding{SequenceLength: 5} },
			input: []int{3, 4}, output: []int{3, 4}, ids: 3, weights: []weightSpec{{"embeddings", []int{5, 4}, true}}},
		{name: "SinePositionEncoding", make: func() Layer { return &SinePositionEncoding{} },
			input: []int{3, 4}, output: []int{3, 4}, ids: 3},
		{name: "TokenAndPositionEmbedding", make: func() Layer {
			return &TokenAndPositionEmbedding{VocabularySize: 6, SequenceLength: 5, EmbeddingDim: 3, MaskZero: true}
		}, input: []int{4}, output: []int{4, 3}, ids: 6, weights: []weightSpec{
			{"token_embedding/embeddings", []int{6, 3}, true}, {"position_embedding/embeddings", []int{5, 3}, true}}},
	}
}

// TestAttentionMatchesTorch compares outputs, attention weights and
// gradients with torch.nn.MultiheadAttention (see torch_attention.py).
func TestAttentionMatchesTorch(t *testing.T) {
	ref := torchFile(t, "torch_attention")
	cases := []struct {
		name   string
		l      func() Layer
		inputs []string // query, value (, key)
		masks  map[int]string
	}{
		{"self", func() Layer { return &MultiHeadAttention{NumHeads: 2, KeyDim: 4} }, []string{"query", "query"}, nil},
		{"cross", func() Layer { return &MultiHeadAttention{NumHeads: 2, KeyDim: 3} }, []string{"query", "value", "key"}, nil},
		{"causal_padded", func() Layer { return &MultiHeadAttention{NumHeads: 2, KeyDim: 4, UseCausalMask: true} },
			[]string{"query", "query"}, map[int]string{1: "value_mask"}},
		{"query_masked", func() Layer { return &MultiHeadAttention{NumHeads: 2, KeyDim: 4} },
			[]string{"query", "query"}, map[int]string{0: "query_mask", 1: "query_mask"}},
	}
	for _, c := range cases {
		tc := ref[c.name]
		for _, p := range precisions {
			var xs, masks []*tensor.Dense
			var shapes [][]int
			for i, name := range c.inputs {
				a := tc.get(t, name)
				xs = append(xs, a.tensor(tensor.Float64))
				shapes = append(shapes, a.Shape[1:])
				var m *tensor.Dense
				if mn, ok := c.masks[i]; ok {
					m = tc.get(t, mn).tensor(tensor.Float64)
				}
				masks = append(masks, m)
			}
			l := c.l()
			if err := layerModel(t, l, shapes, p.dt).ready(); err != nil {
				t.Fatal(err)
			}
			setFromTorch(t, l, tc, mhaWeights...)
			l.(*MultiHeadAttention).ReturnAttentionScores = true
			r := layerRunAll(t, l, graph.Infer, p.dt, xs, masks, tc.get(t, "up").tensor(tensor.Float64))
			what := fmt.Sprintf("%s/%v", c.name, p.dt)
			p.check(t, what+" output", r.outputs[0], tc.get(t, "y"))
			p.check(t, what+" attention weights", r.outputs[1], tc.get(t, "scores"))
			// Inputs fed twice (self-attention) sum their gradients.
			sums := map[string][]float64{}
			for i, name := range c.inputs {
				if sums[name] == nil {
					sums[name] = make([]float64, len(r.grads[i]))
				}
				for j, g := range r.grads[i] {
					sums[name][j] += g
				}
			}
			for name, g := range sums {
				p.check(t, what+" gradient of the "+name, g, tc.get(t, "grad_"+name))
			}
			for _, w := range mhaWeights {
				p.check(t, what+" gradient of "+w, r.wgrads[w], tc.get(t, "grad_"+w))
			}
		}
	}
}

// TestAttentionMasks: the attention mask input and a causal mask give the
// same result; the output keeps the query's mask; scores are shaped
// (heads, T, S).
func TestAttentionMasks(t *testing.T) {
	rng := newTestRand(8)
	x := randomTensor(rng, tensor.Float64, 0, 0, 2, 3, 4)
	causal := make([]float64, 2*3*3)
	for b := 0; b < 2; b++ {
		for i := 0; i < 3; i++ {
			for j := 0; j <= i; j++ {
				causal[(b*3+i)*3+j] = 1
			}
		}
	}
	a := builtOn(t, &MultiHeadAttention{NumHeads: 2, KeyDim: 2, UseCausalMask: true}, tensor.Float64, []int{3, 4}, []int{3, 4})
	randomizeWeights(a, 5)
	b := builtOn(t, &MultiHeadAttention{NumHeads: 2, KeyDim: 2, AttentionMask: true}, tensor.Float64, []int{3, 4}, []int{3, 4}, []int{3, 3})
	for i, w := range a.base().weights {
		if err := b.base().weights[i].Set(w.Value); err != nil {
			t.Fatal(err)
		}
	}
	ya, _, _ := layerRun(t, a, graph.Infer, tensor.Float64, []*tensor.Dense{x, x}, nil, nil)
	yb, _, _ := layerRun(t, b, graph.Infer, tensor.Float64, []*tensor.Dense{x, x, denseOf(tensor.Float64, causal, 2, 3, 3)}, nil, nil)
	if err := closeTo(ya, yb, 1e-15, 0); err != nil {
		t.Errorf("causal mask vs the same attention mask: %v", err)
	}
	qm := denseOf(tensor.Float64, []float64{1, 1, 0, 1, 0, 0}, 2, 3)
	_, mask, _ := layerRun(t, a, graph.Infer, tensor.Float64, []*tensor.Dense{x, x}, []*tensor.Dense{qm, nil}, nil)
	if err := closeTo(mask, Values(qm), 0, 0); err != nil {
		t.Errorf("output mask %v, want the query's %v", mask, Values(qm))
	}
	s, err := (&MultiHeadAttention{NumHeads: 3, KeyDim: 2, ReturnAttentionScores: true}).OutputShapes([]Shape{{5, 4}, {7, 2}})
	if err != nil || len(s) != 2 || !s[0].Equal(Shape{5, 4}) || !s[1].Equal(Shape{3, 5, 7}) {
		t.Errorf("output shapes %v (%v), want [(5, 4) (3, 5, 7)]", s, err)
	}
	for i, bad := range []struct {
		l  *MultiHeadAttention
		in []Shape
	}{
		{&MultiHeadAttention{KeyDim: 2}, []Shape{{3, 4}, {3, 4}}},
		{&MultiHeadAttention{NumHeads: 1, KeyDim: 2}, []Shape{{3, 4}}},
		{&MultiHeadAttention{NumHeads: 1, KeyDim: 2}, []Shape{{3, 4}, {3, 4}, {2, 4}}},
		{&MultiHeadAttention{NumHeads: 1, KeyDim: 2, AttentionMask: true}, []Shape{{3, 4}, {5, 4}, {3, 3}}},
		{&MultiHeadAttention{NumHeads: 1, KeyDim: 2}, []Shape{{4}, {4}}},
	} {
		if _, err := bad.l.OutputShape(bad.in); err == nil {
			t.Errorf("bad case %d accepted", i)
		}
	}
}

func TestPositionLayers(t *testing.T) {
	// Values: the sinusoid of Vaswani et al. at position 2, features 0..3.
	l := builtOn(t, &SinePositionEncoding{MaxWavelength: 100}, tensor.Float64, []int{3, 4})
	y, _, _ := layerRun(t, l, graph.Infer, tensor.Float64, []*tensor.Dense{randomTensor(newTestRand(1), tensor.Float64, 0, 0, 1, 3, 4)}, nil, nil)
	want := []float64{math.Sin(2), math.Cos(2), math.Sin(2 * math.Pow(0.01, 0.5)), math.Cos(2 * math.Pow(0.01, 0.5))}
	if err := closeTo(y[8:12], want, 1e-15, 0); err != nil {
		t.Errorf("encoding at position 2: %v", err)
	}
	// TokenAndPositionEmbedding: token row + position row, masked at id 0.
	tp := &TokenAndPositionEmbedding{VocabularySize: 4, SequenceLength: 3, EmbeddingDim: 2, MaskZero: true}
	builtOn(t, tp, tensor.Float64, []int{2})
	setFloats(tp.tokens.Value, []float64{0, 0, 1, 2, 3, 4, 5, 6})
	setFloats(tp.positions.Value, []float64{10, 20, 30, 40, 50, 60})
	y, mask, _ := layerRun(t, tp, graph.Infer, tensor.Float64, []*tensor.Dense{denseOf(tensor.Float64, []float64{2, 0}, 1, 2)}, nil, nil)
	if err := closeTo(y, []float64{13, 24, 30, 40}, 0, 0); err != nil {
		t.Errorf("TokenAndPositionEmbedding = %v: %v", y, err)
	}
	if err := closeTo(mask, []float64{1, 0}, 0, 0); err != nil {
		t.Errorf("TokenAndPositionEmbedding mask = %v: %v", mask, err)
	}
	if _, err := (&PositionEmbedding{SequenceLength: 2}).OutputShape([]Shape{{3, 4}}); err == nil {
		t.Error("a sequence longer than SequenceLength was accepted")
	}
}

// TestGlobalAveragePooling1DMask: padded steps are left out of the mean.
func TestGlobalAveragePooling1DMask(t *testing.T) {
	l := builtOn(t, &GlobalAveragePooling1D{}, tensor.Float64, []int{3, 1})
	x := denseOf(tensor.Float64, []float64{1, 5, 3, 2, 4, 6}, 2, 3, 1)
	y, mask, _ := layerRun(t, l, graph.Infer, tensor.Float64, []*tensor.Dense{x}, []*tensor.Dense{denseOf(tensor.Float64, []float64{1, 0, 1, 0, 1, 1}, 2, 3)}, nil)
	if err := closeTo(y, []float64{2, 5}, 0, 0); err != nil || mask != nil {
		t.Errorf("masked mean %v (mask %v): %v", y, mask, err)
	}
}
