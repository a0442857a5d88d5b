package keras

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestPreprocessingLayerContract(t *testing.T) {
	for _, c := range preprocessingContractCases() {
		runLayerTest(t, c)
	}
}

// preprocessingContractCases are the contract's cases of the preprocessing
// layers that take numbers (also listed in allContractCases).
func preprocessingContractCases() []layerCase {
	stats := []weightSpec{{"mean", []int{3}, false}, {"variance", []int{3}, false}}
	return []layerCase{
		{name: "Rescaling", make: func() Layer { return &Rescaling{Scale: 1.0 / 255} }, input: []int{4, 4, 3}, output: []int{4, 4, 3}},
		{name: "Rescaling offset", make: func() Layer { return &Rescaling{Scale: 1 / 127.5, Offset: -1} }, input: []int{5}, output: []int{5}},
		{name: "Normalization", make: func() Layer { return &Normalization{} }, input: []int{2, 3}, output: []int{2, 3}, weights: stats, fixedState: true},
		{name: "Normalization axis 1", make: func() Layer { return &Normalization{Axis: 1} }, input: []int{3, 2}, output: []int{3, 2}, weights: stats, fixedState: true},
		{name: "Normalization invert", make: func() Layer { return &Normalization{Invert: true} }, input: []int{3}, output: []int{3}, weights: stats, fixedState: true},
		{name: "Normalization given", make: func() Layer { return &Normalization{Mean: []float64{1, 2, 3}, Variance: []float64{4}} }, input: []int{3}, output: []int{3}},
	}
}

func TestNormalizationMatchesTorch(t *testing.T) {
	c := torchFile(t, "torch_preprocessing")["normalization"]
	x := c.get(t, "x")
	for _, p := range precisions {
		for _, before := range []bool{true, false} {
			l := &Normalization{}
			if before {
				if err := l.Adapt(x.tensor(p.dt)); err != nil {
					t.Fatal(err)
				}
			}
			m := oneLayerModel(t, l, x.Shape[1:], p.dt)
			if err := m.ready(); err != nil {
				t.Fatal(err)
			}
			if !before {
				if err := l.Adapt(x.tensor(p.dt)); err != nil {
					t.Fatal(err)
				}
			}
			p.check(t, "adapted mean", Values(l.mean.Value), c.get(t, "mean"))
			p.check(t, "adapted variance", Values(l.variance.Value), c.get(t, "variance"))
			y, err := m.Predict(x.tensor(p.dt))
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, "normalised", Values(y), c.get(t, "y"))
			// Invert undoes it, with the same statistics.
			inv := &Normalization{Invert: true, Mean: Values(l.mean.Value), Variance: Values(l.variance.Value)}
			back, err := oneLayerModel(t, inv, x.Shape[1:], p.dt).Predict(y)
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, "inverted", Values(back), x)
		}
	}
}

func TestDiscretizationMatchesKeras(t *testing.T) {
	ref := torchFile(t, "torch_preprocessing")
	for _, name := range []string{"small", "large", "coarse"} {
		c := ref["discretization_adapt_"+name]
		l := &Discretization{NumBins: int(c.get(t, "num_bins").Data[0]), Epsilon: c.get(t, "epsilon").Data[0]}
		if err := l.Adapt(c.get(t, "x").tensor(tensor.Float64)); err != nil {
			t.Fatal(err)
		}
		if err := closeTo(l.BinBoundaries, c.get(t, "boundaries").Data, 0, 0); err != nil {
			t.Errorf("%s: boundaries %v: %v", name, l.BinBoundaries, err)
		}
	}
	c := ref["bucketize"]
	x := c.get(t, "x")
	for _, p := range precisions {
		y, err := oneLayerModel(t, &Discretization{BinBoundaries: c.get(t, "boundaries").Data}, x.Shape[1:], p.dt).Predict(x.tensor(p.dt))
		if err != nil {
			t.Fatal(err)
		}
		if err := closeTo(Values(y), c.get(t, "y").Data, 0, 0); err != nil {
			t.Errorf("%v bins: %v", p.dt, err)
		}
	}
}

