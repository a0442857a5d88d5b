package main

import (
	"github.com/keragon/keragon/ensemble"
	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/training"
)

// config holds the flags that shape the models.
type config struct {
	epochs, batch, hidden int
	lr                    float64
	members, rounds       int
	gbRounds              int
	workers               int
	seed                  uint64
	nnBoost, stacking     bool
}

// A model is one row of the table: a name and a factory for a data set.
type model struct {
	name string
	new  ensemble.Factory
}

// mlp is a one-hidden-layer perceptron with a softmax output, trained by
// Adam: the single neural network of the comparison.
func (c config) mlp(features, classes int) *ensemble.KerasLearner {
	return &ensemble.KerasLearner{
		New: func(seed uint64) (*keras.Model, error) {
			m := keras.NewSequential(
				&keras.Input{Shape: []int{features}},
				&keras.Dense{Units: c.hidden, Activation: "relu"},
				&keras.Dense{Units: classes, Activation: "softmax"},
			)
			m.SetSeed(seed)
			return m, m.Compile(keras.CompileConfig{
				Optimizer: &training.Adam{LearningRate: c.lr},
				Loss:      "sparse_categorical_crossentropy",
			})
		},
		FitConfig: keras.FitConfig{Epochs: c.epochs, BatchSize: c.batch},
		Classes:   classes,
	}
}

// mlpRegressor is the same network with one linear output, for gradient
// boosting's stages.
func (c config) mlpRegressor(features int) *ensemble.KerasLearner {
	return &ensemble.KerasLearner{
		New: func(seed uint64) (*keras.Model, error) {
			m := keras.NewSequential(
				&keras.Input{Shape: []int{features}},
				&keras.Dense{Units: c.hidden, Activation: "relu"},
				&keras.Dense{Units: 1},
			)
			m.SetSeed(seed)
			return m, m.Compile(keras.CompileConfig{Optimizer: &training.Adam{LearningRate: c.lr}, Loss: "mse"})
		},
		FitConfig: keras.FitConfig{Epochs: c.epochs / 4, BatchSize: c.batch},
	}
}

// models returns the rows compared on a data set.
func (c config) models(s *dataSet) []model {
	features := s.x.Shape()[1]
	if s.classes == 0 {
		tree3 := &ensemble.Tree{Regression: true, MaxDepth: 3}
		return []model{
			{"ridge", (&ensemble.Ridge{}).Clone},
			{"tree (depth 3)", tree3.Clone},
			{"tree", (&ensemble.Tree{Regression: true}).Clone},
			{"bagging (trees)", (&ensemble.Bagging{New: (&ensemble.Tree{Regression: true}).Clone, Members: c.members,
				Regression: true, Workers: c.workers}).Clone},
			{"adaboost.R2 (depth 3)", (&ensemble.AdaBoost{New: tree3.Clone, Rounds: c.rounds, Regression: true}).Clone},
			{"gradient boosting", (&ensemble.GradientBoosting{Rounds: c.gbRounds, Regression: true}).Clone},
		}
	}
	mlp := c.mlp(features, s.classes)
	rows := []model{
		{"mlp", mlp.Clone},
		{"bagging (mlp)", (&ensemble.Bagging{New: mlp.Clone, Members: c.members, Workers: c.workers}).Clone},
		{"stump", ensemble.Stump().Clone},
		{"adaboost (stumps)", (&ensemble.AdaBoost{New: ensemble.Stump().Clone, Rounds: c.rounds}).Clone},
		{"tree", (&ensemble.Tree{}).Clone},
		{"gradient boosting", (&ensemble.GradientBoosting{Rounds: c.gbRounds}).Clone},
	}
	if c.nnBoost {
		rows = append(rows, model{"gradient boosting (mlp)", (&ensemble.GradientBoosting{
			New: c.mlpRegressor(features).Clone, Rounds: 10, LearningRate: 0.5}).Clone})
	}
	if c.stacking {
		rows = append(rows, model{"stacking (mlp, tree, logreg)", (&ensemble.Stacking{
			Estimators: []ensemble.Factory{mlp.Clone, (&ensemble.Tree{MaxDepth: 4}).Clone, (&ensemble.LogisticRegression{}).Clone},
			Workers:    c.workers,
		}).Clone})
	}
	return rows
}
