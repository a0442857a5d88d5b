package onnx

import (
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// resolveShape resolves a Reshape target against a tensor's ONNX dims d
// (-1 for the batch): 0 copies an axis, -1 is inferred, and the batch is
// the symbol batchSym, the batch size written in the inputs, or what -1
// infers when the other entries hold a whole sample. The result has -1
// for the batch, which must appear exactly once.
func (im *importer) resolveShape(d []int, target []int64, allowZero bool) ([]int, error) {
	sample := 1
	for _, x := range d {
		if x > 0 {
			sample *= x
		}
	}
	out := make([]int, len(target))
	unknown, known, batch := -1, 1, -1
	for i, t := range target {
		switch {
		case t == batchSym, t > 0 && t == im.fixedBatch && i < len(d) && d[i] < 0:
			if batch >= 0 {
				return nil, errors.Errorf("shape %v holds the batch size twice", target)
			}
			batch, out[i] = i, -1
		case t == 0 && !allowZero:
			if i >= len(d) {
				return nil, errors.Errorf("shape %v copies axis %d, which the input (rank %d) does not have", target, i, len(d))
			}
			out[i] = d[i]
			if d[i] < 0 {
				if batch >= 0 {
					return nil, errors.Errorf("shape %v holds the batch size twice", target)
				}
				batch = i
			} else {
				known *= d[i]
			}
		case t == -1:
			if unknown >= 0 {
				return nil, errors.Errorf("shape %v has two -1", target)
			}
			unknown = i
		case t > 0 && t <= MaxDim:
			out[i] = int(t)
			known *= int(t)
		default:
			return nil, errors.Errorf("shape %v has the bad dimension %d", target, t)
		}
	}
	switch {
	case unknown >= 0 && batch < 0:
		if known != sample {
			return nil, errors.Errorf("cannot reshape %v to %v: the batch axis must stay whole", d, target)
		}
		out[unknown] = -1
	case unknown >= 0:
		if known == 0 || sample%known != 0 {
			return nil, errors.Errorf("cannot reshape %v to %v", d, target)
		}
		out[unknown] = sample / known
	case batch < 0:
		return nil, errors.Errorf("reshape %v to %v drops the batch axis", d, target)
	default:
		if known != sample {
			return nil, errors.Errorf("cannot reshape %v (%d values a sample) to %v", d, sample, target)
		}
	}
	return out, nil
}

// reshapeTensor reshapes a tensor value. ONNX reshapes in its own
// row-major order; Keragon's tensor may hold the axes in another order
// (an NCHW image as NHWC), so the reshape is split into groups of axes
// whose sizes multiply to the same number on both sides. Each group must
// lie on consecutive Keragon axes in order, and the batch must be a group
// by itself; the groups keep their Keragon order and one Reshape layer
// (or none) does the rest. Flattening to (batch, features) always works:
// the feature order is remembered for the next Gemm or MatMul.
func (im *importer) reshapeTensor(v *value, target []int64, allowZero bool, name string) (*value, error) {
	d := v.dims()
	out, err := im.resolveShape(d, target, allowZero)
	if err != nil {
		return nil, err
	}
	if len(out) == 2 && out[0] < 0 && v.batchAxis() == 0 {
		return im.flatten(v, name)
	}
	if v.flat != nil {
		return nil, errors.Errorf("reshapes the flattened %q to %v", v.name, out)
	}
	// Non-unit axes on each side, in ONNX order.
	var ins, outs []int
	for i, x := range d {
		if x != 1 {
			ins = append(ins, i)
		}
	}
	for i, x := range out {
		if x != 1 {
			outs = append(outs, i)
		}
	}
	size := func(x int) int {
		if x < 0 {
			return -1
		}
		return x
	}
	type group struct{ in, out []int }
	var groups []group
	i, j := 0, 0
	for i < len(ins) || j < len(outs) {
		if i < len(ins) && j < len(outs) && d[ins[i]] < 0 && out[outs[j]] < 0 {
			groups = append(groups, group{[]int{ins[i]}, []int{outs[j]}})
			i, j = i+1, j+1
			continue
		}
		var g group
		pa, pb := 1, 1
		for {
			if i < len(ins) && d[ins[i]] > 0 && (pa <= pb || j >= len(outs)) {
				pa *= d[ins[i]]
				g.in = append(g.in, ins[i])
				i++
			} else if j < len(outs) && out[outs[j]] > 0 {
				pb *= size(out[outs[j]])
				g.out = append(g.out, outs[j])
				j++
			} else {
				return nil, errors.Errorf("reshapes %v to %v across the batch axis", d, out)
			}
			if pa == pb && len(g.in) > 0 && len(g.out) > 0 {
				break
			}
		}
		groups = append(groups, g)
	}
	// Each group's input axes must be consecutive Keragon axes.
	for _, g := range groups {
		for k := 1; k < len(g.in); k++ {
			if v.axes[g.in[k]] != v.axes[g.in[k-1]]+1 {
				return nil, errors.Errorf("reshapes %q (shape %v, held in layout %v) to %v, which would need a transpose first; Keragon has no transpose layer", v.name, d, v.axes, out)
			}
		}
	}
	// Order the groups as Keragon holds them and number the new axes.
	for a := 1; a < len(groups); a++ {
		for b := a; b > 0 && v.axes[groups[b].in[0]] < v.axes[groups[b-1].in[0]]; b-- {
			groups[b], groups[b-1] = groups[b-1], groups[b]
		}
	}
	axes := make([]int, len(out))
	for k := range axes {
		axes[k] = -1
	}
	var shape []int
	next := 0
	for _, g := range groups {
		for _, o := range g.out {
			axes[o] = next
			if next > 0 {
				shape = append(shape, out[o])
			}
			next++
		}
	}
	if len(shape) == 0 {
		// Every axis but the batch has size 1: keep one of them, as
		// Keragon tensors have a feature axis.
		shape = []int{1}
		axes[len(out)-1] = 1
		if out[len(out)-1] < 0 {
			return nil, errors.Errorf("reshapes %q to %v with the batch last", v.name, out)
		}
	}
	t, err := im.tensorOf(v)
	if err != nil {
		return nil, err
	}
	res := &value{axes: axes, nonneg: v.nonneg, src: v.src}
	if keras.Shape(shape).Equal(t.Shape()) {
		res.t = t
		return res, nil
	}
	if res.t, err = im.reshape(t, shape, name); err != nil {
		return nil, err
	}
	return res, nil
}
