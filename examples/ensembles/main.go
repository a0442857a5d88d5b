// Command ensembles compares single models with bagging, AdaBoost and
// gradient boosting on small tabular data sets, by 5-fold cross-validated
// accuracy (R² for the house prices) and fit time, as issue 5 asks:
//
//   - iris, house votes, Titanic: golearn's tables (embedded in
//     keras/datasets); moons and circles: generated; houses: golearn's
//     boston_house_prices.csv, a regression.
//   - rows: a small MLP (Keras, via ensemble.KerasLearner) and bagging of
//     it, a decision stump and AdaBoost of stumps (SAMME), a CART tree and
//     gradient boosting of depth-3 trees; for regression ridge, trees,
//     bagging, AdaBoost.R2 and gradient boosting. -nnboost adds gradient
//     boosting of MLP regressors, -stacking a stacking ensemble.
//
// Folds are stratified (classification) and shuffled with -seed. -out
// writes the data, the folds and the results to a JSON file that
// sklearn_compare.py reads to run scikit-learn on the same folds.
//
// The last line printed is one JSON object with the results.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/keragon/keragon/ensemble"
	"github.com/pkg/errors"
)

func main() {
	sets := flag.String("sets", "iris,votes,titanic,moons,circles,houses", "comma-separated data sets")
	k := flag.Int("folds", 5, "cross-validation folds")
	seed := flag.Uint64("seed", 1, "random seed (folds, generated data, models)")
	epochs := flag.Int("epochs", 60, "MLP training epochs")
	batch := flag.Int("batch", 32, "MLP batch size")
	hidden := flag.Int("hidden", 16, "MLP hidden units")
	lr := flag.Float64("lr", 0.01, "MLP Adam learning rate")
	members := flag.Int("members", 10, "bagging members")
	rounds := flag.Int("rounds", 50, "AdaBoost rounds")
	gbRounds := flag.Int("gb-rounds", 100, "gradient boosting rounds")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "members trained at once")
	nnBoost := flag.Bool("nnboost", false, "add gradient boosting of MLP regressors")
	stacking := flag.Bool("stacking", false, "add a stacking ensemble (MLP, tree, logistic regression)")
	out := flag.String("out", "", "write data, folds and results to this JSON file (for sklearn_compare.py)")
	flag.Parse()

	cfg := config{epochs: *epochs, batch: *batch, hidden: *hidden, lr: *lr, members: *members, rounds: *rounds,
		gbRounds: *gbRounds, workers: *workers, seed: *seed, nnBoost: *nnBoost, stacking: *stacking}
	data, err := loadSets(strings.Split(*sets, ","), int64(*seed))
	check(err)

	start := time.Now()
	report := map[string]map[string]any{}
	var dump []setDump
	classified := map[string]map[string]*ensemble.CVResult{}
	fmt.Printf("%-8s %-30s %-18s %s\n", "data", "model", "5-fold score", "fit s/fold")
	for _, s := range data {
		folds, err := s.folds(*k, int64(*seed))
		check(err)
		metric := "accuracy"
		if s.classes == 0 {
			metric = "r2"
		}
		results := map[string]*ensemble.CVResult{}
		report[s.name] = map[string]any{"metric": metric}
		for _, m := range cfg.models(s) {
			res, err := ensemble.CrossValidate(context.Background(), m.new, s.x, s.y, folds,
				ensemble.CVConfig{Regression: s.classes == 0, Seed: *seed})
			check(errors.WithMessagef(err, "%s on %s", m.name, s.name))
			results[m.name] = res
			fmt.Printf("%-8s %-30s %.4f ± %.4f    %.3f\n", s.name, m.name, res.Mean(), std(res.Scores), res.MeanFitSeconds())
			report[s.name][m.name] = map[string]float64{"score": round(res.Mean()), "std": round(std(res.Scores)), "fit_seconds": round(res.MeanFitSeconds())}
		}
		if s.classes > 0 {
			classified[s.name] = results
		}
		dump = append(dump, newSetDump(s, folds, results))
	}
	if *out != "" {
		check(writeDump(*out, cfg, *k, dump))
		fmt.Printf("wrote %s: run `/usr/bin/python3 examples/ensembles/sklearn_compare.py %s`\n", *out, *out)
	}
	failed, means := checks(classified)
	if means != nil {
		fmt.Printf("mean accuracy over %d classification sets: mlp %.4f, bagging (mlp) %.4f, stump %.4f, adaboost (stumps) %.4f\n",
			len(classified), means["mlp"], means["bagging (mlp)"], means["stump"], means["adaboost (stumps)"])
	}
	for _, f := range failed {
		fmt.Fprintln(os.Stderr, "ensembles: check failed:", f)
	}
	line, err := json.Marshal(map[string]any{
		"results": report, "folds": *k, "seed": *seed, "epochs": *epochs, "members": *members,
		"rounds": *rounds, "gb_rounds": *gbRounds, "workers": *workers,
		"mean_accuracy": means, "checks_passed": len(failed) == 0, "seconds": round(time.Since(start).Seconds()),
	})
	check(err)
	fmt.Println(string(line))
	if len(failed) > 0 {
		os.Exit(1)
	}
}

// checks are issue 5's claims, on the mean cross-validated accuracy over
// the classification sets: bagging MLPs scores at least the single MLP,
// and AdaBoost of stumps beats one stump. Per set, the bagging–single
// difference on moons and circles is within a point or two of 300 samples
// either way, and on votes and Titanic one stump is as good as AdaBoost
// (one vote, or the passenger's sex, nearly decides the label; scikit-learn
// gets the same figures), so the per-set figures are reported, not checked.
func checks(results map[string]map[string]*ensemble.CVResult) (failed []string, means map[string]float64) {
	means = map[string]float64{}
	sets := 0
	for _, r := range results {
		for _, name := range []string{"mlp", "bagging (mlp)", "stump", "adaboost (stumps)"} {
			means[name] += r[name].Mean()
		}
		sets++
	}
	if sets == 0 {
		return nil, nil
	}
	for name := range means {
		means[name] = round(means[name] / float64(sets))
	}
	if a, b := means["bagging (mlp)"], means["mlp"]; a < b {
		failed = append(failed, fmt.Sprintf("mean over %d sets: bagging of MLPs %.4f < single MLP %.4f", sets, a, b))
	}
	if a, b := means["adaboost (stumps)"], means["stump"]; a <= b {
		failed = append(failed, fmt.Sprintf("mean over %d sets: AdaBoost of stumps %.4f ≤ one stump %.4f", sets, a, b))
	}
	return failed, means
}

func std(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m += x / float64(len(v))
	}
	s := 0.0
	for _, x := range v {
		s += (x - m) * (x - m) / float64(len(v))
	}
	return math.Sqrt(s)
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func errorf(format string, args ...any) error { return errors.Errorf(format, args...) }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ensembles: %+v\n", err)
		os.Exit(1)
	}
}
