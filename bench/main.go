// Command bench measures Keragon against PyTorch on the same workloads, in
// the same run: MLP, CNN and LSTM training epochs (and the CNN with batch
// normalisation), MLP and CNN inference throughput, a 1024³ float32 GEMM,
// serving over HTTP (Keragon only), the first step of each model (graph
// build and compile included), and the bytes a training step allocates.
//
//	go run ./bench -quick                                   # Go sgemm
//	CGO_LDFLAGS=-lopenblas go run -tags openblas ./bench    # OpenBLAS
//
// Each measurement runs in a child process of its own (this program with
// -worker, or bench/torch_bench.py under Debian's /usr/bin/python3 with
// python3-torch), the sides alternating, for -rounds rounds. PyTorch runs
// with each of -torch-threads (by default 1 and -threads: on two shared
// cores one thread is sometimes faster) and is compared at its best. The
// table gives the medians, the ratio Keragon/PyTorch's best, and each
// workload's fraction of the machine's limit: its FLOP count (flops.go:
// the multiply-adds of its matrix products and convolutions, forward and
// backward) over its time, over the GEMM peak measured in the same run
// (the best 1024³ or 2048³ product of either side). Keragon gets
// OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS and GOMAXPROCS
// set to -threads, PyTorch the same variables and torch.set_num_threads
// set to its thread count; both get OPENBLAS_CORETYPE=-coretype (Debian's
// OpenBLAS 0.3.21 does not recognise recent processors and silently falls
// back to a slow generic kernel without it). By default (-coretype auto)
// it is the environment's OPENBLAS_CORETYPE when set, else SkylakeX on a
// processor with AVX-512 and Haswell on one with AVX2 and FMA only:
// SkylakeX's kernels die with an illegal instruction without AVX-512.
// PyTorch also gets OMP_WAIT_POLICY=PASSIVE (-omp-wait): with libgomp's
// default, its OpenMP threads spin between parallel regions and,
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
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/internal/cpuid"
	"github.com/pkg/errors"
)

