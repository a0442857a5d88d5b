package ensemble

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// maxGridPoints bounds the number of grid points (a guard against a grid
// whose product of value counts is absurd).
const maxGridPoints = 1 << 20

// GridSearch scores every combination of parameter values of a learner by
// cross-validation, as scikit-learn's GridSearchCV (without its refit on
// all the data): the best point is the one of highest mean score.
//
// Grid point p is Learner with its parameters overridden by p's values, in
// scikit-learn's ParameterGrid order (parameter names sorted, the last name
// varying fastest). Every (point, fold) pair is a job: point p's learner
// trained on fold f's training rows and scored on its test rows, with the
// seed CrossValidate gives fold f (Seed-and-f), so a point's scores are
// CrossValidate's for its learner, bit for bit. Jobs run in parallel on up
// to Workers goroutines.
//
// Plan, TrainMember, ScoreMember and Results are the same steps as data,
// for running the jobs elsewhere: Search is Plan, then TrainMember and
// ScoreMember for every job, then Results.
type GridSearch struct {
	// Learner is the learner to tune, a registered kind with JSON
	// parameters; its parameters must be a JSON object (or empty).
	Learner Spec `json:"learner"`
	// Grid maps parameter names — the JSON names of Learner's parameters
	// — to the values to try, each a JSON value: {"max_depth": [2, 4,
	// 8]}. At least one name, each with at least one value.
	Grid map[string][]json.RawMessage `json:"grid"`
	// CV is the number of folds (default 5), made as scikit-learn's cv=5:
	// StratifiedKFold for classification, KFold for regression,
	// unshuffled; ignored when Folds is set.
	CV int `json:"cv,omitempty"`
	// Folds, if set, are the cross-validation folds; each sample must be
	// in exactly one test set.
	Folds []datasets.Fold `json:"folds,omitempty"`
	// Regression scores by R²; by default y holds class labels and the
	// score is the accuracy.
	Regression bool `json:"regression,omitempty"`
	// Workers is the number of jobs run at once: 0 means 1, −1 means
	// GOMAXPROCS.
	Workers int `json:"workers,omitempty"`
	// Seed: every point's learner for fold f gets the seed CrossValidate
	// gives fold f with this Seed.
	Seed uint64 `json:"seed"`
	// Progress receives one line per job; nil is silent.
	Progress io.Writer `json:"-"`
}

// GridResult is the outcome of a grid search, one entry per grid point in
// grid order, as scikit-learn's cv_results_.
type GridResult struct {
	// Params holds each point's values of the grid's parameters, as a JSON
	// object.
	Params []json.RawMessage `json:"params"`
	// Learners are the points' learners (Learner with the point's values).
	Learners []Spec `json:"learners"`
	// Scores are the test scores, [point][fold].
	Scores [][]float64 `json:"scores"`
	// FitSeconds are the wall-clock times of the fits, [point][fold].
	FitSeconds [][]float64 `json:"fit_seconds"`
	// Mean and Std are each point's mean score (summed in fold order, as
	// CVResult.Mean) and its population standard deviation.
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
	// Rank is 1 for the best mean, as scikit-learn's rank_test_score
	// (equal means share the smaller rank).
	Rank []int `json:"rank"`
	// Best is the point of rank 1 (the first of equals).
	Best int `json:"best"`
}

