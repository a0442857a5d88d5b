package ops

import (
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softmax normalises the last axis of x into probabilities:
// exp(x−max) / Σ exp(x−max).
//
// Unlike Gorgonia's SoftMax, the node is never rewritten by Gorgonia's
// Log stabiliser, so it may be read and fed to Log safely.
func Softmax(x *gorgonia.Node) (*gorgonia.Node, error) { return applySoftmax(x, false) }

// LogSoftmax is log(Softmax(x)) over the last axis, computed stably as
// x − max − log Σ exp(x − max).
func LogSoftmax(x *gorgonia.Node) (*gorgonia.Node, error) { return applySoftmax(x, true) }

func applySoftmax(x *gorgonia.Node, log bool) (*gorgonia.Node, error) {
	if err := checkFloat(x.Dtype()); err != nil {
		return nil, err
	}
	if x.Dims() < 1 {
		return nil, errors.Errorf("ops: softmax needs at least one axis, got shape %v", x.Shape())
	}
	n, err := gorgonia.ApplyOp(softmaxOp{log: log, buf: &outBuf{}}, x)
	return n, errors.Wrap(err, "ops: softmax")
}

// LogitsOf returns the input of a Softmax node (its logits) and true, or nil
// and false when p was not made by Softmax. Losses use it, as Keras does, to
// compute cross-entropy from logits when a model ends in a softmax.
func LogitsOf(p *gorgonia.Node) (*gorgonia.Node, bool) {
	op, ok := p.Op().(softmaxOp)
	if !ok || op.log {
		return nil, false
	}
	children := p.Graph().From(p.ID())
	if children.Len() != 1 || !children.Next() {
		return nil, false
	}
	n, ok := children.Node().(*gorgonia.Node)
	return n, ok
}

// rows splits a shape into (rows, cols) where cols is the last axis.
func rows(s tensor.Shape) (int, int) {
	if len(s) == 0 {
		return 1, 1
	}
	c := s[len(s)-1]
	if c == 0 {
		return 0, 0
	}
	return s.TotalSize() / c, c
}

func softmaxRows[T float](dst, src []T, r, c int, log bool) {
	for i := 0; i < r; i++ {
		x, y := src[i*c:(i+1)*c], dst[i*c:(i+1)*c]
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		if log {
			ls := math.Log(s) + m
			for j, v := range x {
				y[j] = T(float64(v) - ls)
			}
			continue
		}
		for j, v := range x {
			y[j] = T(math.Exp(float64(v)-m) / s)
		}
	}
}

// softmaxGradRows computes dx from y (the op's output) and g.
// softmax:     dx = y ⊙ (g − Σ g⊙y)
// log-softmax: dx = g − exp(y) Σ g
func softmaxGradRows[T float](dst, y, g []T, r, c int, log bool) {
	for i := 0; i < r; i++ {
		yr, gr, dr := y[i*c:(i+1)*c], g[i*c:(i+1)*c], dst[i*c:(i+1)*c]
		var s float64
		if log {
			for _, v := range gr {
				s += float64(v)
			}
			for j := range dr {
				dr[j] = T(float64(gr[j]) - math.Exp(float64(yr[j]))*s)
			}
			continue
		}
		for j := range gr {
			s += float64(gr[j]) * float64(yr[j])
		}
		for j := range dr {
			dr[j] = T(float64(yr[j]) * (float64(gr[j]) - s))
		}
	}
}

type softmaxOp struct {
	log bool
	buf *outBuf
}

func (op softmaxOp) name() string {
	if op.log {
		return "LogSoftmax"
	}
	return "Softmax"
}
func (op softmaxOp) Arity() int { return 1 }
func (op softmaxOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op softmaxOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op softmaxOp) ReturnsPtr() bool      { return false }
func (op softmaxOp) CallsExtern() bool     { return false }
func (op softmaxOp) OverwritesInput() int  { return -1 }
func (op softmaxOp) String() string        { return "keragon." + op.name() }
func (op softmaxOp) WriteHash(h hash.Hash) { h.Write([]byte(op.String())) }
func (op softmaxOp) Hashcode() uint32      { _, c := hashOf(op.String(), nil, ""); return c }
func (op softmaxOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, in...)
}
func (op softmaxOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (gorgonia.Value, error) {
	x, err := asDense(in[0])
	if err != nil {
		return nil, err
	}
	out := op.buf.get(prealloc, x.Dtype(), x.Shape())
	r, c := rows(x.Shape())
	switch xs := x.Data().(type) {
	case []float32:
		softmaxRows(out.Data().([]float32), xs, r, c, op.log)
	case []float64:
		softmaxRows(out.Data().([]float64), xs, r, c, op.log)
	default:
		return nil, errors.Errorf("ops: softmax: unsupported dtype %v", x.Dtype())
	}
	return out, nil
}
func (op softmaxOp) DiffWRT(int) []bool { return []bool{true} }
func (op softmaxOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(softmaxGradOp{log: op.log, buf: &outBuf{}}, out, grad)
	if err != nil {
		return nil, errors.Wrap(err, "ops: softmax gradient")
	}
	return gorgonia.Nodes{dx}, nil
}

type softmaxGradOp struct {
	log bool
	buf *outBuf
}

func (op softmaxGradOp) Arity() int { return 2 }
func (op softmaxGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}
func (op softmaxGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op softmaxGradOp) ReturnsPtr() bool      { return false }
func (op softmaxGradOp) CallsExtern() bool     { return false }
func (op softmaxGradOp) OverwritesInput() int  { return -1 }
func (op softmaxGradOp) String() string        { return softmaxOp(op).String() + "'" }
func (op softmaxGradOp) WriteHash(h hash.Hash) { h.Write([]byte(op.String())) }
func (op softmaxGradOp) Hashcode() uint32      { _, c := hashOf(op.String(), nil, ""); return c }
func (op softmaxGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, in...)
}
func (op softmaxGradOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (gorgonia.Value, error) {
	y, err := asDense(in[0])
	if err != nil {
		return nil, err
	}
	g, err := asDense(in[1])
	if err != nil {
		return nil, err
	}
	out := op.buf.get(prealloc, y.Dtype(), y.Shape())
	r, c := rows(y.Shape())
	switch ys := y.Data().(type) {
	case []float32:
		softmaxGradRows(out.Data().([]float32), ys, g.Data().([]float32), r, c, op.log)
	case []float64:
		softmaxGradRows(out.Data().([]float64), ys, g.Data().([]float64), r, c, op.log)
	default:
		return nil, errors.Errorf("ops: softmax gradient: unsupported dtype %v", y.Dtype())
	}
	return out, nil
}
