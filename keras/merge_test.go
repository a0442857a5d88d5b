package keras

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestMergeLayerContract(t *testing.T) {
	for _, c := range mergeContractCases() {
		runLayerTest(t, c)
	}
}

// mergeContractCases are TestMergeLayerContract's cases (also listed in
// allContractCases).
func mergeContractCases() []layerCase {
	s := []int{3, 4}
	return []layerCase{
		{name: "Add", make: func() Layer { return &Add{} }, inputs: [][]int{s, s, s}, output: s},
		{name: "Add broadcast", make: func() Layer { return &Add{} }, inputs: [][]int{s, {1, 4}, {4}}, output: s},
		{name: "Subtract", make: func() Layer { return &Subtract{} }, inputs: [][]int{s, s}, output: s},
		{name: "Multiply", make: func() Layer { return &Multiply{} }, inputs: [][]int{s, s}, output: s},
		{name: "Average", make: func() Layer { return &Average{} }, inputs: [][]int{s, s, s}, output: s},
		{name: "Maximum", make: func() Layer { return &Maximum{} }, inputs: [][]int{s, s}, output: s},
		{name: "Minimum", make: func() Layer { return &Minimum{} }, inputs: [][]int{s, s, s}, output: s},
		{name: "Concatenate", make: func() Layer { return &Concatenate{} }, inputs: [][]int{s, {3, 2}}, output: []int{3, 6}},
		{name: "Concatenate axis 1", make: func() Layer { return &Concatenate{Axis: 1} }, inputs: [][]int{s, {1, 4}}, output: []int{4, 4}},
		{name: "Concatenate axis -2", make: func() Layer { return &Concatenate{Axis: -2} }, inputs: [][]int{s, s}, output: []int{6, 4}},
		{name: "Dot vectors", make: func() Layer { return &Dot{Axes: []int{1}} }, inputs: [][]int{{4}, {4}}, output: []int{1}},
		{name: "Dot matrices", make: func() Layer { return &Dot{Axes: []int{2, 1}} }, inputs: [][]int{{5, 3}, {3, 4}}, output: []int{5, 4}},
		{name: "Dot cosine", make: func() Layer { return &Dot{Axes: []int{-1}, Normalize: true} }, inputs: [][]int{{6}, {6}}, output: []int{1}},
	}
}

var torchFiles sync.Map // file name → func() (map[string]torchCase, error)

// torchFile reads testdata/<name>.json, written by testdata/<name>.py.
func torchFile(t *testing.T, name string) map[string]torchCase {
	t.Helper()
	f, _ := torchFiles.LoadOrStore(name, sync.OnceValues(func() (map[string]torchCase, error) {
		b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			return nil, err
		}
		var f struct {
			Cases map[string]torchCase `json:"cases"`
		}
		err = json.Unmarshal(b, &f)
		return f.Cases, err
	}))
	cases, err := f.(func() (map[string]torchCase, error))()
	if err != nil {
		t.Fatalf("reading testdata/%s.json (regenerate with /usr/bin/python3 keras/testdata/%s.py): %v", name, name, err)
	}
	return cases
}

// layerRun applies a built layer to inputs xs (with optional masks) in a
// graph of dtype dt and phase ph, and returns its first output, that
// output's mask (nil if none), and, when up is not nil, the gradients of
// Σ output ⊙ up with respect to each input.
func layerRun(t *testing.T, l Layer, ph graph.Phase, dt tensor.Dtype, xs, masks []*tensor.Dense, up *tensor.Dense) (y, mask []float64, grads [][]float64) {
	t.Helper()
	r := layerRunAll(t, l, ph, dt, xs, masks, up)
	return r.outputs[0], r.mask, r.grads
}

// layerRunResult is what layerRunAll computes.
type layerRunResult struct {
	outputs [][]float64          // every output of the layer
	mask    []float64            // the first output's mask
	grads   [][]float64          // of Σ output ⊙ up, by input
	wgrads  map[string][]float64 // by weight name without the layer's
}