// Points returns the learner of every grid point, in grid order, and each
// point's values of the grid's parameters as a JSON object. Each learner
// is made once with seed 0 to check its parameters.
func (g *GridSearch) Points() (learners []Spec, params []json.RawMessage, err error) {
	if len(g.Grid) == 0 {
		return nil, nil, errors.Wrap(ErrConfig, "ensemble: GridSearch has an empty Grid")
	}
	base := map[string]json.RawMessage{}
	if p := bytes.TrimSpace(g.Learner.Params); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		if err := json.Unmarshal(p, &base); err != nil {
			return nil, nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch Learner parameters %s: want a JSON object (%v)", shorten(p), err)
		}
	}
	names := make([]string, 0, len(g.Grid))
	total := 1
	for name, values := range g.Grid {
		if len(values) == 0 {
			return nil, nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch parameter %q has no values", name)
		}
		for _, v := range values {
			if !json.Valid(v) {
				return nil, nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch parameter %q: value %s is not JSON", name, shorten(v))
			}
		}
		if total *= len(values); total > maxGridPoints {
			return nil, nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch has more than %d points", maxGridPoints)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	choice := make([]int, len(names)) // the value of every name, last fastest
	for range total {
		point := map[string]json.RawMessage{}
		full := make(map[string]json.RawMessage, len(base)+len(names))
		for k, v := range base {
			full[k] = v
		}
		for i, name := range names {
			point[name] = g.Grid[name][choice[i]]
			full[name] = point[name]
		}
		p, err := json.Marshal(point)
		if err != nil {
			return nil, nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch point %d: %v", len(params), err)
		}
		f, err := json.Marshal(full)
		if err != nil {
			return nil, nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch point %d: %v", len(params), err)
		}
		s := Spec{Kind: g.Learner.Kind, Params: f}
		if _, err := s.New(0); err != nil {
			return nil, nil, errors.WithMessagef(err, "ensemble: GridSearch point %d %s", len(params), p)
		}
		learners, params = append(learners, s), append(params, p)
		for i := len(choice) - 1; i >= 0; i-- {
			if choice[i]++; choice[i] < len(g.Grid[names[i]]) {
				break
			}
			choice[i] = 0
		}
	}
	return learners, params, nil
}

// Plan checks the grid and the data and returns the jobs Search runs: job
// p·F+f (Index) is point p (Estimator) trained on fold f's training rows
// (Fold f) and scored on its test rows, with fold f's seed.
func (g *GridSearch) Plan(x, y *tensor.Dense) ([]MemberSpec, error) {
	n, err := samples(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: GridSearch")
	}
	if y == nil || y.Dims() == 0 || y.Shape()[0] != n {
		return nil, errors.Wrapf(ErrLabels, "ensemble: GridSearch: y has shape %v for %d samples", shapeOf(y), n)
	}
	learners, _, err := g.Points()
	if err != nil {
		return nil, err
	}
	folds := g.Folds
	if folds == nil {
		var idx []int
		if !g.Regression {
			if _, idx, err = classLabels(y, n); err != nil {
				return nil, errors.WithMessage(err, "ensemble: GridSearch")
			}
		}
		if folds, err = defaultFolds(g.CV, g.Regression, n, idx); err != nil {
			return nil, err
		}
	}
	cv, err := CVPlan(folds, y, CVConfig{Regression: g.Regression, Seed: g.Seed})
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: GridSearch")
	}
	specs := make([]MemberSpec, 0, len(learners)*len(cv))
	for p := range learners {
		for _, m := range cv {
			m.Ensemble, m.Index, m.Estimator = "grid_search", len(specs), p
			specs = append(specs, m)
		}
	}
	return specs, nil
}

func shapeOf(d *tensor.Dense) tensor.Shape {
	if d == nil {
		return nil
	}
	return d.Shape()
}

// Search runs every job of the grid on x, y (with optional sample weights
// for the fits) and returns the scores. If any job fails it returns a
// *FitError naming each failed point (Member) and fold, and no result.
func (g *GridSearch) Search(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) (*GridResult, error) {
	specs, err := g.Plan(x, y)
	if err != nil {
		return nil, err
	}
	learners, _, err := g.Points()
	if err != nil {
		return nil, err
	}
	data, err := newMemberData(x, y, sampleWeight, specs[0].Classes)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: GridSearch")
	}
	scores, seconds := make([]float64, len(specs)), make([]float64, len(specs))
	prog := &progress{w: g.Progress}
	errs := parallel(ctx, len(specs), g.Workers, func(j int) error {
		m := specs[j]
		start := time.Now()
		l, err := trainMember(ctx, learners[m.Estimator].New, m, data)
		if err != nil {
			return err
		}
		seconds[j] = time.Since(start).Seconds()
		if scores[j], err = scoreMember(l, m, data); err != nil {
			return err
		}
		prog.printf("grid search: point %d/%d fold %d scored %.4f in %.2fs", m.Estimator+1, len(learners), m.Fold+1, scores[j], seconds[j])
		return nil
	})
	fe := &FitError{}
	for j, err := range errs {
		if err != nil {
			fe.Failed = append(fe.Failed, &MemberError{Ensemble: "grid search", Member: specs[j].Estimator, Fold: specs[j].Fold, Err: err})
		} else {
			fe.Trained++
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.Wrapf(err, "ensemble: GridSearch stopped with %d of %d jobs done", fe.Trained, len(specs))
	}
	if len(fe.Failed) > 0 {
		return nil, fe
	}
	return g.Results(specs, scores, seconds)
}