func main() {
	worker := flag.String("worker", "", "internal: run one workload in this process and print its JSON line")
	quick := flag.Bool("quick", false, "fewer samples per workload (finishes in under 3 minutes)")
	rounds := flag.Int("rounds", 3, "rounds; each runs every workload on both sides")
	threads := flag.Int("threads", 2, "threads for both sides (BLAS, OpenMP, torch, GOMAXPROCS)")
	torchThreads := flag.String("torch-threads", "", "comma-separated thread counts PyTorch runs with, compared at its best (default: 1 and -threads)")
	quiet := flag.Duration("quiet", 0, "before each measurement, wait up to this long for no other runnable process (shared machines)")
	ompWait := flag.String("omp-wait", "PASSIVE", "OMP_WAIT_POLICY for PyTorch (\"\" leaves libgomp's default, which spins)")
	coretype := flag.String("coretype", "auto", "OPENBLAS_CORETYPE for both sides (\"\" leaves it unset; auto: the environment's, else SkylakeX with AVX-512, Haswell with AVX2)")
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
	cfg := config{quick: *quick, rounds: *rounds, threads: *threads, ompWait: *ompWait, quiet: *quiet, coretype: coreType(*coretype), python: *python,
		script: *script, torch: !*noTorch, samples: *samples, batch: *batch, reps: *reps, seed: *seed}
	var err error
	if cfg.torchThreads, err = parseThreads(*torchThreads, *threads); err != nil {
		check(err)
	}
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
	torchThreads         []int
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
	fmt.Fprintf(out, "Keragon: %s, BLAS %s; %s\n", runtime.Version(), graph.BLASName, strings.Join(env, " "))
	if cfg.torch {
		fmt.Fprintf(out, "PyTorch: torch.set_num_threads(n) and OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS=n for n in %v, compared at its best; OMP_WAIT_POLICY=%q\n", cfg.torchThreads, cfg.ompWait)
	} else {
		fmt.Fprintf(out, "PyTorch: not run\n")
	}
	fmt.Fprintf(out, "batch %d, %d rounds, sides alternating; quick=%v\n", cfg.batch, cfg.rounds, cfg.quick)

	got := map[string]map[string][]result{} // workload → side → runs
	for round := 0; round < cfg.rounds; round++ {
		for _, w := range cfg.workloads {
			sides := []string{"keragon"}
			if cfg.torch && !w.keragonOnly {
				for _, n := range cfg.torchThreads {
					sides = append(sides, torchSide(n))
				}
			}
			// Each round starts with another side.
			r := round % len(sides)
			sides = append(sides[r:], sides[:r]...)
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
					args := []string{script, "--workload", w.name, "--threads", strconv.Itoa(torchThreadsOf(side))}
					for i := 0; i < len(common); i += 2 {
						args = append(args, "-"+common[i], common[i+1])
					}
					cmd = exec.Command(cfg.python, args...)
				}
				waited := waitQuiet(cfg.quiet)
				cmd.Env = append(os.Environ(), env...)
				if side != "keragon" {
					t := strconv.Itoa(torchThreadsOf(side))
					cmd.Env = append(cmd.Env, "OMP_NUM_THREADS="+t, "OPENBLAS_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
					if cfg.ompWait != "" {
						cmd.Env = append(cmd.Env, "OMP_WAIT_POLICY="+cfg.ompWait)
					}
				}
				r, err := runChild(cmd)
				if err != nil {
					if strings.Contains(err.Error(), "illegal instruction") && cfg.coretype != "" {
						err = errors.WithMessagef(err, "OPENBLAS_CORETYPE=%s may need an instruction this processor lacks (try -coretype Haswell, or \"\")", cfg.coretype)
					}
					return errors.WithMessagef(err, "%s on %s", w.name, side)
				}
				f, _ := figure(w, r)
				fmt.Fprintf(out, "round %d  %-13s %-10s %10.4g %-9s (load %s%s)\n", round+1, w.name, side, f, w.unit, loadAverage(), waited)
				if got[w.name] == nil {
					got[w.name] = map[string][]result{}
				}
				got[w.name][side] = append(got[w.name][side], r)
			}
		}
	}
	fmt.Fprintf(out, "load average after: %s\n", loadAverage())
	for _, side := range cfg.sides() {
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

// report prints the table of medians, the first steps, the allocations
// and serving figures, and the JSON line.
func report(cfg config, got map[string]map[string][]result, out io.Writer) error {
	summary := map[string]any{"blas": graph.BLASName, "threads": cfg.threads, "torch_threads": cfg.torchThreads, "coretype": cfg.coretype,
		"rounds": cfg.rounds, "quick": cfg.quick}
	var peak float64
	for _, w := range cfg.workloads {
		for _, side := range cfg.sides() {
			for _, r := range got[w.name][side] {
				for _, key := range []string{"peak_gflops", "best_gflops"} {
					if v, ok := r.num(key); ok {
						peak = max(peak, v)
					}
				}
			}
		}
	}
	if peak > 0 {
		summary["peak_gflops"] = round4(peak)
	}
	torchCols := ""
	for _, n := range cfg.torchThreads {
		torchCols += fmt.Sprintf(" PyTorch %s |", threadsLabel(n))
	}
	fmt.Fprintf(out, "| workload | unit | Keragon |%s Keragon/PyTorch's best | Keragon, fraction of limit | PyTorch's best, fraction of limit |\n", torchCols)
	fmt.Fprintf(out, "|---|---|---|%s---|---|---|\n", strings.Repeat("---|", len(cfg.torchThreads)))
	for _, w := range cfg.workloads {
		k := medianOf(w, got[w.name]["keragon"])
		summary[w.name+"_keragon"] = round4(k)
		row := fmt.Sprintf("| %s | %s | %s |", w.name, w.unit, fmtNum(k))
		best := 0.0
		for _, n := range cfg.torchThreads {
			p := medianOf(w, got[w.name][torchSide(n)])
			summary[fmt.Sprintf("%s_pytorch_%dt", w.name, n)] = round4(p)
			row += fmt.Sprintf(" %s |", fmtNum(p))
			if p > 0 && (best == 0 || (w.higher && p > best) || (!w.higher && p < best)) {
				best = p
			}
		}
		summary[w.name+"_pytorch"] = round4(best)
		ratio := "—"
		if best > 0 && k > 0 {
			summary[w.name+"_ratio"] = round4(k / best)
			ratio = fmt.Sprintf("%.2f", k/best)
			if w.higher {
				ratio += " (higher is better)"
			} else {
				ratio += " (lower is better)"
			}
		}
		kf, pf := limitFraction(w, k, peak), limitFraction(w, best, peak)
		if kf > 0 {
			summary[w.name+"_keragon_limit"] = round4(kf)
		}
		if pf > 0 {
			summary[w.name+"_pytorch_limit"] = round4(pf)
		}
		fmt.Fprintf(out, "%s %s | %s | %s |\n", row, ratio, fmtPct(kf), fmtPct(pf))
	}
	if peak > 0 {
		fmt.Fprintf(out, "\nmeasured GEMM peak (the best 1024³ or 2048³ product of either side): %.0f GFLOP/s", peak)
		if k, ok := summary["gemm_keragon"].(float64); ok && k > 0 {
			fmt.Fprintf(out, "; Keragon's 1024³ median is %.0f%% of it", 100*k/peak)
		}
		fmt.Fprintln(out)
	}
	// First steps: building and compiling the program, and one step.
	var first []string
	for _, w := range cfg.workloads {
		k := medianKey(got[w.name]["keragon"], "first_step_seconds")
		if k == 0 {
			continue
		}
		summary[w.name+"_keragon_first_step_s"] = round4(k)
		line := fmt.Sprintf("| %s | %.0f |", w.name, 1000*k)
		for _, n := range cfg.torchThreads {
			p := medianKey(got[w.name][torchSide(n)], "first_step_seconds")
			if p > 0 {
				summary[fmt.Sprintf("%s_pytorch_%dt_first_step_s", w.name, n)] = round4(p)
			}
			line += " " + fmtMs(p) + " |"
		}
		first = append(first, line)
	}
	if len(first) > 0 {
		fmt.Fprintf(out, "\nFirst step (model built, program compiled, one training step or one batch predicted), ms:\n\n| workload | Keragon |%s\n|---|---|%s\n%s\n",
			torchCols, strings.Repeat("---|", len(cfg.torchThreads)), strings.Join(first, "\n"))
	}
	var extra []string
	for _, w := range cfg.workloads {
		runs := got[w.name]["keragon"]
		for _, key := range append([]string{"step_bytes", "step_objects", "fit_bytes_per_step"}, serveKeys...) {
			m := medianKey(runs, key)
			if m == 0 {
				continue
			}
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
			extra = append(extra, fmt.Sprintf("| %s %s | %s | %s |", w.name, strings.ReplaceAll(key, "_", " "), unit, fmtNum(m)))
		}
	}
	if len(extra) > 0 {
		fmt.Fprintf(out, "\nKeragon only:\n\n| figure | unit | median |\n|---|---|---|\n%s\n", strings.Join(extra, "\n"))
	}
	b, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, string(b))
	return nil
}

