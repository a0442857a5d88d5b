package main

import (
	"encoding/json"
	"os"

	"github.com/keragon/keragon/ensemble"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// setDump is what sklearn_compare.py needs of a data set: the data as
// Keragon read it, the CSV it came from (to check the data), each row's
// test fold, and Keragon's scores.
type setDump struct {
	Name     string                `json:"name"`
	Task     string                `json:"task"`
	File     string                `json:"file,omitempty"`
	X        [][]float64           `json:"x"`
	Y        []float64             `json:"y"`
	TestFold []int                 `json:"test_fold"`
	Results  map[string]resultDump `json:"results"`
}

type resultDump struct {
	Scores     []float64 `json:"scores"`
	FitSeconds []float64 `json:"fit_seconds"`
}

func newSetDump(s *dataSet, folds []datasets.Fold, results map[string]*ensemble.CVResult) setDump {
	d := setDump{Name: s.name, Task: "classification", Results: map[string]resultDump{}}
	if s.classes == 0 {
		d.Task = "regression"
	}
	if s.file != "" {
		d.File = "keras/datasets/data/" + s.file
	}
	n, f := s.x.Shape()[0], s.x.Shape()[1]
	xs, ys := floats(s.x), floats(s.y)
	for i := 0; i < n; i++ {
		d.X = append(d.X, xs[i*f:(i+1)*f])
	}
	d.Y = ys
	d.TestFold = make([]int, n)
	for k, fold := range folds {
		for _, r := range fold.Test {
			d.TestFold[r] = k
		}
	}
	for name, r := range results {
		d.Results[name] = resultDump{Scores: r.Scores, FitSeconds: r.FitSeconds}
	}
	return d
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

func writeDump(path string, c config, folds int, sets []setDump) error {
	raw, err := json.Marshal(map[string]any{
		"folds": folds, "seed": c.seed,
		"mlp":     map[string]any{"hidden": c.hidden, "epochs": c.epochs, "batch": c.batch, "lr": c.lr},
		"members": c.members, "rounds": c.rounds, "gb_rounds": c.gbRounds, "workers": c.workers,
		"sets": sets,
	})
	if err != nil {
		return errors.Wrap(err, "ensembles: encoding the results")
	}
	return errors.Wrap(os.WriteFile(path, raw, 0o644), "ensembles")
}
