package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A LossFunc computes one loss value per sample; the losses of this package
// (MeanSquaredError, MeanAbsoluteError, Huber, the cross-entropies, Hinge,
// SquaredHinge) share its conventions. Weighting samples and averaging over
// the batch are left to the caller.
//
// Shapes: yPred is (batch, …) and the result is (batch). yTrue has the shape
// of yPred; as in Keras, a trailing axis of size 1 on either side is
// ignored, so labels of shape (batch) go with predictions of shape
// (batch, 1). Shape mismatches are reported when the graph is built.
//
// Per-sample value: Keras takes the mean over the last axis, and its default
// reduction ("sum_over_batch_size") then averages what is left over every
// other axis, batch included. Here the per-sample value is the mean over all
// non-batch elements (for the cross-entropies, over all non-batch rows of
// the class axis), so that the mean of the result over the batch is exactly
// Keras' scalar loss, for inputs of any rank. For rank-2 inputs it is
// Keras' per-sample value itself.
//
// Gradients flow to yPred and, except where a loss says otherwise, to yTrue
// as well (as in Keras and PyTorch), so a target computed by the graph (a
// second branch, a teacher) is differentiated too. Each loss is one fused op
// with an analytic gradient, for float32 and float64, accumulating in
// float64.
type LossFunc func(yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error)

// Epsilon is Keras' fuzz factor (keras.config.epsilon()): predicted
// probabilities are clipped to [Epsilon, 1−Epsilon] before their logarithm
// is taken.
const Epsilon = 1e-7

// MeanSquaredError is mean((yPred − yTrue)²) per sample.
func MeanSquaredError(yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error) {
	return applyLoss(mseK, yTrue, yPred)
}

// MeanAbsoluteError is mean(|yPred − yTrue|) per sample. Its derivative at
// yPred = yTrue is taken as 0.
func MeanAbsoluteError(yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error) {
	return applyLoss(maeK, yTrue, yPred)
}

// Huber is the mean per sample of ½e² where |e| ≤ delta and
// delta·(|e| − ½delta) elsewhere, e = yPred − yTrue. Keras' default delta is
// 1; delta must be positive and finite.
func Huber(yTrue, yPred *gorgonia.Node, delta float64) (*gorgonia.Node, error) {
	if !(delta > 0) || math.IsInf(delta, 0) {
		return nil, errors.Errorf("ops: Huber: delta must be positive and finite, got %g", delta)
	}
	return applyLoss(huberKernel(delta), yTrue, yPred)
}

// BinaryCrossentropy is the mean per sample of
// −(y·log p + (1−y)·log(1−p)).
//
// From probabilities (fromLogits false), p = yPred clipped to
// [Epsilon, 1−Epsilon] (the bounds rounded to the dtype), as Keras does; the
// gradient is zero where yPred lies outside those bounds. From logits x it is
// computed stably as max(x, 0) − x·y + log(1 + exp(−|x|)).
func BinaryCrossentropy(yTrue, yPred *gorgonia.Node, fromLogits bool) (*gorgonia.Node, error) {
	return SmoothedBinaryCrossentropy(yTrue, yPred, fromLogits, 0)
}

// SmoothedBinaryCrossentropy is BinaryCrossentropy with Keras' label
// smoothing: yTrue is replaced by yTrue·(1−smoothing) + smoothing/2.
// smoothing must lie in [0, 1].
func SmoothedBinaryCrossentropy(yTrue, yPred *gorgonia.Node, fromLogits bool, smoothing float64) (*gorgonia.Node, error) {
	k := bceProbK
	if fromLogits {
		k = bceLogitsK
	}
	return applySmoothed(k, yTrue, yPred, smoothing, 2)
}

// CategoricalCrossentropy is −Σ y·log p over the last (class) axis, with
// yTrue holding a distribution over the classes (one-hot or soft).
//
// From probabilities, as Keras does, each row of yPred is first divided by
// its sum, then clipped to [Epsilon, 1−Epsilon]; the gradient is zero
// through clipped entries. From logits x it is the fused, stable
// Σ y·(logsumexp(x) − x), whose gradient is softmax(x)·Σy − y (softmax − y
// for a distribution y).
//
// For yPred of rank > 2, (batch, …, classes), the per-sample value is the
// mean over the middle axes.
func CategoricalCrossentropy(yTrue, yPred *gorgonia.Node, fromLogits bool) (*gorgonia.Node, error) {
	return SmoothedCategoricalCrossentropy(yTrue, yPred, fromLogits, 0)
}

// SmoothedCategoricalCrossentropy is CategoricalCrossentropy with Keras'
// label smoothing: yTrue is replaced by yTrue·(1−smoothing) +
// smoothing/classes. smoothing must lie in [0, 1].
func SmoothedCategoricalCrossentropy(yTrue, yPred *gorgonia.Node, fromLogits bool, smoothing float64) (*gorgonia.Node, error) {
	k := cceProbK
	if fromLogits {
		k = cceLogitsK
	}
	return applySmoothed(k, yTrue, yPred, smoothing, 0)
}

// SparseCategoricalCrossentropy is CategoricalCrossentropy with yTrue given
// as class indices: labels is a float node of shape (batch) for yPred of
// shape (batch, classes), and in general of yPred's shape without its last
// axis (a trailing axis of size 1 is allowed, as in Keras). Each label must
// be an integer in [0, classes); running the graph with any other value
// fails with an error naming the label and its sample. There is no gradient
// with respect to labels.
//
// From probabilities the rows are normalised and clipped as in
// CategoricalCrossentropy (Keras' JAX and PyTorch backends do the same).
func SparseCategoricalCrossentropy(labels, yPred *gorgonia.Node, fromLogits bool) (*gorgonia.Node, error) {
	k := sparseProbK
	if fromLogits {
		k = sparseLogitsK
	}
	return applyLoss(k, labels, yPred)
}

