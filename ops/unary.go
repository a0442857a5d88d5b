package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// unaryKernel describes an elementwise function y = f(x) and its derivative
// dy/dx, which may use x, y or both.
type unaryKernel struct {
	name   string
	params []float64 // part of the op's identity (hash and String)
	f      func(x float64) float64
	df     func(x, y float64) float64
	// Optional slice kernels for float32, the hot path of most models;
	// nil means f and df element by element.
	f32  func(dst, x []float32)
	df32 func(dst, x, y, g []float32)
	// dfy, when not nil, is the derivative computed from the output y
	// alone, equal to df(x, y) for every x: fused ops that keep only y
	// (Dense, BiasActivation) can then apply the activation. dfy32 is its
	// optional float32 slice kernel, dst = g·dfy(y).
	dfy   func(y float64) float64
	dfy32 func(dst, y, g []float32)
	// vec32, when not nil, is a faster float32 slice kernel within a few
	// ulps of f (internal/vmath's sigmoid and tanh), for the recurrent and
	// tree cells, which apply their activations at every step; the
	// standalone ops keep f32 or f, bitwise.
	vec32 func(dst, x []float32)
}

// applyUnary applies k elementwise to x.
func applyUnary(k *unaryKernel, x *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkFloat(x.Dtype()); err != nil {
		return nil, errors.WithMessage(err, k.name)
	}
	n, err := gorgonia.ApplyOp(unaryOp{k: k, buf: &outBuf{}}, x)
	return n, errors.Wrapf(err, "ops: %s", k.name)
}

func mapSlice[T float](dst, src []T, f func(float64) float64) {
	parallelElems(len(src), 16, func(lo, hi int) {
		d := dst[lo:hi]
		for i, v := range src[lo:hi] {
			d[i] = T(f(float64(v)))
		}
	})
}

func gradSlice[T float](dst, x, y, g []T, df func(x, y float64) float64) {
	parallelElems(len(dst), 16, func(lo, hi int) {
		x, y, g := x[lo:hi], y[lo:hi], g[lo:hi]
		for i := range dst[lo:hi] {
			dst[lo+i] = g[i] * T(df(float64(x[i]), float64(y[i])))
		}
	})
}

// gradFromOutput sets dst = g·dfy(y).
func gradFromOutput[T float](dst, y, g []T, dfy func(y float64) float64) {
	parallelElems(len(dst), 16, func(lo, hi int) {
		y, g := y[lo:hi], g[lo:hi]
		for i := range dst[lo:hi] {
			dst[lo+i] = g[i] * T(dfy(float64(y[i])))
		}
	})
}

// map32 runs a float32 slice kernel over the cores.
func map32(k func(dst, x []float32), dst, x []float32) {
	parallelElems(len(x), 16, func(lo, hi int) { k(dst[lo:hi], x[lo:hi]) })
}

// grad32 runs a float32 gradient slice kernel over the cores.
func grad32(k func(dst, x, y, g []float32), dst, x, y, g []float32) {
	parallelElems(len(x), 16, func(lo, hi int) { k(dst[lo:hi], x[lo:hi], y[lo:hi], g[lo:hi]) })
}

func hashOf(name string, params []float64, tag string) (string, uint32) {
	s := fmt.Sprintf("%s%v%s", name, params, tag)
	h := fnv.New32a()
	h.Write([]byte(s))
	return s, h.Sum32()
}

// unaryOp is the forward op of a unaryKernel.
type unaryOp struct {
	k   *unaryKernel
	buf *outBuf
}

func (op unaryOp) Arity() int { return 1 }
func (op unaryOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op unaryOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op unaryOp) ReturnsPtr() bool     { return false }
func (op unaryOp) CallsExtern() bool    { return false }
func (op unaryOp) OverwritesInput() int { return -1 }
func (op unaryOp) String() string       { s, _ := hashOf(op.k.name, op.k.params, ""); return s }
func (op unaryOp) WriteHash(h hash.Hash) {
	s, _ := hashOf(op.k.name, op.k.params, "")
	h.Write([]byte(s))
}
func (op unaryOp) Hashcode() uint32 { _, c := hashOf(op.k.name, op.k.params, ""); return c }

func (op unaryOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, in...)
}

func (op unaryOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (gorgonia.Value, error) {
	x, err := asDense(in[0])
	if err != nil {
		return nil, err
	}
	out := op.buf.get(prealloc, x.Dtype(), x.Shape())
	switch xs := x.Data().(type) {
	case []float32:
		if op.k.f32 != nil {
			map32(op.k.f32, out.Data().([]float32), xs)
			break
		}
		mapSlice(out.Data().([]float32), xs, op.k.f)
	case []float64:
		mapSlice(out.Data().([]float64), xs, op.k.f)
	default:
		return nil, errors.Errorf("ops: %s: unsupported dtype %v", op.k.name, x.Dtype())
	}
	return out, nil
}

func (op unaryOp) DiffWRT(int) []bool { return []bool{true} }

func (op unaryOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(unaryGradOp{k: op.k, buf: &outBuf{}}, in[0], out, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "ops: gradient of %s", op.k.name)
	}
	return gorgonia.Nodes{dx}, nil
}

// unaryGradOp computes grad * f'(x) from (x, y, grad).
type unaryGradOp struct {
	k   *unaryKernel
	buf *outBuf
}

func (op unaryGradOp) Arity() int { return 3 }
func (op unaryGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a, a)
}
func (op unaryGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op unaryGradOp) ReturnsPtr() bool     { return false }
func (op unaryGradOp) CallsExtern() bool    { return false }
func (op unaryGradOp) OverwritesInput() int { return -1 }
func (op unaryGradOp) String() string       { s, _ := hashOf(op.k.name, op.k.params, "'"); return s }
func (op unaryGradOp) WriteHash(h hash.Hash) {
	s, _ := hashOf(op.k.name, op.k.params, "'")
	h.Write([]byte(s))
}
func (op unaryGradOp) Hashcode() uint32 { _, c := hashOf(op.k.name, op.k.params, "'"); return c }

func (op unaryGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, in...)
}

func (op unaryGradOp) UsePreallocDo(prealloc gorgonia.Value, in ...gorgonia.Value) (gorgonia.Value, error) {
	var ds [3]*tensor.Dense
	for i := range ds {
		d, err := asDense(in[i])
		if err != nil {
			return nil, err
		}
		ds[i] = d
	}
	out := op.buf.get(prealloc, ds[0].Dtype(), ds[0].Shape())
	switch xs := ds[0].Data().(type) {
	case []float32:
		if op.k.df32 != nil {
			grad32(op.k.df32, out.Data().([]float32), xs, ds[1].Data().([]float32), ds[2].Data().([]float32))
			break
		}
		gradSlice(out.Data().([]float32), xs, ds[1].Data().([]float32), ds[2].Data().([]float32), op.k.df)
	case []float64:
		gradSlice(out.Data().([]float64), xs, ds[1].Data().([]float64), ds[2].Data().([]float64), op.k.df)
	default:
		return nil, errors.Errorf("ops: %s': unsupported dtype %v", op.k.name, ds[0].Dtype())
	}
	return out, nil
}
