package ensemble

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// TestSAMMEHandCase: three rounds of SAMME on four samples of three classes
// with scripted learners, worked by hand (lr 1):
//
//	y = [0 1 2 0], weights start at 1/4.
//	round 1 predicts [0 1 1 0]: e = 1/4, α = ln(3/1) + ln 2 = ln 6;
//	  sample 2 ×6 → [1 1 6 1]/9.
//	round 2 predicts [0 2 2 1]: e = 2/9, α = ln(7/2) + ln 2 = ln 7;
//	  samples 1, 3 ×7 → [1 7 6 7]/21.
//	round 3 predicts [1 1 2 2]: e = 8/21, α = ln(13/8) + ln 2 = ln 3.25.
//	Votes: sample 0: class 0 ln 42, class 1 ln 3.25 → 0; sample 1: class 1
//	ln 19.5 vs class 2 ln 7 → 1; sample 2: class 2 ln 22.75 → 2; sample 3:
//	class 0 ln 6, class 1 ln 7, class 2 ln 3.25 → 1.
//	Staged: [0 1 1 0] (3/4), [0 2 2 1] (1/2), [0 1 2 1] (3/4).
func TestSAMMEHandCase(t *testing.T) {
	y := vec([]float64{0, 1, 2, 0})
	x := column(ids(4))
	s := &scripts{list: []*script{
		{pred: []float64{0, 1, 1, 0}}, {pred: []float64{0, 2, 2, 1}}, {pred: []float64{1, 1, 2, 2}},
	}}
	a := &AdaBoost{New: s.factory, Rounds: 3}
	if err := a.Fit(x, y, nil); err != nil {
		t.Fatalf("%+v", err)
	}
	wantSW := [][]float64{{0.25, 0.25, 0.25, 0.25}, {1. / 9, 1. / 9, 6. / 9, 1. / 9}, {1. / 21, 7. / 21, 6. / 21, 7. / 21}}
	for m, want := range wantSW {
		if got := s.list[m].fitW; !near(got, want, 1e-15) {
			t.Errorf("round %d: the learner was fitted with weights %v, want %v", m, got, want)
		}
		if got := a.SampleWeights(m); !near(got, want, 1e-15) {
			t.Errorf("SampleWeights(%d) = %v, want %v", m, got, want)
		}
	}
	wantAlpha := []float64{math.Log(6), math.Log(7), math.Log(3.25)}
	if got := a.EstimatorWeights(); !near(got, wantAlpha, 1e-14) {
		t.Errorf("estimator weights %v, want %v", got, wantAlpha)
	}
	if got, want := a.EstimatorErrors(), []float64{0.25, 2. / 9, 8. / 21}; !near(got, want, 1e-15) {
		t.Errorf("estimator errors %v, want %v", got, want)
	}
	p, err := a.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flat(t, p), []float64{0, 1, 2, 1}; !near(got, want, 0) {
		t.Errorf("Predict = %v, want %v", got, want)
	}
	staged, err := a.StagedScore(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.75, 0.5, 0.75}; !near(staged, want, 1e-15) {
		t.Errorf("StagedScore = %v, want %v", staged, want)
	}
	// Decision of sample 3: each class's votes over Σα = ln 136.5; the
	// probabilities are softmax(decision / (K−1)).
	d, err := a.DecisionFunction(x)
	if err != nil {
		t.Fatal(err)
	}
	norm := math.Log(136.5)
	want3 := []float64{math.Log(6) / norm, math.Log(7) / norm, math.Log(3.25) / norm}
	if got := flat(t, d)[9:]; !near(got, want3, 1e-14) {
		t.Errorf("decision of sample 3 = %v, want %v", got, want3)
	}
	pr, err := a.PredictProba(x)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flat(t, pr)[9:], softmax([]float64{want3[0] / 2, want3[1] / 2, want3[2] / 2}); !near(got, want, 1e-14) {
		t.Errorf("probabilities of sample 3 = %v, want %v", got, want)
	}
}

