package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type linearLoss struct {
	name   string
	f      LossFunc
	sparse bool
	kink   float64 // the margin where the derivative jumps
}

var linearLosses = []linearLoss{
	{"Perceptron", Perceptron, false, 0},
	{"SparsePerceptron", SparsePerceptron, true, 0},
	{"SVMHinge", SVMHinge, false, 1},
	{"SparseSVMHinge", SparseSVMHinge, true, 1},
	{"SVMSquaredHinge", SVMSquaredHinge, false, 1},
	{"SparseSVMSquaredHinge", SparseSVMSquaredHinge, true, 1},
}

// runLinear returns the per-sample losses and the gradient of their sum
// with respect to the scores.
func runLinear(f LossFunc, labels, scores *tensor.Dense) (loss, grad []float64, err error) {
	g := gorgonia.NewGraph()
	ln := gorgonia.NodeFromAny(g, labels, gorgonia.WithName("labels"))
	sn := gorgonia.NodeFromAny(g, scores, gorgonia.WithName("scores"))
	l, err := f(ln, sn)
	if err != nil {
		return nil, nil, err
	}
	cost, err := gorgonia.Sum(l)
	if err != nil {
		return nil, nil, err
	}
	gs, err := gorgonia.Grad(cost, sn)
	if err != nil {
		return nil, nil, err
	}
	var lv, gv gorgonia.Value
	gorgonia.Read(l, &lv)
	gorgonia.Read(gs[0], &gv)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		return nil, nil, err
	}
	return floats64(lv.Data()), floats64(gv.Data()), nil
}

func floats64(d any) []float64 {
	switch v := d.(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), v...)
	}
	return nil
}

// TestLinearLossValues checks hand-worked values and gradients, the kinks
// included, in float32 and float64.
func TestLinearLossValues(t *testing.T) {
	// Binary labels with scores (3, 2): margins y·s per entry.
	binLabels := []float64{1, 0, -1, 1, 1, -1}
	binScores := []float64{0.5, 0.25, 0, -2, 1, -3}
	// margins:            0.5, -0.25, 0, -2, 1, 3
	// Class indices with scores (2, 3): label 2 gives y = (−1, −1, 1),
	// label 0 gives y = (1, −1, −1).
	idxLabels := []float64{2, 0}
	idxScores := []float64{0.5, -1, 2, 0, 1, -0.5}
	// margins:            -0.5, 1, 2, 0, -1, 0.5
	cases := []struct {
		f          LossFunc
		sparse     bool
		loss, grad []float64
	}{
		// Perceptron: max(0, −m); d/ds = −y where m ≤ 0.
		{Perceptron, false, []float64{0.25, 2, 0}, []float64{0, 1, 1, -1, 0, 0}},
		{SparsePerceptron, true, []float64{0.5, 1}, []float64{1, 0, 0, -1, 1, 0}},
		// SVMHinge: max(0, 1 − m); d/ds = −y where m ≤ 1.
		// Sample 0: 0.5 + 1.25; sample 1: 1 + 3 + 0; sample 2: 0 + 0.
		{SVMHinge, false, []float64{1.75, 4, 0}, []float64{-1, 1, 1, -1, -1, 0}},
		// Sample 0: 1.5 + 0 + 0; sample 1: 1 + 2 + 0.5.
		{SparseSVMHinge, true, []float64{1.5, 3.5}, []float64{1, 1, 0, -1, 1, 1}},
		// SVMSquaredHinge: (1 − m)²; d/ds = −2y(1 − m) where m < 1.
		// Sample 0: 0.25 + 1.5625; sample 1: 1 + 9; sample 2: 0.
		{SVMSquaredHinge, false, []float64{1.8125, 10, 0}, []float64{-1, 2.5, 2, -6, 0, 0}},
		// Sample 0: 2.25; sample 1: 1 + 4 + 0.25.
		{SparseSVMSquaredHinge, true, []float64{2.25, 5.25}, []float64{3, 0, 0, -2, 4, 1}},
	}
	for i, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			labels, scores := denseOf(dt, []int{3, 2}, binLabels), denseOf(dt, []int{3, 2}, binScores)
			if c.sparse {
				labels, scores = denseOf(dt, []int{2}, idxLabels), denseOf(dt, []int{2, 3}, idxScores)
			}
			loss, grad, err := runLinear(c.f, labels, scores)
			if err != nil {
				t.Fatalf("case %d %v: %v", i, dt, err)
			}
			if fmt.Sprint(loss) != fmt.Sprint(c.loss) {
				t.Errorf("case %d %v: loss %v, want %v", i, dt, loss, c.loss)
			}
			if fmt.Sprint(grad) != fmt.Sprint(c.grad) {
				t.Errorf("case %d %v: gradient %v, want %v", i, dt, grad, c.grad)
			}
		}
	}
}

// linearInputs draws labels and scores whose margins stay at least 0.1
// away from the loss's kink.
func linearInputs(rng *rand.Rand, sparse bool, kink float64, shape []int) (labels, scores *tensor.Dense) {
	scores = gradcheck.Random(rng, -2, 2, shape...)
	sd := scores.Data().([]float64)
	k := shape[len(shape)-1]
	ys := make([]float64, len(sd))
	if sparse {
		ld := make([]float64, len(sd)/k)
		for r := range ld {
			ld[r] = float64(rng.IntN(k))
			for j := range k {
				ys[r*k+j] = -1
				if j == int(ld[r]) {
					ys[r*k+j] = 1
				}
			}
		}
		labels = tensor.New(tensor.WithShape(shape[:len(shape)-1]...), tensor.WithBacking(ld))
	} else {
		ld := make([]float64, len(sd))
		for i := range ld {
			ld[i] = float64(rng.IntN(3) - 1) // −1, 0 or 1
			ys[i] = -1
			if ld[i] == 1 {
				ys[i] = 1
			}
		}
		labels = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(ld))
	}
	for i := range sd {
		if m := ys[i] * sd[i]; math.Abs(m-kink) < 0.1 {
			sd[i] += 0.25 * ys[i]
		}
	}
	return labels, scores
}

