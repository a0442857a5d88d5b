package ops

import (
	"runtime"

	"github.com/keragon/keragon/internal/team"
)

// parallelMinWork is the least number of elements worth a goroutine: below
// it, splitting costs more than it saves. Tests lower it to exercise the
// parallel paths on small shapes.
var parallelMinWork = 1 << 15

// imageRanges splits the images [n0, n1) into contiguous ranges, one per
// available core but no more than the work (elements per image) is worth.
func imageRanges(n0, n1, work int) [][2]int {
	n := n1 - n0
	parts := max(1, min(runtime.GOMAXPROCS(0), n, n*work/parallelMinWork))
	r := make([][2]int, parts)
	for i := range r {
		r[i] = [2]int{n0 + n*i/parts, n0 + n*(i+1)/parts}
	}
	return r
}

// inParallel calls f(i, lo, hi) for each range concurrently (on the
// caller and package team's helpers) and waits.
func inParallel(ranges [][2]int, f func(i, lo, hi int)) {
	if len(ranges) == 1 {
		f(0, ranges[0][0], ranges[0][1])
		return
	}
	team.Run(len(ranges), len(ranges), func(i int) { f(i, ranges[i][0], ranges[i][1]) })
}

// parallelImages calls f on parts of the images [n0, n1) concurrently;
// work is the number of elements one image costs. f must write only what
// belongs to its images.
func parallelImages(n0, n1, work int, f func(lo, hi int)) {
	inParallel(imageRanges(n0, n1, work), func(_, lo, hi int) { f(lo, hi) })
}
