package keras

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Compile-time checks: ModelCheckpoint finds these methods on a Model.
var (
	_ training.Saver        = (*Model)(nil)
	_ training.WeightsSaver = (*Model)(nil)
)

// freshMLP is trainedMLP's architecture, untrained, with another seed.
func freshMLP(t *testing.T, seed uint64) *Model {
	t.Helper()
	m := NewSequential(&Input{Shape: []int{6}}, &Dense{Units: 8, Activation: "relu"}, &BatchNormalization{Momentum: Float(0.9)},
		&Dropout{Rate: 0.25}, &Dense{Units: 3, Activation: "softmax"})
	m.SetSeed(seed)
	return m
}

// weightsSnapshot copies every weight's value.
func weightsSnapshot(m *Model) []*tensor.Dense {
	var out []*tensor.Dense
	for _, w := range m.Weights() {
		if w.Value == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, w.Value.Clone().(*tensor.Dense))
	}
	return out
}

// sameAsSnapshot reports the first weight that differs from a snapshot.
func sameAsSnapshot(m *Model, snap []*tensor.Dense) error {
	for i, w := range m.Weights() {
		switch {
		case snap[i] == nil && w.Value == nil:
		case snap[i] == nil || w.Value == nil:
			return errors.Errorf("weight %q: allocated or dropped", w.Name)
		default:
			if err := bitsDiff(w.Value, snap[i]); err != nil {
				return errors.WithMessagef(err, "weight %q", w.Name)
			}
		}
	}
	return nil
}

