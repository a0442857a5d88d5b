// Command ensembles compares Keragon's learners and ensembles with
// scikit-learn's on tables neither was tuned on, on the very same folds:
// 5-fold cross-validated accuracy (R² for the house prices) and CPU time
// per fold.
//
//   - breast_cancer (569 rows, 30 features, 2 classes) and digits (1,797
//     rows, 64 features, 10 classes): scikit-learn's bundled sets, written
//     with scikit-learn's StratifiedKFold(5) folds by data/make_data.py
//     and embedded here;
//   - iris, votes, titanic: golearn's tables (keras/datasets); moons and
//     circles: generated; houses: a regression (golearn's
//     boston_house_prices.csv) — folds from datasets.StratifiedKFold or
//     KFold, shuffled with -seed.
//
// Rows: a small MLP (ensemble.MLP) and bagging of it, a CART tree,
// bagging of 50 trees, a stump, AdaBoost (SAMME) of 200 stumps, gradient
// boosting of 100 depth-3 trees, histogram gradient boosting, LinearSVC
// alone and after a StandardScaler (a Pipeline); for regression ridge,
// trees, bagging, AdaBoost.R2 and both gradient boostings.
//
// Each fold is trained with ensemble.CVPlan, TrainMember and ScoreMember,
// one fold at a time on one thread (GOMAXPROCS 1 by default), and its fit
// is timed in CPU seconds. -out writes the data, the folds and the results
// to a JSON file that sklearn_compare.py reads to run scikit-learn on the
// same folds, one thread, and print both side by side:
//
//	go run ./examples/ensembles -out /tmp/ensembles.json
//	/usr/bin/python3 examples/ensembles/sklearn_compare.py /tmp/ensembles.json
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
	"sort"
	"strings"
	"time"

	"github.com/keragon/keragon/ensemble"
	"github.com/pkg/errors"
)

func main() {
	sets := flag.String("sets", "breast_cancer,digits,iris,votes,titanic", "comma-separated data sets (also moons, circles, houses)")
	k := flag.Int("folds", 5, "cross-validation folds of the sets without scikit-learn folds")
	seed := flag.Uint64("seed", 1, "random seed (folds, generated data, every model's random_state)")
	epochs := flag.Int("epochs", 60, "MLP training epochs")
	batch := flag.Int("batch", 32, "MLP batch size")
	hidden := flag.Int("hidden", 16, "MLP hidden units")
	lr := flag.Float64("lr", 0.01, "MLP Adam learning rate")
	members := flag.Int("members", 50, "bagging members (trees)")
	mlpMembers := flag.Int("mlp-members", 10, "bagging members (MLPs)")
	rounds := flag.Int("rounds", 200, "AdaBoost rounds")
	gbRounds := flag.Int("gb-rounds", 100, "gradient boosting rounds")
	threads := flag.Int("threads", 1, "GOMAXPROCS (1: one thread, as scikit-learn's side)")
	only := flag.String("models", "", "comma-separated model names to run (default all)")
	out := flag.String("out", "", "write data, folds and results to this JSON file (for sklearn_compare.py)")
	flag.Parse()

	runtime.GOMAXPROCS(*threads)
	cfg := config{epochs: *epochs, batch: *batch, hidden: *hidden, lr: *lr, members: *members, mlpMembers: *mlpMembers,
		rounds: *rounds, gbRounds: *gbRounds, seed: *seed}
	if *only != "" {
		cfg.only = map[string]bool{}
		for _, m := range strings.Split(*only, ",") {
			cfg.only[strings.TrimSpace(m)] = true
		}
	}
	data, err := loadSets(strings.Split(*sets, ","), *k, int64(*seed))
	check(err)

	start := time.Now()
	report := map[string]map[string]any{}
	var dump []setDump
	classified := map[string]map[string]*result{}
	fmt.Printf("%-14s %-24s %-18s %s\n", "data", "model", "5-fold score", "CPU s/fold (median)")
	for _, s := range data {
		metric := "accuracy"
		if s.classes == 0 {
			metric = "r2"
		}
		results := map[string]*result{}
		report[s.name] = map[string]any{"metric": metric}
		for _, m := range cfg.models(s) {
			res, err := crossValidate(m.l, s, cfg.seed)
			check(errors.WithMessagef(err, "%s on %s", m.name, s.name))
			results[m.name] = res
			fmt.Printf("%-14s %-24s %.4f ± %.4f    %.4f\n", s.name, m.name, mean(res.Scores), std(res.Scores), median(res.CPUSeconds))
			report[s.name][m.name] = map[string]float64{"score": round(mean(res.Scores)), "std": round(std(res.Scores)),
				"cpu_seconds_median": round(median(res.CPUSeconds))}
		}
		if s.classes > 0 {
			classified[s.name] = results
		}
		dump = append(dump, newSetDump(s, results))
	}
	if *out != "" {
		check(writeDump(*out, cfg, dump))
		fmt.Printf("wrote %s: run `/usr/bin/python3 examples/ensembles/sklearn_compare.py %s`\n", *out, *out)
	}
	failed, means := checks(classified)
	for _, f := range failed {
		fmt.Fprintln(os.Stderr, "ensembles: check failed:", f)
	}
	line, err := json.Marshal(map[string]any{
		"results": report, "seed": *seed, "epochs": *epochs, "members": *members, "rounds": *rounds,
		"gb_rounds": *gbRounds, "threads": *threads, "mean_accuracy": means, "checks_passed": len(failed) == 0,
		"seconds": round(time.Since(start).Seconds()),
	})
	check(err)
	fmt.Println(string(line))
	if len(failed) > 0 {
		os.Exit(1)
	}
}

