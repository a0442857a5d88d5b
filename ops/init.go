package ops

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// An Initializer fills a new weight tensor. Shapes follow Keras' layouts
// (Dense kernel: (in, out); Conv2D kernel: (kh, kw, in, out)) and fan-in and
// fan-out are computed from them as Keras does (see Fans).
type Initializer interface {
	Initialize(rng *rand.Rand, t *tensor.Dense) error
}

// InitializerFunc adapts a function that fills a float64 slice of the given
// shape into an Initializer.
type InitializerFunc func(rng *rand.Rand, shape []int, dst []float64)

// Initialize implements Initializer.
func (f InitializerFunc) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	shape := []int(t.Shape())
	n := t.Shape().TotalSize()
	buf := make([]float64, n)
	f(rng, shape, buf)
	switch d := t.Data().(type) {
	case []float32:
		for i, v := range buf {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, buf)
	case float32:
		t.Set(0, float32(buf[0]))
	case float64:
		t.Set(0, buf[0])
	default:
		return errors.Errorf("ops: cannot initialise a %v tensor", t.Dtype())
	}
	return nil
}

// Fans returns Keras' fan-in and fan-out for a weight of the given shape:
// for rank 2 (in, out); for higher ranks the leading axes are the receptive
// field and the last two are (in, out); a vector is its own fan.
func Fans(shape []int) (fanIn, fanOut float64) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return float64(shape[0]), float64(shape[0])
	case 2:
		return float64(shape[0]), float64(shape[1])
	}
	receptive := 1
	for _, s := range shape[:len(shape)-2] {
		receptive *= s
	}
	return float64(shape[len(shape)-2] * receptive), float64(shape[len(shape)-1] * receptive)
}
