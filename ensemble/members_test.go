package ensemble

import (
	"strings"
	"testing"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
)

// TestKerasCallbacksPerMember: every member gets its own EarlyStopping
// from NewCallbacks, so members stop at the epochs they would stop at
// alone and the ensemble is the same on 1 and 2 workers (run with -race:
// no state is shared). Shared FitConfig.Callbacks are refused.
func TestKerasCallbacksPerMember(t *testing.T) {
	x, y := blobs(t, 60, 3, 2)
	es := func() []training.Callback {
		return []training.Callback{training.EarlyStopping(training.EarlyStoppingConfig{Monitor: "loss", MinDelta: 0.05, Patience: 1})}
	}
	mlp := &KerasLearner{New: smallMLP(3), FitConfig: keras.FitConfig{Epochs: 40, BatchSize: 8}, Classes: 3, NewCallbacks: es}
	run := func(workers int) ([]float64, []int) {
		b := &Bagging{New: mlp.Clone, Members: 4, Workers: workers, Seed: 3}
		if err := b.Fit(x, y, nil); err != nil {
			t.Fatalf("%+v", err)
		}
		p, err := b.PredictProba(x)
		if err != nil {
			t.Fatal(err)
		}
		var epochs []int
		for _, l := range b.Learners() {
			epochs = append(epochs, len(l.(*KerasLearner).History().Get("loss")))
		}
		return flat(t, p), epochs
	}
	p1, e1 := run(1)
	p2, e2 := run(2)
	if !near(p1, p2, 0) || !equalInts(e1, e2) {
		t.Errorf("1 worker: epochs %v; 2 workers: epochs %v; probabilities equal: %v — want the same", e1, e2, near(p1, p2, 0))
	}
	stopped := false
	for _, e := range e1 {
		stopped = stopped || e < 40
	}
	if !stopped {
		t.Errorf("epochs %v: want early stopping to stop some member before 40", e1)
	}
	shared := &KerasLearner{New: smallMLP(3), Classes: 3, FitConfig: keras.FitConfig{Epochs: 2, Callbacks: es()}}
	err := (&Bagging{New: shared.Clone, Members: 2}).Fit(x, y, nil)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "would be shared by every clone: give NewCallbacks") {
		t.Errorf("bagging a learner with FitConfig.Callbacks: %v, want ErrConfig asking for NewCallbacks", err)
	}
}

// TestMembersMissingClasses: a member trained without some classes —
// the highest among them — reports the classes it saw and predicts 0 for
// the others, in bagging and in stacking, as scikit-learn does.
func TestMembersMissingClasses(t *testing.T) {
	x, y := blobs(t, 90, 3, 2)
	labels, _ := numbers(y)
	// Three folds by row; fold 0 trains without class 2, the highest.
	folds := make([]datasets.Fold, 3)
	for i := range labels {
		folds[i%3].Test = append(folds[i%3].Test, i)
		for f := range folds {
			if f != i%3 && !(f == 0 && labels[i] == 2) {
				folds[f].Train = append(folds[f].Train, i)
			}
		}
	}
	mlp := &KerasLearner{New: smallMLP(3), FitConfig: keras.FitConfig{Epochs: 20, BatchSize: 8}, Classes: 3}
	s := &Stacking{Estimators: []Factory{mlp.Clone, (&Tree{MaxDepth: 2}).Clone}, Folds: folds}
	if err := s.Fit(x, y, nil); err != nil {
		t.Fatalf("stacking with a fold lacking the highest class: %+v", err)
	}
	p, err := s.PredictProba(x)
	if err != nil || p.Shape()[1] != 3 {
		t.Fatalf("stacking PredictProba: %v %v, want (90, 3)", p, err)
	}
	// The member itself: trained without class 2, it reports classes 0, 1
	// and gives two columns; an ensemble pads class 2 with 0.
	k, _ := mlp.Clone(1)
	xs, _ := rows(x, folds[0].Train)
	ys, _ := rows(y, folds[0].Train)
	if err := k.Fit(xs, ys, nil); err != nil {
		t.Fatal(err)
	}
	if got := k.(*KerasLearner).ClassLabels(); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("classes seen %v, want [0 1]", got)
	}
	out, err := PredictMember(k, MemberSpec{Classes: []float64{0, 1, 2}}, x, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range out.Values {
		if r[2] != 0 || r[0]+r[1] < 0.999999 || r[0]+r[1] > 1.000001 {
			t.Fatalf("row %d: %v, want class 2 at 0 and the others summing to 1", i, r)
		}
	}
	// A member that saw only classes 1 and 2 lines up by its classes.
	var no0 []int
	for i, l := range labels {
		if l != 0 {
			no0 = append(no0, i)
		}
	}
	tree := &Tree{}
	xs, _ = rows(x, no0)
	ys, _ = rows(y, no0)
	if err := tree.Fit(xs, ys, nil); err != nil {
		t.Fatal(err)
	}
	out, err = PredictMember(tree, MemberSpec{Classes: []float64{0, 1, 2}}, x, no0[:3], "soft")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range out.Values {
		if want := labels[no0[i]]; r[0] != 0 || r[int(want)] != 1 {
			t.Errorf("row %d of class %v: %v, want 1 in column %v and 0 for class 0", no0[i], want, r, want)
		}
	}
	if _, err := (&Stacking{Estimators: []Factory{mlp.Clone}, Folds: folds}).Plan(x, vec(make([]float64, 90))); !errors.Is(err, ErrLabels) {
		t.Errorf("stacking one class: %v, want ErrLabels", err)
	}
}
