package onnx

import (
	"fmt"
	"math"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// A value is what an ONNX value name stands for during the import: a
// tensor of the Keragon graph seen through a layout, a constant, or a
// ConstantOfShape not materialised.
//
// Layouts: ONNX axis i of a tensor value is Keragon axis axes[i] of t
// (axis 0 being the batch), or -1 for an axis of size 1 that t does not
// have. An NCHW activation held as NHWC has axes [0, 3, 1, 2]; the output
// [N, C, 1, 1] of a global pooling held as (N, C) has [0, 1, -1, -1].
type value struct {
	name string

	t    *keras.Tensor
	axes []int
	// vshape is the Keragon sample shape of a tensor value that has no t:
	// the output sequence of a recurrent node built without it, of which
	// only the final step is read. Layout nodes pass it on.
	vshape keras.Shape
	// flat is set on a 2-D value made by flattening a tensor whose
	// Keragon order differs from ONNX's (an NCHW image held as NHWC): the
	// ONNX features come in another order than t's.
	flat *flatOrder
	// nonneg is set when the values are known to be >= 0 (after a ReLU).
	nonneg bool
	// ids is set on integer ids (an int64 graph input, or a Cast to an
	// integer type), which Keragon holds as floats and only an Embedding
	// (Gather from a constant table) reads.
	ids bool
	// prod is the layer that made t, when later nodes may fold into it
	// (a bias, an activation).
	prod *produced
	// src marks t as an output of a recurrent node, for the probe pass.
	src *rnnRef
	// seq is set on the output sequence Y of a recurrent node: which ONNX
	// axis is time, and which index along it is the final state.
	seq *seqInfo
	// dirs is set on the states Y_h, Y_c of a bidirectional node: the
	// value of each direction, picked by Gather on ONNX axis dirAxis.
	dirs    []*value
	dirAxis int

	c    *constant
	fill *fill
}

// seqInfo describes the output sequence of a recurrent node.
type seqInfo struct {
	timeAxis int // -1 once a layout node lost track of it
	steps    int
	lastIdx  int    // index along timeAxis whose slice is final (h)
	final    *value // the final output (h, its layout unused); nil if none
}

// produced is the layer behind a value, for folding (its weights are in
// importer.weights).
type produced struct {
	layer keras.Layer
}

// flatOrder records a flattening: the Keragon sample shape and, for each
// ONNX axis of the flattened sample (batch excluded, unit axes kept), its
// Keragon axis (sample axes, from 0) or -1.
type flatOrder struct {
	kshape []int
	axes   []int
	dims   []int // ONNX sample dims
}

// permutation returns kerasIndex for every feature.
func (f *flatOrder) permutation() []int {
	n := 1
	for _, d := range f.dims {
		n *= d
	}
	p := make([]int, n)
	strides := make([]int, len(f.kshape))
	s := 1
	for i := len(f.kshape) - 1; i >= 0; i-- {
		strides[i] = s
		s *= f.kshape[i]
	}
	idx := make([]int, len(f.dims))
	for j := range p {
		k := 0
		for i, a := range f.axes {
			if a >= 0 {
				k += idx[i] * strides[a]
			}
		}
		p[j] = k
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < f.dims[i] {
				break
			}
			idx[i] = 0
		}
	}
	return p
}

// batchSym stands for the batch size in integer constants (shapes).
const batchSym = math.MinInt64

// constant is a constant tensor: integers (shapes, indices) or floats.
type constant struct {
	shape  []int
	ints   []int64
	floats []float32
	isInt  bool
}

func (c *constant) size() int {
	if c.isInt {
		return len(c.ints)
	}
	return len(c.floats)
}

// fill is a ConstantOfShape: a shape (which may hold batchSym) filled with
// one number.
type fill struct {
	shape []int64
	v     float64
}

// constantOf converts a decoded tensor.
func constantOf(t *tensorProto) (*constant, error) {
	c := &constant{shape: make([]int, len(t.dims))}
	for i, d := range t.dims {
		c.shape[i] = int(d)
	}
	switch t.dataType {
	case dtFloat:
		c.floats = t.floats
	case dtDouble:
		c.floats = make([]float32, len(t.doubles))
		for i, x := range t.doubles {
			c.floats[i] = float32(x)
		}
	case dtInt64, dtInt32, dtBool:
		c.ints, c.isInt = t.ints, true
	default:
		return nil, errors.Errorf("tensor %q has data type %d", t.name, t.dataType)
	}
	if c.floats == nil && !c.isInt {
		c.floats = []float32{}
	}
	return c, nil
}

