package ensemble

import (
	"math"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// TestGradientBoostingHandCase: one round with a stump, worked by hand.
func TestGradientBoostingHandCase(t *testing.T) {
	x := column([]float64{1, 2, 3, 4})
	// Squared error, y = [1 1 5 5]: F0 = 3, residuals [−2 −2 2 2], the stump
	// splits at 2.5 with leaves ∓2; lr 0.5 → F = [2 2 4 4]; loss 1.
	g := &GradientBoosting{New: (&Tree{Regression: true, MaxDepth: 1}).Clone, Rounds: 1, LearningRate: 0.5, Regression: true}
	if err := g.Fit(x, vec([]float64{1, 1, 5, 5}), nil); err != nil {
		t.Fatal(err)
	}
	p, _ := g.Predict(x)
	if got := flat(t, p); !near(got, []float64{2, 2, 4, 4}, 1e-15) || !near(g.TrainLoss(), []float64{1}, 1e-15) {
		t.Errorf("squared error: predictions %v, loss %v; want [2 2 4 4], [1]", got, g.TrainLoss())
	}
	// Log-loss, y = [0 0 1 1]: F0 = log(½/½) = 0, p = ½, residuals ∓½; the
	// leaves take one Newton step Σr / Σp(1−p) = ∓1 / ½ = ∓2; lr 0.1 →
	// F = ∓0.2 and P(class 1) = sigmoid(∓0.2).
	g = &GradientBoosting{New: (&Tree{Regression: true, MaxDepth: 1}).Clone, Rounds: 1}
	if err := g.Fit(x, vec([]float64{0, 0, 1, 1}), nil); err != nil {
		t.Fatal(err)
	}
	pr, _ := g.PredictProba(x)
	s := 1 / (1 + math.Exp(0.2))
	if got, want := flat(t, pr), []float64{1 - s, s, 1 - s, s, s, 1 - s, s, 1 - s}; !near(got, want, 1e-15) {
		t.Errorf("log-loss: probabilities %v, want %v", got, want)
	}
	if want := -math.Log(1 - s); !near(g.TrainLoss(), []float64{want}, 1e-15) {
		t.Errorf("log-loss: training loss %v, want %v", g.TrainLoss(), want)
	}
}

// TestGradientBoostingLossDecreases: the training loss falls every round,
// for squared error, binary and multi-class log-loss, with and without
// subsampling (on the whole data for the latter).
func TestGradientBoostingLossDecreases(t *testing.T) {
	x, y, _, err := datasets.Iris()
	if err != nil {
		t.Fatal(err)
	}
	xm, ym, err := datasets.Moons(200, 0.3, 1)
	if err != nil {
		t.Fatal(err)
	}
	xr, yr, err := datasets.HousePrices()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		g    *GradientBoosting
		x, y *tensor.Dense
	}{
		{"iris, 3 classes", &GradientBoosting{Rounds: 30}, x, y},
		{"moons, 2 classes", &GradientBoosting{Rounds: 30, LearningRate: 0.3}, xm, ym},
		{"house prices", &GradientBoosting{Rounds: 30, Regression: true}, xr, yr},
	} {
		if err := c.g.Fit(c.x, c.y, nil); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		loss := c.g.TrainLoss()
		for m := 1; m < len(loss); m++ {
			if !(loss[m] < loss[m-1]) {
				t.Errorf("%s: training loss rose or stalled at round %d: %v → %v", c.name, m+1, loss[m-1], loss[m])
				break
			}
		}
		if len(loss) != 30 {
			t.Errorf("%s: %d losses, want 30", c.name, len(loss))
		}
	}
}

// TestGradientBoostingSubsample: subsampling is repeatable with a seed,
// changes the model, and reports the in-bag loss.
func TestGradientBoostingSubsample(t *testing.T) {
	x, y, err := datasets.Moons(100, 0.3, 2)
	if err != nil {
		t.Fatal(err)
	}
	run := func(sub float64, seed uint64) []float64 {
		g := &GradientBoosting{Rounds: 10, Subsample: sub, Seed: seed}
		if err := g.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		p, err := g.PredictProba(x)
		if err != nil {
			t.Fatal(err)
		}
		return flat(t, p)
	}
	a, b, c, full := run(0.5, 1), run(0.5, 1), run(0.5, 2), run(1, 1)
	if !near(a, b, 0) || near(a, c, 0) || near(a, full, 0) {
		t.Error("subsampling: want the same model for the same seed and different ones for another seed or no subsampling")
	}
}

// TestGradientBoostingKeras: neural-network stages (tiny linear Keras
// regressors) lower the loss of a linear target round after round.
func TestGradientBoostingKeras(t *testing.T) {
	xs := ids(40)
	ys := make([]float64, 40)
	for i, v := range xs {
		xs[i] = v / 20
		ys[i] = 3*xs[i] - 1
	}
	lin := &KerasLearner{New: func(seed uint64) (*keras.Model, error) {
		return keras.NewSequential(&keras.Dense{Units: 1}), nil
	}, FitConfig: keras.FitConfig{Epochs: 10, BatchSize: 8},
		Compile: &keras.CompileConfig{Optimizer: &training.Adam{LearningRate: 0.05}, Loss: "mse"}}
	g := &GradientBoosting{New: lin.Clone, Rounds: 6, LearningRate: 0.5, Regression: true}
	if err := g.Fit(column(xs), vec(ys), nil); err != nil {
		t.Fatalf("%+v", err)
	}
	loss := g.TrainLoss()
	for m := 1; m < len(loss); m++ {
		if !(loss[m] < loss[m-1]) {
			t.Errorf("training loss %v does not fall every round", loss)
			break
		}
	}
	// The initial loss is the target's variance, 9·var(x) ≈ 3; each round
	// removes at most half the residual (LearningRate 0.5).
	if loss[len(loss)-1] > 0.1 {
		t.Errorf("training losses %v, want the last < 0.1", loss)
	}
}

func TestGradientBoostingBadInput(t *testing.T) {
	x, y := column(ids(4)), vec([]float64{0, 1, 1, 0})
	for _, c := range []struct {
		name string
		g    *GradientBoosting
		want error
		msg  string
	}{
		{"rounds", &GradientBoosting{Rounds: -3}, ErrConfig, "Rounds is -3"},
		{"learning rate", &GradientBoosting{LearningRate: math.Inf(1)}, ErrConfig, "LearningRate is +Inf"},
		{"subsample", &GradientBoosting{Subsample: 1.2}, ErrConfig, "Subsample is 1.2"},
		{"loss", &GradientBoosting{Loss: "squared_error"}, ErrConfig, `Loss "squared_error"`},
		{"failing learner", &GradientBoosting{New: func(uint64) (Learner, error) { return &script{fails: errors.New("disk full")}, nil }}, nil, "gradient boosting member 0: disk full"},
	} {
		err := c.g.Fit(x, y, nil)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}