func TestSaveLoadWeights(t *testing.T) {
	m, x, _ := trainedMLP(t, true, FitConfig{})
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	if err := m.SaveWeights(path); err != nil {
		t.Fatal(err)
	}
	// The file holds the weights and nothing else.
	data, _ := os.ReadFile(path)
	f, err := safetensors.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != len(m.Weights()) || f.Metadata["format"] != "keragon-weights" || f.Metadata["model"] != "" {
		t.Errorf("the weights file has %d tensors and metadata %v; want %d weights and format keragon-weights only", len(f.Tensors), f.Metadata, len(m.Weights()))
	}
	// A fresh model of the same architecture (not even initialised) takes
	// them, and predicts as the trained one.
	for _, load := range []struct {
		name string
		do   func(*Model) error
	}{
		{"LoadWeights", func(g *Model) error { return g.LoadWeights(path) }},
		{"LoadWeightsFrom", func(g *Model) error { return g.LoadWeightsFrom(bytes.NewReader(data)) }},
		{"LoadWeights of a Save file", func(g *Model) error {
			full := filepath.Join(dir, "full.safetensors")
			if err := m.Save(full); err != nil {
				return err
			}
			return g.LoadWeights(full)
		}},
	} {
		g := freshMLP(t, 99)
		if err := load.do(g); err != nil {
			t.Fatalf("%s: %+v", load.name, err)
		}
		sameWeights(t, load.name, m, g)
		want, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := bitsDiff(got, want); err != nil {
			t.Errorf("%s: Predict differs: %v", load.name, err)
		}
	}
	// A compiled model whose programs exist sees the loaded values, and
	// keeps its optimizer state.
	g := freshMLP(t, 5)
	if err := g.Compile(CompileConfig{Optimizer: &training.Adam{}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Predict(x); err != nil {
		t.Fatal(err)
	}
	if err := g.LoadWeights(path); err != nil {
		t.Fatal(err)
	}
	want, _ := m.Predict(x)
	if got, _ := g.Predict(x); bitsDiff(got, want) != nil {
		t.Error("a compiled model's programs do not see the loaded weights")
	}
}

// TestLoadWeightsMismatch: every mismatch is an error naming it, and the
// model is left exactly as it was.
func TestLoadWeightsMismatch(t *testing.T) {
	src, _, _ := trainedMLP(t, true, FitConfig{})
	var buf bytes.Buffer
	if err := src.SaveWeightsTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	edit := func(e func(f *safetensors.File)) []byte {
		f, err := safetensors.Decode(good)
		if err != nil {
			t.Fatal(err)
		}
		e(f)
		var b bytes.Buffer
		if err := safetensors.Encode(&b, f.Tensors, f.Metadata); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var full bytes.Buffer
	if err := src.SaveTo(&full); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		model func() *Model
		data  []byte
		want  string
	}{
		{"missing", nil, edit(func(f *safetensors.File) { dropTensor(f, "dense_1/bias") }), `the file lacks 1 weight(s) the model has: ["dense_1/bias"]`},
		{"extra", nil, edit(func(f *safetensors.File) {
			f.Tensors = append(f.Tensors, safetensors.Float32s("dense_2/kernel", []int{1}, []float32{1}))
		}), `the file has 1 tensor(s) that are not weights of the model: ["dense_2/kernel"]`},
		{"optimizer state in a weights file", nil, edit(func(f *safetensors.File) {
			f.Tensors = append(f.Tensors, safetensors.Float32s("optimizer/iterations", []int{1}, []float32{1}))
		}), `not weights of the model: ["optimizer/iterations"]`},
		{"wrong shape", nil, edit(func(f *safetensors.File) {
			dropTensor(f, "dense/bias")
			f.Tensors = append(f.Tensors, safetensors.Float32s("dense/bias", []int{2, 4}, make([]float32, 8)))
		}), `weight "dense/bias" has shape [2 4] in the file, the model's layer makes [8]`},
		{"wrong dtype", nil, edit(func(f *safetensors.File) {
			dropTensor(f, "dense/bias")
			f.Tensors = append(f.Tensors, safetensors.Float64s("dense/bias", []int{8}, make([]float64, 8)))
		}), `weight "dense/bias" is F64 in the file, the model is float32 (F32)`},
		{"other architecture", func() *Model {
			m := NewSequential(&Input{Shape: []int{6}}, &Dense{Units: 4}, &Dense{Units: 3})
			m.SetSeed(3)
			return m
		}, good, `weight "dense/kernel" has shape [6 8] in the file, the model's layer makes [6 4]`},
		{"newer version", nil, edit(func(f *safetensors.File) { f.Metadata["version"] = "2" }), `metadata version is "2"`},
		{"truncated", nil, good[:len(good)-1], "the file is truncated"},
		{"not safetensors", nil, []byte("hello world, this is text"), "header length"},
		{"unbuilt model", func() *Model { return NewSequential(&Dense{Units: 3}) }, good, "the model has no input shape yet"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		m := freshMLP(t, 7)
		if c.model != nil {
			m = c.model()
		}
		if m.err == nil && len(m.inputs) > 0 {
			if _, err := m.Predict(tensor.New(tensor.WithShape(1, 6), tensor.WithBacking(make([]float32, 6)))); err != nil {
				t.Fatal(err)
			}
		}
		before := weightsSnapshot(m)
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := m.LoadWeights(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "keras: LoadWeights "+path+": ") {
			t.Errorf("%d %s: got %v, want \"keras: LoadWeights %s: …%s…\"", i, c.name, err, path, c.want)
		}
		if err := sameAsSnapshot(m, before); err != nil {
			t.Errorf("%d %s: the model changed: %v", i, c.name, err)
		}
		if err := m.LoadWeightsFrom(bytes.NewReader(c.data)); err == nil || !strings.HasPrefix(err.Error(), "keras: LoadWeightsFrom: ") {
			t.Errorf("%d %s: LoadWeightsFrom: got %v", i, c.name, err)
		}
	}
	// A Save file's optimizer state is skipped; its weights load.
	m := freshMLP(t, 7)
	if err := m.LoadWeightsFrom(bytes.NewReader(full.Bytes())); err != nil {
		t.Errorf("a Save file: %v", err)
	}
	if err := m.LoadWeights(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("a missing file: got %v", err)
	}
	if err := m.LoadWeightsFrom(nil); err == nil {
		t.Error("LoadWeightsFrom(nil): no error")
	}
}

// TestModelCheckpointWeightsOnly: training.ModelCheckpoint with
// SaveWeightsOnly saves through Model.SaveWeights, and the files load
// with LoadWeights.
func TestModelCheckpointWeightsOnly(t *testing.T) {
	dir := t.TempDir()
	m := freshMLP(t, 1)
	if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	x, y := saveTestData(2, 16, []int{6}, 3)
	cb := training.ModelCheckpoint(training.ModelCheckpointConfig{Path: filepath.Join(dir, "w-{epoch}.safetensors"), SaveWeightsOnly: true}, nil)
	if _, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 8, Callbacks: []training.Callback{cb}}); err != nil {
		t.Fatal(err)
	}
	g := freshMLP(t, 2)
	if err := g.LoadWeights(filepath.Join(dir, "w-2.safetensors")); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, "checkpoint of the last epoch", m, g)
	if _, err := Load(filepath.Join(dir, "w-1.safetensors")); err == nil || !strings.Contains(err.Error(), `format is "keragon-weights"`) {
		t.Errorf("Load of a weights file: got %v, want a format error", err)
	}
}

// TestLoadWeightsConcurrentPredict: Predict from several goroutines while
// another loads weights sees the old weights or the new ones, never a mix.
func TestLoadWeightsConcurrentPredict(t *testing.T) {
	a, b := freshMLP(t, 1), freshMLP(t, 2)
	x, _ := saveTestData(3, 4, []int{6}, 3)
	var wa, wb bytes.Buffer
	if err := a.SaveWeightsTo(&wa); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveWeightsTo(&wb); err != nil {
		t.Fatal(err)
	}
	pa, err := a.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 3 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				p, err := a.Predict(x)
				if err != nil {
					errs <- err
					return
				}
				if bitsDiff(p, pa) != nil && bitsDiff(p, pb) != nil {
					errs <- errors.New("Predict saw a mix of two weight sets")
					return
				}
			}
		}()
	}
	for i := range 20 {
		file := wb.Bytes()
		if i%2 == 1 {
			file = wa.Bytes()
		}
		if err := a.LoadWeightsFrom(bytes.NewReader(file)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
