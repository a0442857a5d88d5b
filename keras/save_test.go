package keras

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// saveTestSum adds its inputs: a two-input layer for the functional
// round trip (registered for these tests only).
type saveTestSum struct {
	Name string `json:"name,omitempty"`
	Base
}

func init() { Register("saveTestSum", func() Layer { return &saveTestSum{} }) }

func (l *saveTestSum) OutputShape(in []Shape) (Shape, error) {
	if len(in) < 2 {
		return nil, errors.Errorf("keras: saveTestSum takes two inputs or more, got %d", len(in))
	}
	for _, s := range in[1:] {
		if !s.Equal(in[0]) {
			return nil, errors.Errorf("keras: saveTestSum: shapes %v and %v differ", in[0], s)
		}
	}
	return in[0], nil
}

func (l *saveTestSum) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	out := in[0]
	for _, x := range in[1:] {
		var err error
		if out, err = gorgonia.Add(out, x); err != nil {
			return nil, errors.Wrap(err, "keras: saveTestSum")
		}
	}
	return out, nil
}

// saveTestData returns n samples of shape in (float32, normal) and integer
// labels in [0, classes).
func saveTestData(seed uint64, n int, in []int, classes int) (x, y *tensor.Dense) {
	rng := rand.New(rand.NewPCG(seed, 1))
	size := n
	for _, d := range in {
		size *= d
	}
	xs := make([]float32, size)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	ys := make([]float32, n)
	for i := range ys {
		ys[i] = float32(rng.IntN(classes))
	}
	return tensor.New(tensor.WithShape(append([]int{n}, in...)...), tensor.WithBacking(xs)),
		tensor.New(tensor.WithShape(n), tensor.WithBacking(ys))
}

// bitsDiff reports the first element where two tensors differ bitwise.
func bitsDiff(a, b *tensor.Dense) error {
	if !a.Shape().Eq(b.Shape()) || a.Dtype() != b.Dtype() {
		return errors.Errorf("shape/dtype %v %v vs %v %v", a.Shape(), a.Dtype(), b.Shape(), b.Dtype())
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
		return errors.Errorf("dtype %v", a.Dtype())
	}
	return nil
}

// sameWeights compares two models' weights by name, bitwise.
func sameWeights(t *testing.T, what string, a, b *Model) {
	t.Helper()
	wa, wb := a.Weights(), b.Weights()
	if len(wa) != len(wb) {
		t.Fatalf("%s: %d weights vs %d", what, len(wa), len(wb))
	}
	for i := range wa {
		if wa[i].Name != wb[i].Name || wa[i].Trainable != wb[i].Trainable {
			t.Fatalf("%s: weight %d is %q (trainable %v) vs %q (%v)", what, i, wa[i].Name, wa[i].Trainable, wb[i].Name, wb[i].Trainable)
		}
		if err := bitsDiff(wa[i].Value, wb[i].Value); err != nil {
			t.Errorf("%s: weight %q: %v", what, wa[i].Name, err)
		}
	}
}

// saveLoad saves m to a temporary file and loads it back.
func saveLoad(t *testing.T, m *Model) (*Model, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatalf("Save: %+v", err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %+v", err)
	}
	return got, path
}