// TestSAMMELearningRate: with learning rate 0.5 every α halves and the
// wrong samples' weights grow by exp(α) = √6 after round 1.
func TestSAMMELearningRate(t *testing.T) {
	y := vec([]float64{0, 1, 2, 0})
	s := &scripts{list: []*script{{pred: []float64{0, 1, 1, 0}}, {pred: []float64{0, 2, 2, 1}}}}
	a := &AdaBoost{New: s.factory, Rounds: 2, LearningRate: 0.5}
	if err := a.Fit(column(ids(4)), y, nil); err != nil {
		t.Fatal(err)
	}
	r6 := math.Sqrt(6)
	sum := 0.75 + 0.25*r6
	w2 := []float64{0.25 / sum, 0.25 / sum, 0.25 * r6 / sum, 0.25 / sum}
	if got := s.list[1].fitW; !near(got, w2, 1e-15) {
		t.Errorf("round 2 weights %v, want %v", got, w2)
	}
	e2 := w2[1] + w2[3]
	want := []float64{0.5 * math.Log(6), 0.5 * (math.Log((1-e2)/e2) + math.Log(2))}
	if got := a.EstimatorWeights(); !near(got, want, 1e-14) {
		t.Errorf("estimator weights %v, want %v", got, want)
	}
}

// TestSAMMEBinary: for two classes the decision is (votes for 1 − votes
// for 0)/Σα and the probability of class 1 is sigmoid(decision).
func TestSAMMEBinary(t *testing.T) {
	y := vec([]float64{0, 1, 1, 0})
	// Round 1: e = 1/4, α = ln 3; round 2 (weights [1 1 3 1]/6): e = 1/6, α = ln 5.
	s := &scripts{list: []*script{{pred: []float64{0, 1, 0, 0}}, {pred: []float64{1, 1, 1, 0}}}}
	a := &AdaBoost{New: s.factory, Rounds: 2}
	if err := a.Fit(column(ids(4)), y, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := a.EstimatorWeights(), []float64{math.Log(3), math.Log(5)}; !near(got, want, 1e-14) {
		t.Fatalf("estimator weights %v, want %v", got, want)
	}
	d, err := a.DecisionFunction(column(ids(4)))
	if err != nil {
		t.Fatal(err)
	}
	l3, l5 := math.Log(3), math.Log(5)
	want := []float64{(l5 - l3) / (l3 + l5), 1, (l5 - l3) / (l3 + l5), -1}
	if got := flat(t, d); !near(got, want, 1e-14) {
		t.Errorf("decision %v, want %v", got, want)
	}
	p, _ := a.PredictProba(column(ids(4)))
	if got, want := flat(t, p)[3], 1/(1+math.Exp(-want[1])); math.Abs(got-want) > 1e-14 {
		t.Errorf("P(class 1 | sample 1) = %v, want sigmoid(1) = %v", got, want)
	}
}

// TestSAMMEStops: a perfect learner gets weight 1 and ends boosting; a
// first learner no better than chance is an error; a later one is
// dropped and ends boosting.
func TestSAMMEStops(t *testing.T) {
	y := vec([]float64{0, 1, 2, 0})
	x := column(ids(4))
	s := &scripts{list: []*script{{pred: []float64{0, 1, 1, 0}}, {pred: []float64{0, 1, 2, 0}}, {pred: []float64{0, 0, 0, 0}}}}
	a := &AdaBoost{New: s.factory, Rounds: 3}
	if err := a.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := a.EstimatorWeights(), []float64{math.Log(6), 1}; !near(got, want, 1e-14) || len(a.Learners()) != 2 {
		t.Errorf("perfect second learner: weights %v (%d learners), want %v", got, len(a.Learners()), want)
	}
	// Error 2/3 = 1 − 1/K on the first round.
	s = &scripts{list: []*script{{pred: []float64{1, 2, 0, 0}}}}
	a = &AdaBoost{New: s.factory, Rounds: 3}
	if err := a.Fit(x, y, nil); !errors.Is(err, ErrWorseThanRandom) {
		t.Errorf("first learner at chance: error %v, want ErrWorseThanRandom", err)
	}
	if _, err := a.Predict(x); !errors.Is(err, ErrNotFitted) {
		t.Errorf("Predict after the failed Fit: %v, want ErrNotFitted", err)
	}
	s = &scripts{list: []*script{{pred: []float64{0, 1, 1, 0}}, {pred: []float64{1, 0, 0, 1}}, {pred: []float64{0, 1, 2, 0}}}}
	a = &AdaBoost{New: s.factory, Rounds: 3}
	if err := a.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	if len(a.Learners()) != 1 || s.next != 2 {
		t.Errorf("second learner worse than chance: %d learners kept after %d rounds, want 1 after 2", len(a.Learners()), s.next)
	}
}

// noWeights is a learner that cannot weight samples.
type noWeights struct{ script }

func (n *noWeights) Fit(x, y *tensor.Dense, w []float64) error {
	if w != nil {
		return errors.Wrap(ErrNoSampleWeight, "noWeights")
	}
	return n.script.Fit(x, y, w)
}

// TestAdaBoostResamples: a learner that refuses sample weights is fitted on
// n rows drawn with probabilities equal to the weights.
func TestAdaBoostResamples(t *testing.T) {
	y := vec([]float64{0, 1, 1, 0, 1})
	x := column(ids(5))
	l := &noWeights{script{pred: []float64{0, 1, 1, 0, 0}}}
	a := &AdaBoost{New: func(uint64) (Learner, error) { return l, nil }, Rounds: 1}
	// All the weight on rows 1 and 3: every draw is one of them.
	if err := a.Fit(x, y, []float64{0, 1, 0, 3, 0}); err != nil {
		t.Fatal(err)
	}
	if l.fitW != nil || len(l.fitX) != 5 {
		t.Fatalf("the learner got %d rows and weights %v, want 5 rows and no weights", len(l.fitX), l.fitW)
	}
	for i, id := range l.fitX {
		if id != 1 && id != 3 {
			t.Errorf("drawn row %d is %v, want 1 or 3 (the only weighted rows)", i, id)
		}
		if l.fitY[i] != float64([]int{0, 1, 1, 0, 1}[int(id)]) {
			t.Errorf("drawn row %d: label %v does not match row %v", i, l.fitY[i], id)
		}
	}
	// The error is weighted on all the data: only row 4 (weight 0) is wrong.
	if got := a.EstimatorErrors(); !near(got, []float64{0}, 0) {
		t.Errorf("estimator errors %v, want [0]", got)
	}
}

// TestR2HandCase: AdaBoost.R2 with scripted regressors, worked by hand:
//
//	y = [0 1 2 3], weights 1/4.
//	round 1 predicts [0 1 2 5]: L = |err|/2 = [0 0 0 1], e = 1/4, β = 1/3,
//	  α = ln 3, weights ×β^(1−L) → [1 1 1 3]/6.
//	round 2 predicts [1 1 2 3]: L = [1 0 0 0], e = 1/6, β = 1/5, α = ln 5,
//	  weights → [5 1 1 3]/10.
//	round 3 predicts [0 2 2 3]: L = [0 1 0 0], e = 1/10, β = 1/9, α = ln 9.
//	Weighted medians (half of ln 135 ≈ 2.45): [0 1 2 3]; after two rounds
//	(half of ln 15 ≈ 1.35): [1 1 2 3].
func TestR2HandCase(t *testing.T) {
	y := vec([]float64{0, 1, 2, 3})
	x := column(ids(4))
	s := &scripts{list: []*script{{pred: []float64{0, 1, 2, 5}}, {pred: []float64{1, 1, 2, 3}}, {pred: []float64{0, 2, 2, 3}}}}
	a := &AdaBoost{New: s.factory, Rounds: 3, Regression: true, Sampling: "weights"}
	if err := a.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	for m, want := range [][]float64{{.25, .25, .25, .25}, {1. / 6, 1. / 6, 1. / 6, .5}, {.5, .1, .1, .3}} {
		if got := s.list[m].fitW; !near(got, want, 1e-15) {
			t.Errorf("round %d weights %v, want %v", m, got, want)
		}
	}
	if got, want := a.EstimatorWeights(), []float64{math.Log(3), math.Log(5), math.Log(9)}; !near(got, want, 1e-14) {
		t.Errorf("estimator weights %v, want %v", got, want)
	}
	if got, want := a.EstimatorErrors(), []float64{.25, 1. / 6, .1}; !near(got, want, 1e-15) {
		t.Errorf("estimator errors %v, want %v", got, want)
	}
	staged, err := a.StagedPredict(x)
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range [][]float64{{0, 1, 2, 5}, {1, 1, 2, 3}, {0, 1, 2, 3}} {
		if got := flat(t, staged[m]); !near(got, want, 0) {
			t.Errorf("prediction after round %d: %v, want %v", m+1, got, want)
		}
	}
}

// TestR2Losses: the first round's error under each loss, for losses
// L = |err|/max = [0 0 ½ 1] and weights ¼.
func TestR2Losses(t *testing.T) {
	for _, c := range []struct {
		loss string
		want float64
	}{
		{"", 0.25 * 1.5},
		{"square", 0.25 * 1.25},
		{"exponential", 0.25 * (2 - math.Exp(-0.5) - math.Exp(-1))},
	} {
		s := &scripts{list: []*script{{pred: []float64{0, 1, 3, 5}}}}
		a := &AdaBoost{New: s.factory, Rounds: 1, Regression: true, Loss: c.loss}
		if err := a.Fit(column(ids(4)), vec([]float64{0, 1, 2, 3}), nil); err != nil {
			t.Fatal(err)
		}
		if got := a.EstimatorErrors(); !near(got, []float64{c.want}, 1e-15) {
			t.Errorf("loss %q: error %v, want %v", c.loss, got, c.want)
		}
		// R2 resamples by default: the learner got 4 rows and no weights.
		if s.list[0].fitW != nil || len(s.list[0].fitX) != 4 {
			t.Errorf("loss %q: the learner got weights %v and %d rows, want none and 4", c.loss, s.list[0].fitW, len(s.list[0].fitX))
		}
	}
}

// TestAdaBoostStumpsBeatStump: boosted stumps learn the moons that one
// stump cannot, on held-out data.
func TestAdaBoostStumpsBeatStump(t *testing.T) {
	x, y, err := datasets.Moons(400, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	xTr, yTr, xTe, yTe, err := datasets.TrainTestSplit(x, y, datasets.SplitConfig{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	stump := Stump()
	if err := stump.Fit(xTr, yTr, nil); err != nil {
		t.Fatal(err)
	}
	one, _ := stump.Score(xTe, yTe)
	a := &AdaBoost{Rounds: 100}
	if err := a.Fit(xTr, yTr, nil); err != nil {
		t.Fatal(err)
	}
	boosted, _ := a.Score(xTe, yTe)
	if boosted < one+0.05 || boosted < 0.9 {
		t.Errorf("test accuracy: one stump %.3f, 100 boosted stumps %.3f; want boosting ≥ 0.9 and 5 points better", one, boosted)
	}
}

func TestAdaBoostBadInput(t *testing.T) {
	x := column(ids(4))
	y := vec([]float64{0, 1, 1, 0})
	cases := []struct {
		name string
		a    *AdaBoost
		y    *tensor.Dense
		w    []float64
		want error
		msg  string
	}{
		{"negative rounds", &AdaBoost{Rounds: -1}, y, nil, ErrConfig, "Rounds is -1"},
		{"zero learning rate", &AdaBoost{LearningRate: -0.5}, y, nil, ErrConfig, "LearningRate is -0.5"},
		{"loss name", &AdaBoost{Regression: true, Loss: "cubic"}, y, nil, ErrConfig, `Loss "cubic"`},
		{"loss for classification", &AdaBoost{Loss: "square"}, y, nil, ErrConfig, "regression only"},
		{"sampling", &AdaBoost{Sampling: "bootstrap"}, y, nil, ErrConfig, `Sampling "bootstrap"`},
		{"zero weights", &AdaBoost{}, y, []float64{0, 0, 0, 0}, ErrZeroWeights, "sum to 0"},
		{"NaN label", &AdaBoost{}, vec([]float64{0, math.NaN(), 1, 0}), nil, ErrLabels, "label NaN at sample 1"},
		{"one class", &AdaBoost{}, vec([]float64{1, 1, 1, 1}), nil, ErrLabels, "at least two classes"},
	}
	for _, c := range cases {
		err := c.a.Fit(x, c.y, c.w)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&AdaBoost{}).FitContext(ctx, x, y, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
}
