package ensemble

import (
	"context"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// smallMLP is a compiled 2-8-k softmax classifier.
func smallMLP(k int) func(seed uint64) (*keras.Model, error) {
	return func(seed uint64) (*keras.Model, error) {
		m := keras.NewSequential(&keras.Input{Shape: []int{2}}, &keras.Dense{Units: 8, Activation: "tanh"},
			&keras.Dense{Units: k, Activation: "softmax"})
		m.SetSeed(seed)
		return m, m.Compile(keras.CompileConfig{Optimizer: &training.Adam{LearningRate: 0.05}, Loss: "sparse_categorical_crossentropy"})
	}
}

func blobs(t *testing.T, n, k int, seed int64) (x, y *tensor.Dense) {
	t.Helper()
	x, y, _, err := datasets.Blobs(datasets.BlobsConfig{Samples: n, Centers: k, CenterBox: [2]float64{-4, 4}, ClusterStd: 0.5, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return x, y
}

func TestKerasLearnerClassifier(t *testing.T) {
	x, y := blobs(t, 90, 3, 2) // seed 2: well-separated centres
	k := &KerasLearner{New: smallMLP(3), FitConfig: keras.FitConfig{Epochs: 60, BatchSize: 16}, Classes: 3, Seed: 4}
	if err := k.Fit(x, y, nil); err != nil {
		t.Fatalf("%+v", err)
	}
	if acc, err := k.Score(x, y); err != nil || acc < 0.95 {
		t.Errorf("training accuracy %v (%v), want ≥ 0.95", acc, err)
	}
	p, err := k.PredictProba(x)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Shape(); s[0] != 90 || s[1] != 3 {
		t.Errorf("PredictProba shape %v, want (90, 3)", s)
	}
	v := flat(t, p)
	for i := 0; i < 90; i++ {
		if sum := v[3*i] + v[3*i+1] + v[3*i+2]; sum < 0.999 || sum > 1.001 {
			t.Fatalf("row %d of the probabilities sums to %v", i, sum)
		}
	}
	if k.Model() == nil || len(k.History().Get("loss")) != 60 {
		t.Errorf("Model %v, History %v: want the trained model and 60 epochs", k.Model(), k.History())
	}
	// Same seed, same model; another seed, another.
	c, _ := k.Clone(4)
	d, _ := k.Clone(5)
	c.Fit(x, y, nil)
	d.Fit(x, y, nil)
	pc, _ := c.(*KerasLearner).PredictProba(x)
	pd, _ := d.(*KerasLearner).PredictProba(x)
	if !near(flat(t, pc), v, 0) || near(flat(t, pd), v, 0) {
		t.Error("want the same probabilities for the same seed and others for another seed")
	}
}

// TestKerasLearnerSampleWeights: weights reach Keras' Fit scaled to mean 1
// (so 7·w trains as w), and zero weights remove samples from the loss.
func TestKerasLearnerSampleWeights(t *testing.T) {
	x, y := blobs(t, 60, 2, 2)
	fit := func(w []float64) []float64 {
		k := &KerasLearner{New: smallMLP(2), FitConfig: keras.FitConfig{Epochs: 3, BatchSize: 10}, Classes: 2, Seed: 1}
		if err := k.Fit(x, y, w); err != nil {
			t.Fatal(err)
		}
		p, _ := k.PredictProba(x)
		return flat(t, p)
	}
	ones, sevens, half := make([]float64, 60), make([]float64, 60), make([]float64, 60)
	for i := range ones {
		ones[i], sevens[i] = 1, 7
		if i%2 == 0 {
			half[i] = 2
		}
	}
	plain := fit(nil)
	if got := fit(ones); !near(got, plain, 1e-6) {
		t.Error("unit weights train differently from no weights")
	}
	if got := fit(sevens); !near(got, plain, 1e-6) {
		t.Error("weights 7 train differently from weights 1 (want them scaled to mean 1)")
	}
	if got := fit(half); near(got, plain, 1e-6) {
		t.Error("zero weights on half the samples change nothing")
	}
}

// TestKerasLearnerDefaults: an uncompiled model is seeded and compiled
// with a loss that suits it (binary cross-entropy for one sigmoid output,
// mean squared error for a regressor).
func TestKerasLearnerDefaults(t *testing.T) {
	x, y := blobs(t, 60, 2, 3)
	bin := &KerasLearner{New: func(seed uint64) (*keras.Model, error) {
		return keras.NewSequential(&keras.Dense{Units: 1, Activation: "sigmoid"}), nil
	}, FitConfig: keras.FitConfig{Epochs: 200, BatchSize: 8}, Classes: 2, Seed: 3}
	if err := bin.Fit(x, y, nil); err != nil {
		t.Fatalf("%+v", err)
	}
	if acc, _ := bin.Score(x, y); acc < 0.95 {
		t.Errorf("sigmoid classifier: training accuracy %v, want ≥ 0.95", acc)
	}
	if p, err := bin.PredictProba(x); err != nil || p.Shape()[1] != 2 {
		t.Errorf("sigmoid PredictProba: %v %v, want (60, 2)", p, err)
	}
	xs, ys := ids(30), make([]float64, 30)
	for i := range xs {
		xs[i] /= 10
		ys[i] = 2*xs[i] + 1
	}
	reg := &KerasLearner{New: func(seed uint64) (*keras.Model, error) {
		return keras.NewSequential(&keras.Dense{Units: 1}), nil
	}, FitConfig: keras.FitConfig{Epochs: 100, BatchSize: 10},
		Compile: &keras.CompileConfig{Optimizer: &training.Adam{LearningRate: 0.1}, Loss: "mse"}}
	if err := reg.Fit(column(xs), vec(ys), nil); err != nil {
		t.Fatalf("%+v", err)
	}
	if r2, _ := reg.Score(column(xs), vec(ys)); r2 < 0.99 {
		t.Errorf("linear regressor: R² %v, want ≥ 0.99", r2)
	}
	if _, err := reg.PredictProba(column(xs)); !errors.Is(err, ErrNoProba) {
		t.Errorf("regressor PredictProba: %v, want ErrNoProba", err)
	}
}

// TestKerasLearnerPerceptron: keras' ready perceptron gives decision
// scores; bagged perceptrons vote.
func TestKerasLearnerPerceptron(t *testing.T) {
	x, y := blobs(t, 80, 2, 5)
	p := &KerasLearner{New: func(seed uint64) (*keras.Model, error) {
		return keras.NewPerceptron(keras.PerceptronConfig{Features: 2, Classes: 2, Seed: seed})
	}, FitConfig: keras.FitConfig{Epochs: 10, BatchSize: 1}, Classes: 2, Scores: true}
	b := &Bagging{New: p.Clone, Members: 4, Workers: 2, OOBScore: true, Seed: 1}
	if err := b.Fit(x, y, nil); err != nil {
		t.Fatalf("%+v", err)
	}
	if acc, _ := b.Score(x, y); acc < 0.95 {
		t.Errorf("bagged perceptrons: training accuracy %v, want ≥ 0.95 (separable blobs)", acc)
	}
	if _, err := b.Learners()[0].(*KerasLearner).PredictProba(x); !errors.Is(err, ErrNoProba) {
		t.Errorf("perceptron PredictProba: %v, want ErrNoProba", err)
	}
}

func TestKerasLearnerBadInput(t *testing.T) {
	x, y := blobs(t, 20, 3, 1)
	good := keras.FitConfig{Epochs: 1}
	for _, c := range []struct {
		name string
		k    *KerasLearner
		y    *tensor.Dense
		want error
		msg  string
	}{
		{"no factory", &KerasLearner{Classes: 3}, y, ErrConfig, "New is nil"},
		{"one class", &KerasLearner{New: smallMLP(3), Classes: 1}, y, ErrConfig, "Classes is 1"},
		{"label above classes", &KerasLearner{New: smallMLP(2), Classes: 2, FitConfig: good}, y, ErrLabels, "has 2 classes (output units), y holds 2 at sample 0"},
		{"output width", &KerasLearner{New: smallMLP(3), Classes: 4, FitConfig: good}, y, nil, "classifier of 4 classes must output (n, 4)"},
		{"factory error", &KerasLearner{New: func(uint64) (*keras.Model, error) { return nil, errors.New("no GPU") }, Classes: 3}, y, nil, "KerasLearner.New: no GPU"},
	} {
		err := c.k.Fit(x, c.y, nil)
		if err == nil {
			_, err = c.k.Predict(x)
		}
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
	if _, err := (&KerasLearner{}).Predict(x); !errors.Is(err, ErrNotFitted) {
		t.Errorf("Predict before Fit: %v, want ErrNotFitted", err)
	}
	// Cancelling stops training after the current batch.
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	k := &KerasLearner{New: smallMLP(3), Classes: 3, FitConfig: keras.FitConfig{Epochs: 1000, BatchSize: 2,
		Callbacks: []training.Callback{{OnBatchEnd: func(*training.Run, int, training.Logs) error {
			if batches++; batches == 3 {
				cancel()
			}
			return nil
		}}}}}
	if err := k.FitContext(ctx, x, y, nil); !errors.Is(err, context.Canceled) || batches != 3 {
		t.Errorf("cancelled after batch 3: error %v after %d batches, want context.Canceled after 3", err, batches)
	}
}

// TestBaggingKerasWorkers: bagged Keras models, one graph per member,
// give the same probabilities trained on 1 and on 4 goroutines.
func TestBaggingKerasWorkers(t *testing.T) {
	x, y := blobs(t, 60, 3, 2)
	mlp := &KerasLearner{New: smallMLP(3), FitConfig: keras.FitConfig{Epochs: 5, BatchSize: 8}, Classes: 3}
	run := func(workers int) []float64 {
		b := &Bagging{New: mlp.Clone, Members: 4, Workers: workers, Seed: 7, OOBScore: true}
		if err := b.Fit(x, y, nil); err != nil {
			t.Fatalf("%+v", err)
		}
		p, err := b.PredictProba(x)
		if err != nil {
			t.Fatal(err)
		}
		return flat(t, p)
	}
	if a, b := run(1), run(4); !near(a, b, 0) {
		t.Error("bagged Keras models differ between 1 and 4 workers")
	}
}

// TestKerasLearnerDeferredCompile: a Sequential model without Input
// compiled by New (Keras defers that Compile until the model is built)
// keeps its own optimizer.
func TestKerasLearnerDeferredCompile(t *testing.T) {
	x, y := blobs(t, 30, 3, 2)
	k := &KerasLearner{New: func(seed uint64) (*keras.Model, error) {
		m := keras.NewSequential(&keras.Dense{Units: 3, Activation: "softmax"})
		m.SetSeed(seed)
		return m, m.Compile(keras.CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "sparse_categorical_crossentropy"})
	}, Classes: 3}
	if err := k.Fit(x, y, nil); err != nil {
		t.Fatalf("%+v", err)
	}
	if opt, ok := k.Model().Optimizer().(*training.SGD); !ok || opt.LearningRate != 0.1 {
		t.Errorf("optimizer %#v, want New's SGD with learning rate 0.1", k.Model().Optimizer())
	}
}