// trainedMLP is a Sequential MLP with BatchNormalization and (optionally)
// Dropout, compiled with Adam on a decaying schedule and trained for two
// epochs, so its weights, moving averages and optimizer state are all
// non-trivial.
func trainedMLP(t *testing.T, dropout bool, fit FitConfig) (*Model, *tensor.Dense, *tensor.Dense) {
	t.Helper()
	layers := []Layer{
		&Input{Shape: []int{6}},
		&Dense{Units: 8, Activation: "relu"},
		&BatchNormalization{Momentum: Float(0.9)},
	}
	if dropout {
		layers = append(layers, &Dropout{Rate: 0.25})
	}
	layers = append(layers, &Dense{Units: 3, Activation: "softmax"})
	m := NewSequential(layers...)
	m.SetSeed(1)
	opt := &training.Adam{Schedule: &training.ExponentialDecay{InitialLearningRate: 0.02, DecaySteps: 4, DecayRate: 0.5}}
	if err := m.Compile(CompileConfig{Optimizer: opt, Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	x, y := saveTestData(2, 40, []int{6}, 3)
	fit.Epochs, fit.BatchSize = 2, 8
	if _, err := m.Fit(x, y, fit); err != nil {
		t.Fatal(err)
	}
	return m, x, y
}

func TestSaveLoadSequential(t *testing.T) {
	m, x, y := trainedMLP(t, true, FitConfig{})
	got, _ := saveLoad(t, m)
	if got.Name() != m.Name() || !got.sequential || got.Dtype() != m.Dtype() {
		t.Errorf("got model %q sequential=%v %v, want %q sequential %v", got.Name(), got.sequential, got.Dtype(), m.Name(), m.Dtype())
	}
	var classes, names []string
	for _, l := range got.Layers() {
		classes = append(classes, ClassName(l))
		names = append(names, l.base().name)
	}
	wantClasses := []string{"Input", "Dense", "BatchNormalization", "Dropout", "Dense"}
	wantNames := []string{"input_layer", "dense", "batch_normalization", "dropout", "dense_1"}
	if !reflect.DeepEqual(classes, wantClasses) || !reflect.DeepEqual(names, wantNames) {
		t.Errorf("layers: got %v %v, want %v %v", classes, names, wantClasses, wantNames)
	}
	if bn := got.Layers()[2].(*BatchNormalization); bn.momentum() != 0.9 {
		t.Errorf("BatchNormalization momentum: got %v, want 0.9", bn.momentum())
	}
	sameWeights(t, "weights", m, got)
	want, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := got.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := bitsDiff(pred, want); err != nil {
		t.Errorf("Predict after Load differs: %v", err)
	}
	l1, met1, err := m.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	l2, met2, err := got.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if l1 != l2 || !reflect.DeepEqual(met1, met2) {
		t.Errorf("Evaluate: got %v %v, want %v %v", l2, met2, l1, met1)
	}
}

// functionalModel has two inputs, two outputs, a Dense layer shared by
// both inputs, a two-input layer and a frozen layer.
func functionalModel(t *testing.T) *Model {
	t.Helper()
	a, b := NewInput(4), NewInput(4)
	shared := &Dense{Units: 4, Activation: "tanh", Name: "shared"}
	ha, hb := Apply(shared, a), Apply(shared, b)
	s := Apply(&saveTestSum{}, ha, hb)
	frozen := &Dense{Units: 5, Activation: "relu"}
	cls := Apply(&Dense{Units: 3, Activation: "softmax", Name: "class"}, Apply(&BatchNormalization{}, Apply(frozen, s)))
	val := Apply(&Dense{Units: 1, Name: "value"}, Apply(&Dropout{Rate: 0.1}, Apply(shared, hb)))
	m, err := NewModel([]*Tensor{a, b}, []*Tensor{cls, val})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	frozen.SetTrainable(false)
	m.SetName("two_heads")
	m.SetSeed(5)
	err = m.Compile(CompileConfig{
		Optimizer:   &training.SGD{LearningRate: 0.05, Momentum: 0.9},
		Loss:        map[string]any{"class": "sparse_categorical_crossentropy", "value": Loss{Name: "huber", Delta: 0.5}},
		LossWeights: []float64{1, 0.5},
		Metrics:     []string{"accuracy"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSaveLoadFunctional(t *testing.T) {
	m := functionalModel(t)
	xa, ycls := saveTestData(3, 24, []int{4}, 3)
	xb, _ := saveTestData(4, 24, []int{4}, 3)
	yval, _ := saveTestData(5, 24, []int{1}, 1)
	xs, ys := []*tensor.Dense{xa, xb}, []*tensor.Dense{ycls, yval}
	if _, err := m.FitMulti(xs, ys, FitConfig{Epochs: 2, BatchSize: 6}); err != nil {
		t.Fatalf("%+v", err)
	}
	got, path := saveLoad(t, m)
	// Saving the loaded model writes the same bytes: nothing saved is lost.
	again := filepath.Join(t.TempDir(), "again.safetensors")
	if err := got.Save(again); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(path)
	b2, _ := os.ReadFile(again)
	if string(b1) != string(b2) {
		t.Errorf("saving the loaded model wrote %d different bytes (%d before)", len(b2), len(b1))
	}
	if got.Name() != "two_heads" || got.sequential {
		t.Errorf("got model %q sequential=%v, want \"two_heads\", functional", got.Name(), got.sequential)
	}
	if n := len(got.nodes); n != len(m.nodes) {
		t.Errorf("got %d layer applications, want %d", n, len(m.nodes))
	}
	shared, err := got.Layer("shared")
	if err != nil {
		t.Fatal(err)
	}
	uses := 0
	for _, n := range got.nodes {
		if n.layer == shared {
			uses++
		}
	}
	if uses != 3 {
		t.Errorf("the shared layer is applied %d times, want 3", uses)
	}
	sameWeights(t, "weights", m, got)
	c, gc := m.compiled, got.compiled
	if gc == nil {
		t.Fatal("the loaded model is not compiled")
	}
	if !reflect.DeepEqual(gc.lossSpecs, c.lossSpecs) || !reflect.DeepEqual(gc.lossWeights, c.lossWeights) {
		t.Errorf("losses: got %v %v, want %v %v", gc.lossSpecs, gc.lossWeights, c.lossSpecs, c.lossWeights)
	}
	var mn, gmn []string
	for i := range c.metrics {
		mn = append(mn, c.metrics[i].Name)
	}
	for i := range gc.metrics {
		gmn = append(gmn, gc.metrics[i].Name)
	}
	if !reflect.DeepEqual(gmn, mn) {
		t.Errorf("metrics: got %v, want %v", gmn, mn)
	}
	sgd, ok := gc.optimizer.(*training.SGD)
	if !ok || sgd.Momentum != 0.9 || sgd.CurrentLearningRate() != 0.05 || sgd.Iterations() != m.Optimizer().Iterations() {
		t.Errorf("optimizer: got %#v (iterations %d), want SGD lr 0.05 momentum 0.9 after %d steps", gc.optimizer, gc.optimizer.Iterations(), m.Optimizer().Iterations())
	}
	want, err := m.PredictMulti(xs)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := got.PredictMulti(xs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if err := bitsDiff(pred[i], want[i]); err != nil {
			t.Errorf("output %d after Load differs: %v", i, err)
		}
	}
	l1, met1, err := m.EvaluateMulti(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	l2, met2, err := got.EvaluateMulti(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if l1 != l2 || !reflect.DeepEqual(met1, met2) {
		t.Errorf("Evaluate: got %v %v, want %v %v", l2, met2, l1, met1)
	}
}

// TestResumeTraining: one more epoch on the loaded model gives bitwise the
// weights one more epoch gives the original, and not the weights a fresh
// optimizer gives (so the restored state matters).
func TestResumeTraining(t *testing.T) {
	cases := []struct {
		name    string
		dropout bool
		fit     FitConfig
		reseed  bool // same seed state for shuffling and dropout masks
	}{
		{"no shuffle, no dropout", false, FitConfig{NoShuffle: true}, false},
		{"shuffle and dropout, same seed", true, FitConfig{}, true},
		// Save stores the random stream, so the loaded model shuffles and
		// drops out exactly as the original goes on to.
		{"shuffle and dropout, saved stream", true, FitConfig{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, x, y := trainedMLP(t, c.dropout, c.fit)
			got, path := saveLoad(t, m)
			fresh, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := fresh.Compile(CompileConfig{Optimizer: &training.Adam{Schedule: &training.ExponentialDecay{InitialLearningRate: 0.02, DecaySteps: 4, DecayRate: 0.5}},
				Loss: "sparse_categorical_crossentropy"}); err != nil {
				t.Fatal(err)
			}
			if it := got.Optimizer().Iterations(); it != 10 {
				t.Errorf("loaded optimizer iterations: got %d, want 10 (2 epochs of 5 batches)", it)
			}
			c.fit.Epochs, c.fit.BatchSize = 1, 8
			for _, mm := range []*Model{m, got, fresh} {
				if c.reseed {
					mm.SetSeed(9) // reseeds in place: built programs follow
				}
				if _, err := mm.Fit(x, y, c.fit); err != nil {
					t.Fatal(err)
				}
			}
			sameWeights(t, "resumed", m, got)
			if got.Optimizer().Iterations() != m.Optimizer().Iterations() {
				t.Errorf("iterations: got %d, want %d", got.Optimizer().Iterations(), m.Optimizer().Iterations())
			}
			if err := bitsDiff(fresh.Weights()[0].Value, m.Weights()[0].Value); err == nil {
				t.Error("a fresh optimizer gave the same weights as the restored one: the test cannot see lost state")
			}
		})
	}
}

func TestSaveLoadFloat64Unbuilt(t *testing.T) {
	// A Sequential model built from its first data, float64, not compiled.
	m := NewSequential(&Dense{Units: 3, Activation: "relu"}, &Dense{Units: 2})
	if err := m.Build(4); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m")
	if err := NewSequential(&Dense{Units: 2}).Save(path); err == nil || !strings.Contains(err.Error(), "no input shape") {
		t.Errorf("Save of an unbuilt model: got %v, want a 'no input shape' error", err)
	}
	m.SetSeed(4)
	got, _ := saveLoad(t, m)
	if got.compiled != nil || !got.sequential || len(got.Layers()) != 3 {
		t.Errorf("got compiled=%v sequential=%v %d layers, want uncompiled Sequential with 3", got.compiled != nil, got.sequential, len(got.Layers()))
	}
	sameWeights(t, "weights", m, got)

	in := &Input{Shape: []int{3}, Dtype: "float64"}
	m64 := NewSequential(in, &Dense{Units: 2, Activation: "tanh"})
	m64.SetSeed(2)
	got64, _ := saveLoad(t, m64)
	if got64.Dtype() != tensor.Float64 {
		t.Fatalf("dtype: got %v, want float64", got64.Dtype())
	}
	sameWeights(t, "float64 weights", m64, got64)
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, -1, 0.5, 0}))
	p1, err := m64.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := got64.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := bitsDiff(p1, p2); err != nil {
		t.Errorf("float64 Predict differs: %v", err)
	}
}

// TestSaveAtomic: a save that fails midway leaves the previous file, and
// no temporary file.
func TestSaveAtomic(t *testing.T) {
	m, x, y := trainedMLP(t, false, FitConfig{NoShuffle: true})
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("file mode: got %v, want 0644", st.Mode().Perm())
	}
	if _, err := m.Fit(x, y, FitConfig{Epochs: 1, NoShuffle: true}); err != nil {
		t.Fatal(err)
	}
	injected := errors.New("injected failure")
	cases := []struct {
		name  string
		setup func() (undo func())
	}{
		{"rename fails", func() func() {
			old := renameFile
			renameFile = func(string, string) error { return injected }
			return func() { renameFile = old }
		}},
		{"sync fails", func() func() {
			old := syncFile
			syncFile = func(*os.File) error { return injected }
			return func() { syncFile = old }
		}},
	}
	for i, c := range cases {
		undo := c.setup()
		err := m.Save(path)
		undo()
		if !errors.Is(err, injected) || !strings.Contains(err.Error(), path) {
			t.Errorf("%d %s: got %v, want the injected error naming %s", i, c.name, err, path)
		}
		after, err := os.ReadFile(path)
		if err != nil || string(after) != string(before) {
			t.Errorf("%d %s: the previous file changed (%d bytes, was %d; %v)", i, c.name, len(after), len(before), err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("%d %s: directory holds %v, want only model.safetensors", i, c.name, names)
		}
	}
	if err := m.Save(filepath.Join(dir, "missing", "m.safetensors")); err == nil {
		t.Error("Save into a missing directory: no error")
	}
	// A read-only directory stops the temporary file (root ignores
	// permissions, so only other users run this).
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		if err := m.Save(path); err == nil {
			t.Error("Save into a read-only directory: no error")
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Error("read-only directory: the previous file changed")
		}
	}
	// Saving again works and replaces the file.
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(after) == string(before) {
		t.Error("a successful Save after training left the old file")
	}
}

// TestResumeTrainingStream: N epochs straight equal N/2, SaveTo, LoadFrom
// and N/2 more, bit for bit, through an in-memory stream.
func TestResumeTrainingStream(t *testing.T) {
	straight, x, y := trainedMLP(t, true, FitConfig{})
	half, _, _ := trainedMLP(t, true, FitConfig{})
	var buf bytes.Buffer
	if err := half.SaveTo(&buf); err != nil {
		t.Fatal(err)
	}
	n := buf.Len()
	buf.WriteString("trailing bytes of another record")
	got, err := LoadFrom(&buf)
	if err != nil {
		t.Fatalf("LoadFrom: %+v", err)
	}
	if rest := buf.String(); rest != "trailing bytes of another record" {
		t.Errorf("LoadFrom read into what follows the model (%d bytes): %q left", n, rest)
	}
	fit := FitConfig{Epochs: 2, BatchSize: 8}
	if _, err := straight.Fit(x, y, fit); err != nil {
		t.Fatal(err)
	}
	if _, err := got.Fit(x, y, fit); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, "4 epochs straight vs 2 + SaveTo + LoadFrom + 2", straight, got)
	if got.Optimizer().Iterations() != straight.Optimizer().Iterations() {
		t.Errorf("iterations: got %d, want %d", got.Optimizer().Iterations(), straight.Optimizer().Iterations())
	}
}

// TestLoadFromHostileReaders: a reader that claims a huge header, claims
// a huge tensor, never ends or fails is refused, after reading no more
// than the limits allow.
func TestLoadFromHostileReaders(t *testing.T) {
	good := savedBytes(t)
	n := binary.LittleEndian.Uint64(good)
	claims := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	injected := errors.New("injected")
	// A header that lists a 4 GB optimizer tensor, then zeros forever.
	bigState := editHeader(t, good, func(h map[string]json.RawMessage) {
		h["optimizer/huge"] = json.RawMessage(`{"dtype":"F32","shape":[1073741824],"data_offsets":[1260,4294968556]}`)
	})
	bn := binary.LittleEndian.Uint64(bigState)
	z1, z2 := &zeros{}, &zeros{}
	cases := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"huge header claim", bytes.NewReader(claims(1 << 62)), "header length 4611686018427387904 exceeds"},
		{"header claim, little data", io.MultiReader(bytes.NewReader(claims(1<<23)), strings.NewReader("{}")), "the input ends after 2 of 8388608 bytes"},
		{"endless header", io.MultiReader(bytes.NewReader(claims(1<<23)), z1), "the header does not start with '{'"},
		{"endless data after a lying header", io.MultiReader(bytes.NewReader(bigState[:8+bn]), z2), "optimizer state has more than"},
		{"truncated data", bytes.NewReader(good[:len(good)-10]), "the input ends after 1250 of 1260 bytes"},
		{"read error", io.MultiReader(bytes.NewReader(good[:8+n+100]), &failReader{injected}), "injected"},
	}
	for i, c := range cases {
		_, err := LoadFrom(c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "keras: LoadFrom: ") {
			t.Errorf("%d %s: got %v, want \"keras: LoadFrom: …%s…\"", i, c.name, err, c.want)
		}
	}
	// The header is read up to its claimed length, within MaxHeaderBytes;
	// no data is read after a header that fails the checks.
	if z1.n > 1<<23 || z2.n != 0 {
		t.Errorf("read %d bytes of an endless header (claimed 8388608) and %d of endless data (want 0)", z1.n, z2.n)
	}
	if _, err := LoadFrom(io.MultiReader(bytes.NewReader(good[:8+n+100]), &failReader{injected})); !errors.Is(err, injected) {
		t.Errorf("errors.Is(read error, injected) is false: %v", err)
	}
	if _, err := LoadFrom(nil); err == nil || err.Error() != "keras: LoadFrom: nil reader" {
		t.Errorf("LoadFrom(nil): got %v", err)
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// failReader fails every read.
type failReader struct{ err error }

func (f *failReader) Read([]byte) (int, error) { return 0, f.err }

// tempNames lists the names in dir that start with a save's temporary
// prefix for base.
func tempNames(t *testing.T, dir, base string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix(base)) {
			names = append(names, e.Name())
		}
	}
	return names
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestSaveRemovesStaleTemps: a Save removes the temporary files of killed
// saves to the same path (old, or made here by a process that is gone),
// and nothing else.
func TestSaveRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	m := NewSequential(&Input{Shape: []int{2}}, &Dense{Units: 1})
	m.SetSeed(1)
	old := time.Now().Add(-2 * staleTempAge)
	host := hostTag()
	files := []struct {
		name    string
		old     bool
		dir     bool
		removed bool
	}{
		{".model.safetensors.tmp-123456789", true, false, true},                                                    // earlier versions' name, old
		{".model.safetensors.tmp-987654321", false, false, false},                                                  // earlier versions' name, fresh
		{fmt.Sprintf(".model.safetensors.tmp-%s-%d-1", host, deadPID(t)), false, false, runtime.GOOS != "windows"}, // writer gone
		{fmt.Sprintf(".model.safetensors.tmp-%s-%d-2", host, os.Getpid()), false, false, false},                    // a save in this process
		{fmt.Sprintf(".model.safetensors.tmp-%s-%d-3", host, os.Getppid()), false, false, false},                   // a live process
		{fmt.Sprintf(".model.safetensors.tmp-%s-%d-4", "0badf00d", 1<<30), false, false, false},                    // another host
		{fmt.Sprintf(".model.safetensors.tmp-%s-%d-5", "0badf00d", 1<<30), true, false, true},                      // another host, old
		{".model.safetensors.tmp-notours", true, false, false},                                                     // not a name Save makes
		{".model.safetensors.tmp-555", true, true, false},                                                          // a directory
		{".other.safetensors.tmp-123", true, false, false},                                                         // another target's
		{"model.safetensors.tmp-123", true, false, false},                                                          // not hidden
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		var err error
		if f.dir {
			err = os.Mkdir(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte("partial"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.old {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		_, err := os.Lstat(filepath.Join(dir, f.name))
		if removed := os.IsNotExist(err); removed != f.removed {
			t.Errorf("%d %s: removed = %v, want %v", i, f.name, removed, f.removed)
		}
	}
	if _, err := Load(path); err != nil {
		t.Errorf("the saved model: %v", err)
	}
}

// TestSaveKilledMidway: a save process killed after writing its temporary
// file leaves it; the next Save to the path (from another process)
// removes it, but not while the writer still runs, and the killed save
// never damaged the previous file.
func TestSaveKilledMidway(t *testing.T) {
	if os.Getenv("KERAGON_SAVE_CHILD") != "" {
		saveChild()
		return
	}
	if runtime.GOOS == "windows" {
		t.Skip("the dead-writer rule needs Unix")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	m := NewSequential(&Input{Shape: []int{2}}, &Dense{Units: 1})
	m.SetSeed(1)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaveKilledMidway$")
	cmd.Env = append(os.Environ(), "KERAGON_SAVE_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "synced\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child said %q (%v), want \"synced\"", line, err)
	}
	// The child is stuck between sync and rename: its file must survive
	// a concurrent save.
	if got := tempNames(t, dir, "model.safetensors"); len(got) != 1 {
		t.Fatalf("temporary files while the child saves: %v, want one", got)
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if got := tempNames(t, dir, "model.safetensors"); len(got) != 1 {
		t.Errorf("a save removed the temporary file of a live save: %v left", got)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("the file changed") // both saves wrote the same model
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if got := tempNames(t, dir, "model.safetensors"); len(got) != 0 {
		t.Errorf("temporary files after the writer was killed and another save ran: %v", got)
	}
}

// saveChild saves a model to the path in KERAGON_SAVE_CHILD and stops
// between sync and rename, saying "synced" on stdout.
func saveChild() {
	syncFile = func(f *os.File) error {
		f.Sync()
		fmt.Println("synced")
		select {} // wait to be killed
	}
	m := NewSequential(&Input{Shape: []int{2}}, &Dense{Units: 1})
	m.SetSeed(1)
	m.Save(os.Getenv("KERAGON_SAVE_CHILD"))
}

// TestSaveSymlinksAndReadOnly: Save through a symbolic link replaces the
// link's target and keeps the link; a read-only file or a path that is
// not a regular file is refused and left as it was.
func TestSaveSymlinksAndReadOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links and permissions differ on Windows")
	}
	dir := t.TempDir()
	m := NewSequential(&Input{Shape: []int{2}}, &Dense{Units: 1})
	m.SetSeed(1)
	real := filepath.Join(dir, "runs", "epoch3.safetensors")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.safetensors")
	if err := os.Symlink(filepath.Join("runs", "epoch3.safetensors"), link); err != nil {
		t.Fatal(err)
	}
	link2 := filepath.Join(dir, "best.safetensors")
	if err := os.Symlink("latest.safetensors", link2); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(link2); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, link2} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link (%v)", l, err)
		}
	}
	if fi, err := os.Stat(real); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the target: %v, mode %v; want it kept at 0640", err, fi.Mode().Perm())
	}
	if _, err := Load(real); err != nil {
		t.Errorf("the target does not hold the model: %v", err)
	}
	if got := tempNames(t, filepath.Dir(real), "epoch3.safetensors"); len(got) != 0 {
		t.Errorf("temporary files left: %v", got)
	}
	// A dangling link creates its target.
	dangling := filepath.Join(dir, "next.safetensors")
	if err := os.Symlink("new.safetensors", dangling); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(dir, "new.safetensors")); err != nil {
		t.Errorf("the dangling link's target: %v", err)
	}
	// A link cycle.
	if err := os.Symlink("loop2", filepath.Join(dir, "loop1")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop1", filepath.Join(dir, "loop2")); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(filepath.Join(dir, "loop1")); err == nil || !strings.Contains(err.Error(), "more than 40 symbolic links") {
		t.Errorf("a link cycle: got %v", err)
	}
	// Not a regular file.
	if err := m.Save(filepath.Join(dir, "runs")); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("a directory: got %v", err)
	}
	ro := filepath.Join(dir, "frozen.safetensors")
	if err := os.WriteFile(ro, []byte("keep me"), 0o444); err != nil {
		t.Fatal(err)
	}
	for _, save := range []func(string) error{m.Save, m.SaveWeights} {
		err := save(ro)
		if err == nil || !strings.Contains(err.Error(), "frozen.safetensors is read-only") {
			t.Errorf("a read-only file: got %v, want a read-only error", err)
		}
	}
	if b, _ := os.ReadFile(ro); string(b) != "keep me" {
		t.Errorf("the read-only file changed to %q", b)
	}
}