// intList returns an integer constant's values.
func (c *constant) intList() ([]int64, error) {
	if !c.isInt {
		// Some exporters store shapes as floats; accept exact integers.
		out := make([]int64, len(c.floats))
		for i, f := range c.floats {
			if f != float32(math.Trunc(float64(f))) {
				return nil, errors.Errorf("want integers, got %v", c.floats)
			}
			out[i] = int64(f)
		}
		return out, nil
	}
	return c.ints, nil
}

// scalar returns a one-element constant's value.
func (c *constant) scalar() (float64, bool) {
	if c.size() != 1 {
		return 0, false
	}
	if c.isInt {
		return float64(c.ints[0]), true
	}
	return float64(c.floats[0]), true
}

// tensorLike reports whether v is a tensor, built or not.
func (v *value) tensorLike() bool { return v.t != nil || v.vshape != nil }

// kshape is the Keragon sample shape of a tensor value.
func (v *value) kshape() keras.Shape {
	if v.t != nil {
		return v.t.Shape()
	}
	return v.vshape
}

// relayout copies a tensor value with new axes; oldToNew maps each old
// ONNX axis to its new index (-1 if removed), to follow the time axis.
func (v *value) relayout(axes []int, oldToNew []int) *value {
	out := &value{t: v.t, vshape: v.vshape, axes: axes, nonneg: v.nonneg, src: v.src, ids: v.ids}
	if v.seq != nil && v.seq.timeAxis >= 0 {
		s := *v.seq
		s.timeAxis = oldToNew[v.seq.timeAxis]
		out.seq = &s
	}
	return out
}

// dims returns a tensor value's ONNX shape, with -1 for the batch.
func (v *value) dims() []int {
	s := v.kshape()
	d := make([]int, len(v.axes))
	for i, a := range v.axes {
		switch {
		case a < 0:
			d[i] = 1
		case a == 0:
			d[i] = -1
		default:
			d[i] = s[a-1]
		}
	}
	return d
}

// batchAxis is the ONNX axis that holds the batch.
func (v *value) batchAxis() int {
	for i, a := range v.axes {
		if a == 0 {
			return i
		}
	}
	return -1
}

// derive makes a tensor value of the same layout from another tensor.
func (v *value) derive(name string, t *keras.Tensor) *value {
	return &value{name: name, t: t, axes: append([]int(nil), v.axes...), flat: v.flat, src: v.src}
}

// kerasLast is the ONNX axis held on t's last axis.
func (v *value) kerasLast() int {
	r := len(v.kshape())
	for i, a := range v.axes {
		if a == r {
			return i
		}
	}
	return -1
}

// tensorOf returns a value's Keragon tensor, marking the use of a
// recurrent node's output.
func (im *importer) tensorOf(v *value) (*keras.Tensor, error) {
	if v == nil || v.t == nil {
		switch {
		case v == nil:
			return nil, errors.New("an input is missing")
		case v.c != nil:
			return nil, errors.Errorf("input %q is a constant where a computed tensor is expected", v.name)
		case v.dirs != nil:
			return nil, errors.Errorf("input %q holds the states of both directions; only Gather of one direction is supported", v.name)
		case v.seq != nil:
			return nil, errors.Errorf("input %q is an output sequence the importer did not build", v.name)
		}
		return nil, errors.Errorf("input %q is not a tensor", v.name)
	}
	if v.ids {
		return nil, errors.Errorf("%q holds integer token ids, which only an embedding (Gather from a constant table) reads", v.name)
	}
	if v.src != nil && im.probe {
		im.use(v.src)
	}
	return v.t, nil
}

