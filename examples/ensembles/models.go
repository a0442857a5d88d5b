package main

import (
	"github.com/keragon/keragon/ensemble"
)

// config holds the flags that shape the models.
type config struct {
	epochs, batch, hidden int
	lr                    float64
	members, rounds       int
	gbRounds, mlpMembers  int
	seed                  uint64
	only                  map[string]bool // model names to run; nil: all
}

// A model is one row of the table: a name (the same in
// sklearn_compare.py) and a learner.
type model struct {
	name string
	l    ensemble.Learner
}

// models returns the rows compared on a data set. Every learner has the
// seed -seed, as every scikit-learn estimator gets random_state=seed, so
// the seeded trees, bagging, boosting and SVMs draw what scikit-learn
// draws.
func (c config) models(s *dataSet) []model {
	seed := c.seed
	mlp := &ensemble.MLP{Hidden: []int{c.hidden}, Epochs: c.epochs, BatchSize: c.batch, LearningRate: c.lr,
		Patience: -1, Regression: s.classes == 0, Seed: seed}
	svm := &ensemble.LinearSVC{Seed: seed}
	scaled := &ensemble.Pipeline{Steps: []ensemble.Transformer{&ensemble.StandardScaler{}}, New: svm.Clone, Seed: seed}
	var rows []model
	if s.classes == 0 {
		tree := &ensemble.Tree{Regression: true, Seed: seed}
		tree3 := &ensemble.Tree{Regression: true, MaxDepth: 3}
		rows = []model{
			{"ridge", &ensemble.Ridge{}},
			{"tree", tree},
			{"bagging (50 trees)", &ensemble.Bagging{New: tree.Clone, Members: c.members, Regression: true, Seed: seed}},
			{"adaboost.R2 (depth 3)", &ensemble.AdaBoost{New: tree3.Clone, Rounds: c.rounds, Regression: true, Seed: seed}},
			{"gradient boosting", &ensemble.GradientBoosting{Rounds: c.gbRounds, Regression: true, Seed: seed}},
			{"hist gradient boosting", &ensemble.HistGradientBoosting{Regression: true, Seed: seed}},
		}
	} else {
		rows = []model{
			{"mlp", mlp},
			{"bagging (10 mlp)", &ensemble.Bagging{New: mlp.Clone, Members: c.mlpMembers, Seed: seed}},
			{"tree", &ensemble.Tree{Seed: seed}},
			{"bagging (50 trees)", &ensemble.Bagging{New: (&ensemble.Tree{}).Clone, Members: c.members, Seed: seed}},
			{"stump", &ensemble.Tree{MaxDepth: 1, Seed: seed}},
			{"adaboost (200 stumps)", &ensemble.AdaBoost{New: ensemble.Stump().Clone, Rounds: c.rounds, Seed: seed}},
			{"gradient boosting", &ensemble.GradientBoosting{Rounds: c.gbRounds, Seed: seed}},
			{"hist gradient boosting", &ensemble.HistGradientBoosting{Seed: seed}},
			{"linear svm", svm},
			{"linear svm (scaled)", scaled},
		}
	}
	if c.only == nil {
		return rows
	}
	var out []model
	for _, m := range rows {
		if c.only[m.name] {
			out = append(out, m)
		}
	}
	return out
}
