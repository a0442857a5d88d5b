package experiment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/keragon/keragon/ensemble"
	"github.com/pkg/errors"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*JobResult)(nil)).Elem())
	register.DoFn3x1[context.Context, int, func(JobResult), error](&trainFn{})
	register.Emitter1[JobResult]()
	register.DoFn3x1[context.Context, int, func(*JobResult) bool, error](&finishFn{})
	register.Iter1[JobResult]()
}

// File names in the output directory.
const (
	ResultFile = "result.json"
	ModelFile  = "model.json"
)

// trainFn trains jobs. It carries the experiment (a few hundred bytes of
// JSON), not the data: Setup works out the plan — reading the data —
// once per worker process.
type trainFn struct {
	Experiment string `json:"experiment"`

	plan *plan
}

func (f *trainFn) Setup(ctx context.Context) error {
	p, err := planOf(ctx, f.Experiment)
	f.plan = p
	return err
}

func (f *trainFn) ProcessElement(ctx context.Context, job int, emit func(JobResult)) error {
	r, err := f.plan.run(ctx, job)
	if err != nil {
		return err
	}
	emit(r)
	return nil
}

// finishFn combines every job's result on one worker and writes
// result.json (and model.json for an ensemble) to Output.
type finishFn struct {
	Experiment string `json:"experiment"`
	Output     string `json:"output"`
	RunID      string `json:"run_id"`
}

func (f *finishFn) ProcessElement(ctx context.Context, _ int, results func(*JobResult) bool) error {
	p, err := planOf(ctx, f.Experiment)
	if err != nil {
		return err
	}
	var all []JobResult
	var r JobResult
	for results(&r) {
		all = append(all, r)
		r = JobResult{}
	}
	res, ens, err := p.finish(ctx, all)
	if err != nil {
		return err
	}
	res.RunID = f.RunID
	if ens != nil {
		res.Model = outputPath(f.Output, ModelFile)
		if err := writeFile(ctx, res.Model, func(w io.Writer) error { return ensemble.Save(w, ens) }); err != nil {
			return err
		}
	}
	return writeFile(ctx, outputPath(f.Output, ResultFile), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(res)
	})
}

// outputPath joins a directory (local or a URL) and a file name.
func outputPath(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// writeFile writes a file through Beam's file systems.
func writeFile(ctx context.Context, path string, write func(io.Writer) error) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return errors.Wrapf(err, "experiment: writing %s", path)
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return errors.Wrapf(err, "experiment: writing %s", path)
	}
	err = write(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return errors.Wrapf(err, "experiment: writing %s", path)
}

// Pipeline builds the experiment's pipeline, which writes result.json
// (and model.json for an ensemble) to the directory output (a local path
// or a URL such as gs://bucket/dir) with runID in the result:
//
//	Create(job numbers) → Reshuffle → ParDo(train) → AddFixedKey → GroupByKey → ParDo(finish)
//
// The launcher works out the plan first (reading the data) to check the
// experiment and count the jobs; only the job numbers and the
// experiment's JSON go into the pipeline. The Reshuffle spreads the jobs
// over bundles and workers (without it a runner fuses them into one
// bundle that trains them one after another). Each worker process reads
// the data once, in the train DoFn's Setup, and trains at most
// WorkerJobs jobs at once. One worker gathers the results and combines
// them in job order, so the result does not depend on where or in which
// order the jobs ran.
func Pipeline(ctx context.Context, e *Experiment, output, runID string) (*beam.Pipeline, error) {
	enc, err := e.encode()
	if err != nil {
		return nil, err
	}
	p, err := planOf(ctx, enc)
	if err != nil {
		return nil, err
	}
	jobs := make([]int, len(p.specs))
	for i := range jobs {
		jobs[i] = i
	}
	pipe, s := beam.NewPipelineWithRoot()
	col := beam.CreateList(s.Scope("jobs"), jobs)
	col = beam.Reshuffle(s.Scope("spread"), col)
	done := beam.ParDo(s.Scope("train"), &trainFn{Experiment: enc}, col)
	all := beam.GroupByKey(s.Scope("gather"), beam.AddFixedKey(s.Scope("gather"), done))
	beam.ParDo0(s.Scope("finish"), &finishFn{Experiment: enc, Output: output, RunID: runID}, all)
	return pipe, nil
}

// Run runs the experiment on the runner chosen by Beam's flags
// (--runner, default prism, --endpoint, --environment_type, …; see
// beam.Init), writing to the directory output, and returns the result it
// reads back from there. A local output directory is made if missing.
// If jobs failed, the error is an *ensemble.FitError naming each one,
// and the result holds what the others gave (a bagging or voting
// ensemble of the members that trained, as Fit keeps them).
func Run(ctx context.Context, e *Experiment, output string) (*Result, error) {
	start := time.Now()
	if output == "" {
		return nil, errors.New("experiment: no output directory")
	}
	if !strings.Contains(output, "://") {
		if err := os.MkdirAll(output, 0o755); err != nil {
			return nil, errors.Wrap(err, "experiment")
		}
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, errors.Wrap(err, "experiment")
	}
	runID := hex.EncodeToString(id)
	pipe, err := Pipeline(ctx, e, output, runID)
	if err != nil {
		return nil, err
	}
	if err := beamx.Run(ctx, pipe); err != nil {
		return nil, errors.Wrap(err, "experiment: the pipeline failed")
	}
	res, err := ReadResult(ctx, outputPath(output, ResultFile))
	if err != nil {
		return nil, err
	}
	if res.RunID != runID {
		return nil, errors.Errorf("experiment: %s is from run %s, not from this run %s (did the job finish?)", outputPath(output, ResultFile), res.RunID, runID)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, res.Err()
}

// ReadResult reads a result.json written by a pipeline.
func ReadResult(ctx context.Context, path string) (*Result, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, errors.Wrapf(err, "experiment: reading %s", path)
	}
	defer fs.Close()
	raw, err := filesystem.Read(ctx, fs, path)
	if err != nil {
		return nil, errors.Wrapf(err, "experiment: reading %s", path)
	}
	var res Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, errors.Wrapf(err, "experiment: reading %s", path)
	}
	return &res, nil
}
