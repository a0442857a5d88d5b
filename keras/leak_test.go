package keras

import (
	"path/filepath"
	"runtime"
	"testing"

	"gorgonia.org/tensor"
)

// liveHeap is the heap in use after the garbage collector has run twice
// (an object with a finaliser, such as a Gorgonia machine, is freed by the
// collection after the one that runs the finaliser).
func liveHeap() uint64 {
	var ms runtime.MemStats
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestDroppedModelsAreFreed: training, evaluating, predicting with and
// dropping 200 models, then loading and dropping 100, leaves the live
// heap where it was. Each model compiles Fit, Evaluate and Predict
// programs; a model kept alive by a cycle through a machine's finaliser
// would leave ~0.5–2 MB behind.
func TestDroppedModelsAreFreed(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 200 models")
	}
	x, y := classificationData(1, 64, 16, 4, tensor.Float32)
	cycle := func() *Model {
		m := NewSequential(&Input{Shape: []int{16}}, &Dense{Units: 32, Activation: "relu"}, &Dropout{Rate: 0.1}, &Dense{Units: 4, Activation: "softmax"})
		m.SetSeed(1)
		if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Evaluate(x, y); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Predict(x); err != nil {
			t.Fatal(err)
		}
		return m
	}
	path := filepath.Join(t.TempDir(), "m.keragon")
	if err := cycle().Save(path); err != nil {
		t.Fatal(err)
	}
	load := func() {
		m, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Predict(x); err != nil {
			t.Fatal(err)
		}
	}
	// Warm up: the first models fill pools and caches that stay.
	for i := 0; i < 5; i++ {
		cycle()
		load()
	}
	before := liveHeap()
	for i := 0; i < 200; i++ {
		cycle()
	}
	for i := 0; i < 100; i++ {
		load()
	}
	after := liveHeap()
	grew := float64(int64(after)-int64(before)) / (1 << 20)
	t.Logf("live heap %.1f MB before, %.1f MB after 200 trained and 100 loaded models (%+.2f MB)", float64(before)/(1<<20), float64(after)/(1<<20), grew)
	if grew > 4 {
		t.Errorf("the live heap grew by %.1f MB over 300 dropped models, want < 4 MB", grew)
	}
}
