package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// data holds the tables written by data/make_data.py: scikit-learn's
// breast cancer and digits sets and scikit-learn's folds for them.
//
//go:embed data/breast_cancer.csv data/digits.csv data/folds.json
var data embed.FS

// A dataSet is one table the models are compared on.
type dataSet struct {
	name    string
	x, y    *tensor.Dense
	classes int    // 0 for regression
	file    string // the CSV it was read from, relative to the repository, "" if generated
	folds   []datasets.Fold
	skFolds bool // the folds are scikit-learn's (folds.json)
}

// loadSets returns the data sets named, in order, with their folds.
func loadSets(names []string, k int, seed int64) ([]*dataSet, error) {
	var out []*dataSet
	for _, name := range names {
		s := &dataSet{name: name}
		var err error
		switch name {
		case "breast_cancer", "digits":
			err = s.embedded(name)
		case "iris":
			s.x, s.y, _, err = datasets.Iris()
			s.classes, s.file = 3, "keras/datasets/data/iris.csv"
		case "votes":
			s.x, s.y, _, err = datasets.HouseVotes()
			s.classes, s.file = 2, "keras/datasets/data/house-votes-84.csv"
		case "titanic":
			s.x, s.y, err = datasets.Titanic()
			s.classes, s.file = 2, "keras/datasets/data/titanic.csv"
		case "moons":
			s.x, s.y, err = datasets.Moons(300, 0.3, seed)
			s.classes = 2
		case "circles":
			s.x, s.y, err = datasets.Circles(300, 0.15, 0.5, seed)
			s.classes = 2
		case "houses":
			s.x, s.y, err = datasets.HousePrices()
			s.file = "keras/datasets/data/boston_house_prices.csv"
		default:
			return nil, errorf("unknown data set %q (want breast_cancer, digits, iris, votes, titanic, moons, circles or houses)", name)
		}
		if err != nil {
			return nil, err
		}
		if s.folds == nil {
			cfg := datasets.KFoldConfig{Splits: k, Shuffle: true, Seed: seed}
			if s.classes == 0 {
				s.folds, err = datasets.KFold(s.y.Shape()[0], cfg)
			} else {
				s.folds, err = datasets.StratifiedKFold(s.y, cfg)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// embedded reads one of the tables of data/ and its scikit-learn folds.
func (s *dataSet) embedded(name string) error {
	raw, err := data.ReadFile("data/" + name + ".csv")
	if err != nil {
		return errors.Wrap(err, "ensembles")
	}
	// datasets.CSV reads files: write the embedded table to a temporary one.
	dir, err := os.MkdirTemp("", "ensembles-")
	if err != nil {
		return errors.Wrap(err, "ensembles")
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, name+".csv")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return errors.Wrap(err, "ensembles")
	}
	var names []string
	if s.x, s.y, names, err = datasets.CSV(path, -1); err != nil {
		return err
	}
	if names != nil {
		return errorf("%s: labels should be class numbers, got names %v", name, names)
	}
	s.classes, s.file, s.skFolds = distinct(s.y), "examples/ensembles/data/"+name+".csv", true
	raw, err = data.ReadFile("data/folds.json")
	if err != nil {
		return errors.Wrap(err, "ensembles")
	}
	var folds map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&folds); err != nil {
		return errors.Wrap(err, "ensembles: data/folds.json")
	}
	var test []int
	if err := json.Unmarshal(folds[name], &test); err != nil || len(test) != s.y.Shape()[0] {
		return errorf("data/folds.json: %d folds for the %d rows of %s (%v)", len(test), s.y.Shape()[0], name, err)
	}
	k := 0
	for _, f := range test {
		k = max(k, f+1)
	}
	s.folds = make([]datasets.Fold, k)
	for i, f := range test {
		for g := range s.folds {
			if g == f {
				s.folds[g].Test = append(s.folds[g].Test, i)
			} else {
				s.folds[g].Train = append(s.folds[g].Train, i)
			}
		}
	}
	return nil
}

func distinct(y *tensor.Dense) int {
	seen := map[float64]bool{}
	for _, v := range floats(y) {
		seen[v] = true
	}
	return len(seen)
}

func floats(t *tensor.Dense) []float64 {
	switch v := t.Data().(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return v
	}
	return nil
}
