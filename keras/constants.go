package keras

import (
	"fmt"
	"sync/atomic"

	"gorgonia.org/tensor"
)

// constants numbers the tensor constants the layers add to graphs, so that
// no two share a name (Gorgonia merges unnamed tensor constants of the
// same shape, whatever their values).
var constants atomic.Int64

// uniqueConstant returns a name for a tensor constant: name_N.
func uniqueConstant(name string) string { return fmt.Sprintf("%s_%d", name, constants.Add(1)) }

// denseLike makes a tensor of dtype dt from float64 values.
func denseLike(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}
