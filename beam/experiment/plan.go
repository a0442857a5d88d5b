package experiment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/keragon/keragon/ensemble"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A plan is an experiment's jobs, worked out from the experiment and its
// data. Every worker process works it out once (its data read once), the
// same way, so only job numbers travel through the pipeline: the data
// and the member specs (bootstrap rows, folds) are never embedded in it.
type plan struct {
	e              *Experiment
	kind           string
	x, y           *tensor.Dense
	xTest, yTest   *tensor.Dense
	specs          []ensemble.MemberSpec
	ens            ensemble.Learner // the untrained ensemble (KindEnsemble)
	folds          []datasets.Fold  // KindCrossValidation, KindGridSearch
	grid           *ensemble.GridSearch
	points         []ensemble.Spec // the grid's learners
	slots          chan struct{}   // bounds the jobs trained at once
	readSeconds    float64         // time to read the data
	planSeconds    float64         // time to plan once the data is read
	trainPath      string
	testPath       string
	readTrainBytes int64
}

// newEnsemble makes the experiment's untrained ensemble and checks that
// its learners are described as data.
func newEnsemble(e *Experiment) (ensemble.Learner, error) {
	l, err := e.Ensemble.New(e.Seed)
	if err != nil {
		return nil, err
	}
	switch v := l.(type) {
	case *ensemble.Bagging:
		if v.Learner == nil {
			return nil, errors.New("experiment: the bagging ensemble has no learner (set params.learner)")
		}
	case *ensemble.Voting:
		if len(v.EstimatorSpecs) == 0 {
			return nil, errors.New("experiment: the voting ensemble has no estimators (set params.estimators)")
		}
	case *ensemble.Stacking:
		if len(v.EstimatorSpecs) == 0 {
			return nil, errors.New("experiment: the stacking ensemble has no estimators (set params.estimators)")
		}
	default:
		return nil, errors.Errorf("experiment: ensemble kind %q: want \"bagging\", \"voting\" or \"stacking\"", e.Ensemble.Kind)
	}
	return l, nil
}

// newPlan reads the data and plans the jobs.
func newPlan(ctx context.Context, e *Experiment) (*plan, error) {
	if err := e.Check(); err != nil {
		return nil, err
	}
	p := &plan{e: e, kind: e.Kind(), trainPath: e.Data.Train, testPath: e.Data.Test}
	start := time.Now()
	var err error
	if p.x, p.y, p.readTrainBytes, err = readCSV(ctx, e.Data.Train, e.Data.LabelColumn); err != nil {
		return nil, err
	}
	if e.Data.Test != "" {
		if p.xTest, p.yTest, _, err = readCSV(ctx, e.Data.Test, e.Data.LabelColumn); err != nil {
			return nil, err
		}
	}
	p.readSeconds = time.Since(start).Seconds()
	start = time.Now()
	switch p.kind {
	case KindEnsemble:
		if p.ens, err = newEnsemble(e); err != nil {
			return nil, err
		}
		switch v := p.ens.(type) {
		case *ensemble.Bagging:
			p.specs, err = v.Plan(p.x, p.y)
		case *ensemble.Voting:
			p.specs, err = v.Plan(p.x, p.y)
		case *ensemble.Stacking:
			p.specs, err = v.Plan(p.x, p.y)
		}
	case KindCrossValidation:
		if p.folds, err = e.makeFolds(p.y); err == nil {
			p.specs, err = ensemble.CVPlan(p.folds, p.y, ensemble.CVConfig{Regression: e.Regression, Seed: e.Seed})
		}
	case KindGridSearch:
		if p.folds, err = e.makeFolds(p.y); err != nil {
			break
		}
		p.grid = e.grid()
		p.grid.Folds = p.folds
		if p.points, _, err = p.grid.Points(); err == nil {
			p.specs, err = p.grid.Plan(p.x, p.y)
		}
	}
	if err != nil {
		return nil, errors.WithMessage(err, "experiment")
	}
	p.planSeconds = time.Since(start).Seconds()
	n := e.WorkerJobs
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p.slots = make(chan struct{}, n)
	return p, nil
}

// makeFolds makes the cross-validation folds: StratifiedKFold of the
// labels, or KFold for regression.
func (e *Experiment) makeFolds(y *tensor.Dense) ([]datasets.Fold, error) {
	cfg := datasets.KFoldConfig{Splits: e.Folds.Splits, Shuffle: e.Folds.Shuffle, Seed: e.Folds.Seed}
	if e.Regression {
		return datasets.KFold(y.Shape()[0], cfg)
	}
	return datasets.StratifiedKFold(y, cfg)
}

