package onnx

import (
	"math"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

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
	if a.tensorLike() && b.tensorLike() {
		return im.mergeTensors(n, a, b)
	}
	if t.t == nil || c == nil {
		return nil, errors.Errorf("combines %v and %v", a, b)
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
	key := im.sharedKey(n, x, "")
	if l := im.shared[key]; l != nil {
		y, err := im.apply1(l, nil, t)
		if err != nil {
			return nil, err
		}
		return []*value{{t: y, axes: append([]int(nil), axes...)}}, nil
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
	out := &value{t: y, axes: append([]int(nil), axes...), prod: &produced{layer: l}}
	if key != "" {
		// A shared layer takes no folded bias or activation: its other
		// applications would get them too.
		im.shared[key], out.prod = l, nil
	}
	return []*value{out}, nil
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
	var perm []int // the features of a flattened image: see below
	switch {
	case x.flat != nil && r == 2:
		// BatchNorm1d after a Flatten of an NCHW image: per feature, so
		// its parameters follow the features to Keragon's order.
		t, err = im.tensorOf(x)
		perm = x.flat.permutation()
	case x.axes[1] == len(x.kshape()) && x.flat == nil:
		t, err = im.tensorOf(x)
	default:
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
		v := append([]float32(nil), c.floats...)
		for j, k := range perm { // nil: the same order
			v[k] = c.floats[j]
		}
		ws[key] = dense([]int{C}, v)
	}
	if !(eps >= 0) || !(momentum >= 0 && momentum < 1) {
		return nil, errors.Errorf("epsilon %v and momentum %v must be >= 0, and momentum < 1", eps, momentum)
	}
	// Keragon reads an Epsilon of 0 as "the Keras default": use the
	// smallest positive number for a true 0.
	if eps == 0 {
		eps = math.SmallestNonzeroFloat64
	}
	l := &keras.BatchNormalization{Name: im.name(n.name), Momentum: keras.Float(momentum), Epsilon: eps}
	y, err := im.apply1(l, ws, t)
	if err != nil {
		return nil, err
	}
	return []*value{{t: y, axes: append([]int(nil), axes...), flat: x.flat}}, nil
}

// embedding imports Gather of rows of a constant table by computed token
// ids as an Embedding layer.
func (im *importer) embedding(n *nodeProto, table *constant, axis int64, ids *value) ([]*value, error) {
	if err := only(n, "axis"); err != nil {
		return nil, err
	}
	if axis != 0 || len(table.shape) != 2 || table.isInt {
		return nil, errors.Errorf("gathers computed indices from a constant of shape %v on axis %d; only rows of a 2-D float table (an embedding) are supported", table.shape, axis)
	}
	if !ids.ids {
		return nil, errors.Errorf("indices %q are not integer ids (an int64 input or a Cast to int64)", ids.name)
	}
	if ids.flat != nil {
		return nil, errors.Errorf("indices %q are a flattened image", ids.name)
	}
	plain := *ids
	plain.ids = false
	t, err := im.tensorOf(&plain)
	if err != nil {
		return nil, err
	}
	V, D := table.shape[0], table.shape[1]
	l := &keras.Embedding{Name: im.name(n.name), InputDim: V, OutputDim: D}
	ws := map[string]*tensor.Dense{"embeddings": dense([]int{V, D}, append([]float32(nil), table.floats...))}
	y, err := im.apply1(l, ws, t)
	if err != nil {
		return nil, err
	}
	// The vectors are a new last axis, of ONNX and of Keragon.
	axes := append(append([]int(nil), ids.axes...), len(t.Shape())+1)
	return []*value{{t: y, axes: axes}}, nil
}

// layerNormOp imports LayerNormalization (opset 17) over the last axis.
func layerNormOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "axis", "epsilon", "stash_type"); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "X")
	if err != nil {
		return nil, err
	}
	if !x.tensorLike() || x.flat != nil {
		return nil, errors.Errorf("input X %v must be a computed tensor in Keragon's layout", x)
	}
	r := len(x.axes)
	axis, err := attrInt(n, "axis", -1)
	if err != nil {
		return nil, err
	}
	a, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	if a != r-1 || x.axes[a] != len(x.kshape()) {
		return nil, errors.Errorf("normalises from axis %d of %q (layout %v); Keragon's LayerNormalization normalises the last axis only", a, x.name, x.axes)
	}
	eps, err := attrFloat(n, "epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if !(eps >= 0) {
		return nil, errors.Errorf("epsilon %v must be >= 0", eps)
	}
	if eps == 0 {
		eps = math.SmallestNonzeroFloat64
	}
	t, err := im.tensorOf(x)
	if err != nil {
		return nil, err
	}
	C := x.dims()[a]
	ws := map[string]*tensor.Dense{}
	l := &keras.LayerNormalization{Name: im.name(n.name), Epsilon: eps, NoCenter: len(in) < 3 || in[2] == nil}
	for i, key := range []string{"gamma", "beta"} {
		if i == 1 && l.NoCenter {
			break
		}
		c, err := constArg(n, in, i+1, key)
		if err != nil {
			return nil, err
		}
		if c.isInt || c.size() != C {
			return nil, errors.Errorf("input %d (%s) has shape %v, want (%d)", i+1, key, c.shape, C)
		}
		ws[key] = dense([]int{C}, append([]float32(nil), c.floats...))
	}
	y, err := im.apply1(l, ws, t)
	if err != nil {
		return nil, err
	}
	return []*value{x.derive("", y)}, nil
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
