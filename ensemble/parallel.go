package ensemble

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/pkg/errors"
)

// mix is SplitMix64's finaliser: consecutive inputs give unrelated outputs.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// memberRand is the random stream of member i of an ensemble seeded with
// seed, for purpose p (0 sampling, 1 the learner's seed, …): it depends on
// (seed, i, p) only, never on which goroutine runs the member or when.
func memberRand(seed uint64, i, p int) *rand.Rand {
	return rand.New(rand.NewPCG(mix(seed)^uint64(p), mix(uint64(i)+0x6b657261676f6e)))
}

// memberSeed is the seed given to member i's Factory.
func memberSeed(seed uint64, i int) uint64 {
	return memberRand(seed, i, 1).Uint64()
}

// workers resolves a Workers field: 0 means 1 (scikit-learn's n_jobs=None),
// a negative number means all processors (GOMAXPROCS).
func workers(w, jobs int) int {
	if w < 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if w == 0 {
		w = 1
	}
	if w > jobs {
		w = jobs
	}
	if w < 1 {
		w = 1
	}
	return w
}

// parallel runs job(i) for i in 0..n−1 on at most w goroutines and returns
// each job's error (nil for success). Once ctx is done no new job starts;
// the jobs not started get ctx's error. A panic in a job becomes its error.
func parallel(ctx context.Context, n, w int, job func(i int) error) []error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for g := 0; g < workers(w, n); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = safely(func() error { return job(i) })
			}
		}()
	}
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			for j := i; j < n; j++ {
				errs[j] = errors.WithStack(err)
			}
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < n; j++ {
				errs[j] = errors.WithStack(ctx.Err())
			}
			i = n
		}
	}
	close(next)
	wg.Wait()
	return errs
}

// safely runs f, turning a panic into an error.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// progress writes one line per event to w (nothing if w is nil), whole
// lines at a time whatever the goroutine.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *progress) printf(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
