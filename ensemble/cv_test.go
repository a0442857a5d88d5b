package ensemble

import (
	"context"
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
)

// TestCrossValidate: each fold's learner trains on the fold's training
// rows and is scored on its test rows.
func TestCrossValidate(t *testing.T) {
	// memo predicts (id + salt) % 2 with salt = seed % 7; labels id % 2 make
	// a fold's accuracy 1 for an even salt and 0 for an odd one.
	y := vec([]float64{0, 1, 0, 1, 0, 1})
	folds, err := datasets.KFold(6, datasets.KFoldConfig{Splits: 3})
	if err != nil {
		t.Fatal(err)
	}
	var learners []*memo
	f := func(seed uint64) (Learner, error) {
		m := &memo{k: 2, salt: int(seed % 7)}
		learners = append(learners, m)
		return m, nil
	}
	res, err := CrossValidate(context.Background(), f, column(ids(6)), y, folds, CVConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range learners {
		want := 1.0
		if m.salt%2 == 1 {
			want = 0
		}
		if res.Scores[i] != want || len(m.trained) != 4 || len(m.predicted) != 1 || len(m.predicted[0]) != 2 {
			t.Errorf("fold %d: score %v (salt %d), trained on %v, asked about %v", i, res.Scores[i], m.salt, m.trained, m.predicted)
		}
		for _, r := range m.trained {
			for _, tr := range folds[i].Test {
				if r == tr {
					t.Errorf("fold %d trained on its test row %d", i, r)
				}
			}
		}
	}
	if len(res.FitSeconds) != 3 || res.MeanFitSeconds() < 0 {
		t.Errorf("fit times %v", res.FitSeconds)
	}
	bad := []datasets.Fold{{Train: []int{0}, Test: []int{1}}, {Train: []int{1}, Test: []int{0}}}
	if _, err := CrossValidate(context.Background(), f, column(ids(6)), y, bad, CVConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("folds leaving samples out: %v, want ErrConfig", err)
	}
}