func TestCategoryEncodingMatchesTorch(t *testing.T) {
	c := torchFile(t, "torch_preprocessing")["encoding"]
	ids := c.get(t, "ids")
	for _, mode := range []string{"one_hot", "multi_hot", "count"} {
		l := &CategoryEncoding{NumTokens: 4, OutputMode: mode}
		y, err := oneLayerModel(t, l, ids.Shape[1:], tensor.Float32).Predict(ids.tensor(tensor.Float32))
		if err != nil {
			t.Fatal(err)
		}
		want := c.get(t, mode)
		if !Shape(y.Shape()).Equal(want.Shape) {
			t.Errorf("%s: shape %v, want %v", mode, y.Shape(), want.Shape)
		}
		if err := closeTo(Values(y), want.Data, 0, 0); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
	}
}

// TestPreprocessingShapesAndConfigs covers the layers without gradients:
// declared shapes, the JSON config round trip, and errors.
func TestPreprocessingShapesAndConfigs(t *testing.T) {
	cases := []struct {
		l        Layer
		in, want Shape
	}{
		{&CategoryEncoding{NumTokens: 5}, Shape{3}, Shape{5}},
		{&CategoryEncoding{NumTokens: 5}, Shape{}, Shape{5}},
		{&CategoryEncoding{NumTokens: 5, OutputMode: "one_hot"}, Shape{}, Shape{5}},
		{&CategoryEncoding{NumTokens: 5, OutputMode: "one_hot"}, Shape{1}, Shape{5}},
		{&CategoryEncoding{NumTokens: 5, OutputMode: "one_hot"}, Shape{3}, Shape{3, 5}},
		{&Discretization{BinBoundaries: []float64{0, 1}}, Shape{3}, Shape{3}},
		{&Discretization{BinBoundaries: []float64{0, 1}, OutputMode: "one_hot"}, Shape{}, Shape{3}},
		{&IntegerLookup{Vocabulary: []int{7, 3}}, Shape{4}, Shape{4}},
		{&IntegerLookup{Vocabulary: []int{7, 3}, OutputMode: "multi_hot"}, Shape{4}, Shape{3}},
		{&IntegerLookup{Vocabulary: []int{7, 3}, OutputMode: "one_hot", MaskToken: Int(0)}, Shape{}, Shape{3}},
		{&StringLookup{Vocabulary: []string{"a", "b"}, OutputMode: "count", MaxTokens: 6, PadToMaxTokens: true}, Shape{2}, Shape{6}},
		{&StringLookup{Vocabulary: []string{"a", "b"}, MaskToken: new(string)}, Shape{2}, Shape{2}},
	}
	for i, c := range cases {
		got, err := c.l.OutputShape([]Shape{c.in})
		if err != nil || !got.Equal(c.want) {
			t.Errorf("case %d: %s.OutputShape(%v) = %v, %v; want %v", i, ClassName(c.l), c.in, got, err, c.want)
		}
		raw, err := json.Marshal(c.l)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := newLayer(ClassName(c.l))
		if err != nil {
			t.Fatal(err)
		}
		if err := strictUnmarshal(raw, fresh); err != nil {
			t.Fatalf("case %d: %s: %v", i, raw, err)
		}
		if !reflect.DeepEqual(configFields(fresh), configFields(c.l)) {
			t.Errorf("case %d: config after a round trip through %s: %+v, want %+v", i, raw, configFields(fresh), configFields(c.l))
		}
	}
	bad := []struct {
		l    Layer
		in   Shape
		want string
	}{
		{&Rescaling{}, Shape{2}, "non-zero Scale"},
		{&CategoryEncoding{}, Shape{2}, "positive NumTokens"},
		{&CategoryEncoding{NumTokens: 3, OutputMode: "tf_idf"}, Shape{2}, `output mode "tf_idf"`},
		{&CategoryEncoding{NumTokens: 3}, Shape{2, 2}, "(batch) or (batch, k)"},
		{&Normalization{Mean: []float64{1}}, Shape{2}, "both Mean and Variance"},
		{&Normalization{Mean: []float64{1, 2, 3}, Variance: []float64{1}}, Shape{2}, "want 1 or 2 numbers"},
		{&Normalization{Axis: 2}, Shape{2}, "not a sample axis"},
		{&Discretization{NumBins: 3}, Shape{2}, "call of Adapt"},
		{&Discretization{BinBoundaries: []float64{2, 1}}, Shape{2}, "not sorted"},
		{&IntegerLookup{Vocabulary: []int{1, 1}}, Shape{2}, "has 1 twice"},
		{&IntegerLookup{Vocabulary: []int{1, 0}, MaskToken: Int(0)}, Shape{2}, "holds the mask token"},
		{&IntegerLookup{Vocabulary: []int{1, 2, 3}, MaxTokens: 3}, Shape{2}, "exceeds MaxTokens 3"},
		{&StringLookup{NumOOVIndices: Int(2)}, Shape{2}, "0 or 1 OOV indices"},
		{&IntegerLookup{Invert: true, OutputMode: "one_hot"}, Shape{2}, "Invert needs"},
	}
	for i, c := range bad {
		if _, err := c.l.OutputShape([]Shape{c.in}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("bad case %d (%s): error %v, want it to contain %q", i, ClassName(c.l), err, c.want)
		}
	}
}

