package ops

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestStandardizeGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	mean := gradcheck.Random(rng, -1, 1, 3)
	variance := vec([]int{3}, 0.5, 2, 0) // 0: the epsilon floor
	for _, invert := range []bool{false, true} {
		for _, axis := range []int{1, 2} {
			shape := []int{2, 3, 3}
			x := gradcheck.Random(rng, -1, 1, shape...)
			err := gradcheck.Check(func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return Standardize(in[0], in[1], in[2], axis, 1e-3, invert)
			}, []*tensor.Dense{x, mean, variance}, gradcheck.Options{Wrt: []int{0}})
			if err != nil {
				t.Errorf("invert=%v axis=%d: %v", invert, axis, err)
			}
		}
	}
}

func TestPreprocessingOpValues(t *testing.T) {
	cases := []struct {
		name string
		f    func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error)
		in   []*tensor.Dense
		want []float64
	}{
		// (x − mean)/sqrt(variance) on the last axis; variance 0 floors at epsilon.
		{"Standardize", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Standardize(in[0], in[1], in[2], 1, 0.5, false)
		}, []*tensor.Dense{vec([]int{2, 2}, 3, 1, 5, 2), vec([]int{2}, 1, 1), vec([]int{2}, 4, 0)}, []float64{1, 0, 2, 2}},
		{"Standardize invert", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Standardize(in[0], in[1], in[2], 1, 0.5, true)
		}, []*tensor.Dense{vec([]int{2, 2}, 1, 0, 2, 2), vec([]int{2}, 1, 1), vec([]int{2}, 4, 0)}, []float64{3, 1, 5, 2}},
		{"Bucketize", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Bucketize(in[0], []float64{0, 1, 2})
		}, []*tensor.Dense{vec([]int{5}, -1, 0, 0.5, 2, 2.5)}, []float64{0, 1, 1, 3, 3}},
		{"one_hot (batch)", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return CategoryEncode(in[0], 3, OneHot, false)
		}, []*tensor.Dense{vec([]int{2}, 2, 0)}, []float64{0, 0, 1, 1, 0, 0}},
		{"one_hot (batch, 1)", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return CategoryEncode(in[0], 3, OneHot, false)
		}, []*tensor.Dense{vec([]int{2, 1}, 2, 0)}, []float64{0, 0, 1, 1, 0, 0}},
		{"one_hot (batch, 2)", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return CategoryEncode(in[0], 2, OneHot, false)
		}, []*tensor.Dense{vec([]int{1, 2}, 1, 0)}, []float64{0, 1, 1, 0}},
		// Keras' CategoryEncoding doc example: [[0, 1], [0, 0], [1, 2], [3, 1]].
		{"multi_hot", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return CategoryEncode(in[0], 4, MultiHot, false)
		}, []*tensor.Dense{vec([]int{4, 2}, 0, 1, 0, 0, 1, 2, 3, 1)}, []float64{1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1}},
		{"count", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return CategoryEncode(in[0], 4, Count, false)
		}, []*tensor.Dense{vec([]int{4, 2}, 0, 1, 0, 0, 1, 2, 3, 1)}, []float64{1, 1, 0, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1}},
		{"multi_hot skips negatives", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return CategoryEncode(in[0], 3, MultiHot, true)
		}, []*tensor.Dense{vec([]int{1, 3}, -1, 2, -1)}, []float64{0, 0, 1}},
		{"MapValues", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MapValues(in[0], "double", func(v float64) (float64, error) { return 2 * v, nil })
		}, []*tensor.Dense{vec([]int{2}, 1, 3)}, []float64{2, 6}},
	}
	for _, c := range cases {
		got := run1(t, c.f, c.in...)
		if len(got) != len(c.want) {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s = %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

func TestCategoryEncodeRejectsBadIDs(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, vec([]int{2}, 1, 3), gorgonia.WithName("x"))
	y, err := CategoryEncode(x, 3, OneHot, false)
	if err != nil {
		t.Fatal(err)
	}
	_ = y
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err == nil || !strings.Contains(err.Error(), "id 3 at position 1 is not an integer in [0, 3)") {
		t.Errorf("id 3 of depth 3: got %v", err)
	}
	if _, err := CategoryEncode(x, 3, "tf_idf", false); err == nil {
		t.Error("mode tf_idf accepted")
	}
	if _, err := Bucketize(x, []float64{2, 1}); err == nil {
		t.Error("unsorted boundaries accepted")
	}
}