// Hinge is mean(max(1 − y·yPred, 0)) per sample, for labels y in {−1, 1}.
// As in Keras, when every entry of yTrue (over the whole batch) is 0 or 1,
// the labels are taken as {0, 1} and mapped to 2·yTrue − 1. There is no
// gradient with respect to yTrue; the derivative at the margin is taken as 0.
func Hinge(yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error) {
	return applyLoss(hingeK, yTrue, yPred)
}

// SquaredHinge is mean(max(1 − y·yPred, 0)²) per sample, with Hinge's
// labels.
func SquaredHinge(yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error) {
	return applyLoss(squaredHingeK, yTrue, yPred)
}

func applySmoothed(k *lossKernel, yTrue, yPred *gorgonia.Node, smoothing float64, classes int) (*gorgonia.Node, error) {
	if !(smoothing >= 0 && smoothing <= 1) {
		return nil, errors.Errorf("ops: %s: label smoothing must lie in [0, 1], got %g", k.name, smoothing)
	}
	if smoothing > 0 {
		s := *k
		s.smooth, s.smoothClasses = smoothing, classes
		s.params = append(append([]float64(nil), k.params...), smoothing)
		k = &s
	}
	return applyLoss(k, yTrue, yPred)
}

// applyLoss checks shapes and applies the loss op of k.
func applyLoss(k *lossKernel, yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error) {
	for _, n := range []*gorgonia.Node{yTrue, yPred} {
		if err := checkFloat(n.Dtype()); err != nil {
			return nil, errors.WithMessage(err, k.name)
		}
	}
	if yTrue.Dtype() != yPred.Dtype() {
		return nil, errors.Errorf("ops: %s: yTrue is %v but yPred is %v", k.name, yTrue.Dtype(), yPred.Dtype())
	}
	ts, ps := yTrue.Shape().Clone(), yPred.Shape().Clone()
	if err := k.checkShapes(ts, ps); err != nil {
		return nil, err
	}
	dt, dp := ts.Dims(), ps.Dims()
	id := fmt.Sprintf("%s(%d,%d)", k.id(), dt, dp)
	fwd := &customOp{
		id:    id,
		arity: 2,
		typ:   fnType(dt, dp, 1),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{in[1][0]}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return k.run(in[0], in[1], nil, out, nil, nil)
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			for i := range grads {
				if i == 0 && k.noDiffTrue {
					continue
				}
				var err error
				if grads[i], err = apply(k.gradOp(id, i, dt, dp), in[0], in[1], grad); err != nil {
					return nil, err
				}
			}
			return grads, nil
		},
	}
	if k.noDiffTrue {
		fwd.noDiff = []int{0}
	}
	return apply(fwd, yTrue, yPred)
}

// gradOp returns the op computing the gradient of the loss with respect to
// input wrt (0 yTrue, 1 yPred) from (yTrue, yPred, upstream gradient).
func (k *lossKernel) gradOp(id string, wrt, dt, dp int) *customOp {
	dims := []int{dt, dp}
	return &customOp{
		id:    fmt.Sprintf("%s'%d", id, wrt),
		arity: 3,
		typ:   fnType(dt, dp, 1, dims[wrt]),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[wrt].Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			if wrt == 0 {
				return k.run(in[0], in[1], in[2], nil, nil, out)
			}
			return k.run(in[0], in[1], in[2], nil, out, nil)
		},
	}
}

// checkShapes reports, at graph-building time, shapes the loss cannot take.
func (k *lossKernel) checkShapes(ts, ps tensor.Shape) error {
	switch {
	case k.kind == elementwise && ps.Dims() < 1:
		return errors.Errorf("ops: %s: yPred must have a batch axis, got shape %v", k.name, ps)
	case k.kind != elementwise && ps.Dims() < 2:
		return errors.Errorf("ops: %s: yPred must have a batch axis and a class axis, got shape %v", k.name, ps)
	case ps.TotalSize() == 0:
		return errors.Errorf("ops: %s: yPred is empty (shape %v)", k.name, ps)
	}
	switch k.kind {
	case elementwise:
		if !sameUpToTrailingOne(ts, ps) {
			return errors.Errorf("ops: %s: yTrue shape %v does not match yPred shape %v", k.name, ts, ps)
		}
	case categorical:
		if !sameShape(ts, ps) {
			return errors.Errorf("ops: %s: yTrue shape %v does not match yPred shape %v", k.name, ts, ps)
		}
	case sparse:
		want := ps[:len(ps)-1]
		if !sameShape(ts, want) && !sameShape(ts, append(want.Clone(), 1)) {
			return errors.Errorf("ops: %s: labels shape %v does not match yPred shape %v (want %v: one class index per row)",
				k.name, ts, ps, want)
		}
	}
	return nil
}

// sameUpToTrailingOne reports whether a and b are equal once a trailing
// axis of size 1 on the longer one is dropped (Keras'
// squeeze_or_expand_to_same_rank).
func sameUpToTrailingOne(a, b tensor.Shape) bool {
	if sameShape(a, b) {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	return len(a) == len(b)+1 && a[len(a)-1] == 1 && sameShape(a[:len(b)], b)
}

// sameShape is strict equality: unlike tensor.Shape.Eq it does not take (n)
// for (1, n) or (n, 1).
func sameShape(a, b tensor.Shape) bool {
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
