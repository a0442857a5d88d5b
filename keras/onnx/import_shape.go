package onnx

import (
	"github.com/pkg/errors"
)

// The nodes that compute shapes and change layouts: constants, Shape,
// Gather, Squeeze, Unsqueeze, Concat, Reshape, Flatten, Transpose.

func identityOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	v, err := arg(n, in, 0, "input")
	return []*value{v}, err
}

func constantOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if len(n.attrs) != 1 {
		return nil, errors.Errorf("has %d attributes, want exactly one value", len(n.attrs))
	}
	a := n.attrs[0]
	c := &constant{}
	switch a.name {
	case "value":
		if err := checkType(a, typTensor); err != nil {
			return nil, err
		}
		if a.t == nil {
			return nil, errors.New("attribute value has no tensor")
		}
		var err error
		if c, err = constantOf(a.t); err != nil {
			return nil, err
		}
	case "value_float":
		c.floats = []float32{a.f}
	case "value_floats":
		c.shape, c.floats = []int{len(a.floats)}, a.floats
	case "value_int":
		c.ints, c.isInt = []int64{a.i}, true
	case "value_ints":
		c.shape, c.ints, c.isInt = []int{len(a.ints)}, a.ints, true
	default:
		return nil, errors.Errorf("attribute %q is not supported", a.name)
	}
	return []*value{{c: c}}, nil
}

// shapeOp computes a shape as an integer constant; the batch size is the
// symbol batchSym.
func shapeOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "start", "end"); err != nil {
		return nil, err
	}
	v, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	var dims []int64
	switch {
	case v.tensorLike():
		for _, d := range v.dims() {
			if d < 0 {
				dims = append(dims, batchSym)
			} else {
				dims = append(dims, int64(d))
			}
		}
	case v.c != nil:
		for _, d := range v.c.shape {
			dims = append(dims, int64(d))
		}
	case v.fill != nil:
		dims = append(dims, v.fill.shape...)
	default:
		return nil, errors.Errorf("cannot take the shape of %v", v)
	}
	r := len(dims)
	start, err := attrInt(n, "start", 0)
	if err != nil {
		return nil, err
	}
	end, err := attrInt(n, "end", int64(r))
	if err != nil {
		return nil, err
	}
	clampAxis := func(a int64) int {
		if a < 0 {
			a += int64(r)
		}
		return int(min(max(a, 0), int64(r)))
	}
	s, e := clampAxis(start), clampAxis(end)
	if e < s {
		e = s
	}
	dims = dims[s:e]
	return []*value{{c: &constant{shape: []int{len(dims)}, ints: dims, isInt: true}}}, nil
}

// gatherOp takes slices of constants, and of tensors: one index of an
// axis of size 1, the final step of a recurrent node's output sequence,
// or one direction of a bidirectional node's states.
func gatherOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "axis"); err != nil {
		return nil, err
	}
	data, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	axis, err := attrInt(n, "axis", 0)
	if err != nil {
		return nil, err
	}
	if data.c != nil && len(in) > 1 && in[1] != nil && in[1].tensorLike() {
		return im.embedding(n, data.c, axis, in[1])
	}
	idx, err := constArg(n, in, 1, "indices")
	if err != nil {
		return nil, err
	}
	indices, err := idx.intList()
	if err != nil {
		return nil, errors.WithMessage(err, "indices")
	}
	if data.c != nil {
		c, err := gatherConst(data.c, axis, idx.shape, indices)
		return []*value{{c: c}}, err
	}
	r := 0
	switch {
	case data.tensorLike():
		r = len(data.axes)
	case data.dirs != nil:
		r = 3
	}
	if r == 0 {
		return nil, errors.Errorf("cannot gather from %v", data)
	}
	a, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	if len(indices) != 1 {
		return nil, errors.Errorf("gathers %d indices from tensor %q; only one index is supported", len(indices), data.name)
	}
	scalar := len(idx.shape) == 0
	k := indices[0]
	switch {
	case data.dirs != nil && a == data.dirAxis && scalar:
		if k < 0 {
			k += int64(len(data.dirs))
		}
		if k < 0 || k >= int64(len(data.dirs)) {
			return nil, errors.Errorf("index %d is out of range for %d directions", indices[0], len(data.dirs))
		}
		return []*value{data.dirs[k]}, nil
	case data.seq != nil && a == data.seq.timeAxis && scalar:
		if k < 0 {
			k += int64(data.seq.steps)
		}
		if f := data.seq.final; k == int64(data.seq.lastIdx) && f != nil {
			// The sequence is held as (batch, steps, units…): drop the
			// time axis (Keragon axis 1).
			var axes []int
			for i, x := range data.axes {
				switch {
				case i == a:
				case x > 1:
					axes = append(axes, x-1)
				default:
					axes = append(axes, x)
				}
			}
			return []*value{{t: f.t, axes: axes, src: f.src}}, nil
		}
		return nil, errors.Errorf("gathers step %d of the output sequence %q; Keragon can take only the final step (%d) of a forward recurrent node", indices[0], data.name, data.seq.lastIdx)
	}
	if !data.tensorLike() {
		return nil, errors.Errorf("cannot gather axis %d of %v", a, data)
	}
	d := data.dims()
	if d[a] != 1 || (k != 0 && k != -1) {
		return nil, errors.Errorf("gathers index %d of axis %d (size %d) of %q; Keragon supports a gather only on an axis of size 1, the final step of a recurrent output, or one direction of bidirectional states", k, a, d[a], data.name)
	}
	if !scalar {
		return []*value{data}, nil
	}
	v, err := im.dropAxis(data, a)
	return []*value{v}, err
}

