package ensemble

import (
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func scripted(list ...*script) []Factory {
	out := make([]Factory, len(list))
	for i, s := range list {
		s := s
		out[i] = func(uint64) (Learner, error) { return s, nil }
	}
	return out
}

// TestVotingHandCases: weighted majorities, ties to the smaller class,
// mean probabilities and weighted means, worked by hand.
func TestVotingHandCases(t *testing.T) {
	x, y := column(ids(4)), vec([]float64{0, 1, 2, 0})
	hard := func() []*script {
		return []*script{{pred: []float64{0, 1, 2, 0}}, {pred: []float64{1, 1, 0, 2}}, {pred: []float64{1, 2, 0, 1}}}
	}
	probas := func() []*script {
		return []*script{
			{proba: [][]float64{{0.6, 0.4, 0}, {0.2, 0.3, 0.5}, {0, 0, 1}, {1, 0, 0}}},
			{proba: [][]float64{{0, 1, 0}, {0.4, 0.3, 0.3}, {0, 1, 0}, {0.5, 0.5, 0}}},
		}
	}
	cases := []struct {
		name string
		v    *Voting
		want []float64
	}{
		// Votes per sample: {0,1,1}, {1,1,2}, {2,0,0}, {0,2,1}: the last ties
		// three ways and goes to class 0.
		{"hard", &Voting{Estimators: scripted(hard()...)}, []float64{1, 1, 0, 0}},
		// Weights 1, 1, 3: sample 1's class 2 gets 3 > 2, sample 3's class 1 gets 3.
		{"hard weighted", &Voting{Estimators: scripted(hard()...), Weights: []float64{1, 1, 3}}, []float64{1, 2, 0, 1}},
		// Mean probabilities: [.3 .7 0], [.3 .3 .4], [0 .5 .5], [.75 .25 0].
		{"soft", &Voting{Estimators: scripted(probas()...), Voting: "soft"}, []float64{1, 2, 1, 0}},
		// Weights 3, 1: sample 0: [.45 .55 0] → 1; sample 2: [0 .25 .75] → 2.
		{"soft weighted", &Voting{Estimators: scripted(probas()...), Voting: "soft", Weights: []float64{3, 1}}, []float64{1, 2, 2, 0}},
	}
	for _, c := range cases {
		if err := c.v.Fit(x, y, nil); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		p, err := c.v.Predict(x)
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		if got := flat(t, p); !near(got, c.want, 0) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	v := cases[3].v
	p, err := v.PredictProba(x)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flat(t, p)[:3], []float64{0.45, 0.55, 0}; !near(got, want, 1e-15) {
		t.Errorf("soft weighted probabilities of sample 0: %v, want %v", got, want)
	}
	if _, err := cases[0].v.PredictProba(x); !errors.Is(err, ErrNoProba) {
		t.Errorf("hard voting PredictProba: %v, want ErrNoProba", err)
	}
	r := &Voting{Regression: true, Weights: []float64{1, 3},
		Estimators: scripted(&script{pred: []float64{1, 2, 3, 4}}, &script{pred: []float64{5, 6, 7, 8}})}
	if err := r.Fit(x, vec([]float64{1, 2, 3, 4}), nil); err != nil {
		t.Fatal(err)
	}
	pr, _ := r.Predict(x)
	if got, want := flat(t, pr), []float64{4, 5, 6, 7}; !near(got, want, 1e-15) {
		t.Errorf("regression: %v, want the weighted means %v", got, want)
	}
}

// TestVotingFailure: one estimator fails; the error names it and the
// others vote.
func TestVotingFailure(t *testing.T) {
	x, y := column(ids(3)), vec([]float64{0, 1, 1})
	w := []float64{1, 2, 3}
	s0, s2 := &script{pred: []float64{0, 1, 1}}, &script{pred: []float64{0, 1, 0}}
	v := &Voting{Estimators: scripted(s0, &script{fails: errors.New("singular matrix")}, s2), Weights: []float64{1, 1, 0.5}, Workers: 3}
	err := v.Fit(x, y, w)
	var fe *FitError
	if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Failed[0].Member != 1 || !strings.Contains(err.Error(), "voting member 1: singular matrix") {
		t.Fatalf("error %v, want a FitError naming member 1", err)
	}
	if !near(s0.fitW, w, 0) {
		t.Errorf("sample weights reached the estimator as %v, want %v", s0.fitW, w)
	}
	p, err := v.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if got := flat(t, p); !near(got, []float64{0, 1, 1}, 0) {
		t.Errorf("Predict with estimators 0 and 2: %v, want [0 1 1]", got)
	}
}

func TestVotingBadInput(t *testing.T) {
	x, y := column(ids(2)), vec([]float64{0, 1})
	for _, c := range []struct {
		name string
		v    *Voting
		msg  string
	}{
		{"no estimators", &Voting{}, "no Estimators"},
		{"voting", &Voting{Estimators: scripted(&script{}), Voting: "auto"}, `Voting "auto"`},
		{"weights count", &Voting{Estimators: scripted(&script{}), Weights: []float64{1, 2}}, "2 weights for 1 estimators"},
		{"zero weights", &Voting{Estimators: scripted(&script{}), Weights: []float64{0}}, "weights are all zero"},
	} {
		if err := c.v.Fit(x, y, nil); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want ErrConfig containing %q", c.name, err, c.msg)
		}
	}
}
