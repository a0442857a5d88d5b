package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/internal/dense"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Tensors returns its arguments as a slice, for NewModel from notebooks
// (gophernotes cannot build a []*keras.Tensor literal):
//
//	model, err := keras.NewModel(keras.Tensors(tokens, structure), keras.Tensors(y))
func Tensors(ts ...*Tensor) []*Tensor { return append([]*Tensor(nil), ts...) }

// Data32 wraps float32 values as a tensor of the given shape (the batch axis
// first); with no shape it is a vector. The slice is used, not copied.
func Data32(values []float32, shape ...int) (*tensor.Dense, error) { return dataOf(values, shape) }

// Data64 is Data32 for float64 values.
func Data64(values []float64, shape ...int) (*tensor.Dense, error) { return dataOf(values, shape) }

// dataOf is Data32 and Data64 (exported without generics for gophernotes).
func dataOf[T float32 | float64](values []T, shape []int) (*tensor.Dense, error) {
	if len(shape) == 0 {
		shape = []int{len(values)}
	}
	if tensor.Shape(shape).TotalSize() != len(values) {
		return nil, errors.Errorf("keras: %d values do not fill shape %v", len(values), shape)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(values)), nil
}

// Values returns a tensor's values as float64 in row-major order, whatever
// its dtype and memory layout (views and transposes are read as they look);
// nil for a masked tensor.
func Values(t *tensor.Dense) []float64 {
	if t == nil {
		return nil
	}
	t, err := dense.Contiguous(t)
	if err != nil {
		return nil
	}
	out := floatsOf(t)
	if d, ok := t.Data().([]float64); ok {
		out = append([]float64(nil), d...)
	}
	return out
}

// Rows copies the samples idx (in that order) of x into a new tensor.
func Rows(x *tensor.Dense, idx ...int) (*tensor.Dense, error) {
	if x == nil || x.Dims() == 0 {
		return nil, errors.New("keras: Rows needs a tensor with a batch axis")
	}
	x, err := dense.Contiguous(x)
	if err != nil {
		return nil, errors.WithMessage(err, "keras: Rows")
	}
	n := x.Shape()[0]
	row := x.Shape().TotalSize() / max(n, 1)
	shape := x.Shape().Clone()
	shape[0] = len(idx)
	for _, i := range idx {
		if i < 0 || i >= n {
			return nil, errors.Errorf("keras: Rows: sample %d of %d", i, n)
		}
	}
	switch d := x.Data().(type) {
	case []float32:
		out := make([]float32, 0, len(idx)*row)
		for _, i := range idx {
			out = append(out, d[i*row:(i+1)*row]...)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	case []float64:
		out := make([]float64, 0, len(idx)*row)
		for _, i := range idx {
			out = append(out, d[i*row:(i+1)*row]...)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	}
	return nil, errors.Errorf("keras: Rows: unsupported dtype %v", x.Dtype())
}

// Argmax returns, for each sample of a (batch, classes) output, the index
// of its largest value: the predicted class of a softmax model.
func Argmax(p *tensor.Dense) ([]int, error) {
	if p == nil || p.Dims() != 2 {
		return nil, errors.New("keras: Argmax needs (batch, classes) scores")
	}
	n, c := p.Shape()[0], p.Shape()[1]
	v := Values(p)
	out := make([]int, n)
	for i := range out {
		best := 0
		for j := 1; j < c; j++ {
			if v[i*c+j] > v[i*c+best] {
				best = j
			}
		}
		out[i] = best
	}
	return out, nil
}

// Gradients runs one training-mode forward and backward pass (dropout on,
// BatchNormalization on batch statistics, nothing updated) of a compiled
// one-input, one-output model on x and y, and returns the loss and a copy
// of every trainable weight's gradient, as a Keras GradientTape would.
func (m *Model) Gradients(x, y *tensor.Dense) (float64, []graph.Gradient, error) {
	return m.GradientsMulti([]*tensor.Dense{x}, []*tensor.Dense{y})
}

// GradientsMulti is Gradients for several inputs and outputs.
func (m *Model) GradientsMulti(xs, ys []*tensor.Dense) (float64, []graph.Gradient, error) {
	// The pass draws dropout masks from the model's random stream: it
	// holds the model as a training step does.
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.ensureBuilt(xs); err != nil {
		return 0, nil, err
	}
	if m.compiled == nil {
		return 0, nil, errors.New("keras: Gradients before Compile")
	}
	xs, err := m.encodeStrings(xs)
	if err != nil {
		return 0, nil, err
	}
	ds, err := m.dataset(xs, ys, nil, nil)
	if err != nil {
		return 0, nil, err
	}
	n := ds.Len()
	p, err := m.cache.Get(graph.Key{Mode: graph.Fit, Batch: n})
	if err != nil {
		return 0, nil, err
	}
	defer m.ReleaseProgram(p)
	feeds := make([]*tensor.Dense, 0, len(ds.Inputs)+2*len(ds.Targets))
	for _, t := range append(append([]*tensor.Dense(nil), ds.Inputs...), ds.Targets...) {
		c, err := castTo(t, m.dtype)
		if err != nil {
			return 0, nil, err
		}
		feeds = append(feeds, c)
	}
	for range ds.Targets {
		ones := tensor.New(tensor.Of(m.dtype), tensor.WithShape(n))
		if err := ones.Memset(oneOf(m.dtype)); err != nil {
			return 0, nil, errors.Wrap(err, "keras: Gradients")
		}
		feeds = append(feeds, ones)
	}
	if err := p.Run(feeds...); err != nil {
		return 0, nil, err
	}
	loss, err := p.Loss()
	if err != nil {
		return 0, nil, err
	}
	gs, err := p.Gradients()
	if err != nil {
		return 0, nil, err
	}
	out := make([]graph.Gradient, len(gs))
	for i, g := range gs {
		out[i] = graph.Gradient{Weight: g.Weight, Value: g.Value.Clone().(*tensor.Dense)}
	}
	return loss, out, nil
}

func oneOf(dt tensor.Dtype) any {
	if dt == tensor.Float64 {
		return float64(1)
	}
	return float32(1)
}

// castTo returns t in dtype dt (a copy when it must convert).
func castTo(t *tensor.Dense, dt tensor.Dtype) (*tensor.Dense, error) {
	if t.Dtype() == dt {
		return t, nil
	}
	v := Values(t)
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(v)), nil
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(f)), nil
}
