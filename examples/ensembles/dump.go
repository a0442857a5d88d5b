package main

import (
	"encoding/json"
	"os"

	"github.com/pkg/errors"
)

// setDump is what sklearn_compare.py needs of a data set: the data as
// Keragon read it, the CSV it came from (to check the data), each row's
// test fold, and Keragon's scores and times.
type setDump struct {
	Name     string             `json:"name"`
	Task     string             `json:"task"`
	File     string             `json:"file,omitempty"`
	X        [][]float64        `json:"x"`
	Y        []float64          `json:"y"`
	TestFold []int              `json:"test_fold"`
	Results  map[string]*result `json:"results"`
}

func newSetDump(s *dataSet, results map[string]*result) setDump {
	d := setDump{Name: s.name, Task: "classification", File: s.file, Results: results}
	if s.classes == 0 {
		d.Task = "regression"
	}
	n, f := s.x.Shape()[0], s.x.Shape()[1]
	xs := floats(s.x)
	for i := 0; i < n; i++ {
		d.X = append(d.X, xs[i*f:(i+1)*f])
	}
	d.Y = floats(s.y)
	d.TestFold = make([]int, n)
	for k, fold := range s.folds {
		for _, r := range fold.Test {
			d.TestFold[r] = k
		}
	}
	return d
}

func writeDump(path string, c config, sets []setDump) error {
	raw, err := json.Marshal(map[string]any{
		"seed":    c.seed,
		"mlp":     map[string]any{"hidden": c.hidden, "epochs": c.epochs, "batch": c.batch, "lr": c.lr, "members": c.mlpMembers},
		"members": c.members, "rounds": c.rounds, "gb_rounds": c.gbRounds,
		"sets": sets,
	})
	if err != nil {
		return errors.Wrap(err, "ensembles: encoding the results")
	}
	return errors.Wrap(os.WriteFile(path, raw, 0o644), "ensembles")
}
