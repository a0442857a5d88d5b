package ensemble

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// trainAll trains every planned member from specs that went through JSON
// (as on another machine), in a shuffled order, through the members'
// saved form; newL gives the factory of a member.
func trainAll(t *testing.T, specs []MemberSpec, newL func(MemberSpec) Factory, x, y *tensor.Dense) ([]MemberSpec, []Learner) {
	t.Helper()
	raw, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	var travelled []MemberSpec
	if err := json.Unmarshal(raw, &travelled); err != nil {
		t.Fatal(err)
	}
	learners := make([]Learner, len(travelled))
	for _, i := range rand.New(rand.NewPCG(5, 6)).Perm(len(travelled)) {
		l, err := TrainMember(context.Background(), newL(travelled[i]), travelled[i], x, y, nil)
		if err != nil {
			t.Fatalf("member %d: %+v", i, err)
		}
		var saved strings.Builder
		if err := Save(&saved, l); err != nil {
			t.Fatal(err)
		}
		if learners[i], err = Load(strings.NewReader(saved.String())); err != nil {
			t.Fatal(err)
		}
	}
	return travelled, learners
}

// TestVotingAssemble: estimators planned, trained one by one and
// assembled predict bit for bit what Fit gives on 1 and 2 workers.
func TestVotingAssemble(t *testing.T) {
	x, y := blobs(t, 90, 3, 4)
	specs := []Spec{{Kind: "tree", Params: json.RawMessage(`{"max_depth": 2, "max_features": 1}`)}, {Kind: "logistic_regression"}}
	v := &Voting{EstimatorSpecs: specs, Voting: "soft", Weights: []float64{2, 1}, Seed: 3}
	plan, err := v.Plan(x, y)
	if err != nil {
		t.Fatal(err)
	}
	got, learners := trainAll(t, plan, func(m MemberSpec) Factory { return specs[m.Estimator].New }, x, y)
	assembled := &Voting{EstimatorSpecs: specs, Voting: "soft", Weights: []float64{2, 1}, Seed: 3}
	if err := assembled.Assemble(got, learners); err != nil {
		t.Fatalf("%+v", err)
	}
	p, err := assembled.PredictProba(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 2} {
		fitted := &Voting{EstimatorSpecs: specs, Voting: "soft", Weights: []float64{2, 1}, Seed: 3, Workers: w}
		if err := fitted.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		want, _ := fitted.PredictProba(x)
		if !near(flat(t, p), flat(t, want), 0) {
			t.Errorf("assembled probabilities differ from Fit's on %d workers", w)
		}
	}
	for _, c := range []struct {
		name     string
		specs    []MemberSpec
		learners []Learner
		want     error
	}{
		{"one spec short", got[:1], learners[:1], ErrConfig},
		{"specs swapped", []MemberSpec{got[1], got[0]}, learners, ErrConfig},
		{"none trained", got, []Learner{nil, nil}, ErrNotFitted},
	} {
		if err := assembled.Assemble(c.specs, c.learners); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestStackingAssemble: the base level planned, trained one by one and
// assembled (out-of-fold features, final learner) predicts bit for bit
// what Fit gives on 1 and 3 workers; a missing member is named.
func TestStackingAssemble(t *testing.T) {
	x, y := blobs(t, 90, 3, 8)
	specs := []Spec{{Kind: "tree", Params: json.RawMessage(`{"max_depth": 3, "max_features": 1}`)}, {Kind: "linear_svc"}}
	newStack := func(w int) *Stacking {
		return &Stacking{EstimatorSpecs: specs, CV: 3, Passthrough: true, Seed: 2, Workers: w}
	}
	plan, err := newStack(0).Plan(x, y)
	if err != nil {
		t.Fatal(err)
	}
	got, learners := trainAll(t, plan, func(m MemberSpec) Factory { return specs[m.Estimator].New }, x, y)
	assembled := newStack(0)
	if err := assembled.Assemble(context.Background(), x, y, nil, got, learners); err != nil {
		t.Fatalf("%+v", err)
	}
	p, err := assembled.PredictProba(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 3} {
		fitted := newStack(w)
		if err := fitted.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		want, _ := fitted.PredictProba(x)
		if !near(flat(t, p), flat(t, want), 0) {
			t.Errorf("assembled probabilities differ from Fit's on %d workers", w)
		}
	}
	missing := append([]Learner(nil), learners...)
	missing[5] = nil // estimator 1, fold 1 (4 members per estimator)
	err = newStack(0).Assemble(context.Background(), x, y, nil, got, missing)
	var fe *FitError
	if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Failed[0].Member != 1 || fe.Failed[0].Fold != 1 || !errors.Is(err, ErrNotFitted) {
		t.Errorf("a missing member: %v, want a FitError naming estimator 1, fold 1", err)
	}
	if err := newStack(0).Assemble(context.Background(), x, y, nil, got[1:], learners[1:]); !errors.Is(err, ErrConfig) {
		t.Errorf("a spec short: %v, want ErrConfig", err)
	}
}