// layerRunAll is layerRun with every output and the weights' gradients.
func layerRunAll(t *testing.T, l Layer, ph graph.Phase, dt tensor.Dtype, xs, masks []*tensor.Dense, up *tensor.Dense) layerRunResult {
	t.Helper()
	ctx := graph.NewContext(ph, xs[0].Shape()[0], dt, rand.New(rand.NewPCG(1, 2)))
	var ws []*graph.Weight
	var in, mk []*gorgonia.Node
	var feeds []*tensor.Dense
	for i, x := range xs {
		w := graph.NewWeight(fmt.Sprintf("x%d", i), dt, x.Shape(), nil, true)
		if err := w.Set(castOrFail(t, x, dt)); err != nil {
			t.Fatal(err)
		}
		n, err := ctx.Param(w)
		if err != nil {
			t.Fatal(err)
		}
		ws, in = append(ws, w), append(in, n)
	}
	var inputs []*gorgonia.Node
	for i := range xs {
		var m *gorgonia.Node
		if i < len(masks) && masks[i] != nil {
			m = ctx.Input(fmt.Sprintf("mask%d", i), masks[i].Shape()...)
			inputs = append(inputs, m)
			feeds = append(feeds, castOrFail(t, masks[i], dt))
		}
		mk = append(mk, m)
	}
	var out, outMask *gorgonia.Node
	var outs []*gorgonia.Node
	if ml, ok := l.(MaskedLayer); ok {
		res, oms, err := ml.CallMasked(ctx, in, mk)
		if err != nil {
			t.Fatalf("CallMasked: %+v", err)
		}
		outs, outMask = res, oms[0]
	} else {
		o, err := l.Call(ctx, in)
		if err != nil {
			t.Fatalf("Call: %+v", err)
		}
		outs = []*gorgonia.Node{o}
	}
	out = outs[0]
	var cost *gorgonia.Node
	if up != nil {
		var err error
		if cost, err = gorgonia.HadamardProd(out, gorgonia.NodeFromAny(ctx.G, castOrFail(t, up, dt), gorgonia.WithName("up"))); err != nil {
			t.Fatal(err)
		}
		if cost, err = gorgonia.Sum(cost); err != nil {
			t.Fatal(err)
		}
	}
	outputs := append([]*gorgonia.Node(nil), outs...)
	if outMask != nil {
		outputs = append(outputs, outMask)
	}
	p, err := graph.Compile(ctx, graph.Spec{Inputs: inputs, Outputs: outputs, Loss: cost, Grad: cost != nil})
	if err != nil {
		t.Fatalf("Compile: %+v", err)
	}
	defer p.Close()
	if err := p.Run(feeds...); err != nil {
		t.Fatalf("Run: %+v", err)
	}
	var r layerRunResult
	for i := range outs {
		o, err := p.Output(i)
		if err != nil {
			t.Fatal(err)
		}
		r.outputs = append(r.outputs, Values(o))
	}
	if outMask != nil {
		om, err := p.Output(len(outs))
		if err != nil {
			t.Fatal(err)
		}
		r.mask = Values(om)
	}
	if cost == nil {
		return r
	}
	gs, err := p.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	byWeight := map[*graph.Weight][]float64{}
	for _, g := range gs {
		byWeight[g.Weight] = Values(materialized(g.Value))
	}
	for _, w := range ws {
		r.grads = append(r.grads, byWeight[w])
	}
	r.wgrads = map[string][]float64{}
	for _, w := range l.base().weights {
		r.wgrads[strings.TrimPrefix(w.Name, l.base().name+"/")] = byWeight[w]
	}
	return r
}

