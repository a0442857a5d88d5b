package ops

import (
	"runtime"

	"github.com/keragon/keragon/internal/team"
)

// Parallel kernels. The elementwise and per-row kernels of this package
// split their work over the cores (GOMAXPROCS goroutines at most), and do
// so without changing a single bit of their results:
//
//   - every output element is computed by one goroutine, in the same order
//     of operations as the serial loop would use;
//   - a reduction (a bias gradient, a batch statistic) is split along the
//     axis it does not reduce (the channels), never along the one it sums
//     over, so each sum still runs over its terms in order;
//   - where a sum must be split along its own axis (the depthwise kernel
//     gradient), the chunks have a fixed size that depends on the shape
//     only, and the partial sums are added in chunk order.
//
// So results are the same for any GOMAXPROCS, from run to run and as with
// the serial code; the tests run every kernel with a tiny grain to
// exercise the splitting.

// grain is the number of elements below which a kernel is not worth
// another goroutine (about 10 µs of elementwise work). Tests lower it.
var grain = 1 << 14

// workers returns how many goroutines to use for work elements of
// elementwise work split into at most parts pieces.
func workers(work, parts int) int {
	return max(1, min(runtime.GOMAXPROCS(0), parts, work/max(grain, 1)))
}

// parallelFor calls f(lo, hi) on consecutive chunks of [0, n) that
// together cover it, concurrently when the work (cost elements per index)
// is worth it. f must write only what belongs to its indices.
func parallelFor(n, cost int, f func(lo, hi int)) {
	w := workers(n*max(cost, 1), n)
	if w <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	team.Run(w, w, func(i int) { f(n*i/w, n*(i+1)/w) })
}

// parallelElems calls f on consecutive chunks of [0, n) elements, cut at
// multiples of align (a row length, or 16 for cache lines).
func parallelElems(n, align int, f func(lo, hi int)) {
	align = max(align, 1)
	units := (n + align - 1) / align
	parallelFor(units, align, func(lo, hi int) { f(lo*align, min(hi*align, n)) })
}

// parallelCols calls f(c0, c1) on ranges of the c columns of a row-major
// (rows, c) matrix, for kernels that reduce over the rows: each column is
// then summed by one goroutine, in row order. Ranges are whole cache
// lines (16 float32 columns) so that goroutines do not share lines.
func parallelCols(rows, c int, f func(c0, c1 int)) {
	const line = 16
	units := (c + line - 1) / line
	parallelFor(units, rows*line, func(lo, hi int) { f(lo*line, min(hi*line, c)) })
}
