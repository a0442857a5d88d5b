package keras

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// servingModels are models of the main layer families, compiled, with a
// sample shape: an MLP with Dropout and BatchNormalization, a convnet, an
// LSTM and a GRU over sequences.
func servingModels(t *testing.T) map[string]struct {
	m     *Model
	shape []int
} {
	t.Helper()
	out := map[string]struct {
		m     *Model
		shape []int
	}{}
	compile := func(name string, m *Model, shape []int, loss any) {
		m.SetSeed(3)
		if err := m.Compile(CompileConfig{Optimizer: &training.Adam{LearningRate: 0.01}, Loss: loss}); err != nil {
			t.Fatalf("%s: %+v", name, err)
		}
		out[name] = struct {
			m     *Model
			shape []int
		}{m, shape}
	}
	compile("mlp", dropoutMLP(t, 3, tensor.Float32), []int{4}, "sparse_categorical_crossentropy")
	conv, shape := everyConv2DLayerModel(t)
	compile("conv", conv, shape, []any{"sparse_categorical_crossentropy", "mse"})
	compile("lstm", NewSequential(&Input{Shape: []int{5, 3}}, &LSTM{Units: 6}, &Dense{Units: 2, Activation: "softmax"}), []int{5, 3}, "sparse_categorical_crossentropy")
	compile("gru", NewSequential(&Input{Shape: []int{4, 2}}, &GRU{Units: 5, ReturnSequences: true}, &Flatten{}, &Dense{Units: 1}), []int{4, 2}, "mse")
	return out
}