func castOrFail(t *testing.T, x *tensor.Dense, dt tensor.Dtype) *tensor.Dense {
	t.Helper()
	c, err := castTo(x, dt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// builtOn builds l in a model of inputs of the given sample shapes.
func builtOn(t *testing.T, l Layer, dt tensor.Dtype, shapes ...[]int) Layer {
	t.Helper()
	if err := layerModel(t, l, shapes, dt).ready(); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestMergeLayersMatchTorch(t *testing.T) {
	cases := map[string]func() Layer{
		"add":               func() Layer { return &Add{} },
		"subtract":          func() Layer { return &Subtract{} },
		"multiply":          func() Layer { return &Multiply{} },
		"average":           func() Layer { return &Average{} },
		"maximum":           func() Layer { return &Maximum{} },
		"minimum":           func() Layer { return &Minimum{} },
		"add_broadcast":     func() Layer { return &Add{} },
		"concatenate_last":  func() Layer { return &Concatenate{} },
		"concatenate_1":     func() Layer { return &Concatenate{Axis: 1} },
		"dot_2_1":           func() Layer { return &Dot{Axes: []int{2, 1}} },
		"dot_vectors":       func() Layer { return &Dot{Axes: []int{1}} },
		"dot_1_1":           func() Layer { return &Dot{Axes: []int{1, 1}} },
		"dot_vector_matrix": func() Layer { return &Dot{Axes: []int{1, 2}} },
		"dot_cosine":        func() Layer { return &Dot{Normalize: true} },
	}
	ref := torchFile(t, "torch_merge")
	for name, mk := range cases {
		c, ok := ref[name]
		if !ok {
			t.Fatalf("torch_merge.json has no case %q", name)
		}
		for _, p := range precisions {
			var xs []*tensor.Dense
			var shapes [][]int
			for i := 0; ; i++ {
				a, ok := c[fmt.Sprintf("x%d", i)]
				if !ok {
					break
				}
				xs = append(xs, a.tensor(tensor.Float64))
				shapes = append(shapes, a.Shape[1:])
			}
			l := builtOn(t, mk(), p.dt, shapes...)
			y, _, grads := layerRun(t, l, graph.Infer, p.dt, xs, nil, c.get(t, "up").tensor(tensor.Float64))
			p.check(t, name+" output", y, c.get(t, "y"))
			for i, g := range grads {
				p.check(t, fmt.Sprintf("%s gradient of input %d", name, i), g, c.get(t, fmt.Sprintf("grad_x%d", i)))
			}
		}
	}
}

// TestMergeMasks checks Keras 3's merging of masks and masked values on
// (batch 1, 3 steps, 2 features) inputs.
func TestMergeMasks(t *testing.T) {
	a := denseOf(tensor.Float64, []float64{1, 2, 3, 4, 5, 6}, 1, 3, 2)
	b := denseOf(tensor.Float64, []float64{10, -20, 30, -40, 50, -60}, 1, 3, 2)
	ma := denseOf(tensor.Float64, []float64{1, 1, 0}, 1, 3)
	mb := denseOf(tensor.Float64, []float64{0, 1, 0}, 1, 3)
	s := []int{3, 2}
	cases := []struct {
		name     string
		l        Layer
		masks    []*tensor.Dense
		y, mask  []float64
		noMask   bool
		shapeOut []int
	}{
		// Add combines values as they are; the OR of the masks.
		{"Add", &Add{}, []*tensor.Dense{ma, mb}, []float64{11, -18, 33, -36, 55, -54}, []float64{1, 1, 0}, false, s},
		// One unmasked input: no output mask.
		{"Add one mask", &Add{}, []*tensor.Dense{ma, nil}, []float64{11, -18, 33, -36, 55, -54}, nil, true, s},
		// Multiply: padded entries count as 1, and the output is 0 where both are padded.
		{"Multiply", &Multiply{}, []*tensor.Dense{ma, mb}, []float64{1, 2, 90, -160, 0, 0}, []float64{1, 1, 0}, false, s},
		{"Multiply one mask", &Multiply{}, []*tensor.Dense{nil, mb}, []float64{1, 2, 90, -160, 5, 6}, nil, true, s},
		// Maximum: a padded entry gives way to the other input's; both padded: the first's.
		{"Maximum", &Maximum{}, []*tensor.Dense{ma, mb}, []float64{1, 2, 30, 4, 5, 6}, []float64{1, 1, 0}, false, s},
		{"Minimum", &Minimum{}, []*tensor.Dense{ma, mb}, []float64{1, 2, 3, -40, 5, 6}, []float64{1, 1, 0}, false, s},
		// Concatenate on the time axis joins the masks (ones for an unmasked input).
		{"Concatenate time", &Concatenate{Axis: 1}, []*tensor.Dense{ma, nil}, []float64{1, 2, 3, 4, 5, 6, 10, -20, 30, -40, 50, -60},
			[]float64{1, 1, 0, 1, 1, 1}, false, []int{6, 2}},
		// On the feature axis: the OR, or no mask when an input is unmasked.
		{"Concatenate features", &Concatenate{}, []*tensor.Dense{ma, mb}, []float64{1, 2, 10, -20, 3, 4, 30, -40, 5, 6, 50, -60},
			[]float64{1, 1, 0}, false, []int{3, 4}},
		{"Concatenate features one mask", &Concatenate{}, []*tensor.Dense{ma, nil}, []float64{1, 2, 10, -20, 3, 4, 30, -40, 5, 6, 50, -60},
			nil, true, []int{3, 4}},
	}
	for _, c := range cases {
		l := builtOn(t, c.l, tensor.Float64, s, s)
		y, mask, _ := layerRun(t, l, graph.Infer, tensor.Float64, []*tensor.Dense{a, b}, c.masks, nil)
		if err := closeTo(y, c.y, 0, 0); err != nil {
			t.Errorf("%s: output %v, want %v: %v", c.name, y, c.y, err)
		}
		if c.noMask {
			if mask != nil {
				t.Errorf("%s: output mask %v, want none", c.name, mask)
			}
			continue
		}
		if err := closeTo(mask, c.mask, 0, 0); err != nil {
			t.Errorf("%s: output mask %v, want %v", c.name, mask, c.mask)
		}
	}
}

func TestMergeLayerErrors(t *testing.T) {
	cases := []struct {
		l  Layer
		in []Shape
	}{
		{&Add{}, nil},
		{&Add{}, []Shape{{3}, {4}}},
		{&Subtract{}, []Shape{{3}, {3}, {3}}},
		{&Concatenate{}, []Shape{{3, 2}, {4, 2}}},
		{&Concatenate{Axis: 3}, []Shape{{3, 2}, {3, 2}}},
		{&Concatenate{}, []Shape{{3, 2}, {2}}},
		{&Dot{Axes: []int{1}}, []Shape{{3}, {4}}},
		{&Dot{Axes: []int{0}}, []Shape{{3}, {3}}},
		{&Dot{Axes: []int{1, 2, 3}}, []Shape{{3}, {3}}},
		{&Dot{}, []Shape{{3}}},
	}
	for i, c := range cases {
		if s, err := c.l.OutputShape(c.in); err == nil {
			t.Errorf("case %d: %s.OutputShape(%v) = %v, want an error", i, ClassName(c.l), c.in, s)
		}
	}
}

// TestMergeInFunctionalModel trains a two-input model that joins its
// branches with Concatenate, saves it and loads it back.
func TestMergeInFunctionalModel(t *testing.T) {
	a, b := NewInput(3), NewInput(2)
	h := Apply(&Concatenate{}, Apply(&Dense{Units: 4, Activation: "tanh"}, a), b)
	y := Apply(&Dense{Units: 1}, Apply(&Add{}, h, Apply(&Dense{Units: 6}, h)))
	m, err := NewModel([]*Tensor{a, b}, []*Tensor{y})
	if err != nil {
		t.Fatal(err)
	}
	m.SetSeed(3)
	if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	rng := newTestRand(4)
	xa, xb := randomTensor(rng, tensor.Float32, 0, 0, 16, 3), randomTensor(rng, tensor.Float32, 0, 0, 16, 2)
	yt := randomTensor(rng, tensor.Float32, 0, 0, 16, 1)
	if _, err := m.FitMulti([]*tensor.Dense{xa, xb}, []*tensor.Dense{yt}, FitConfig{Epochs: 2, BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "merge.keragon")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %+v", err)
	}
	p1, err := m.PredictMulti([]*tensor.Dense{xa, xb})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := back.PredictMulti([]*tensor.Dense{xa, xb})
	if err != nil {
		t.Fatal(err)
	}
	if err := identicalBits(p1[0], p2[0]); err != nil {
		t.Errorf("loaded model predicts differently: %v", err)
	}
}
