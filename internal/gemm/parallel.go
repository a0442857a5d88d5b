package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"

	"github.com/keragon/keragon/internal/team"
)

// ParallelBLAS runs a single-threaded BLAS on every core: it cuts each
// matrix product (Sgemm, Dgemm) into blocks of rows or columns of the
// result and has up to GOMAXPROCS goroutines compute them, each with one
// call of the wrapped BLAS; every other routine is the wrapped one's.
//
// The blocks depend on the shape of the product only, never on GOMAXPROCS
// or the machine, so results are bitwise the same with any number of
// cores. (A BLAS's own threads split a product by their number, and a
// differently split product can differ in the last bits.) With the build
// tag openblas Keragon uses ParallelBLAS over OpenBLAS set to one thread:
// Go's scheduler is then the only one placing work on the cores, where
// OpenBLAS's spinning threads used to compete with Go's for them.
type ParallelBLAS struct {
	gorgonia.BLAS
}

// gemmBlockFlops is the least work worth a block (about 0.1 ms at
// OpenBLAS's single-core speed); gemmMaxBlocks bounds the number of
// blocks, gemmAlign their size (in rows or columns). Each block repacks
// the operand it shares with the others, so blocks are few: on two cores,
// two or four blocks of the MNIST MLP's products ran at 90–160 GFLOP/s,
// eight at 50–90.
const (
	gemmBlockFlops = 1 << 24
	gemmMaxBlocks  = 8
	gemmAlign      = 16
)

// gemmBlocks returns how to cut an m×n result computed with inner size k:
// along the rows (byRows) or the columns, at the returned boundaries.
func gemmBlocks(m, n, k int) (byRows bool, cuts []int) {
	byRows = m >= n
	size := n
	if byRows {
		size = m
	}
	parts := min(gemmMaxBlocks, 2*m*n*k/gemmBlockFlops, size/gemmAlign)
	if parts <= 1 {
		return byRows, nil
	}
	// A power of two, so that blocks share out evenly on 2, 4 or 8 cores.
	for parts&(parts-1) != 0 {
		parts &= parts - 1
	}
	cuts = make([]int, parts+1)
	for i := range cuts {
		// Boundaries on multiples of gemmAlign, the last at size.
		cuts[i] = min(size, (size*i/parts+gemmAlign/2)/gemmAlign*gemmAlign)
	}
	cuts[parts] = size
	return byRows, cuts
}

// inBlocks calls f(r0, r1, c0, c1) for each block of an m×n product,
// concurrently; without cuts, once for the whole.
func inBlocks(m, n, k int, f func(r0, r1, c0, c1 int)) {
	byRows, cuts := gemmBlocks(m, n, k)
	if cuts == nil {
		f(0, m, 0, n)
		return
	}
	block := func(i int) {
		if byRows {
			f(cuts[i], cuts[i+1], 0, n)
		} else {
			f(0, m, cuts[i], cuts[i+1])
		}
	}
	// team.Run hands the blocks out one at a time to up to GOMAXPROCS
	// goroutines.
	team.Run(len(cuts)-1, 0, block)
}

// rowsFrom returns op(a) from row r on, columnsFrom op(b) from column c on
// (row-major storage, leading dimension ld).
func rowsFrom[T any](a []T, t blas.Transpose, ld, r int) []T {
	if t == blas.NoTrans {
		return a[r*ld:]
	}
	return a[r:]
}

func columnsFrom[T any](b []T, t blas.Transpose, ld, c int) []T {
	if t == blas.NoTrans {
		return b[c:]
	}
	return b[c*ld:]
}

// Sgemm implements blas.Float32Level3 by blocks (see ParallelBLAS).
func (p ParallelBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		p.BLAS.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	inBlocks(m, n, k, func(r0, r1, c0, c1 int) {
		p.BLAS.Sgemm(tA, tB, r1-r0, c1-c0, k, alpha, rowsFrom(a, tA, lda, r0), lda,
			columnsFrom(b, tB, ldb, c0), ldb, beta, c[r0*ldc+c0:], ldc)
	})
}

// Dgemm implements blas.Float64Level3 by blocks (see ParallelBLAS).
func (p ParallelBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		p.BLAS.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	inBlocks(m, n, k, func(r0, r1, c0, c1 int) {
		p.BLAS.Dgemm(tA, tB, r1-r0, c1-c0, k, alpha, rowsFrom(a, tA, lda, r0), lda,
			columnsFrom(b, tB, ldb, c0), ldb, beta, c[r0*ldc+c0:], ldc)
	})
}