// dropAxis removes ONNX axis a, of size 1, from a tensor value.
func (im *importer) dropAxis(v *value, a int) (*value, error) {
	if v.axes[a] == 0 {
		return nil, errors.Errorf("cannot remove the batch axis of %q", v.name)
	}
	if v.flat != nil {
		return nil, errors.Errorf("cannot remove an axis of the flattened %q", v.name)
	}
	oldToNew := make([]int, len(v.axes))
	for i := range oldToNew {
		switch {
		case i < a:
			oldToNew[i] = i
		case i == a:
			oldToNew[i] = -1
		default:
			oldToNew[i] = i - 1
		}
	}
	if v.axes[a] < 0 {
		return v.relayout(append(append([]int(nil), v.axes[:a]...), v.axes[a+1:]...), oldToNew), nil
	}
	old := v.axes[a]
	want := make([]int, len(v.axes))
	for i, x := range v.axes {
		switch {
		case i == a:
			want[i] = -1
		case x > old:
			want[i] = x - 1
		default:
			want[i] = x
		}
	}
	t, err := im.need(v, want, "removing an axis")
	if err != nil {
		return nil, err
	}
	out := v.relayout(append(append([]int(nil), want[:a]...), want[a+1:]...), oldToNew)
	out.t, out.vshape = t, nil
	return out, nil
}

// axesArg reads the axes of Squeeze and Unsqueeze: an attribute before
// opset 13, an input from 13 on.
func (im *importer) axesArg(n *nodeProto, in []*value) ([]int64, bool, error) {
	if im.opset >= 13 {
		if err := only(n); err != nil {
			return nil, false, err
		}
		if len(in) < 2 || in[1] == nil {
			return nil, false, nil
		}
		if in[1].c == nil {
			return nil, false, errors.New("axes must be a constant")
		}
		a, err := in[1].c.intList()
		return a, true, err
	}
	if err := only(n, "axes"); err != nil {
		return nil, false, err
	}
	a, err := attrInts(n, "axes")
	return a, a != nil, err
}

func unsqueezeOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	v, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	axes, ok, err := im.axesArg(n, in)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("needs axes")
	}
	var r int
	switch {
	case v.c != nil:
		r = len(v.c.shape)
	case v.tensorLike():
		r = len(v.axes)
	default:
		return nil, errors.Errorf("cannot unsqueeze %v", v)
	}
	r += len(axes)
	if r > MaxRank {
		return nil, errors.Errorf("makes rank %d, more than %d", r, MaxRank)
	}
	insert := make([]bool, r)
	for _, a := range axes {
		k, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if insert[k] {
			return nil, errors.Errorf("axis %d is given twice", k)
		}
		insert[k] = true
	}
	j := 0
	if v.c != nil {
		c := *v.c
		c.shape = make([]int, r)
		for i := range c.shape {
			if insert[i] {
				c.shape[i] = 1
			} else {
				c.shape[i] = v.c.shape[j]
				j++
			}
		}
		return []*value{{c: &c}}, nil
	}
	if v.flat != nil {
		return nil, errors.Errorf("cannot unsqueeze the flattened %q", v.name)
	}
	newAxes := make([]int, r)
	oldToNew := make([]int, len(v.axes))
	for i := range newAxes {
		if insert[i] {
			newAxes[i] = -1
		} else {
			newAxes[i] = v.axes[j]
			oldToNew[j] = i
			j++
		}
	}
	return []*value{v.relayout(newAxes, oldToNew)}, nil
}

func squeezeOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	v, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	axes, given, err := im.axesArg(n, in)
	if err != nil {
		return nil, err
	}
	var dims []int
	switch {
	case v.c != nil:
		dims = v.c.shape
	case v.tensorLike():
		dims = v.dims()
	default:
		return nil, errors.Errorf("cannot squeeze %v", v)
	}
	drop := make([]bool, len(dims))
	if !given {
		for i, d := range dims {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		k, err := normAxis(a, len(dims))
		if err != nil {
			return nil, err
		}
		if dims[k] != 1 {
			return nil, errors.Errorf("squeezes axis %d of size %d", k, dims[k])
		}
		drop[k] = true
	}
	if v.c != nil {
		c := *v.c
		c.shape = nil
		for i, d := range dims {
			if !drop[i] {
				c.shape = append(c.shape, d)
			}
		}
		return []*value{{c: &c}}, nil
	}
	for k := len(dims) - 1; k >= 0; k-- {
		if drop[k] {
			if v, err = im.dropAxis(v, k); err != nil {
				return nil, err
			}
		}
	}
	return []*value{v}, nil
}

func concatOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "axis"); err != nil {
		return nil, err
	}
	axis, err := attrInt(n, "axis", 0)
	if err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, errors.New("has no inputs")
	}
	allConst := true
	for _, v := range in {
		allConst = allConst && v != nil && v.c != nil
	}
	if !allConst {
		return im.concatTensors(n, axis, in)
	}
	out := &constant{isInt: in[0].c.isInt}
	for i, v := range in {
		c := v.c
		if len(c.shape) != 1 || (axis != 0 && axis != -1) {
			return nil, errors.Errorf("concatenates constants of shape %v on axis %d; only 1-D constants are supported", c.shape, axis)
		}
		if c.isInt != out.isInt {
			return nil, errors.Errorf("input %d mixes integers and floats", i)
		}
		if out.size()+c.size() > MaxInts {
			return nil, errors.Errorf("makes a constant of more than %d values", MaxInts)
		}
		out.ints = append(out.ints, c.ints...)
		out.floats = append(out.floats, c.floats...)
	}
	out.shape = []int{out.size()}
	return []*value{{c: out}}, nil
}

func constantOfShapeOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "value"); err != nil {
		return nil, err
	}
	c, err := constArg(n, in, 0, "shape")
	if err != nil {
		return nil, err
	}
	shape, err := c.intList()
	if err != nil {
		return nil, err
	}
	f := &fill{shape: append([]int64(nil), shape...)}
	if a := attrOf(n, "value"); a != nil {
		if err := checkType(a, typTensor); err != nil {
			return nil, err
		}
		if a.t == nil {
			return nil, errors.New("attribute value has no tensor")
		}
		vc, err := constantOf(a.t)
		if err != nil {
			return nil, err
		}
		x, ok := vc.scalar()
		if !ok {
			return nil, errors.New("attribute value must hold one number")
		}
		f.v = x
	}
	return []*value{{fill: f}}, nil
}

func castOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "to", "saturate"); err != nil {
		return nil, err
	}
	v, err := arg(n, in, 0, "input")
	if err != nil {
		return nil, err
	}
	to, err := attrInt(n, "to", 0)
	if err != nil {
		return nil, err
	}
	switch {
	case v.c != nil:
		c := *v.c
		switch to {
		case dtFloat, dtDouble:
			if c.isInt {
				c.floats = make([]float32, len(c.ints))
				for i, x := range c.ints {
					c.floats[i] = float32(x)
				}
				c.ints, c.isInt = nil, false
			}
		case dtInt64, dtInt32:
			if !c.isInt {
				c.ints = make([]int64, len(c.floats))
				for i, x := range c.floats {
					c.ints[i] = int64(x)
				}
				c.floats, c.isInt = nil, true
			}
		default:
			return nil, errors.Errorf("casts a constant to type %d", to)
		}
		return []*value{{c: &c}}, nil
	case v.tensorLike() && (to == dtFloat || to == dtDouble) && !v.ids:
		return []*value{v}, nil
	case v.tensorLike() && (to == dtInt64 || to == dtInt32):
		// Token ids: Keragon's Embedding reads floats holding integers.
		out := *v
		out.ids, out.prod = true, nil
		return []*value{&out}, nil
	}
	return nil, errors.Errorf("casts %v to type %d; only casts of constants, and of tensors to float, are supported", v, to)
}

func reshapeOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "allowzero", "shape"); err != nil {
		return nil, err
	}
	v, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	var target []int64
	if im.opset < 5 {
		if target, err = attrInts(n, "shape"); err != nil {
			return nil, err
		}
	} else {
		c, err := constArg(n, in, 1, "shape")
		if err != nil {
			return nil, err
		}
		if target, err = c.intList(); err != nil {
			return nil, err
		}
	}
	allowZero, err := attrInt(n, "allowzero", 0)
	if err != nil {
		return nil, err
	}
	if len(target) > MaxRank {
		return nil, errors.Errorf("reshapes to rank %d, more than %d", len(target), MaxRank)
	}
	if v.c != nil {
		c, err := reshapeConst(v.c, target, allowZero != 0)
		return []*value{{c: c}}, err
	}
	if v.t == nil {
		return nil, errors.Errorf("cannot reshape %v", v)
	}
	out, err := im.reshapeTensor(v, target, allowZero != 0, n.name)
	return []*value{out}, err
}

func flattenOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "axis"); err != nil {
		return nil, err
	}
	v, err := arg(n, in, 0, "input")
	if err != nil {
		return nil, err
	}
	axis, err := attrInt(n, "axis", 1)
	if err != nil {
		return nil, err
	}
	if v.c != nil {
		r := len(v.c.shape)
		a, err := normAxis(axis, r+1)
		if err != nil {
			return nil, err
		}
		outer := int64(1)
		for _, d := range v.c.shape[:a] {
			outer *= int64(d)
		}
		c, err := reshapeConst(v.c, []int64{outer, -1}, false)
		return []*value{{c: c}}, err
	}
	if v.t == nil {
		return nil, errors.Errorf("cannot flatten %v", v)
	}
	a, err := normAxis(axis, len(v.axes)+1)
	if err != nil {
		return nil, err
	}
	if a != 1 {
		return nil, errors.Errorf("flattens at axis %d; Keragon keeps the batch axis apart (axis 1)", a)
	}
	out, err := im.flatten(v, n.name)
	return []*value{out}, err
}

func transposeOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "perm"); err != nil {
		return nil, err
	}
	v, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	var r int
	switch {
	case v.tensorLike():
		r = len(v.axes)
	case v.c != nil:
		r = len(v.c.shape)
	default:
		return nil, errors.Errorf("cannot transpose %v", v)
	}
	perm64, err := attrInts(n, "perm")
	if err != nil {
		return nil, err
	}
	perm := make([]int, r)
	if perm64 == nil {
		for i := range perm {
			perm[i] = r - 1 - i
		}
	} else {
		if len(perm64) != r {
			return nil, errors.Errorf("perm %v does not fit rank %d", perm64, r)
		}
		seen := make([]bool, r)
		for i, p := range perm64 {
			if p < 0 || p >= int64(r) || seen[p] {
				return nil, errors.Errorf("perm %v is not a permutation", perm64)
			}
			seen[p] = true
			perm[i] = int(p)
		}
	}
	if v.c != nil {
		c, err := transposeConst(v.c, perm)
		return []*value{{c: c}}, err
	}
	if v.flat != nil {
		return nil, errors.Errorf("transposes the flattened %q", v.name)
	}
	axes := make([]int, r)
	oldToNew := make([]int, r)
	for i, p := range perm {
		axes[i] = v.axes[p]
		oldToNew[p] = i
	}
	return []*value{v.relayout(axes, oldToNew)}, nil
}
