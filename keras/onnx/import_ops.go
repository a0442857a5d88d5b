package onnx

import (
	"math"
	"sort"
	"strings"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// handler imports one node: it gets the node's input values (nil for an
// absent optional input) and returns its output values (nil for outputs
// Keragon does not compute, which must then be unused).
type handler func(im *importer, n *nodeProto, in []*value) ([]*value, error)

var handlers = map[string]handler{
	"Identity":           identityOp,
	"Constant":           constantOp,
	"Shape":              shapeOp,
	"Gather":             gatherOp,
	"Unsqueeze":          unsqueezeOp,
	"Squeeze":            squeezeOp,
	"Concat":             concatOp,
	"ConstantOfShape":    constantOfShapeOp,
	"Cast":               castOp,
	"Reshape":            reshapeOp,
	"Flatten":            flattenOp,
	"Transpose":          transposeOp,
	"Add":                arithmeticOp,
	"Sub":                arithmeticOp,
	"Mul":                arithmeticOp,
	"Div":                arithmeticOp,
	"Gemm":               gemmOp,
	"MatMul":             matMulOp,
	"BatchNormalization": batchNormOp,
	"Dropout":            dropoutOp,
	"Conv":               convOp,
	"MaxPool":            poolOp,
	"AveragePool":        poolOp,
	"GlobalAveragePool":  globalPoolOp,
	"GlobalMaxPool":      globalPoolOp,
	"Pad":                padOp,
	"LSTM":               recurrentOp,
	"GRU":                recurrentOp,
	"RNN":                recurrentOp,
	"Relu":               activationOp,
	"Sigmoid":            activationOp,
	"Tanh":               activationOp,
	"Softplus":           activationOp,
	"Softsign":           activationOp,
	"Elu":                activationOp,
	"Selu":               activationOp,
	"LeakyRelu":          activationOp,
	"HardSigmoid":        activationOp,
	"Gelu":               activationOp,
	"Exp":                activationOp,
	"Mish":               activationOp,
	"Clip":               activationOp,
	"Softmax":            activationOp,
	"LogSoftmax":         activationOp,
}

// SupportedOps lists the ONNX operators Import reads.
func SupportedOps() []string {
	ops := make([]string, 0, len(handlers))
	for k := range handlers {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	return ops
}

// apply imports one node.
func (im *importer) apply(n *nodeProto) error {
	if n.domain != "" && n.domain != "ai.onnx" {
		return errors.Errorf("operator domain %q is not supported", n.domain)
	}
	for _, a := range n.attrs {
		if a.graph {
			return errors.Errorf("attribute %q holds a subgraph; control flow is not supported", a.name)
		}
	}
	h, ok := handlers[n.opType]
	if !ok {
		return errors.Errorf("op %s is not supported (supported: %s)", n.opType, strings.Join(SupportedOps(), ", "))
	}
	ins := make([]*value, len(n.inputs))
	for i, name := range n.inputs {
		if name == "" {
			continue
		}
		v, ok := im.vals[name]
		if !ok {
			return errors.Errorf("input %q is computed by no earlier node (the graph must be sorted)", name)
		}
		ins[i] = v
	}
	outs, err := h(im, n, ins)
	if err != nil {
		return err
	}
	for i, name := range n.outputs {
		if name == "" {
			continue
		}
		if i >= len(outs) || outs[i] == nil {
			if im.uses[name] > 0 {
				return errors.Errorf("output %d (%q) is used, but Keragon does not compute it", i, name)
			}
			continue
		}
		if _, dup := im.vals[name]; dup {
			return errors.Errorf("value %q is computed twice", name)
		}
		v := *outs[i]
		v.name = name
		im.vals[name] = &v
	}
	return nil
}

// arg returns input i, or an error naming what it is for.
func arg(n *nodeProto, in []*value, i int, what string) (*value, error) {
	if i >= len(in) || in[i] == nil {
		return nil, errors.Errorf("needs input %d (%s)", i, what)
	}
	return in[i], nil
}

// constArg returns input i as a constant.
func constArg(n *nodeProto, in []*value, i int, what string) (*constant, error) {
	v, err := arg(n, in, i, what)
	if err != nil {
		return nil, err
	}
	if v.c == nil {
		return nil, errors.Errorf("input %d (%s, %q) must be a constant (an initializer or a Constant node)", i, what, v.name)
	}
	return v.c, nil
}

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
	idx, err := constArg(n, in, 1, "indices")
	if err != nil {
		return nil, err
	}
	axis, err := attrInt(n, "axis", 0)
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
	allConst := true
	for _, v := range in {
		allConst = allConst && v != nil && v.c != nil
	}
	if !allConst {
		return nil, errors.New("concatenates computed tensors; Keragon imports Concat of constants (shapes) only until its merge layers exist")
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
	case v.t != nil && (to == dtFloat || to == dtDouble):
		return []*value{v}, nil
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

// arithmeticOp folds Add, Sub, Mul and Div of constants, and of a tensor
// and a constant into the Dense or Conv layer that made the tensor (a
// bias, a scale).
func arithmeticOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "broadcast", "axis"); err != nil {
		return nil, err
	}
	a, err := arg(n, in, 0, "A")
	if err != nil {
		return nil, err
	}
	b, err := arg(n, in, 1, "B")
	if err != nil {
		return nil, err
	}
	if attrOf(n, "broadcast") != nil && (a.t != nil || b.t != nil) {
		return nil, errors.New("uses the legacy broadcast attribute on a tensor")
	}
	if a.c != nil && b.c != nil {
		c, err := binaryConst(n.opType, a.c, b.c)
		return []*value{{c: c}}, err
	}
	t, c, tensorFirst := a, b.c, true
	if a.c != nil {
		t, c, tensorFirst = b, a.c, false
	}
	if t.t == nil || c == nil {
		return nil, errors.Errorf("combines %v and %v; two computed tensors need Keragon's merge layers, not available to the importer yet", a, b)
	}
	if c.isInt {
		return nil, errors.New("combines a tensor with an integer constant")
	}
	switch n.opType {
	case "Add":
		return im.foldBias(t, c, 1)
	case "Sub":
		if !tensorFirst {
			return nil, errors.New("subtracts a tensor from a constant; Keragon has no layer for it")
		}
		return im.foldBias(t, c, -1)
	case "Mul":
		return im.foldScale(t, c, false)
	default: // Div
		if !tensorFirst {
			return nil, errors.New("divides a constant by a tensor; Keragon has no layer for it")
		}
		return im.foldScale(t, c, true)
	}
}

// foldable returns the layer a value can fold a bias or scale into: the
// Dense or convolution that made it, without an activation, read only
// here.
func (im *importer) foldable(v *value) (keras.Layer, error) {
	if v.prod == nil || im.uses[v.name] != 1 || im.outputs[v.name] {
		return nil, errors.Errorf("applies a constant to %q, which no Dense or Conv that could absorb it makes (Keragon has no layer for a bias or a scale by itself)", v.name)
	}
	if activationOf(v.prod.layer) != "" {
		return nil, errors.Errorf("applies a constant after the activation of %q", v.name)
	}
	return v.prod.layer, nil
}

// channelVector broadcasts a constant over the channel (Keragon's last
// axis) of v: it may vary only along that axis.
func channelVector(v *value, c *constant) ([]float32, error) {
	d := v.dims()
	ch := v.kerasLast()
	if ch < 0 || len(c.shape) > len(d) {
		return nil, errors.Errorf("cannot broadcast a constant of shape %v over %q (shape %v)", c.shape, v.name, d)
	}
	m := d[ch]
	vary := false
	for j, s := range c.shape {
		i := len(d) - len(c.shape) + j
		switch {
		case s == 1:
		case i == ch && s == m:
			vary = true
		default:
			return nil, errors.Errorf("a constant of shape %v varies along axis %d of %q (shape %v); only per-channel constants fold into a layer", c.shape, i, v.name, d)
		}
	}
	out := make([]float32, m)
	for k := range out {
		if vary {
			out[k] = c.floats[k]
		} else {
			out[k] = c.floats[0]
		}
	}
	return out, nil
}

func (im *importer) foldBias(v *value, c *constant, sign float32) ([]*value, error) {
	l, err := im.foldable(v)
	if err != nil {
		return nil, err
	}
	add, err := channelVector(v, c)
	if err != nil {
		return nil, err
	}
	ws := im.weights[l]
	if bias, ok := ws["bias"]; ok {
		b := bias.Data().([]float32)
		for i := range b {
			b[i] += sign * add[i]
		}
	} else {
		for i := range add {
			add[i] *= sign
		}
		ws["bias"] = dense([]int{len(add)}, add)
		setNoBias(l, false)
	}
	out := *v
	return []*value{&out}, nil
}

func (im *importer) foldScale(v *value, c *constant, divide bool) ([]*value, error) {
	l, err := im.foldable(v)
	if err != nil {
		return nil, err
	}
	s, err := channelVector(v, c)
	if err != nil {
		return nil, err
	}
	if divide {
		for i, x := range s {
			if x == 0 {
				return nil, errors.New("divides by zero")
			}
			s[i] = 1 / x
		}
	}
	ws := im.weights[l]
	for _, key := range []string{"kernel", "bias"} {
		w, ok := ws[key]
		if !ok {
			continue
		}
		d := w.Data().([]float32)
		m := len(s)
		if len(d)%m != 0 {
			return nil, errors.Errorf("internal error: %s of %d values for %d channels", key, len(d), m)
		}
		for i := range d {
			d[i] *= s[i%m]
		}
	}
	out := *v
	return []*value{&out}, nil
}

func gemmOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "alpha", "beta", "transA", "transB", "broadcast"); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "A")
	if err != nil {
		return nil, err
	}
	b, err := constArg(n, in, 1, "B")
	if err != nil {
		return nil, err
	}
	var c *constant
	if len(in) > 2 && in[2] != nil {
		if c, err = constArg(n, in, 2, "C"); err != nil {
			return nil, err
		}
	}
	transA, err := attrInt(n, "transA", 0)
	if err != nil {
		return nil, err
	}
	transB, err := attrInt(n, "transB", 0)
	if err != nil {
		return nil, err
	}
	alpha, err := attrFloat(n, "alpha", 1)
	if err != nil {
		return nil, err
	}
	beta, err := attrFloat(n, "beta", 1)
	if err != nil {
		return nil, err
	}
	if transA != 0 {
		return nil, errors.New("transA is not supported")
	}
	return im.dense(n, x, b, transB != 0, alpha, c, beta)
}

func matMulOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "A")
	if err != nil {
		return nil, err
	}
	b, err := constArg(n, in, 1, "B")
	if err != nil {
		return nil, err
	}
	return im.dense(n, x, b, false, 1, nil, 1)
}

// dense imports x·alpha·B + beta·C as a Dense layer over x's last axis.
func (im *importer) dense(n *nodeProto, x *value, b *constant, transB bool, alpha float64, c *constant, beta float64) ([]*value, error) {
	if x.t == nil {
		return nil, errors.Errorf("input A %v must be a computed tensor (B a constant)", x)
	}
	if len(b.shape) != 2 || b.isInt {
		return nil, errors.Errorf("B must be a 2-D float constant, got shape %v", b.shape)
	}
	K, M := b.shape[0], b.shape[1]
	if transB {
		K, M = M, K
	}
	d := x.dims()
	r := len(d)
	if d[r-1] != K {
		return nil, errors.Errorf("multiplies %q of shape %v by B of %d rows", x.name, d, K)
	}
	var t *keras.Tensor
	var err error
	axes := x.axes
	switch {
	case x.flat != nil:
		t, err = im.tensorOf(x)
	case x.axes[r-1] == len(x.t.Shape()) && x.batchAxis() >= 0:
		t, err = im.tensorOf(x) // the last ONNX axis is Keragon's last
	default:
		axes = plainAxes(r)
		t, err = im.need(x, axes, "a matrix product")
	}
	if err != nil {
		return nil, err
	}
	kernel := make([]float32, K*M)
	var perm []int
	if x.flat != nil {
		perm = x.flat.permutation()
	}
	for k := 0; k < K; k++ {
		row := k
		if perm != nil {
			row = perm[k]
		}
		for m := 0; m < M; m++ {
			v := b.floats[k*M+m]
			if transB {
				v = b.floats[m*K+k]
			}
			kernel[row*M+m] = float32(alpha) * v
		}
	}
	ws := map[string]*tensor.Dense{"kernel": dense([]int{K, M}, kernel)}
	if c != nil {
		if c.isInt || (c.size() != 1 && c.size() != M) {
			return nil, errors.Errorf("C of shape %v does not broadcast to (batch, %d) as a bias", c.shape, M)
		}
		for i, s := range c.shape {
			if s != 1 && (s != M || i != len(c.shape)-1) {
				return nil, errors.Errorf("C of shape %v is not a bias of %d values", c.shape, M)
			}
		}
		bias := make([]float32, M)
		for m := range bias {
			if c.size() == 1 {
				bias[m] = float32(beta) * c.floats[0]
			} else {
				bias[m] = float32(beta) * c.floats[m]
			}
		}
		ws["bias"] = dense([]int{M}, bias)
	}
	l := &keras.Dense{Name: im.name(n.name), Units: M, NoBias: c == nil}
	y, err := im.apply1(l, ws, t)
	if err != nil {
		return nil, err
	}
	return []*value{{t: y, axes: append([]int(nil), axes...), prod: &produced{layer: l}}}, nil
}

func batchNormOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "X")
	if err != nil {
		return nil, err
	}
	eps, err := attrFloat(n, "epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	momentum, err := attrFloat(n, "momentum", 0.9)
	if err != nil {
		return nil, err
	}
	if tm, err := attrInt(n, "training_mode", 0); err != nil || tm != 0 {
		return nil, errors.New("training_mode must be 0 (Keragon's layer trains in Fit and infers otherwise)")
	}
	if sp, err := attrInt(n, "spatial", 1); err != nil || sp != 1 {
		return nil, errors.New("spatial must be 1")
	}
	if x.t == nil {
		return nil, errors.Errorf("input X %v must be a computed tensor", x)
	}
	r := len(x.axes)
	if r < 2 {
		return nil, errors.New("X needs a channel axis")
	}
	var t *keras.Tensor
	axes := x.axes
	if x.axes[1] == len(x.t.Shape()) && x.flat == nil {
		t, err = im.tensorOf(x)
	} else {
		axes = nchw(r)
		t, err = im.need(x, axes, "BatchNormalization (channels on ONNX axis 1)")
	}
	if err != nil {
		return nil, err
	}
	C := x.dims()[1]
	ws := map[string]*tensor.Dense{}
	for i, key := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
		c, err := constArg(n, in, i+1, key)
		if err != nil {
			return nil, err
		}
		if c.isInt || c.size() != C {
			return nil, errors.Errorf("input %d (%s) has shape %v, want (%d)", i+1, key, c.shape, C)
		}
		ws[key] = dense([]int{C}, append([]float32(nil), c.floats...))
	}
	if !(eps >= 0) || !(momentum >= 0 && momentum < 1) {
		return nil, errors.Errorf("epsilon %v and momentum %v must be >= 0, and momentum < 1", eps, momentum)
	}
	// Keragon reads 0 as "the Keras default": use the smallest positive
	// number for a true 0.
	if eps == 0 {
		eps = math.SmallestNonzeroFloat64
	}
	if momentum == 0 {
		momentum = math.SmallestNonzeroFloat64
	}
	l := &keras.BatchNormalization{Name: im.name(n.name), Momentum: momentum, Epsilon: eps}
	y, err := im.apply1(l, ws, t)
	if err != nil {
		return nil, err
	}
	return []*value{{t: y, axes: append([]int(nil), axes...)}}, nil
}

func dropoutOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "ratio", "seed", "is_test"); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	ratio := 0.5
	if im.opset < 12 {
		if ratio, err = attrFloat(n, "ratio", 0.5); err != nil {
			return nil, err
		}
	} else if len(in) > 1 && in[1] != nil {
		c, err := constArg(n, in, 1, "ratio")
		if err != nil {
			return nil, err
		}
		var ok bool
		if ratio, ok = c.scalar(); !ok {
			return nil, errors.New("ratio must be one number")
		}
	}
	if len(in) > 2 && in[2] != nil && in[2].c == nil {
		return nil, errors.New("training_mode must be a constant")
	}
	if !(ratio >= 0 && ratio < 1) {
		return nil, errors.Errorf("ratio must be in [0, 1), got %v", ratio)
	}
	if x.t == nil {
		return nil, errors.Errorf("input %v must be a computed tensor", x)
	}
	if ratio == 0 {
		return []*value{x}, nil
	}
	t, err := im.tensorOf(x)
	if err != nil {
		return nil, err
	}
	y, err := im.apply1(&keras.Dropout{Name: im.name(n.name), Rate: ratio}, nil, t)
	if err != nil {
		return nil, err
	}
	out := x.derive("", y)
	out.nonneg = x.nonneg
	return []*value{out}, nil
}
