// Command bench measures Keragon against PyTorch on the same workloads, in
// the same run: MLP and CNN training epochs (and the CNN with batch
// normalisation), MLP and CNN inference throughput, a 1024³ float32 GEMM,
// and the bytes a training step allocates.
//
//	go run ./bench -quick                                   # pure-Go BLAS
//	CGO_LDFLAGS=-lopenblas go run -tags openblas ./bench    # OpenBLAS
//
// Each measurement runs in a child process of its own (this program with
// -worker, or bench/torch_bench.py under Debian's /usr/bin/python3 with
// python3-torch), the two sides alternating, for -rounds rounds; the table
// gives the medians and the ratio Keragon/PyTorch. Both sides get the same
// environment: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS and
// GOMAXPROCS set to -threads, torch.set_num_threads(-threads), and
// OPENBLAS_CORETYPE=-coretype (Debian's OpenBLAS 0.3.21 does not recognise
// recent Xeons and silently falls back to a slow generic kernel without
// it). PyTorch also gets OMP_WAIT_POLICY=PASSIVE (-omp-wait): with
// libgomp's default, its OpenMP threads spin between parallel regions and,
// on a shared two-core machine, ran the MLP epoch 15 times slower (72 s
// against 4.7 s). The last line printed is one JSON object with every
// median and ratio.
//
// PyTorch is optional. Without it (no -python, or no torch module there)
// bench says in one line what to install and measures Keragon alone;
// -install-torch installs Debian's python3-torch with apt-get first (as
// root or through sudo), and -notorch never looks for Python.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
)

func main() {
	worker := flag.String("worker", "", "internal: run one workload in this process and print its JSON line")
	quick := flag.Bool("quick", false, "fewer samples per workload (finishes in under 3 minutes)")
	rounds := flag.Int("rounds", 3, "rounds; each runs every workload on both sides")
	threads := flag.Int("threads", 2, "threads for both sides (BLAS, OpenMP, torch, GOMAXPROCS)")
	torchThreads := flag.Int("torch-threads", 0, "torch.set_num_threads and OMP_NUM_THREADS for PyTorch alone (0: -threads)")
	quiet := flag.Duration("quiet", 0, "before each measurement, wait up to this long for no other runnable process (shared machines)")
	ompWait := flag.String("omp-wait", "PASSIVE", "OMP_WAIT_POLICY for PyTorch (\"\" leaves libgomp's default, which spins)")
	coretype := flag.String("coretype", "SkylakeX", "OPENBLAS_CORETYPE for both sides (\"\" leaves it unset)")
	python := flag.String("python", "/usr/bin/python3", "Python with torch (Debian's python3-torch)")
	script := flag.String("script", "", "path of torch_bench.py (default: next to this package's source)")
	only := flag.String("workloads", "", "comma-separated workloads to run (default: all)")
	noTorch := flag.Bool("notorch", false, "run the Keragon side only (no Python needed)")
	installTorch := flag.Bool("install-torch", false, "when -python cannot import torch, install Debian's python3-torch with apt-get (as root or through sudo)")
	samples := flag.Int("samples", 0, "samples per workload (0: the workload's default)")
	batch := flag.Int("batch", 128, "batch size")
	reps := flag.Int("reps", 9, "GEMM repetitions")
	seed := flag.Uint64("seed", 1, "data seed")
	cpuprofile := flag.String("cpuprofile", "", "with -worker: write a CPU profile of the workload to this file")
	flag.Parse()

	if *worker != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			check(err)
			check(pprof.StartCPUProfile(f))
			defer pprof.StopCPUProfile()
		}
		check(runWorker(*worker, params{samples: *samples, batch: *batch, reps: *reps, seed: *seed}))
		return
	}
	cfg := config{quick: *quick, rounds: *rounds, threads: *threads, torchThreads: *torchThreads, ompWait: *ompWait, quiet: *quiet, coretype: *coretype, python: *python,
		script: *script, torch: !*noTorch, samples: *samples, batch: *batch, reps: *reps, seed: *seed}
	var err error
	if cfg.workloads, err = selectWorkloads(*only); err != nil {
		check(err)
	}
	if cfg.torch {
		cfg.torch = torchAvailable(cfg.python, *installTorch, os.Stderr)
	}
	check(runBench(cfg, os.Stdout))
}

