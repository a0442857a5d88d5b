package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dot is the dot product of two inputs along one axis of each, sample by
// sample, as keras.layers.Dot (Keras' batch_dot): for x (batch, 5, 2) and
// y (batch, 2, 3)... along axes (2, 1), or for two (batch, n) vectors along
// axis 1 (their inner products, shape (batch, 1)).
//
// The output shape is x's sample shape without its Axes[0] axis followed
// by y's without its Axes[1] axis, or (1) when that is empty. With
// Normalize both inputs are L2-normalised along those axes first, so the
// output is the cosine similarity. No weights; the output has no mask.
type Dot struct {
	Name string `json:"name,omitempty"`
	// Axes is one axis for both inputs or one per input, counting the batch
	// axis as 0 (so 1 is the first sample axis) and negative values from
	// the end, as Keras. Empty means −1 (the last axis of each), the
	// default of keras.layers.dot.
	Axes []int `json:"axes,omitempty"`
	// Normalize L2-normalises the samples along the axes first.
	Normalize bool `json:"normalize,omitempty"`
	Base
}

func init() { Register("Dot", func() Layer { return &Dot{} }) }

// axes resolves Axes for inputs of ranks rx and ry (batch axis included).
func (l *Dot) axes(rx, ry int) (int, int, error) {
	var a []int
	switch len(l.Axes) {
	case 0:
		a = []int{-1, -1}
	case 1:
		a = []int{l.Axes[0], l.Axes[0]}
	case 2:
		a = append(a, l.Axes...)
	default:
		return 0, 0, errors.Errorf("keras: Dot axes must be one or two numbers, got %v", l.Axes)
	}
	for i, r := range []int{rx, ry} {
		if a[i] < 0 {
			a[i] += r
		}
		if a[i] < 1 || a[i] >= r {
			return 0, 0, errors.Errorf("keras: Dot axes %v: axis %d is not a sample axis of input %d of rank %d (batch axis included)", l.Axes, a[i], i, r)
		}
	}
	return a[0], a[1], nil
}

// OutputShape implements Layer.
func (l *Dot) OutputShape(in []Shape) (Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("keras: Dot takes exactly 2 inputs, got %d", len(in))
	}
	a0, a1, err := l.axes(len(in[0])+1, len(in[1])+1)
	if err != nil {
		return nil, err
	}
	if in[0][a0-1] != in[1][a1-1] {
		return nil, errors.Errorf("keras: Dot: axis %d of %v (%d) and axis %d of %v (%d) differ", a0, in[0], in[0][a0-1], a1, in[1], in[1][a1-1])
	}
	var out Shape
	for k, d := range in[0] {
		if k != a0-1 {
			out = append(out, d)
		}
	}
	for k, d := range in[1] {
		if k != a1-1 {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		out = Shape{1}
	}
	return out, nil
}

// Call implements Layer: Keras' batch_dot. x's axis goes last and y's
// first (after the batch), both become (batch, ·, ·) matrices, and one
// batched matrix product gives the result.
func (l *Dot) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("keras: Dot takes exactly 2 inputs, got %d", len(in))
	}
	x, y := in[0], in[1]
	a0, a1, err := l.axes(x.Dims(), y.Dims())
	if err != nil {
		return nil, err
	}
	out, err := l.OutputShape([]Shape{Shape(x.Shape()[1:]), Shape(y.Shape()[1:])})
	if err != nil {
		return nil, err
	}
	if l.Normalize {
		// Keras' backend epsilon.
		if x, err = ops.L2Normalize(x, a0, 1e-7); err != nil {
			return nil, err
		}
		if y, err = ops.L2Normalize(y, a1, 1e-7); err != nil {
			return nil, err
		}
	}
	n, d := ctx.Batch, x.Shape()[a0]
	// x: move a0 last, then view as (batch, rows, d).
	px := make([]int, 0, x.Dims())
	for k := 0; k < x.Dims(); k++ {
		if k != a0 {
			px = append(px, k)
		}
	}
	if x, err = ops.Permute(x, append(px, a0)...); err != nil {
		return nil, err
	}
	rows := x.Shape().TotalSize() / (n * d)
	if x, err = reshapeNode(x, tensor.Shape{n, rows, d}); err != nil {
		return nil, err
	}
	// y: move a1 to axis 1, then view as (batch, d, cols).
	py := []int{0, a1}
	for k := 1; k < y.Dims(); k++ {
		if k != a1 {
			py = append(py, k)
		}
	}
	if y, err = ops.Permute(y, py...); err != nil {
		return nil, err
	}
	cols := y.Shape().TotalSize() / (n * d)
	if y, err = reshapeNode(y, tensor.Shape{n, d, cols}); err != nil {
		return nil, err
	}
	z, err := ops.BatchMatMul(x, y, false, false)
	if err != nil {
		return nil, err
	}
	return reshapeNode(z, append(tensor.Shape{n}, out...))
}
