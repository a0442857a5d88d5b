package ops

import (
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// customOp is a Gorgonia Op assembled from functions, so that each of
// Keragon's ops is a literal rather than a dozen methods. Its id must name
// every parameter: Gorgonia merges nodes whose ops hash alike and whose
// inputs are the same.
type customOp struct {
	id    string
	arity int
	// typ is the op's Hindley–Milner type; nil means a → a → … → a.
	typ hm.Type
	// shape returns the output shape; nil means the shape of the first input.
	shape func(in []tensor.Shape) (tensor.Shape, error)
	// do writes the result into out (zeroed only when freshly allocated).
	do func(out *tensor.Dense, in []*tensor.Dense) error
	// diff returns one gradient node per input (nil where not
	// differentiable); nil diff means the op has no gradient.
	diff func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error)
	// noDiff lists inputs that have no gradient (labels, masks).
	noDiff []int

	// out is the result of the last run, reused by the next one: Gorgonia's
	// TapeMachine forgets every value on Reset, so without it each op would
	// allocate (and the runtime zero) its output on every step. An op value
	// belongs to one node (apply copies it when it is applied again), and a
	// graph runs on one goroutine, so nothing else reads out meanwhile.
	out     *tensor.Dense
	applied bool
}

func (op *customOp) Arity() int { return op.arity }
func (op *customOp) Type() hm.Type {
	if op.typ != nil {
		// Gorgonia returns function types to a pool after inference, so
		// each call must hand out a fresh copy.
		if ft, ok := op.typ.(*hm.FunctionType); ok {
			return ft.Clone().(hm.Type)
		}
		return op.typ
	}
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, op.arity+1)
	for i := range ts {
		ts[i] = a
	}
	return hm.NewFnType(ts...)
}
func (op *customOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, errors.Errorf("ops: %s: input %d has no shape", op.id, i)
		}
		shapes[i] = s
	}
	if op.shape == nil {
		return shapes[0].Clone(), nil
	}
	return op.shape(shapes)
}
func (op *customOp) ReturnsPtr() bool      { return false }
func (op *customOp) CallsExtern() bool     { return false }
func (op *customOp) OverwritesInput() int  { return -1 }
func (op *customOp) String() string        { return op.id }
func (op *customOp) WriteHash(h hash.Hash) { h.Write([]byte("keragon." + op.id)) }
func (op *customOp) Hashcode() uint32      { _, c := hashOf("keragon."+op.id, nil, ""); return c }

func (op *customOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, in...)
}

func (op *customOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (gorgonia.Value, error) {
	if len(in) != op.arity {
		return nil, errors.Errorf("ops: %s: want %d inputs, got %d", op.id, op.arity, len(in))
	}
	ds := make([]*tensor.Dense, len(in))
	shapes := make([]tensor.Shape, len(in))
	for i, v := range in {
		d, err := denseOrScalar(v)
		if err != nil {
			return nil, errors.WithMessagef(err, "%s input %d", op.id, i)
		}
		ds[i], shapes[i] = d, d.Shape()
	}
	shape := shapes[0].Clone()
	if op.shape != nil {
		var err error
		if shape, err = op.shape(shapes); err != nil {
			return nil, err
		}
	}
	if len(shape) == 0 || shape.IsScalar() {
		out := tensor.New(tensor.Of(ds[0].Dtype()), tensor.WithShape(1))
		if err := op.do(out, ds); err != nil {
			return nil, err
		}
		v, _ := scalarValue(out)
		return scalarOf(out.Dtype(), v)
	}
	if prealloc == nil && op.out != nil {
		prealloc = op.out
	}
	out := outLike(prealloc, ds[0].Dtype(), shape)
	op.out = out
	if err := op.do(out, ds); err != nil {
		return nil, err
	}
	return out, nil
}

func (op *customOp) DiffWRT(n int) []bool {
	w := make([]bool, n)
	if op.diff == nil {
		return w
	}
	for i := range w {
		w[i] = true
	}
	for _, i := range op.noDiff {
		if i < n {
			w[i] = false
		}
	}
	return w
}

func (op *customOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.diff == nil {
		return nil, errors.Errorf("ops: %s has no gradient", op.id)
	}
	g, err := op.diff(in, out, grad)
	return g, errors.WithMessagef(err, "gradient of %s", op.id)
}

// denseOrScalar returns a tensor view of a Gorgonia value; scalars become
// one-element tensors.
func denseOrScalar(v gorgonia.Value) (*tensor.Dense, error) {
	switch s := v.(type) {
	case *gorgonia.F32:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(*s)})), nil
	case *gorgonia.F64:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(*s)})), nil
	}
	return asDense(v)
}

// apply applies op to the inputs, wrapping errors with the op's name.
func apply(op *customOp, in ...*gorgonia.Node) (*gorgonia.Node, error) {
	for _, n := range in {
		if err := checkFloat(n.Dtype()); err != nil {
			return nil, errors.WithMessage(err, op.id)
		}
	}
	if op.applied {
		// Each node gets its own op value, hence its own output buffer.
		c := *op
		c.out, op = nil, &c
	}
	op.applied = true
	n, err := gorgonia.ApplyOp(op, in...)
	return n, errors.Wrapf(err, "ops: %s", op.id)
}

// tensorType is the type of a tensor with d axes of element type a.
func tensorType(d int, a hm.Type) hm.Type {
	if d == 0 {
		return a
	}
	return gorgonia.TensorType{Dims: d, Of: a}
}

// fnType builds a function type from the axis counts of inputs and output.
func fnType(dims ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = tensorType(d, a)
	}
	return hm.NewFnType(ts...)
}
