//go:build openblas

package ops

import (
	"github.com/keragon/keragon/internal/openblas"
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// With the build tag openblas this package's tests and benchmarks run on
// OpenBLAS (one thread per call, as graph's programs use it):
//
//	go test -tags openblas ./ops/ -run '^$' -bench MNIST -benchtime=20x
func init() {
	openblas.SetThreads(1)
	gorgonia.Use(netlib.Implementation{})
}
