package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The losses of linear classifiers, as scikit-learn defines them
// (Perceptron, LinearSVC, SGDClassifier): a function of the margin y·s of a
// decision score s and a label y in {−1, 1}. Each score column is its own
// binary classifier, so they differ from LossFunc's conventions in two ways:
//
//   - The per-sample value is the sum over the sample's score columns, not
//     the mean: with K columns trained one-vs-rest, each column gets the
//     gradient of its binary problem alone, as if trained by itself.
//   - Labels are checked: running the graph with a label the loss cannot
//     read fails with an error naming the label and its place in the
//     batch.
//
// Each loss comes in two label forms. In the plain form, yTrue has the
// shape of the scores (a trailing axis of size 1 on either side aside) and
// holds one binary label per score: 1 for the positive class, 0 or −1 for
// the negative one (no other value). In the sparse form, for scores of
// shape (batch, …, K), labels has the shape without the last axis (a
// trailing axis of 1 allowed) and holds class indices in [0, K): column j
// sees +1 where the label is j and −1 elsewhere (one-vs-rest).
//
// The derivative at the kink follows scikit-learn: a sample on the
// threshold counts as a mistake, so that Perceptron updates on a zero score
// (the first sample of a zero-initialised perceptron). There is no gradient
// with respect to the labels.

// Perceptron is Rosenblatt's loss max(0, −y·s), scikit-learn's "perceptron"
// loss: its derivative with respect to s is −y where y·s ≤ 0 and 0
// elsewhere, so one step of plain SGD with rate 1 on one sample is
// Rosenblatt's rule w += y·x for a misclassified x.
func Perceptron(yTrue, scores *gorgonia.Node) (*gorgonia.Node, error) {
	return applyMargin(perceptronM, false, yTrue, scores)
}

// SparsePerceptron is Perceptron with class indices as labels
// (one-vs-rest).
func SparsePerceptron(labels, scores *gorgonia.Node) (*gorgonia.Node, error) {
	return applyMargin(perceptronM, true, labels, scores)
}

// SVMHinge is the hinge loss max(0, 1 − y·s) of a linear SVM (LinearSVC's
// loss="hinge"); its derivative with respect to s is −y where y·s ≤ 1.
func SVMHinge(yTrue, scores *gorgonia.Node) (*gorgonia.Node, error) {
	return applyMargin(svmHingeM, false, yTrue, scores)
}

// SparseSVMHinge is SVMHinge with class indices as labels (one-vs-rest).
func SparseSVMHinge(labels, scores *gorgonia.Node) (*gorgonia.Node, error) {
	return applyMargin(svmHingeM, true, labels, scores)
}

// SVMSquaredHinge is max(0, 1 − y·s)², LinearSVC's default loss; its
// derivative with respect to s is −2y·(1 − y·s) where y·s < 1.
func SVMSquaredHinge(yTrue, scores *gorgonia.Node) (*gorgonia.Node, error) {
	return applyMargin(svmSquaredHingeM, false, yTrue, scores)
}

// SparseSVMSquaredHinge is SVMSquaredHinge with class indices as labels
// (one-vs-rest).
func SparseSVMSquaredHinge(labels, scores *gorgonia.Node) (*gorgonia.Node, error) {
	return applyMargin(svmSquaredHingeM, true, labels, scores)
}

// marginLoss is a loss v(m) of the margin m = y·s, with dv/dm.
type marginLoss struct {
	name string
	f    func(m float64) (v, d float64)
}

var (
	perceptronM = &marginLoss{name: "Perceptron", f: func(m float64) (float64, float64) {
		if m <= 0 {
			return -m, -1
		}
		return 0, 0
	}}
	svmHingeM = &marginLoss{name: "SVMHinge", f: func(m float64) (float64, float64) {
		if m <= 1 {
			return 1 - m, -1
		}
		return 0, 0
	}}
	svmSquaredHingeM = &marginLoss{name: "SVMSquaredHinge", f: func(m float64) (float64, float64) {
		if m < 1 {
			return (1 - m) * (1 - m), -2 * (1 - m)
		}
		return 0, 0
	}}
)

