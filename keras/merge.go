package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// What the elementwise merge layers (Add, Subtract, Multiply, Average,
// Maximum, Minimum) share: Keras' Merge base class.
//
// Shapes: the inputs' sample shapes broadcast against each other, NumPy's
// way from the last axis, as Keras' _compute_elemwise_op_output_shape: an
// axis of size 1 repeats, and an input of lower rank gets axes of size 1
// after the batch axis. Usually all inputs simply have the same shape.
//
// Masks, as Keras 3: the output is masked (the OR of the masks) only when
// every input is masked. Add, Subtract and Average combine the values as
// they are; Multiply treats padded entries as 1 (and zeroes the output
// where every input is padded); Maximum and Minimum ignore padded entries
// in favour of the other input's.

type mergeKind int

const (
	mergeAdd mergeKind = iota
	mergeSubtract
	mergeMultiply
	mergeAverage
	mergeMaximum
	mergeMinimum
)

// mergeShape returns the broadcast output shape of an elementwise merge.
// exactly, when not 0, is the number of inputs the layer takes.
func mergeShape(class string, in []Shape, exactly int) (Shape, error) {
	if exactly > 0 && len(in) != exactly {
		return nil, errors.Errorf("keras: %s takes exactly %d inputs, got %d", class, exactly, len(in))
	}
	if len(in) == 0 {
		return nil, errors.Errorf("keras: %s takes a list of inputs, got none", class)
	}
	out := append(Shape(nil), in[0]...)
	for _, s := range in[1:] {
		a, b := out, s
		if len(a) < len(b) {
			a, b = b, a
		}
		merged := append(Shape(nil), a[:len(a)-len(b)]...)
		for i, j := range b {
			k := a[len(a)-len(b)+i]
			switch {
			case k == 1:
				merged = append(merged, j)
			case j == 1 || j == k:
				merged = append(merged, k)
			default:
				return nil, errors.Errorf("keras: %s inputs have incompatible shapes %v", class, in)
			}
		}
		out = merged
	}
	return out, nil
}

// broadcastNode brings x (batch, …) to (batch, shape…): axes of size 1
// after the batch axis for a lower rank, then repetition.
func broadcastNode(x *gorgonia.Node, batch int, shape Shape) (*gorgonia.Node, error) {
	want := append(tensor.Shape{batch}, shape...)
	if x.Shape().Eq(want) {
		return x, nil
	}
	xs := x.Shape()
	if xs.Dims() < want.Dims() {
		padded := append(tensor.Shape{xs[0]}, make(tensor.Shape, want.Dims()-xs.Dims())...)
		for i := 1; i < len(padded); i++ {
			padded[i] = 1
		}
		padded = append(padded, xs[1:]...)
		var err error
		if x, err = reshapeNode(x, padded); err != nil {
			return nil, err
		}
	}
	return ops.BroadcastTo(x, want)
}

// mergeMask is the output mask of an elementwise merge: the OR of the
// input masks when every input has one, else none.
func mergeMask(masks []*gorgonia.Node) (*gorgonia.Node, error) {
	if len(masks) == 0 {
		return nil, nil
	}
	for _, m := range masks {
		if m == nil {
			return nil, nil
		}
	}
	return ops.MaskAny(false, masks...)
}

// mergeCall computes an elementwise merge and its mask.
func mergeCall(ctx *graph.Context, kind mergeKind, class string, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	shapes := make([]Shape, len(in))
	for i, x := range in {
		shapes[i] = Shape(x.Shape()[1:])
	}
	exactly := 0
	if kind == mergeSubtract {
		exactly = 2
	}
	shape, err := mergeShape(class, shapes, exactly)
	if err != nil {
		return nil, nil, err
	}
	xs := make([]*gorgonia.Node, len(in))
	for i, x := range in {
		if xs[i], err = broadcastNode(x, ctx.Batch, shape); err != nil {
			return nil, nil, err
		}
	}
	if len(masks) == 0 {
		masks = make([]*gorgonia.Node, len(in))
	}
	for _, m := range masks {
		if m != nil && (len(shape) == 0 || m.Shape()[1] != shape[0]) {
			return nil, nil, errors.Errorf("keras: %s got a mask of shape %v for an output of shape %v; masks cover the first axis after the batch", class, m.Shape(), shape)
		}
	}
	outMask, err := mergeMask(masks)
	if err != nil {
		return nil, nil, err
	}
	var y *gorgonia.Node
	switch kind {
	case mergeAdd, mergeAverage:
		y, err = sumNodes(xs)
		if err == nil && kind == mergeAverage && len(xs) > 1 {
			y, err = gorgonia.Mul(y, ctx.Constant(1/float64(len(xs))))
		}
	case mergeSubtract:
		y, err = gorgonia.Sub(xs[0], xs[1])
	case mergeMultiply:
		y, err = multiplyMasked(xs, masks, outMask)
	case mergeMaximum, mergeMinimum:
		y, err = extremumMasked(xs, masks, kind == mergeMaximum)
	}
	if err != nil {
		return nil, nil, errors.Wrapf(err, "keras: %s", class)
	}
	return []*gorgonia.Node{y}, []*gorgonia.Node{outMask}, nil
}

func sumNodes(xs []*gorgonia.Node) (*gorgonia.Node, error) {
	y := xs[0]
	for _, x := range xs[1:] {
		var err error
		if y, err = gorgonia.Add(y, x); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// multiplyMasked is Keras' Multiply: padded entries count as 1, and where
// every input is masked the output is 0 on the padded steps.
func multiplyMasked(xs, masks []*gorgonia.Node, outMask *gorgonia.Node) (*gorgonia.Node, error) {
	var y *gorgonia.Node
	for i, x := range xs {
		if masks[i] != nil {
			var err error
			if x, err = ops.MaskFill(masks[i], x, 1); err != nil {
				return nil, err
			}
		}
		if y == nil {
			y = x
			continue
		}
		var err error
		if y, err = gorgonia.HadamardProd(y, x); err != nil {
			return nil, err
		}
	}
	if outMask != nil {
		return ops.MaskFill(outMask, y, 0)
	}
	return y, nil
}

// extremumMasked is Keras' _apply_merge_op_and_or_mask with maximum or
// minimum: a padded entry of one side gives way to the other side's.
func extremumMasked(xs, masks []*gorgonia.Node, isMax bool) (*gorgonia.Node, error) {
	op := ops.Minimum
	if isMax {
		op = ops.Maximum
	}
	y, ym := xs[0], masks[0]
	for i, x := range xs[1:] {
		m := masks[i+1]
		var err error
		if m != nil {
			if x, err = ops.MaskSelect(m, x, y); err != nil {
				return nil, err
			}
		}
		if ym != nil {
			if y, err = ops.MaskSelect(ym, y, x); err != nil {
				return nil, err
			}
		}
		if m != nil && ym != nil {
			if ym, err = ops.MaskAny(false, ym, m); err != nil {
				return nil, err
			}
		} else {
			ym = nil
		}
		if y, err = op(y, x); err != nil {
			return nil, err
		}
	}
	return y, nil
}
