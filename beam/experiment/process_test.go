package experiment

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/keragon/keragon/ensemble"
	"gorgonia.org/tensor"
)

func init() {
	// A learner whose Fit kills a worker process (and does nothing in the
	// test process), to see a dying worker fail the run.
	err := ensemble.Register("test_worker_exit", func(json.RawMessage, uint64) (ensemble.Learner, error) {
		return ensemble.LearnerFuncs{
			FitFunc: func(x, y *tensor.Dense, w []float64) error {
				if f := flag.Lookup("worker"); f != nil && f.Value.String() == "true" {
					os.Exit(3)
				}
				return nil
			},
			PredictFunc: func(x *tensor.Dense) (*tensor.Dense, error) { return x, nil },
		}, nil
	})
	if err != nil {
		panic(err)
	}
}

// TestProcessWorkers runs pipelines with their workers in a separate
// process, as on a cluster: Prism's PROCESS environment starts Beam's Go
// boot program (built here) through scripts/prism-boot.sh; the boot
// program fetches the worker binary — this test binary — from Prism's
// artifact service and runs it with --worker, and the worker reads the
// data itself. The results are the in-process ones bit for bit; a
// failing member is still named, and a worker process that dies fails the
// run rather than hanging it.
func TestProcessWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Beam's boot program and starts worker processes")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build Beam's boot program")
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	dir := t.TempDir()
	boot := filepath.Join(dir, "boot")
	start := time.Now()
	if out, err := exec.CommandContext(ctx, goCmd, "build", "-o", boot, "github.com/apache/beam/sdks/v2/go/container").CombinedOutput(); err != nil {
		t.Fatalf("building Beam's boot program: %v\n%s", err, out)
	}
	t.Logf("Beam's boot program built in %.1fs", time.Since(start).Seconds())
	wrapper, err := filepath.Abs(filepath.Join("..", "scripts", "prism-boot.sh"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(map[string]any{"command": wrapper, "env": map[string]string{"BEAM_BOOT": boot, "BEAM_SEMI_PERSIST_DIR": dir}})
	if err != nil {
		t.Fatal(err)
	}
	envType, envCfg, worker := *jobopts.EnvironmentType, *jobopts.EnvironmentConfig, *jobopts.WorkerBinary
	*jobopts.EnvironmentType, *jobopts.EnvironmentConfig, *jobopts.WorkerBinary = "PROCESS", string(cfg), self
	defer func() {
		*jobopts.EnvironmentType, *jobopts.EnvironmentConfig, *jobopts.WorkerBinary = envType, envCfg, worker
	}()
	defer removeWorkerCopies(t, self, time.Now())

	me := fmt.Sprintf(":%d", os.Getpid())
	separate := func(name string, r *Result) {
		for _, w := range r.Workers {
			if strings.HasSuffix(w, me) {
				t.Errorf("%s: a job ran in the test process (%s), want a separate worker process", name, w)
			}
		}
	}
	got, want := runBoth(t, experiment(t, forestJSON))
	checkTest(t, "forest", got, want)
	separate("forest", got)
	got, want = runBoth(t, experiment(t, gridJSON))
	if g, w := got.GridSearch, want.GridSearch; g == nil || !sameBits(flatten(g.Scores), flatten(w.Scores)) || !sameBits(g.Mean, w.Mean) || g.Best != w.Best {
		t.Errorf("grid with worker processes: means %v, in process %v", g.Mean, w.Mean)
	}
	separate("grid", got)

	e := experiment(t, `{"name": "failing", "data": {"train": "iris_train.csv"}, "folds": {"splits": 2},
		"grid_search": {"learner": {"kind": "tree"}, "grid": {"min_samples_split": [2, 1]}}}`)
	res, err := Run(ctx, e, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "grid search member 1, fold 0") || ctx.Err() != nil {
		t.Errorf("a failing grid point with worker processes: %v, want an error naming point 1, fold 0", err)
	} else {
		separate("failing", res)
	}

	e = experiment(t, `{"name": "dying", "data": {"train": "iris_train.csv"}, "folds": {"splits": 2},
		"cross_validation": {"kind": "test_worker_exit"}}`)
	_, err = Run(ctx, e, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "SDK worker disconnected") || ctx.Err() != nil {
		t.Errorf("a worker process that dies: %v, want the run to fail with Prism's \"SDK worker disconnected\"", err)
	}
}

// removeWorkerCopies removes the copies of the worker binary that Beam's
// boot program leaves in /tmp/bin*/worker (its path is fixed), made by
// this test: those newer than since, of the test binary's size.
func removeWorkerCopies(t *testing.T, self string, since time.Time) {
	st, err := os.Stat(self)
	if err != nil {
		return
	}
	dirs, _ := filepath.Glob("/tmp/bin*")
	for _, d := range dirs {
		w, err := os.Stat(filepath.Join(d, "worker"))
		if err == nil && w.Size() == st.Size() && !w.ModTime().Before(since) {
			if err := os.RemoveAll(d); err != nil {
				t.Logf("removing the boot program's copy of the worker: %v", err)
			}
		}
	}
}