// limitFraction is the workload's FLOP rate at figure (seconds per epoch,
// or samples or requests per second) over the peak; 0 without a count.
func limitFraction(w workload, figure, peak float64) float64 {
	f := workFlops(w.name)
	if figure <= 0 || peak <= 0 {
		return 0
	}
	switch {
	case w.name == "gemm":
		return figure / peak
	case f == 0:
		return 0
	case w.unit == "s/epoch":
		return f * 60000 / figure / 1e9 / peak
	}
	return f * figure / 1e9 / peak
}

// medianKey is the median of a number the runs report (0 if none).
func medianKey(runs []result, key string) float64 {
	var vs []float64
	for _, r := range runs {
		if v, ok := r.num(key); ok {
			vs = append(vs, v)
		}
	}
	return median(vs)
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

// parseThreads reads -torch-threads: a comma-separated list, by default 1
// and the thread count of both sides.
func parseThreads(list string, threads int) ([]int, error) {
	if list == "" {
		if threads <= 1 {
			return []int{1}, nil
		}
		return []int{1, threads}, nil
	}
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, errors.Errorf("bench: -torch-threads wants positive thread counts, got %q", list)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// torchSide names PyTorch's side with n threads; torchThreadsOf reads n
// back.
func torchSide(n int) string { return fmt.Sprintf("pytorch@%d", n) }

func torchThreadsOf(side string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(side, "pytorch@"))
	return n
}

func threadsLabel(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// sides are the sides of a run: Keragon, then PyTorch at each thread
// count.
func (c config) sides() []string {
	s := []string{"keragon"}
	for _, n := range c.torchThreads {
		s = append(s, torchSide(n))
	}
	return s
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

// coreType resolves -coretype: "auto" is the environment's
// OPENBLAS_CORETYPE when set, else the OpenBLAS kernel family this
// processor runs (SkylakeX needs AVX-512; Haswell AVX2 and FMA), else
// unset.
func coreType(flagValue string) string {
	if flagValue != "auto" {
		return flagValue
	}
	if v := os.Getenv("OPENBLAS_CORETYPE"); v != "" {
		return v
	}
	switch {
	case cpuid.AVX512:
		return "SkylakeX"
	case cpuid.FMA:
		return "Haswell"
	}
	return ""
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

func fmtPct(x float64) string {
	if x <= 0 {
		return "—"
	}
	if x < 0.1 {
		return fmt.Sprintf("%.1f%%", 100*x)
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

func fmtMs(s float64) string {
	if s <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", 1000*s)
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
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}
