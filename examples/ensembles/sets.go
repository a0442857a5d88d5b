package main

import (
	"github.com/keragon/keragon/keras/datasets"
	"gorgonia.org/tensor"
)

// A dataSet is one table the models are compared on.
type dataSet struct {
	name       string
	x, y       *tensor.Dense
	classes    int    // 0 for regression
	file       string // the CSV in keras/datasets/data, "" if generated
	labelNames []string
}

// loadSets returns the data sets named, in order.
func loadSets(names []string, seed int64) ([]*dataSet, error) {
	var out []*dataSet
	for _, name := range names {
		s := &dataSet{name: name}
		var err error
		switch name {
		case "iris":
			s.x, s.y, s.labelNames, err = datasets.Iris()
			s.classes, s.file = 3, "iris.csv"
		case "votes":
			s.x, s.y, s.labelNames, err = datasets.HouseVotes()
			s.classes, s.file = 2, "house-votes-84.csv"
		case "titanic":
			s.x, s.y, err = datasets.Titanic()
			s.classes, s.file, s.labelNames = 2, "titanic.csv", datasets.TitanicClasses
		case "moons":
			s.x, s.y, err = datasets.Moons(300, 0.3, seed)
			s.classes = 2
		case "circles":
			s.x, s.y, err = datasets.Circles(300, 0.15, 0.5, seed)
			s.classes = 2
		case "houses":
			s.x, s.y, err = datasets.HousePrices()
			s.file = "boston_house_prices.csv"
		default:
			return nil, errorf("unknown data set %q (want iris, votes, titanic, moons, circles or houses)", name)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// folds returns the cross-validation folds of a set: stratified for
// classification, shuffled with the seed.
func (s *dataSet) folds(k int, seed int64) ([]datasets.Fold, error) {
	cfg := datasets.KFoldConfig{Splits: k, Shuffle: true, Seed: seed}
	if s.classes == 0 {
		return datasets.KFold(s.y.Shape()[0], cfg)
	}
	return datasets.StratifiedKFold(s.y, cfg)
}
