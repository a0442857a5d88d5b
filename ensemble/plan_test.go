package ensemble

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
)

// TestMembersAsData: a bagging ensemble planned, its members trained one
// by one from specs that went through JSON (as on another machine),
// assembled and combined in a shuffled order, predicts bit for bit what
// Fit gives, on 1 and 3 workers.
func TestMembersAsData(t *testing.T) {
	x, y := blobs(t, 120, 3, 5)
	spec := Spec{Kind: "tree", Params: json.RawMessage(`{"max_depth": 4}`)}
	b := &Bagging{Learner: &spec, Members: 6, MaxFeatures: 1, Seed: 11}
	specs, err := b.Plan(x, y)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	var travelled []MemberSpec
	if err := json.Unmarshal(raw, &travelled); err != nil {
		t.Fatal(err)
	}
	learners := make([]Learner, len(travelled))
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(travelled))
	for _, i := range order {
		if learners[i], err = TrainMember(context.Background(), spec.New, travelled[i], x, y, nil); err != nil {
			t.Fatalf("member %d: %+v", i, err)
		}
	}
	assembled := &Bagging{Learner: &spec, Members: 6, MaxFeatures: 1, Seed: 11}
	if err := assembled.Assemble(travelled, learners); err != nil {
		t.Fatalf("%+v", err)
	}
	want := make(map[int][]float64)
	for _, w := range []int{1, 3} {
		fitted := &Bagging{Learner: &spec, Members: 6, MaxFeatures: 1, Seed: 11, Workers: w}
		if err := fitted.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		p, _ := fitted.PredictProba(x)
		want[w] = flat(t, p)
	}
	got, _ := assembled.PredictProba(x)
	if !near(flat(t, got), want[1], 0) || !near(want[1], want[3], 0) {
		t.Error("assembled members, 1 worker and 3 workers: probabilities differ")
	}
	// Combining the members' outputs in any arrival order gives the same bits.
	outs := make([]*MemberOutput, len(learners))
	for i, l := range learners {
		if outs[i], err = PredictMember(l, travelled[i], x, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	sum1, count, err := SumOutputs(outs, 120, 3)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := make([]*MemberOutput, len(outs))
	for j, i := range order {
		shuffled[j] = outs[i]
	}
	sum2, _, _ := SumOutputs(shuffled, 120, 3)
	if !near(flatRows(sum1), flatRows(sum2), 0) || count[0] != 6 {
		t.Errorf("sums differ with the arrival order (count %d)", count[0])
	}
	mean := make([]float64, 0, 360)
	for _, r := range sum1 {
		for _, v := range r {
			mean = append(mean, v/6)
		}
	}
	if !near(mean, want[1], 0) {
		t.Error("summed member outputs divided by 6 differ from PredictProba")
	}
	if _, _, err := SumOutputs(append(outs, outs[0]), 120, 3); !errors.Is(err, ErrConfig) {
		t.Errorf("two outputs of member 0: %v, want ErrConfig", err)
	}
}

// TestCVPlanPieces: CVPlan, TrainMember and ScoreMember give
// CrossValidate's scores.
func TestCVPlanPieces(t *testing.T) {
	x, y := blobs(t, 90, 3, 7)
	folds, err := datasets.StratifiedKFold(y, datasets.KFoldConfig{Splits: 3, Shuffle: true, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	newL := (&Pipeline{Steps: []Transformer{&StandardScaler{}}, New: (&LinearSVC{}).Clone}).Clone
	res, err := CrossValidate(context.Background(), newL, x, y, folds, CVConfig{Seed: 4, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := CVPlan(folds, y, CVConfig{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for f, m := range specs {
		l, err := TrainMember(context.Background(), newL, m, x, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ScoreMember(l, m, x, y)
		if err != nil || s != res.Scores[f] {
			t.Errorf("fold %d: %v (%v), CrossValidate %v", f, s, err, res.Scores[f])
		}
	}
}

// TestErrorsNameCallersRows: bad samples and labels are reported with the
// row number of the caller's data, not of a fold or a member's sample.
func TestErrorsNameCallersRows(t *testing.T) {
	x, y := blobs(t, 60, 2, 3)
	xv := flat(t, x)
	xv[2*41+1] = math.NaN() // row 41, feature 1
	bad := f32(rowsOf(xv, 2))
	folds, _ := datasets.KFold(60, datasets.KFoldConfig{Splits: 3})
	yBad := flat(t, y)
	yBad[37] = math.Inf(1)
	for _, c := range []struct {
		name string
		err  func() error
		want error
		msg  string
	}{
		{"cross-validation x", func() error {
			_, err := CrossValidate(context.Background(), (&Tree{}).Clone, bad, y, folds, CVConfig{})
			return err
		}, ErrInput, "sample 41, feature 1"},
		{"cross-validation y", func() error {
			_, err := CrossValidate(context.Background(), (&Tree{}).Clone, x, vec(yBad), folds, CVConfig{})
			return err
		}, ErrLabels, "label +Inf at sample 37"},
		{"bagging x", func() error { return (&Bagging{New: (&Tree{}).Clone, Members: 3}).Fit(bad, y, nil) }, ErrInput, "sample 41, feature 1"},
		{"stacking x", func() error {
			return (&Stacking{Estimators: []Factory{(&Tree{}).Clone}, Folds: folds}).Fit(bad, y, nil)
		}, ErrInput, "sample 41, feature 1"},
		{"member rows", func() error {
			_, err := TrainMember(context.Background(), (&Tree{}).Clone, MemberSpec{Rows: []int{3, 60}, Fold: -1, Classes: []float64{0, 1}}, x, y, nil)
			return err
		}, ErrConfig, "trains on row 60 of 60"},
		{"member label", func() error {
			_, err := TrainMember(context.Background(), (&Tree{}).Clone, MemberSpec{Fold: -1, Classes: []float64{0, 2}}, x, y, nil)
			return err
		}, ErrLabels, "label 1 at sample"},
	} {
		err := c.err()
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

func rowsOf(v []float64, d int) [][]float64 {
	var out [][]float64
	for i := 0; i < len(v); i += d {
		out = append(out, v[i:i+d])
	}
	return out
}
