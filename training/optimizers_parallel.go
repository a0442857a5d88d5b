package training

import (
	"runtime"
	"sync/atomic"

	"github.com/keragon/keragon/internal/team"
)

// updateGrain is the number of elements of one piece of an optimizer
// step; the pieces of all weights are shared among up to GOMAXPROCS
// goroutines (the caller and package team's helpers).
// Every rule updates each element from that element's values alone, so
// how the weights are cut does not change a bit of the result. Tests
// lower it.
var updateGrain = 1 << 15

// piece is the elements [lo, hi) of job j.
type piece struct{ j, lo, hi int }

// updateAll applies r to every job, over the cores when there is enough
// work; it replaces the loop
//
//	for _, j := range c.jobs { r.update32(j.w32, j.g32, j.st.f32) }
func (c *core) updateAll(r rule) {
	c.pieces = c.pieces[:0]
	for i, j := range c.jobs {
		n := len(j.w32)
		if j.is64 {
			n = len(j.w64)
		}
		for lo := 0; lo < n; lo += updateGrain {
			c.pieces = append(c.pieces, piece{i, lo, min(lo+updateGrain, n)})
		}
	}
	w := min(runtime.GOMAXPROCS(0), len(c.pieces))
	if w <= 1 {
		for _, j := range c.jobs {
			if j.is64 {
				r.update64(j.w64, j.g64, j.st.f64)
			} else {
				r.update32(j.w32, j.g32, j.st.f32)
			}
		}
		return
	}
	slots := len(r.slotNames())
	var next atomic.Int64
	work := func() {
		s32, s64 := make([][]float32, slots), make([][]float64, slots)
		for {
			k := int(next.Add(1)) - 1
			if k >= len(c.pieces) {
				return
			}
			p := c.pieces[k]
			j := c.jobs[p.j]
			if j.is64 {
				for i, s := range j.st.f64 {
					s64[i] = nil
					if s != nil {
						s64[i] = s[p.lo:p.hi]
					}
				}
				r.update64(j.w64[p.lo:p.hi], j.g64[p.lo:p.hi], s64[:len(j.st.f64)])
				continue
			}
			for i, s := range j.st.f32 {
				s32[i] = nil
				if s != nil {
					s32[i] = s[p.lo:p.hi]
				}
			}
			r.update32(j.w32[p.lo:p.hi], j.g32[p.lo:p.hi], s32[:len(j.st.f32)])
		}
	}
	// Each of the w parts is a worker taking pieces until none is left,
	// so that its scratch slices s32 and s64 are made once, not per piece.
	team.Run(w, w, func(int) { work() })
}
