package onnx

import (
	"math"

	"github.com/pkg/errors"
)

// Constant folding: the shape arithmetic PyTorch exports around reshapes
// and recurrent states, and constant expressions it did not fold itself.
// Every result is bounded by maxConst values or by its inputs' sizes.

const maxConst = 1 << 16

func numel(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 || d > MaxDim {
			return 0, errors.Errorf("bad dimension in shape %v", shape)
		}
		n *= d
		if n > math.MaxInt32 {
			return 0, errors.Errorf("shape %v is too large", shape)
		}
	}
	return n, nil
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	k := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = k
		k *= shape[i]
	}
	return s
}

// checkSize bounds a folded constant by its inputs.
func checkSize(n int, inputs ...*constant) error {
	limit := maxConst
	for _, c := range inputs {
		limit = max(limit, c.size())
	}
	if n > limit {
		return errors.Errorf("folding would make a constant of %d values", n)
	}
	return nil
}

// take builds a constant of the given shape whose element i is element
// src(i) of c.
func take(c *constant, shape []int, src func(i int) int) *constant {
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := &constant{shape: shape, isInt: c.isInt}
	if c.isInt {
		out.ints = make([]int64, n)
		for i := range out.ints {
			out.ints[i] = c.ints[src(i)]
		}
	} else {
		out.floats = make([]float32, n)
		for i := range out.floats {
			out.floats[i] = c.floats[src(i)]
		}
	}
	return out
}

func gatherConst(c *constant, axis int64, idxShape []int, idx []int64) (*constant, error) {
	r := len(c.shape)
	if r == 0 {
		return nil, errors.New("gathers from a scalar")
	}
	a, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	dim := c.shape[a]
	idx = append([]int64(nil), idx...)
	for i, k := range idx {
		if k < -int64(dim) || k >= int64(dim) {
			return nil, errors.Errorf("index %d is out of range for an axis of %d", k, dim)
		}
		if k < 0 {
			idx[i] = k + int64(dim)
		}
	}
	shape := append(append(append([]int(nil), c.shape[:a]...), idxShape...), c.shape[a+1:]...)
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if err := checkSize(n, c); err != nil {
		return nil, err
	}
	inner := 1
	for _, d := range c.shape[a+1:] {
		inner *= d
	}
	ni := len(idx)
	return take(c, shape, func(i int) int {
		o := i / (ni * inner)
		k := (i / inner) % ni
		j := i % inner
		return (o*dim+int(idx[k]))*inner + j
	}), nil
}

func reshapeConst(c *constant, target []int64, allowZero bool) (*constant, error) {
	shape := make([]int, len(target))
	unknown, known := -1, 1
	for i, t := range target {
		switch {
		case t == 0 && !allowZero:
			if i >= len(c.shape) {
				return nil, errors.Errorf("copies axis %d of a constant of shape %v", i, c.shape)
			}
			shape[i] = c.shape[i]
		case t == -1 && unknown < 0:
			unknown = i
			continue
		case t >= 0 && t <= MaxDim:
			shape[i] = int(t)
		default:
			return nil, errors.Errorf("bad shape %v for a constant", target)
		}
		known *= shape[i]
	}
	n := c.size()
	if unknown >= 0 {
		if known == 0 || n%known != 0 {
			return nil, errors.Errorf("cannot reshape a constant of shape %v to %v", c.shape, target)
		}
		shape[unknown] = n / known
		known = n
	}
	if known != n {
		return nil, errors.Errorf("cannot reshape a constant of shape %v to %v", c.shape, target)
	}
	out := *c
	out.shape = shape
	return &out, nil
}

func transposeConst(c *constant, perm []int) (*constant, error) {
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = c.shape[p]
	}
	in, out := strides(c.shape), strides(shape)
	return take(c, shape, func(i int) int {
		k := 0
		for j, p := range perm {
			k += (i / out[j] % shape[j]) * in[p]
		}
		return k
	}), nil
}

// binaryConst folds Add, Sub, Mul or Div of two constants with numpy
// broadcasting.
func binaryConst(op string, a, b *constant) (*constant, error) {
	if a.isInt != b.isInt {
		return nil, errors.New("combines an integer and a float constant")
	}
	r := max(len(a.shape), len(b.shape))
	shape := make([]int, r)
	da, db := pad(a.shape, r), pad(b.shape, r)
	for i := range shape {
		switch {
		case da[i] == db[i], db[i] == 1:
			shape[i] = da[i]
		case da[i] == 1:
			shape[i] = db[i]
		default:
			return nil, errors.Errorf("shapes %v and %v do not broadcast", a.shape, b.shape)
		}
	}
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if err := checkSize(n, a, b); err != nil {
		return nil, err
	}
	os, sa, sb := strides(shape), strides(da), strides(db)
	index := func(i int, d, s []int) int {
		k := 0
		for j := range shape {
			if d[j] != 1 {
				k += (i / os[j] % shape[j]) * s[j]
			}
		}
		return k
	}
	out := &constant{shape: shape, isInt: a.isInt}
	if a.isInt {
		out.ints = make([]int64, n)
		for i := range out.ints {
			x, y := a.ints[index(i, da, sa)], b.ints[index(i, db, sb)]
			if x == batchSym || y == batchSym {
				return nil, errors.New("computes with the batch size, which Keragon leaves open")
			}
			switch op {
			case "Add":
				out.ints[i] = x + y
			case "Sub":
				out.ints[i] = x - y
			case "Mul":
				out.ints[i] = x * y
			default:
				if y == 0 {
					return nil, errors.New("divides by zero")
				}
				out.ints[i] = x / y
			}
		}
		return out, nil
	}
	out.floats = make([]float32, n)
	for i := range out.floats {
		x, y := a.floats[index(i, da, sa)], b.floats[index(i, db, sb)]
		switch op {
		case "Add":
			out.floats[i] = x + y
		case "Sub":
			out.floats[i] = x - y
		case "Mul":
			out.floats[i] = x * y
		default:
			out.floats[i] = x / y
		}
	}
	return out, nil
}

// pad left-pads a shape with ones to rank r.
func pad(s []int, r int) []int {
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	copy(out[r-len(s):], s)
	return out
}
