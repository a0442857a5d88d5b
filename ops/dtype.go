package ops

import (
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// dispatch is the package's one dtype switch: by out's dtype it runs k32
// or k64 on the data of out and of every input (each of out's dtype, as an
// op's type requires). A kernel that can fail records its error itself.
// The slices of views come from a pool, so a run allocates nothing.
func dispatch(out *tensor.Dense, in []*tensor.Dense, k32 func(out []float32, in [][]float32), k64 func(out []float64, in [][]float64)) error {
	switch o := out.Data().(type) {
	case []float32:
		return withViews(&views32, o, in, k32)
	case []float64:
		return withViews(&views64, o, in, k64)
	}
	return errors.Errorf("ops: unsupported dtype %v", out.Dtype())
}

var views32, views64 sync.Pool

func withViews[T float](pool *sync.Pool, o []T, in []*tensor.Dense, k func([]T, [][]T)) error {
	vs, _ := pool.Get().(*[][]T)
	if vs == nil {
		vs = new([][]T)
	}
	defer func() {
		clear(*vs)
		*vs = (*vs)[:0]
		pool.Put(vs)
	}()
	for i, d := range in {
		s, ok := d.Data().([]T)
		if !ok {
			return errors.Errorf("ops: input %d is %v, output %T", i, d.Dtype(), o)
		}
		*vs = append(*vs, s)
	}
	k(o, *vs)
	return nil
}

// isFloat32 reports whether T is float32, for kernels with a float32 fast
// path.
func isFloat32[T float]() bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}
