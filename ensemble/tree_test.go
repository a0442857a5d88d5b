package ensemble

import (
	"math"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// TestTreeHandCases: splits and leaves worked by hand.
func TestTreeHandCases(t *testing.T) {
	cases := []struct {
		name      string
		tree      *Tree
		x, y, w   []float64
		threshold float64   // the root's
		leaves    []float64 // left and right leaf values (class 1's share, or the mean)
	}{
		// Gini: 2.5 leaves two pure halves.
		{"pure split", &Tree{MaxDepth: 1}, []float64{1, 2, 3, 4}, []float64{0, 0, 1, 1}, nil, 2.5, []float64{0, 1}},
		// Squared error, y = [0 5 10]: splitting at 1.5 or 2.5 leaves 12.5
		// either way; the first is kept. Weights [1 1 3]: at 1.5 the right
		// leaf {5, 10×3} has error 18.75, at 2.5 the left {0, 5} 12.5, so
		// 2.5 wins, with leaves 2.5 and 10.
		{"regression tie", &Tree{Regression: true, MaxDepth: 1}, []float64{1, 2, 3}, []float64{0, 5, 10}, nil, 1.5, []float64{0, 7.5}},
		{"regression weighted", &Tree{Regression: true, MaxDepth: 1}, []float64{1, 2, 3}, []float64{0, 5, 10}, []float64{1, 1, 3}, 2.5, []float64{2.5, 10}},
		// Weights [3 1 1 1] on y = [1 0 0 1]: left of 1.5 is pure class 1
		// (weight 3), right holds weights 2 and 1: class 1's share 1/3.
		{"weighted leaf shares", &Tree{MaxDepth: 1}, []float64{1, 2, 3, 4}, []float64{1, 0, 0, 1}, []float64{3, 1, 1, 1}, 1.5, []float64{1, 1. / 3}},
		// MinSamplesLeaf 2 forbids 1.5 and 3.5.
		{"min samples leaf", &Tree{MaxDepth: 1, MinSamplesLeaf: 2}, []float64{1, 2, 3, 4}, []float64{1, 0, 0, 0}, nil, 2.5, []float64{0.5, 0}},
	}
	for _, c := range cases {
		if err := c.tree.Fit(column(c.x), vec(c.y), c.w); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		nodes := c.tree.Nodes()
		if len(nodes) != 3 || nodes[0].Threshold != c.threshold || nodes[0].Feature != 0 {
			t.Errorf("%s: %d nodes, root split x[%d] ≤ %v; want 3 nodes, x[0] ≤ %v", c.name, len(nodes), nodes[0].Feature, nodes[0].Threshold, c.threshold)
			continue
		}
		for i, want := range c.leaves {
			v := nodes[[]int{nodes[0].Left, nodes[0].Right}[i]].Value
			got := v[0]
			if !c.tree.Regression {
				got = v[1]
			}
			if math.Abs(got-want) > 1e-15 {
				t.Errorf("%s: leaf %d value %v, want %v", c.name, i, v, want)
			}
		}
	}
}

// TestTreeDepth: XOR needs depth 2; unlimited depth fits every training
// point; MaxDepth and MinSamplesSplit stop growth.
func TestTreeDepth(t *testing.T) {
	x := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float32{0, 0, 0, 1, 1, 0, 1, 1}))
	y := vec([]float64{0, 1, 1, 0})
	for _, c := range []struct {
		tree      *Tree
		depth     int
		trainAcc  float64
		nodeCount int
	}{
		{&Tree{}, 2, 1, 7},
		{&Tree{MaxDepth: 1}, 1, 0.5, 3},
		{&Tree{MinSamplesSplit: 5}, 0, 0.5, 1},
	} {
		if err := c.tree.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		acc, err := c.tree.Score(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if c.tree.Depth() != c.depth || acc != c.trainAcc || len(c.tree.Nodes()) != c.nodeCount {
			t.Errorf("%+v: depth %d, %d nodes, training accuracy %v; want %d, %d, %v", *c.tree, c.tree.Depth(), len(c.tree.Nodes()), acc, c.depth, c.nodeCount, c.trainAcc)
		}
	}
	// A stump learns a threshold on the second of three features.
	x3 := tensor.New(tensor.WithShape(4, 3), tensor.WithBacking([]float64{5, 1, 7, 5, 2, 3, 5, 8, 7, 5, 9, 3}))
	s := Stump()
	if err := s.Fit(x3, vec([]float64{0, 0, 1, 1}), nil); err != nil {
		t.Fatal(err)
	}
	if n := s.Nodes()[0]; n.Feature != 1 || n.Threshold != 5 {
		t.Errorf("stump splits x[%d] ≤ %v, want x[1] ≤ 5", n.Feature, n.Threshold)
	}
	p, _ := s.PredictProba(x3)
	if got := flat(t, p); !near(got, []float64{1, 0, 1, 0, 0, 1, 0, 1}, 0) {
		t.Errorf("stump probabilities %v", got)
	}
}

func TestTreeBadInput(t *testing.T) {
	x, y := column([]float64{1, 2, 3}), vec([]float64{0, 1, 1})
	for _, c := range []struct {
		name string
		tree *Tree
		x, y *tensor.Dense
		want error
		msg  string
	}{
		{"criterion", &Tree{Criterion: "squared_error"}, x, y, ErrConfig, `criterion "squared_error"`},
		{"regression criterion", &Tree{Regression: true, Criterion: "gini"}, x, y, ErrConfig, `criterion "gini"`},
		{"min samples", &Tree{MinSamplesSplit: 1}, x, y, ErrConfig, "MinSamplesSplit 1"},
		{"NaN feature", &Tree{}, column([]float64{1, math.NaN(), 3}), y, ErrInput, "x holds NaN at sample 1, feature 0"},
		{"label", &Tree{}, x, vec([]float64{0, 1, math.NaN()}), ErrLabels, "label NaN at sample 2"},
	} {
		err := c.tree.Fit(c.x, c.y, nil)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
	tr := &Tree{}
	if _, err := tr.Predict(x); !errors.Is(err, ErrNotFitted) {
		t.Errorf("Predict before Fit: %v", err)
	}
	if err := tr.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	x2 := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 2}))
	if _, err := tr.Predict(x2); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "fitted on 1 features, x has 2") {
		t.Errorf("Predict with 2 features: %v", err)
	}
	reg := &Tree{Regression: true}
	if err := reg.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.PredictProba(x); !errors.Is(err, ErrNoProba) {
		t.Errorf("PredictProba of a regression tree: %v, want ErrNoProba", err)
	}
}