// Results combines the jobs' scores into a GridResult: scores[j] and
// fitSeconds[j] (nil for none) are those of specs[j], the jobs Plan
// returned in any order, each exactly once.
func (g *GridSearch) Results(specs []MemberSpec, scores, fitSeconds []float64) (*GridResult, error) {
	learners, params, err := g.Points()
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 || len(scores) != len(specs) || (fitSeconds != nil && len(fitSeconds) != len(specs)) {
		return nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch.Results: %d jobs, %d scores, %d fit times", len(specs), len(scores), len(fitSeconds))
	}
	folds := len(specs) / len(learners)
	if folds*len(learners) != len(specs) {
		return nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch.Results: %d jobs for %d points", len(specs), len(learners))
	}
	r := &GridResult{Params: params, Learners: learners, Scores: make([][]float64, len(learners)), FitSeconds: make([][]float64, len(learners))}
	seen := make([]bool, len(specs))
	for p := range learners {
		r.Scores[p], r.FitSeconds[p] = make([]float64, folds), make([]float64, folds)
	}
	for j, m := range specs {
		if m.Ensemble != "grid_search" || m.Estimator < 0 || m.Estimator >= len(learners) || m.Fold < 0 || m.Fold >= folds || seen[m.Estimator*folds+m.Fold] {
			return nil, errors.Wrapf(ErrConfig, "ensemble: GridSearch.Results: job %d is %s point %d fold %d, want each of %d points × %d folds once", j, m.Ensemble, m.Estimator, m.Fold, len(learners), folds)
		}
		seen[m.Estimator*folds+m.Fold] = true
		r.Scores[m.Estimator][m.Fold] = scores[j]
		if fitSeconds != nil {
			r.FitSeconds[m.Estimator][m.Fold] = fitSeconds[j]
		}
	}
	for _, s := range r.Scores {
		m := (&CVResult{Scores: s}).Mean()
		v := 0.0
		for _, x := range s {
			v += (x - m) * (x - m)
		}
		r.Mean, r.Std = append(r.Mean, m), append(r.Std, math.Sqrt(v/float64(len(s))))
	}
	r.Rank = make([]int, len(r.Mean))
	for p, m := range r.Mean {
		r.Rank[p] = 1
		for _, o := range r.Mean {
			if o > m || (math.IsNaN(m) && !math.IsNaN(o)) {
				r.Rank[p]++
			}
		}
		if r.Rank[p] < r.Rank[r.Best] {
			r.Best = p
		}
	}
	return r, nil
}

// WriteTable writes the result as a text table, best point first: rank,
// mean and standard deviation of the scores, the point's parameters and
// its fold scores.
func (r *GridResult) WriteTable(w io.Writer) error {
	order := make([]int, len(r.Mean))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return r.Rank[order[a]] < r.Rank[order[b]] })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tmean\tstd\tparams\tfold scores")
	for _, p := range order {
		folds := make([]string, len(r.Scores[p]))
		for f, s := range r.Scores[p] {
			folds[f] = fmt.Sprintf("%.4f", s)
		}
		fmt.Fprintf(tw, "%d\t%.4f\t%.4f\t%s\t%s\n", r.Rank[p], r.Mean[p], r.Std[p], r.Params[p], strings.Join(folds, " "))
	}
	return errors.Wrap(tw.Flush(), "ensemble: GridResult.WriteTable")
}