// TestLinearLossGradients checks every loss against central differences,
// at ranks 2 and 3.
func TestLinearLossGradients(t *testing.T) {
	for i, c := range linearLosses {
		for _, shape := range [][]int{{5, 3}, {2, 3, 4}, {6, 1}} {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(shape[0])))
			labels, scores := linearInputs(rng, c.sparse, c.kink, shape)
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return c.f(in[0], in[1])
			}, []*tensor.Dense{labels, scores}, gradcheck.Options{Wrt: []int{1}})
			if err != nil {
				t.Errorf("%s%v: %v", c.name, shape, err)
			}
		}
	}
}

// TestLinearLossLabelShapes: binary labels of shape (n) go with scores
// (n, 1), and class indices of shape (n, 1) with scores (n, K), as in
// Keras.
func TestLinearLossLabelShapes(t *testing.T) {
	cases := []struct {
		f              LossFunc
		lshape, sshape []int
		labels, scores []float64
		want           []float64
	}{
		{Perceptron, []int{3}, []int{3, 1}, []float64{1, 0, -1}, []float64{-1, 2, 0.5}, []float64{1, 2, 0.5}},
		{Perceptron, []int{3, 1}, []int{3}, []float64{1, 0, -1}, []float64{-1, 2, 0.5}, []float64{1, 2, 0.5}},
		{SparseSVMHinge, []int{2, 1}, []int{2, 2}, []float64{1, 0}, []float64{0, 1, 1, -1}, []float64{1, 0}},
	}
	for i, c := range cases {
		loss, _, err := runLinear(c.f, denseOf(tensor.Float64, c.lshape, c.labels), denseOf(tensor.Float64, c.sshape, c.scores))
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if fmt.Sprint(loss) != fmt.Sprint(c.want) {
			t.Errorf("case %d: loss %v, want %v", i, loss, c.want)
		}
	}
}

// TestLinearLossBadLabels: running with a label the loss cannot read fails
// with an error naming it and its sample.
func TestLinearLossBadLabels(t *testing.T) {
	cases := []struct {
		f              LossFunc
		lshape, sshape []int
		labels         []float64
		want           string
	}{
		{Perceptron, []int{3}, []int{3}, []float64{1, 2, 0}, "label 2 (sample 1 of the batch) is not binary"},
		{SVMHinge, []int{2, 2}, []int{2, 2}, []float64{1, 0, 0.5, 1}, "label 0.5 (sample 1 of the batch) is not binary"},
		{SVMSquaredHinge, []int{3, 1}, []int{3, 1}, []float64{-1, 1, math.NaN()}, "label NaN (sample 2 of the batch)"},
		{SparsePerceptron, []int{3}, []int{3, 3}, []float64{0, 3, 1}, "label 3 (sample 1 of the batch) is not a class index in [0, 3)"},
		{SparseSVMHinge, []int{3}, []int{3, 2}, []float64{0, 1, -1}, "label -1 (sample 2 of the batch)"},
		{SparseSVMSquaredHinge, []int{2, 2}, []int{2, 2, 3}, []float64{0, 1, 2, 1.5}, "label 1.5 (sample 1 of the batch)"},
	}
	for i, c := range cases {
		scores := make([]float64, tensor.Shape(c.sshape).TotalSize())
		_, _, err := runLinear(c.f, denseOf(tensor.Float64, c.lshape, c.labels), denseOf(tensor.Float64, c.sshape, scores))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: got error %v, want one containing %q", i, err, c.want)
		}
	}
}

// TestLinearLossBadShapes: shapes the losses cannot take are reported when
// the graph is built.
func TestLinearLossBadShapes(t *testing.T) {
	cases := []struct {
		f              LossFunc
		lshape, sshape []int
		want           string
	}{
		{Perceptron, []int{4}, []int{3}, "labels shape (4) does not match scores shape (3)"},
		{SVMHinge, []int{3, 2}, []int{3, 3}, "does not match"},
		{SparsePerceptron, []int{3, 3}, []int{3, 3}, "want (3): one class index per row"},
		{SparseSVMHinge, []int{3}, []int{3}, "need a batch axis and a class axis"},
	}
	for i, c := range cases {
		g := gorgonia.NewGraph()
		l := gorgonia.NewTensor(g, tensor.Float64, len(c.lshape), gorgonia.WithShape(c.lshape...), gorgonia.WithName("l"))
		s := gorgonia.NewTensor(g, tensor.Float64, len(c.sshape), gorgonia.WithShape(c.sshape...), gorgonia.WithName("s"))
		_, err := c.f(l, s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: got error %v, want one containing %q", i, err, c.want)
		}
	}
	g := gorgonia.NewGraph()
	l := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(2), gorgonia.WithName("l"))
	s := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(2), gorgonia.WithName("s"))
	if _, err := Perceptron(l, s); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Errorf("mixed dtypes: got error %v, want one naming float32", err)
	}
}