// result holds one figure per fold.
type result struct {
	Scores     []float64 `json:"scores"`
	CPUSeconds []float64 `json:"cpu_seconds"`
}

// crossValidate trains and scores l on every fold of s, one fold at a
// time, with the pieces an ensemble runs on other machines: CVPlan gives
// each fold's member spec, TrainMember trains it, ScoreMember scores it.
// Every fold's learner is l's configuration with the seed seed, as
// scikit-learn's cross_validate clones one estimator with its
// random_state.
func crossValidate(l ensemble.Learner, s *dataSet, seed uint64) (*result, error) {
	cloner, ok := l.(interface {
		Clone(uint64) (ensemble.Learner, error)
	})
	if !ok {
		return nil, errorf("%T has no Clone", l)
	}
	same := func(uint64) (ensemble.Learner, error) { return cloner.Clone(seed) }
	specs, err := ensemble.CVPlan(s.folds, s.y, ensemble.CVConfig{Regression: s.classes == 0})
	if err != nil {
		return nil, err
	}
	res := &result{}
	for _, m := range specs {
		runtime.GC()
		c0 := cpuTime()
		fitted, err := ensemble.TrainMember(context.Background(), same, m, s.x, s.y, nil)
		if err != nil {
			return nil, errors.WithMessagef(err, "fold %d", m.Fold)
		}
		res.CPUSeconds = append(res.CPUSeconds, (cpuTime() - c0).Seconds())
		sc, err := ensemble.ScoreMember(fitted, m, s.x, s.y)
		if err != nil {
			return nil, errors.WithMessagef(err, "fold %d", m.Fold)
		}
		res.Scores = append(res.Scores, sc)
	}
	return res, nil
}

// checks are issue 5's claims, on the mean cross-validated accuracy over
// the classification sets: bagging MLPs scores at least the single MLP,
// bagging trees beats one tree, and AdaBoost of stumps beats one stump.
func checks(results map[string]map[string]*result) (failed []string, means map[string]float64) {
	pairs := [][2]string{{"bagging (10 mlp)", "mlp"}, {"bagging (50 trees)", "tree"}, {"adaboost (200 stumps)", "stump"}}
	means = map[string]float64{}
	for _, p := range pairs {
		for _, name := range p {
			n := 0
			for _, r := range results {
				if r[name] != nil {
					means[name] += mean(r[name].Scores)
					n++
				}
			}
			if n == 0 {
				delete(means, name)
				continue
			}
			means[name] = round(means[name] / float64(n))
		}
		a, okA := means[p[0]]
		b, okB := means[p[1]]
		if okA && okB && a < b {
			failed = append(failed, fmt.Sprintf("mean accuracy: %s %.4f < %s %.4f", p[0], a, p[1], b))
		}
	}
	return failed, means
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func std(v []float64) float64 {
	m := mean(v)
	s := 0.0
	for _, x := range v {
		s += (x - m) * (x - m) / float64(len(v))
	}
	return math.Sqrt(s)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func errorf(format string, args ...any) error { return errors.Errorf(format, args...) }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ensembles: %+v\n", err)
		os.Exit(1)
	}
}