func TestIntegerLookup(t *testing.T) {
	data := denseOf(tensor.Float32, []float64{7, 3, 7, 5, 3, 7, 9, 0, -1}, 9)
	cases := []struct {
		name  string
		l     *IntegerLookup
		vocab []int // after Adapt, special tokens included
		in    []float64
		shape []int
		want  []float64
	}{
		// Counts 7:3, 3:2, then 5, 9, 0 once each, ties by decreasing
		// token; the OOV token −1 is left out. Unknown 4 → OOV index 0.
		{"adapt", &IntegerLookup{}, []int{-1, 7, 3, 9, 5, 0}, []float64{7, 4, 0, 3}, []int{4}, []float64{1, 0, 5, 2}},
		// Mask 0 takes index 0 and leaves the vocabulary; MaxTokens 4 keeps two tokens.
		{"mask and max", &IntegerLookup{MaskToken: Int(0), MaxTokens: 4}, []int{0, -1, 7, 3}, []float64{0, 7, 3, 5}, []int{4}, []float64{0, 2, 3, 1}},
		// Two OOV indices: unknown t goes to t mod 2.
		{"oov 2", &IntegerLookup{NumOOVIndices: Int(2), Vocabulary: []int{7}}, nil, []float64{7, 4, 5, -3}, []int{4}, []float64{2, 0, 1, 1}},
		{"multi_hot", &IntegerLookup{Vocabulary: []int{7, 3}, OutputMode: "multi_hot"}, nil, []float64{7, 4, 3, 3}, []int{2, 2}, []float64{1, 1, 0, 0, 0, 1}},
		// In an encoded mode the mask token encodes to nothing.
		{"one_hot mask", &IntegerLookup{Vocabulary: []int{7, 3}, MaskToken: Int(0), OutputMode: "one_hot"}, nil, []float64{3, 0}, []int{2}, []float64{0, 0, 1, 0, 0, 0}},
		{"invert", &IntegerLookup{Vocabulary: []int{7, 3}, MaskToken: Int(0), Invert: true}, nil, []float64{0, 1, 2, 3, 9}, []int{5}, []float64{0, -1, 7, 3, -1}},
	}
	for _, c := range cases {
		if c.vocab != nil {
			if err := c.l.Adapt(data); err != nil {
				t.Fatalf("%s: %+v", c.name, err)
			}
			if got, err := c.l.GetVocabulary(); err != nil || !reflect.DeepEqual(got, c.vocab) {
				t.Errorf("%s: vocabulary %v (%v), want %v", c.name, got, err, c.vocab)
			}
		}
		y, err := oneLayerModel(t, c.l, c.shape[1:], tensor.Float64).Predict(denseOf(tensor.Float64, c.in, c.shape...))
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		if err := closeTo(Values(y), c.want, 0, 0); err != nil {
			t.Errorf("%s: %v: %v", c.name, Values(y), err)
		}
	}
	_, err := oneLayerModel(t, &IntegerLookup{Vocabulary: []int{1}, NumOOVIndices: Int(0)}, []int{}, tensor.Float64).Predict(denseOf(tensor.Float64, []float64{2}, 1))
	if err == nil || !strings.Contains(err.Error(), "2 is not in the vocabulary") {
		t.Errorf("unknown token without OOV indices: %v", err)
	}
}

// titanicLike is a small table with a string column and a number column.
func titanicLike(t *testing.T) (city, fare, y *tensor.Dense) {
	t.Helper()
	cities := []string{"S", "C", "S", "Q", "S", "C", "S", "S"}
	var err error
	if city, err = Strings(cities); err != nil {
		t.Fatal(err)
	}
	fare = denseOf(tensor.Float32, []float64{7, 70, 8, 7.5, 9, 60, 10, 8.5}, 8, 1)
	y = denseOf(tensor.Float32, []float64{0, 1, 0, 0, 0, 1, 1, 0}, 8, 1)
	return city, fare, y
}

