//go:build openblas

package ops

import (
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// With the build tag openblas this package's tests and benchmarks run on
// OpenBLAS, as graph's programs do with the same tag:
//
//	CGO_LDFLAGS=-lopenblas OPENBLAS_NUM_THREADS=2 go test -tags openblas ./ops/ -run '^$' -bench MNIST -benchtime=20x
func init() { gorgonia.Use(netlib.Implementation{}) }