// runWorker runs one workload here and prints its result as JSON.
func runWorker(name string, p params) error {
	w, ok := workloadNamed(name)
	if !ok {
		return errors.Errorf("bench: unknown workload %q", name)
	}
	if p.samples == 0 {
		p.samples = w.samples
	}
	res, err := w.run(p)
	if err != nil {
		return errors.WithMessagef(err, "bench: %s", name)
	}
	res["side"], res["workload"], res["blas"] = "keragon", name, graph.BLASName
	res["blas_info"] = graph.BLASInfo()
	res["gomaxprocs"], res["go"] = runtime.GOMAXPROCS(0), runtime.Version()
	res["openblas_num_threads"] = os.Getenv("OPENBLAS_NUM_THREADS")
	res["openblas_coretype"] = os.Getenv("OPENBLAS_CORETYPE")
	res["batch"], res["samples"] = p.batch, p.samples
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

type config struct {
	quick                bool
	rounds, threads      int
	torchThreads         int
	ompWait              string
	quiet                time.Duration
	coretype, python     string
	script               string
	torch                bool
	workloads            []workload
	samples, batch, reps int
	seed                 uint64
}

func selectWorkloads(list string) ([]workload, error) {
	if list == "" {
		return workloads, nil
	}
	var ws []workload
	for _, name := range strings.Split(list, ",") {
		w, ok := workloadNamed(strings.TrimSpace(name))
		if !ok {
			var names []string
			for _, w := range workloads {
				names = append(names, w.name)
			}
			return nil, errors.Errorf("bench: unknown workload %q (known: %s)", name, strings.Join(names, ", "))
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// result is one child's JSON line.
type result map[string]any

func (r result) num(key string) (float64, bool) {
	v, ok := r[key].(float64)
	return v, ok
}

// figure is the number a workload compares.
func figure(w workload, r result) (float64, bool) {
	switch w.unit {
	case "s/epoch":
		return r.num("seconds_per_epoch")
	case "images/s":
		return r.num("images_per_second")
	case "req/s":
		return r.num("requests_per_second")
	}
	return r.num("gflops")
}

func runBench(cfg config, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return errors.Wrap(err, "bench: finding this program")
	}
	script := cfg.script
	if script == "" {
		script = defaultScript()
	}
	env := benchEnv(cfg)
	fmt.Fprintf(out, "Keragon vs PyTorch, %s\n", time.Now().Format(time.RFC3339))
	fmt.Fprintf(out, "machine: %s, %d cores; load average before: %s\n", cpuModel(), runtime.NumCPU(), loadAverage())
	fmt.Fprintf(out, "Keragon: %s, BLAS %s; both sides: %s\n", runtime.Version(), graph.BLASName, strings.Join(env, " "))
	if cfg.torch {
		fmt.Fprintf(out, "PyTorch: torch.set_num_threads(%d), OMP_NUM_THREADS=%d, OMP_WAIT_POLICY=%q\n", cfg.torchThreadCount(), cfg.torchThreadCount(), cfg.ompWait)
	} else {
		fmt.Fprintf(out, "PyTorch: not run\n")
	}
	fmt.Fprintf(out, "batch %d, %d rounds, sides alternating; quick=%v\n", cfg.batch, cfg.rounds, cfg.quick)

	got := map[string]map[string][]result{} // workload → side → runs
	for round := 0; round < cfg.rounds; round++ {
		for _, w := range cfg.workloads {
			sides := []string{"keragon", "pytorch"}
			if !cfg.torch || w.keragonOnly {
				sides = sides[:1]
			} else if round%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, side := range sides {
				n := cfg.samples
				if n == 0 && cfg.quick {
					n = w.quick
				} else if n == 0 {
					n = w.samples
				}
				reps := cfg.reps
				if cfg.quick {
					reps = min(reps, 5)
				}
				var cmd *exec.Cmd
				common := []string{"-samples", strconv.Itoa(n), "-batch", strconv.Itoa(cfg.batch),
					"-reps", strconv.Itoa(reps), "-seed", strconv.FormatUint(cfg.seed, 10)}
				if side == "keragon" {
					cmd = exec.Command(self, append([]string{"-worker", w.name}, common...)...)
				} else {
					args := []string{script, "--workload", w.name, "--threads", strconv.Itoa(cfg.torchThreadCount())}
					for i := 0; i < len(common); i += 2 {
						args = append(args, "-"+common[i], common[i+1])
					}
					cmd = exec.Command(cfg.python, args...)
				}
				waited := waitQuiet(cfg.quiet)
				cmd.Env = append(os.Environ(), env...)
				if side == "pytorch" {
					cmd.Env = append(cmd.Env, "OMP_NUM_THREADS="+strconv.Itoa(cfg.torchThreadCount()))
					if cfg.ompWait != "" {
						cmd.Env = append(cmd.Env, "OMP_WAIT_POLICY="+cfg.ompWait)
					}
				}
				r, err := runChild(cmd)
				if err != nil {
					return errors.WithMessagef(err, "bench: %s on %s", w.name, side)
				}
				f, _ := figure(w, r)
				fmt.Fprintf(out, "round %d  %-13s %-8s %10.4g %-9s (load %s%s)\n", round+1, w.name, side, f, w.unit, loadAverage(), waited)
				if got[w.name] == nil {
					got[w.name] = map[string][]result{}
				}
				got[w.name][side] = append(got[w.name][side], r)
			}
		}
	}
	fmt.Fprintf(out, "load average after: %s\n", loadAverage())
	for _, side := range []string{"keragon", "pytorch"} {
		for _, w := range cfg.workloads {
			if rs := got[w.name][side]; len(rs) > 0 {
				if info, ok := rs[0]["blas_info"].(string); ok {
					fmt.Fprintf(out, "%s BLAS: %s\n", side, info)
				}
				break
			}
		}
	}
	fmt.Fprintln(out)
	return report(cfg, got, out)
}

// report prints the table of medians and the JSON line.
func report(cfg config, got map[string]map[string][]result, out io.Writer) error {
	summary := map[string]any{"blas": graph.BLASName, "threads": cfg.threads, "torch_threads": cfg.torchThreadCount(), "coretype": cfg.coretype,
		"rounds": cfg.rounds, "quick": cfg.quick}
	fmt.Fprintf(out, "| workload | unit | Keragon | PyTorch | Keragon/PyTorch |\n|---|---|---|---|---|\n")
	var peak float64
	for _, w := range cfg.workloads {
		k := medianOf(w, got[w.name]["keragon"])
		p := medianOf(w, got[w.name]["pytorch"])
		summary[w.name+"_keragon"], summary[w.name+"_pytorch"] = round4(k), round4(p)
		ratio := "—"
		if p > 0 && k > 0 {
			summary[w.name+"_ratio"] = round4(k / p)
			ratio = fmt.Sprintf("%.2f", k/p)
			if w.higher {
				ratio += " (higher is better)"
			} else {
				ratio += " (lower is better)"
			}
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", w.name, w.unit, fmtNum(k), fmtNum(p), ratio)
		for _, side := range []string{"keragon", "pytorch"} {
			for _, r := range got[w.name][side] {
				if v, ok := r.num("peak_gflops"); ok {
					peak = max(peak, v)
				}
			}
		}
	}
	for _, w := range cfg.workloads {
		runs := got[w.name]["keragon"]
		for _, key := range append([]string{"step_bytes", "step_objects", "fit_bytes_per_step"}, serveKeys...) {
			var vs []float64
			for _, r := range runs {
				if v, ok := r.num(key); ok {
					vs = append(vs, v)
				}
			}
			if len(vs) == 0 {
				continue
			}
			m := median(vs)
			summary[w.name+"_"+key] = round4(m)
			unit := "B"
			switch {
			case key == "step_objects":
				unit = "objects"
			case strings.HasPrefix(key, "requests_per_second"):
				unit = "req/s"
			case strings.Contains(key, "_ms_"):
				unit = "ms"
			case key == "predict_images_per_second":
				unit = "images/s"
			case strings.HasPrefix(key, "mean_batch"):
				unit = "samples"
			}
			fmt.Fprintf(out, "| %s %s | %s | %s | — | — |\n", w.name, strings.ReplaceAll(key, "_", " "), unit, fmtNum(m))
		}
	}
	if peak > 0 {
		summary["peak_gflops"] = round4(peak)
		if k, ok := summary["gemm_keragon"].(float64); ok {
			fmt.Fprintf(out, "\nmeasured GEMM peak (best 2048³ run, either side): %.0f GFLOP/s; Keragon's 1024³ median is %.0f%% of it\n", peak, 100*k/peak)
		}
	}
	b, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, string(b))
	return nil
}

func medianOf(w workload, runs []result) float64 {
	var vs []float64
	for _, r := range runs {
		if v, ok := figure(w, r); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0
	}
	return median(vs)
}

// runChild runs cmd and parses the last line of its output as JSON.
func runChild(cmd *exec.Cmd) (result, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.Wrapf(err, "%s: %s", strings.Join(cmd.Args, " "), lastLines(stderr.String(), 5))
	}
	var last string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	var r result
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return nil, errors.Wrapf(err, "%s printed %q", strings.Join(cmd.Args, " "), last)
	}
	return r, nil
}

// torchThreadCount is the number of intra-op threads PyTorch gets.
func (c config) torchThreadCount() int {
	if c.torchThreads > 0 {
		return c.torchThreads
	}
	return c.threads
}

// benchEnv is the environment both sides run in.
func benchEnv(cfg config) []string {
	t := strconv.Itoa(cfg.threads)
	env := []string{"OPENBLAS_NUM_THREADS=" + t, "OMP_NUM_THREADS=" + t, "MKL_NUM_THREADS=" + t, "GOMAXPROCS=" + t}
	if cfg.coretype != "" {
		env = append(env, "OPENBLAS_CORETYPE="+cfg.coretype)
	}
	return env
}

// defaultScript finds torch_bench.py beside this source file, or in
// ./bench when run from the module root.
func defaultScript() string {
	_, file, _, ok := runtime.Caller(0)
	if ok {
		p := filepath.Join(filepath.Dir(file), "torch_bench.py")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return filepath.Join("bench", "torch_bench.py")
}

// waitQuiet waits, up to max, until no process but this one has been
// runnable for three checks in a row (the running count of
// /proc/loadavg), and says how long it waited.
func waitQuiet(max time.Duration) string {
	if max <= 0 {
		return ""
	}
	start, calm := time.Now(), 0
	for calm < 3 && time.Since(start) < max {
		if runnable() <= 1 {
			calm++
		} else {
			calm = 0
		}
		time.Sleep(time.Second)
	}
	w := time.Since(start).Round(time.Second)
	if calm < 3 {
		return fmt.Sprintf(", not quiet after %v", w)
	}
	return fmt.Sprintf(", waited %v", w)
}

// runnable is the number of runnable processes, this one included.
func runnable() int {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0
	}
	n, _ := strconv.Atoi(strings.Split(f[3], "/")[0])
	return n
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.Index(l, ":"); i >= 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return runtime.GOARCH
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

func round4(x float64) float64 {
	if x == 0 {
		return 0
	}
	return float64(int64(x*1e4+0.5)) / 1e4
}

func fmtNum(x float64) string {
	switch {
	case x == 0:
		return "—"
	case x >= 1000:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %+v\n", err)
		os.Exit(1)
	}
}