// TestStringLookupModel trains a two-input model, strings and numbers,
// saves it and loads it back: the loaded model takes the strings too.
func TestStringLookupModel(t *testing.T) {
	city, fare, y := titanicLike(t)
	lookup := &StringLookup{OutputMode: "one_hot"}
	if err := lookup.Adapt(city); err != nil {
		t.Fatal(err)
	}
	if v, _ := lookup.GetVocabulary(); !reflect.DeepEqual(v, []string{"[UNK]", "S", "C", "Q"}) {
		t.Errorf("vocabulary %v, want [[UNK] S C Q]", v)
	}
	norm := &Normalization{}
	if err := norm.Adapt(fare); err != nil {
		t.Fatal(err)
	}
	cityIn := Apply(&Input{Shape: []int{}, Dtype: "string", Name: "city"})
	fareIn := Apply(&Input{Shape: []int{1}, Name: "fare"})
	h := Apply(&Concatenate{}, Apply(lookup, cityIn), Apply(norm, fareIn))
	out := Apply(&Dense{Units: 1, Activation: "sigmoid"}, h)
	m, err := NewModel([]*Tensor{cityIn, fareIn}, []*Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	if m.Dtype() != tensor.Float32 {
		t.Errorf("model dtype %v, want float32 (string inputs do not count)", m.Dtype())
	}
	m.SetSeed(5)
	if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "binary_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	xs := []*tensor.Dense{city, fare}
	if _, err := m.FitMulti(xs, []*tensor.Dense{y}, FitConfig{Epochs: 3, BatchSize: 4, ValidationData: &Data{X: xs, Y: []*tensor.Dense{y}}}); err != nil {
		t.Fatalf("Fit: %+v", err)
	}
	if _, _, err := m.EvaluateMulti(xs, []*tensor.Dense{y}); err != nil {
		t.Fatalf("Evaluate: %+v", err)
	}
	p1, err := m.PredictMulti(xs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "titanic.keragon")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %+v", err)
	}
	p2, err := back.PredictMulti(xs)
	if err != nil {
		t.Fatalf("Predict after Load: %+v", err)
	}
	if err := identicalBits(p1[0], p2[0]); err != nil {
		t.Errorf("loaded model predicts differently: %v", err)
	}
	// An unseen city is the OOV index.
	odd, _ := Strings([]string{"X"})
	if _, err := back.PredictMulti([]*tensor.Dense{odd, denseOf(tensor.Float32, []float64{8}, 1, 1)}); err != nil {
		t.Errorf("an unknown string: %+v", err)
	}
	// Floats for the string input, strings for the number input.
	if _, err := m.PredictMulti([]*tensor.Dense{fare, fare}); err == nil || !strings.Contains(err.Error(), "takes strings") {
		t.Errorf("floats for a string input: %v", err)
	}
	if _, err := m.PredictMulti([]*tensor.Dense{city, city}); err == nil || !strings.Contains(err.Error(), "got strings") {
		t.Errorf("strings for a number input: %v", err)
	}
}

func TestStringInputWiring(t *testing.T) {
	s, _ := Strings([]string{"a", "b"})
	in := Apply(&Input{Shape: []int{}, Dtype: "string"})
	bad, err := NewModel([]*Tensor{in}, []*Tensor{Apply(&Dense{Units: 1}, Apply(&Reshape{TargetShape: []int{1}}, in))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Predict(s); err == nil || !strings.Contains(err.Error(), "strings can only go to a StringLookup") {
		t.Errorf("string input into Reshape: %v", err)
	}
	x := NewInput(2)
	in2 := Apply(&Input{Shape: []int{}, Dtype: "string"})
	l2 := &StringLookup{Vocabulary: []string{"a"}}
	wrong, err := NewModel([]*Tensor{x, in2}, []*Tensor{Apply(l2, x), Apply(&StringLookup{Vocabulary: []string{"a"}}, in2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.PredictMulti([]*tensor.Dense{denseOf(tensor.Float32, []float64{1, 2}, 1, 2), s}); err == nil || !strings.Contains(err.Error(), "must be applied to a string model input") {
		t.Errorf("StringLookup on numbers: %v", err)
	}
	// Without string inputs nothing changes.
	plain := oneLayerModel(t, &Dense{Units: 1}, []int{2}, tensor.Float32)
	xs := []*tensor.Dense{denseOf(tensor.Float32, []float64{1, 2}, 1, 2)}
	got, err := plain.encodeStrings(xs)
	if err != nil || got[0] != xs[0] {
		t.Errorf("encodeStrings on a model without strings: %v, %v", got, err)
	}
}