// applyMargin checks the shapes and applies the loss op.
func applyMargin(k *marginLoss, sparseLabels bool, yTrue, scores *gorgonia.Node) (*gorgonia.Node, error) {
	name := k.name
	if sparseLabels {
		name = "Sparse" + name
	}
	for _, n := range []*gorgonia.Node{yTrue, scores} {
		if err := checkFloat(n.Dtype()); err != nil {
			return nil, errors.WithMessage(err, name)
		}
	}
	if yTrue.Dtype() != scores.Dtype() {
		return nil, errors.Errorf("ops: %s: the labels are %v but the scores are %v", name, yTrue.Dtype(), scores.Dtype())
	}
	ts, ss := yTrue.Shape().Clone(), scores.Shape().Clone()
	switch {
	case ss.Dims() < 1 || (sparseLabels && ss.Dims() < 2):
		return nil, errors.Errorf("ops: %s: the scores need a batch axis%s, got shape %v",
			name, map[bool]string{true: " and a class axis"}[sparseLabels], ss)
	case ss.TotalSize() == 0:
		return nil, errors.Errorf("ops: %s: the scores are empty (shape %v)", name, ss)
	case !sparseLabels && !sameUpToTrailingOne(ts, ss):
		return nil, errors.Errorf("ops: %s: labels shape %v does not match scores shape %v", name, ts, ss)
	case sparseLabels:
		want := ss[:len(ss)-1]
		if !sameShape(ts, want) && !sameShape(ts, append(want.Clone(), 1)) {
			return nil, errors.Errorf("ops: %s: labels shape %v does not match scores shape %v (want %v: one class index per row)",
				name, ts, ss, want)
		}
	}
	dt, ds := ts.Dims(), ss.Dims()
	id := fmt.Sprintf("%s(%d,%d)", name, dt, ds)
	run := func(t, s, g, out, grad *tensor.Dense) error {
		classes := 0
		if sparseLabels {
			classes = s.Shape()[s.Dims()-1]
		}
		switch s.Dtype() {
		case tensor.Float32:
			return runMargin(k, name, classes, data32(t), data32(s), data32(g), data32(out), data32(grad))
		case tensor.Float64:
			return runMargin(k, name, classes, data64(t), data64(s), data64(g), data64(out), data64(grad))
		}
		return errors.Errorf("ops: %s: unsupported dtype %v", name, s.Dtype())
	}
	fwd := &customOp{
		id:     id,
		arity:  2,
		typ:    fnType(dt, ds, 1),
		shape:  func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{in[1][0]}, nil },
		do:     func(out *tensor.Dense, in []*tensor.Dense) error { return run(in[0], in[1], nil, out, nil) },
		noDiff: []int{0},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			back := &customOp{
				id:    id + "'",
				arity: 3,
				typ:   fnType(dt, ds, 1, ds),
				shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[1].Clone(), nil },
				do: func(out *tensor.Dense, in []*tensor.Dense) error {
					return run(in[0], in[1], in[2], nil, out)
				},
			}
			ds, err := apply(back, in[0], in[1], grad)
			return gorgonia.Nodes{nil, ds}, err
		},
	}
	return apply(fwd, yTrue, scores)
}

// runMargin writes the per-sample losses into out or, given the upstream
// gradient g (one value per sample), the gradient with respect to the
// scores s into ds. classes > 0 means t holds class indices for rows of
// that many scores; otherwise t holds one binary label per score.
func runMargin[T float](k *marginLoss, name string, classes int, t, s, g, out, ds []T) error {
	batch := len(out)
	if g != nil {
		batch = len(g)
	}
	n := len(s)
	if batch == 0 || n%batch != 0 {
		return errors.Errorf("ops: %s: %d scores for %d samples", name, n, batch)
	}
	perSample := n / batch
	wantT := n
	if classes > 0 {
		wantT = n / classes
	}
	if len(t) != wantT {
		return errors.Errorf("ops: %s: %d labels, want %d", name, len(t), wantT)
	}
	// Check every label first, so that a bad one fails the whole batch.
	for i, v := range t {
		y := float64(v)
		if classes > 0 {
			sample := i * classes / perSample
			if y != math.Trunc(y) || y < 0 || y >= float64(classes) {
				return errors.Errorf("ops: %s: label %v (sample %d of the batch) is not a class index in [0, %d)", name, y, sample, classes)
			}
			continue
		}
		sample := i / perSample
		if y != 1 && y != 0 && y != -1 {
			return errors.Errorf("ops: %s: label %v (sample %d of the batch) is not binary: use 1 for the positive class, 0 or -1 for the negative one",
				name, y, sample)
		}
	}
	for smp := range batch {
		var sum, scale float64
		if g != nil {
			scale = float64(g[smp])
		}
		for e := smp * perSample; e < (smp+1)*perSample; e++ {
			y := -1.0
			if classes > 0 {
				if int(t[e/classes]) == e%classes {
					y = 1
				}
			} else if t[e] == 1 {
				y = 1
			}
			v, d := k.f(y * float64(s[e]))
			sum += v
			if ds != nil {
				ds[e] = 0 // not −0 where d is 0
				if d != 0 {
					ds[e] = T(scale * d * y)
				}
			}
		}
		if out != nil {
			out[smp] = T(sum)
		}
	}
	return nil
}