// need returns v's Keragon tensor laid out as want says (want[i] is the
// Keragon axis for ONNX axis i, or -1 for an axis of size 1 to leave
// out). Only layouts that agree up to axes of size 1 can be converted (by
// a Reshape layer): Keragon has no transpose layer.
func (im *importer) need(v *value, want []int, why string) (*keras.Tensor, error) {
	t, err := im.tensorOf(v)
	if err != nil {
		return nil, err
	}
	if len(want) != len(v.axes) {
		return nil, errors.Errorf("%s needs a rank-%d input, %q has rank %d", why, len(want), v.name, len(v.axes))
	}
	if v.flat != nil {
		return nil, errors.Errorf("%s reads %q, a flattened image whose features are in NCHW order; only Gemm, MatMul and elementwise nodes can read it", why, v.name)
	}
	if equalAxes(v.axes, want) {
		return t, nil
	}
	d := v.dims()
	cur, nw := memoryOrder(v.axes, d), memoryOrder(want, d)
	ok := len(cur) == len(nw)
	for i := range cur {
		ok = ok && cur[i] == nw[i]
	}
	for i, a := range want {
		if a < 0 && d[i] != 1 {
			ok = false
		}
		if (a == 0) != (v.axes[i] == 0) {
			ok = false // the batch axis must stay the batch axis
		}
	}
	if !ok {
		return nil, errors.Errorf("%s needs %q in layout %v (ONNX axis → Keragon axis), it is in %v, which would need a transpose; Keragon has no transpose layer", why, v.name, want, v.axes)
	}
	k := 0
	for _, a := range want {
		k = max(k, a)
	}
	shape := make([]int, k)
	for i, a := range want {
		if a > 0 {
			shape[a-1] = d[i]
		}
	}
	if keras.Shape(shape).Equal(t.Shape()) {
		return t, nil
	}
	return im.reshape(t, shape, v.name)
}

// reshape applies a Reshape layer, or undoes one the importer added.
func (im *importer) reshape(t *keras.Tensor, shape []int, name string) (*keras.Tensor, error) {
	if src := im.reshaped[t]; src != nil && src.Shape().Equal(shape) {
		return src, nil
	}
	out, err := im.apply1(&keras.Reshape{Name: im.name(name + "_reshape"), TargetShape: shape}, nil, t)
	if err != nil {
		return nil, err
	}
	if src := im.reshaped[t]; src != nil {
		t = src
	}
	im.reshaped[out] = t
	return out, nil
}

func equalAxes(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// memoryOrder lists the ONNX axes of size > 1 (the batch included) in the
// order of their Keragon axes.
func memoryOrder(axes, dims []int) []int {
	var out []int
	for k := 0; k < len(axes)+1; k++ {
		for i, a := range axes {
			if a == k && dims[i] != 1 {
				out = append(out, i)
			}
		}
	}
	return out
}

// plainAxes is the layout of a tensor held in ONNX order.
func plainAxes(r int) []int { return identity(r) }

// nchw is the layout of an ONNX channels-first tensor of rank r held
// channels-last: [0, r−1, 1, …, r−2].
func nchw(r int) []int {
	a := make([]int, r)
	a[1] = r - 1
	for i := 2; i < r; i++ {
		a[i] = i - 1
	}
	return a
}

// flatten is Flatten(axis=1) of a tensor value whose batch is ONNX axis 0.
func (im *importer) flatten(v *value, name string) (*value, error) {
	t, err := im.tensorOf(v)
	if err != nil {
		return nil, err
	}
	if v.batchAxis() != 0 {
		return nil, errors.Errorf("flattens %q, whose batch is not its first axis (layout %v)", v.name, v.axes)
	}
	if len(v.axes) == 2 && v.axes[1] == 1 {
		return &value{name: name, t: t, axes: []int{0, 1}, flat: v.flat, nonneg: v.nonneg, src: v.src}, nil
	}
	if v.flat != nil {
		return nil, errors.Errorf("internal error: flattening %q twice", v.name)
	}
	d := v.dims()
	out := &value{name: name, axes: []int{0, 1}, nonneg: v.nonneg}
	cur, plain := memoryOrder(v.axes, d), memoryOrder(plainAxes(len(d)), d)
	same := len(cur) == len(plain)
	for i := range cur {
		same = same && cur[i] == plain[i]
	}
	if !same {
		f := &flatOrder{kshape: t.Shape(), dims: d[1:]}
		for _, a := range v.axes[1:] {
			f.axes = append(f.axes, a-1) // -1 stays below 0
		}
		out.flat = f
	}
	if s := t.Shape(); len(s) == 1 {
		out.t = t
		return out, nil
	}
	if src := im.reshaped[t]; out.flat == nil && src != nil && len(src.Shape()) == 1 {
		out.t = src
		return out, nil
	}
	ft, err := im.apply1(&keras.Flatten{Name: im.name(name)}, nil, t)
	if err != nil {
		return nil, err
	}
	out.t = ft
	return out, nil
}

// String describes a value for messages.
func (v *value) String() string {
	switch {
	case v.tensorLike():
		return fmt.Sprintf("%q (tensor, layout %v)", v.name, v.axes)
	case v.c != nil:
		return fmt.Sprintf("%q (constant of shape %v)", v.name, v.c.shape)
	}
	return fmt.Sprintf("%q", v.name)
}
