package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunCallsEachPieceOnce: every piece runs exactly once and Run
// returns only after all have, for any number of pieces and workers.
func TestRunCallsEachPieceOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
		for _, w := range []int{-1, 0, 1, 2, 3, 8, 100} {
			counts := make([]atomic.Int32, n)
			Run(n, w, func(i int) {
				if i%5 == 0 {
					time.Sleep(10 * time.Microsecond)
				}
				counts[i].Add(1)
			})
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("n=%d workers=%d: piece %d ran %d times", n, w, i, c)
				}
			}
		}
	}
}

// TestRunUsesHelpers: with idle cores the pieces are shared out (two run
// at once), with workers 1 never.
func TestRunUsesHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	most := func(workers int) int32 {
		var inFlight, most atomic.Int32
		Run(8, workers, func(int) {
			v := inFlight.Add(1)
			for {
				m := most.Load()
				if v <= m || most.CompareAndSwap(m, v) {
					break
				}
			}
			time.Sleep(50 * time.Microsecond)
			inFlight.Add(-1)
		})
		return most.Load()
	}
	shared := false
	for range 200 {
		if most(2) > 1 {
			shared = true
			break
		}
	}
	if !shared {
		t.Error("with two workers no two pieces ever ran at once in 200 runs")
	}
	if m := most(1); m != 1 {
		t.Errorf("workers 1: %d pieces at once, want 1", m)
	}
}

// TestRunConcurrentCallers: many goroutines calling Run at once (under
// -race in CI) each get all their pieces run once, the helpers shared or
// not; nested calls too.
func TestRunConcurrentCallers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 50 {
				n := 1 + (g+r)%9
				out := make([]int, n)
				Run(n, 0, func(i int) {
					inner := make([]int, 3)
					Run(3, 0, func(j int) { inner[j] = j + 1 })
					out[i] = i + inner[0] + inner[1] + inner[2]
				})
				for i, v := range out {
					if v != i+6 {
						t.Errorf("caller %d round %d: out[%d] = %d, want %d", g, r, i, v, i+6)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestHelpersBounded: the helpers never outnumber GOMAXPROCS−1, however
// many workers are asked for.
func TestHelpersBounded(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	before := len(team(0))
	Run(100, 1000, func(int) {})
	if n := len(team(0)); n > max(before, runtime.GOMAXPROCS(0)-1) {
		t.Fatalf("%d helpers with GOMAXPROCS 3 (%d before)", n, before)
	}
	before = len(team(0))
	for range 10 {
		Run(100, 1000, func(int) {})
	}
	if after := len(team(0)); after != before {
		t.Fatalf("helpers grew from %d to %d with GOMAXPROCS unchanged", before, after)
	}
}

// TestParkedHelperWakes: with no spinning, a task reaches the parked
// helper through its wake token. Whichever piece the caller takes first,
// the other must run elsewhere for piece 0 to end: a lost wake-up would
// leave piece 0 waiting.
func TestParkedHelperWakes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer SetSpin(SetSpin(0))
	Run(2, 2, func(int) {}) // starts the helper
	for r := range 100 {
		time.Sleep(300 * time.Microsecond) // lets the helper park
		one := make(chan struct{})
		Run(2, 2, func(i int) {
			if i == 1 {
				close(one)
				return
			}
			select {
			case <-one:
			case <-time.After(5 * time.Second):
				t.Errorf("round %d: piece 1 did not run while piece 0 waited: the helper never woke", r)
			}
		})
		if t.Failed() {
			return
		}
	}
}

// BenchmarkRun is the cost of handing out two pieces of no work: what a
// parallel section costs beyond its work.
//
//	go test ./internal/team -run '^$' -bench Run
func BenchmarkRun(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for range b.N {
		Run(2, 2, func(int) {})
	}
}

// BenchmarkGoroutines is the same with a goroutine per section, as
// before the team.
func BenchmarkGoroutines(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for range b.N {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
}

// TestLateHelperIsTakenBack: when the caller has run every piece before a
// (parked, waking) helper picked the task up, Run takes the task back, so
// the helper is free for the next section instead of busy with nothing.
func TestLateHelperIsTakenBack(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer SetSpin(SetSpin(0))
	Run(2, 2, func(int) {}) // starts the helper
	for r := range 50 {
		time.Sleep(300 * time.Microsecond) // lets the helper park
		Run(2, 2, func(int) {})            // over before a parked helper wakes
		for i, h := range team(0) {
			if h.slot.Load() != nil {
				t.Fatalf("round %d: helper %d still holds a finished task after Run returned", r, i)
			}
		}
	}
}