// factory returns the Factory of job m's learner.
func (p *plan) factory(m ensemble.MemberSpec) ensemble.Factory {
	switch p.kind {
	case KindCrossValidation:
		return p.e.CrossValidation.New
	case KindGridSearch:
		return p.points[m.Estimator].New
	}
	switch v := p.ens.(type) {
	case *ensemble.Bagging:
		return v.Learner.New
	case *ensemble.Voting:
		return v.EstimatorSpecs[m.Estimator].New
	case *ensemble.Stacking:
		return v.EstimatorSpecs[m.Estimator].New
	}
	return nil
}

// A JobResult is what a worker reports for one job: how long it trained,
// where, and its score (cross-validation and grid jobs) or the trained
// member in ensemble.Save's form (ensemble jobs), or why it failed.
type JobResult struct {
	Index   int
	Seconds float64
	Worker  string
	Score   float64
	Model   []byte
	Error   string
}

// workerID names this process: host and process id.
func workerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// run trains job i, at most len(p.slots) at once in this process. A
// failure to train is part of the result (the job is data, and so is its
// error: a runner's retries cannot mend it); only a cancelled context is
// an error.
func (p *plan) run(ctx context.Context, i int) (JobResult, error) {
	r := JobResult{Index: i, Worker: workerID()}
	if i < 0 || i >= len(p.specs) {
		return r, errors.Errorf("experiment: job %d of %d", i, len(p.specs))
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return r, errors.Wrapf(ctx.Err(), "experiment: job %d", i)
	}
	defer func() { <-p.slots }()
	m := p.specs[i]
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = errors.Errorf("panic: %v", v)
			}
		}()
		l, err := ensemble.TrainMember(ctx, p.factory(m), m, p.x, p.y, nil)
		if err != nil {
			return err
		}
		r.Seconds = time.Since(start).Seconds()
		if p.kind != KindEnsemble {
			r.Score, err = ensemble.ScoreMember(l, m, p.x, p.y)
			return err
		}
		var b bytes.Buffer
		if err := ensemble.Save(&b, l); err != nil {
			return err
		}
		r.Model = b.Bytes()
		return nil
	}()
	if ctx.Err() != nil {
		return r, errors.Wrapf(ctx.Err(), "experiment: job %d", i)
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r, nil
}

// readCSV reads a CSV file through Beam's file systems with
// keras/datasets.CSV; it returns the file's size too.
func readCSV(ctx context.Context, path string, label *int) (x, y *tensor.Dense, size int64, err error) {
	col := -1
	if label != nil {
		col = *label
	}
	local := path
	if strings.Contains(path, "://") {
		fs, err := filesystem.New(ctx, path)
		if err != nil {
			return nil, nil, 0, errors.Wrapf(err, "experiment: reading %s", path)
		}
		defer fs.Close()
		in, err := fs.OpenRead(ctx, path)
		if err != nil {
			return nil, nil, 0, errors.Wrapf(err, "experiment: reading %s", path)
		}
		defer in.Close()
		tmp, err := os.CreateTemp("", "keragon-data-*.csv")
		if err != nil {
			return nil, nil, 0, errors.Wrap(err, "experiment")
		}
		defer os.Remove(tmp.Name())
		_, err = io.Copy(tmp, in)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, nil, 0, errors.Wrapf(err, "experiment: reading %s", path)
		}
		local = tmp.Name()
	}
	if st, err := os.Stat(local); err == nil {
		size = st.Size()
	}
	x, y, _, err = datasets.CSV(local, col)
	if err != nil {
		return nil, nil, 0, errors.WithMessagef(err, "experiment: %s", path)
	}
	return x, y, size, nil
}

// plans holds the plans this process worked out, by experiment (its
// JSON), so that every DoFn instance and bundle of a job reads the data
// once. It keeps the last few.
var plans struct {
	sync.Mutex
	order []string
	m     map[string]*planEntry
}

type planEntry struct {
	once sync.Once
	p    *plan
	err  error
}

const keptPlans = 4

// planOf returns the plan of the experiment encoded as s, working it out
// on first use in this process.
func planOf(ctx context.Context, s string) (*plan, error) {
	plans.Lock()
	if plans.m == nil {
		plans.m = map[string]*planEntry{}
	}
	ent, ok := plans.m[s]
	if !ok {
		ent = &planEntry{}
		plans.m[s] = ent
		plans.order = append(plans.order, s)
		if len(plans.order) > keptPlans {
			delete(plans.m, plans.order[0])
			plans.order = plans.order[1:]
		}
	}
	plans.Unlock()
	ent.once.Do(func() {
		e, err := decode(s)
		if err != nil {
			ent.err = err
			return
		}
		ent.p, ent.err = newPlan(ctx, e)
	})
	if ent.err != nil { // read again next time: the cause may pass
		plans.Lock()
		if plans.m[s] == ent {
			delete(plans.m, s)
			for i, k := range plans.order {
				if k == s {
					plans.order = append(plans.order[:i], plans.order[i+1:]...)
					break
				}
			}
		}
		plans.Unlock()
	}
	return ent.p, ent.err
}
