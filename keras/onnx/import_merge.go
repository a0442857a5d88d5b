package onnx

import (
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// mergeTensors imports Add, Sub and Mul of two computed tensors as
// Keragon's merge layers. ONNX broadcasting is followed when the smaller
// input can be held with axes of size 1 where the other has its sizes
// (an SE block's (N, C, 1, 1) gate times an (N, C, H, W) image).
func (im *importer) mergeTensors(n *nodeProto, a, b *value) ([]*value, error) {
	if a.flat != nil || b.flat != nil {
		return nil, errors.Errorf("combines the flattened NCHW image %v with another tensor", a)
	}
	// The reference layout is the input with more values per sample.
	ref, other, swapped := a, b, false
	if len(b.axes) > len(a.axes) || (len(b.axes) == len(a.axes) && b.kshape().Size() > a.kshape().Size()) {
		ref, other, swapped = b, a, true
	}
	// Right-align the ranks: the smaller gets leading axes of size 1.
	if d := len(ref.axes) - len(other.axes); d > 0 {
		axes := append(make([]int, d), other.axes...)
		oldToNew := make([]int, len(other.axes))
		for i := range axes[:d] {
			axes[i] = -1
		}
		for i := range oldToNew {
			oldToNew[i] = i + d
		}
		other = other.relayout(axes, oldToNew)
	}
	rd, od := ref.dims(), other.dims()
	for i := range rd {
		if od[i] != rd[i] && od[i] != 1 {
			return nil, errors.Errorf("combines tensors of shapes %v and %v, which do not broadcast one way", a.dims(), b.dims())
		}
	}
	if ref.batchAxis() != other.batchAxis() {
		return nil, errors.Errorf("combines tensors whose batch axes differ (%v, %v)", a.axes, b.axes)
	}
	rt, err := im.tensorOf(ref)
	if err != nil {
		return nil, err
	}
	ot, err := im.need(other, ref.axes, n.opType)
	if err != nil {
		return nil, err
	}
	x, y := rt, ot
	if swapped {
		x, y = ot, rt
	}
	var l keras.Layer
	name := im.name(n.name)
	switch n.opType {
	case "Add":
		l = &keras.Add{Name: name}
	case "Sub":
		l = &keras.Subtract{Name: name}
	case "Mul":
		l = &keras.Multiply{Name: name}
	default:
		return nil, errors.Errorf("%s of two computed tensors has no Keragon layer", n.opType)
	}
	t, err := im.apply1(l, nil, x, y)
	if err != nil {
		return nil, err
	}
	return []*value{{t: t, axes: append([]int(nil), ref.axes...)}}, nil
}

// concatTensors imports Concat of computed tensors as Concatenate on the
// Keragon axis that holds the ONNX axis.
func (im *importer) concatTensors(n *nodeProto, axis int64, in []*value) ([]*value, error) {
	first := in[0]
	if first == nil || !first.tensorLike() {
		return nil, errors.New("concatenates a constant with computed tensors")
	}
	if first.flat != nil {
		return nil, errors.Errorf("concatenates the flattened NCHW image %q", first.name)
	}
	a, err := normAxis(axis, len(first.axes))
	if err != nil {
		return nil, err
	}
	k := first.axes[a]
	if k <= 0 {
		return nil, errors.Errorf("concatenates along ONNX axis %d, which Keragon holds as %v (the batch, or an axis of size 1 it does not have)", a, first.axes)
	}
	var ts []*keras.Tensor
	for i, v := range in {
		if v == nil || !v.tensorLike() {
			return nil, errors.Errorf("input %d is not a computed tensor", i)
		}
		t, err := im.need(v, first.axes, "Concat")
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	t, err := im.apply1(&keras.Concatenate{Name: im.name(n.name), Axis: k}, nil, ts...)
	if err != nil {
		return nil, err
	}
	return []*value{{t: t, axes: append([]int(nil), first.axes...)}}, nil
}

// extremumOp imports Max, Min and Mean of computed tensors as Maximum,
// Minimum and Average (of one shape: no broadcasting).
func extremumOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n); err != nil {
		return nil, err
	}
	if len(in) < 2 {
		return nil, errors.Errorf("has %d inputs; Keragon's merge layers take at least 2", len(in))
	}
	first := in[0]
	if first == nil || !first.tensorLike() || first.flat != nil {
		return nil, errors.Errorf("input 0 %v must be a computed tensor in Keragon's layout", first)
	}
	var ts []*keras.Tensor
	for i, v := range in {
		if v == nil || !v.tensorLike() {
			return nil, errors.Errorf("input %d is not a computed tensor", i)
		}
		if !equalInts64(v.dims(), first.dims()) {
			return nil, errors.Errorf("input %d has shape %v, input 0 %v; %s of different shapes is not supported", i, v.dims(), first.dims(), n.opType)
		}
		t, err := im.need(v, first.axes, n.opType)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	name := im.name(n.name)
	var l keras.Layer
	switch n.opType {
	case "Max":
		l = &keras.Maximum{Name: name}
	case "Min":
		l = &keras.Minimum{Name: name}
	default:
		l = &keras.Average{Name: name}
	}
	t, err := im.apply1(l, nil, ts...)
	if err != nil {
		return nil, err
	}
	return []*value{{t: t, axes: append([]int(nil), first.axes...)}}, nil
}

func equalInts64(a, b []int) bool {
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