// TestConcurrentPredict: many goroutines predicting on one model with
// mixed batch sizes get bitwise the serial results (run with -race).
func TestConcurrentPredict(t *testing.T) {
	sizes := []int{1, 3, 7, 16, 33}
	for name, c := range servingModels(t) {
		t.Run(name, func(t *testing.T) {
			inputs := make([]*tensor.Dense, len(sizes))
			want := make([][]*tensor.Dense, len(sizes))
			for i, n := range sizes {
				inputs[i] = randomTensor(newTestRand(uint64(10+i)), tensor.Float32, -1, 1, append([]int{n}, c.shape...)...)
				out, err := c.m.PredictMulti([]*tensor.Dense{inputs[i]}, EvalConfig{BatchSize: 8})
				if err != nil {
					t.Fatalf("%+v", err)
				}
				want[i] = out
			}
			const goroutines, rounds = 8, 6
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := 0; r < rounds; r++ {
						i := (g + r) % len(sizes)
						got, err := c.m.PredictMulti([]*tensor.Dense{inputs[i]}, EvalConfig{BatchSize: 8})
						if err != nil {
							errs <- err
							return
						}
						for o := range got {
							if err := identicalBits(got[o], want[i][o]); err != nil {
								errs <- fmt.Errorf("goroutine %d, %d samples, output %d: %v", g, sizes[i], o, err)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestPredictRowsIndependentOfBatch: a sample's prediction does not depend
// on the batch it runs in, padded partial batches included.
func TestPredictRowsIndependentOfBatch(t *testing.T) {
	m := dropoutMLP(t, 1, tensor.Float32)
	x := randomTensor(newTestRand(5), tensor.Float32, -1, 1, 11, 4)
	all, err := m.Predict(x, EvalConfig{BatchSize: 8}) // batches of 8 and 3 (run as 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 2, 5, 32} {
		got, err := m.Predict(x, EvalConfig{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		if err := identicalBits(got, all); err != nil {
			t.Errorf("batch %d: %v", batch, err)
		}
	}
}

// TestPredictDuringFit: predictions made while another goroutine trains
// the model each equal the predictions of the weights after some whole
// number of steps, never of a mix (run with -race). Evaluate and Save run
// meanwhile too.
func TestPredictDuringFit(t *testing.T) {
	m := dropoutMLP(t, 7, tensor.Float32)
	x, y := classificationData(2, 64, 4, 3, tensor.Float32)
	probe := randomTensor(newTestRand(9), tensor.Float32, -1, 1, 40, 4)
	// snapshots[k] holds every weight after k steps; the callback runs on
	// Fit's goroutine between steps, when only Fit could write them.
	var snapshots [][]*tensor.Dense
	take := func() {
		var s []*tensor.Dense
		for _, w := range m.Weights() {
			s = append(s, w.Value.Clone().(*tensor.Dense))
		}
		snapshots = append(snapshots, s)
	}
	take()
	record := training.Callback{Name: "snapshots", OnBatchEnd: func(*training.Run, int, training.Logs) error { take(); return nil }}
	var wg sync.WaitGroup
	var results []*tensor.Dense
	var mu sync.Mutex
	done := make(chan struct{})
	errs := make(chan error, 16)
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				p, err := m.Predict(probe, EvalConfig{BatchSize: 8}) // five batches
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				results = append(results, p)
				mu.Unlock()
				if g == 0 && i%4 == 0 {
					if _, _, err := m.Evaluate(x, y); err != nil {
						errs <- err
						return
					}
				}
				if g == 1 && i%8 == 0 {
					if err := m.Save(t.TempDir() + "/m.keragon"); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	_, err := m.Fit(x, y, FitConfig{Epochs: 3, BatchSize: 8, Callbacks: []training.Callback{record}})
	close(done)
	wg.Wait()
	close(errs)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	for err := range errs {
		t.Fatalf("%+v", err)
	}
	// What each snapshot predicts, computed now that training is over.
	want := make([]*tensor.Dense, len(snapshots))
	for k, s := range snapshots {
		for i, w := range m.Weights() {
			if err := w.Set(s[i]); err != nil {
				t.Fatal(err)
			}
		}
		if want[k], err = m.Predict(probe, EvalConfig{BatchSize: 8}); err != nil {
			t.Fatal(err)
		}
	}
	if len(results) == 0 {
		t.Fatal("no prediction ran during Fit")
	}
	for r, got := range results {
		found := false
		for _, w := range want {
			if identicalBits(got, w) == nil {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("prediction %d of %d matches the weights of no step", r, len(results))
		}
	}
}

// TestFitIsExclusive: a second Fit, Compile, Add or Build while Fit runs
// is refused with an error, and the first Fit is unharmed.
func TestFitIsExclusive(t *testing.T) {
	m := classifier(t)
	x, y := classificationData(2, 64, 4, 3, tensor.Float32)
	var got []error
	probe := training.Callback{Name: "probe", OnEpochEnd: func(*training.Run, int, training.Logs) error {
		_, err := m.Fit(x, y, FitConfig{})
		got = append(got, err)
		got = append(got, m.Compile(CompileConfig{Loss: "mse"}))
		got = append(got, m.Add(&Dense{Units: 2}))
		return nil
	}}
	if _, err := m.Fit(x, y, FitConfig{Epochs: 1, Callbacks: []training.Callback{probe}}); err != nil {
		t.Fatalf("%+v", err)
	}
	wants := []string{"Fit is already running", "Compile while Fit is running", "cannot Add a layer"}
	for i, want := range wants {
		if i >= len(got) || got[i] == nil || !strings.Contains(got[i].Error(), want) {
			t.Errorf("call %d during Fit: error %v, want it to contain %q", i, got, want)
		}
	}
	// The model still trains, predicts and was not recompiled for mse.
	if _, err := m.Fit(x, y, FitConfig{}); err != nil {
		t.Errorf("Fit after: %v", err)
	}
	if _, m2, err := m.Evaluate(x, y); err != nil || m2["accuracy"] < 0 {
		t.Errorf("Evaluate after: %v", err)
	}
}

// TestProgramCacheIsBounded: predicting with many batch sizes compiles a
// few prediction programs (powers of two), and keeps a bounded number.
func TestProgramCacheIsBounded(t *testing.T) {
	m := classifier(t)
	for n := 1; n <= 100; n++ {
		x := randomTensor(newTestRand(uint64(n)), tensor.Float32, -1, 1, n, 4)
		if _, err := m.Predict(x, EvalConfig{BatchSize: 64}); err != nil {
			t.Fatal(err)
		}
	}
	// Sizes 1..64 run as 1, 2, 4, ..., 64 and the rest as 64 + a power of
	// two: 7 programs.
	if b := m.cache.Builds(); b != 7 {
		t.Errorf("%d prediction programs built for 100 sizes, want 7", b)
	}
	if err := m.SetProgramLimits(1, 3); err != nil {
		t.Fatal(err)
	}
	if n := m.cache.Len(); n > 3 {
		t.Errorf("%d programs kept with limits (1, 3)", n)
	}
	if err := m.SetProgramLimits(0, 3); err == nil {
		t.Error("SetProgramLimits(0, 3): no error")
	}
}
