package keras

import (
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestReshapeContract(t *testing.T) {
	for _, c := range reshapeContractCases() {
		runLayerTest(t, c)
	}
}

// reshapeContractCases are TestReshapeContract's cases (also listed in allContractCases).
func reshapeContractCases() []layerCase {
	cases := []layerCase{
		{name: "flatten_rank3", make: func() Layer { return &Flatten{} }, input: []int{2, 3, 2}, output: []int{12}},
		{name: "flatten_rank1", make: func() Layer { return &Flatten{Name: "flat"} }, input: []int{5}, output: []int{5}},
		{name: "reshape", make: func() Layer { return &Reshape{TargetShape: []int{3, 2}} }, input: []int{6}, output: []int{3, 2}},
		{name: "reshape_infer_first", make: func() Layer { return &Reshape{TargetShape: []int{-1, 2}} }, input: []int{2, 3, 2}, output: []int{6, 2}},
		{name: "reshape_infer_last", make: func() Layer { return &Reshape{TargetShape: []int{4, -1}} }, input: []int{2, 6}, output: []int{4, 3}},
		{name: "reshape_same", make: func() Layer { return &Reshape{TargetShape: []int{2, 3}} }, input: []int{2, 3}, output: []int{2, 3}},
	}
	return cases
}

// TestReshapeKeepsOrder checks that Flatten and Reshape keep each sample's
// values in row-major order, as NumPy and Keras do.
func TestReshapeKeepsOrder(t *testing.T) {
	x := make([]float64, 2*2*3)
	for i := range x {
		x[i] = float64(i)
	}
	for _, l := range []Layer{&Flatten{}, &Reshape{TargetShape: []int{3, -1}}} {
		m := oneLayerModel(t, l, []int{2, 3}, tensor.Float64)
		y, err := m.Predict(denseOf(tensor.Float64, x, 2, 2, 3))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(floatsOf(y), x) {
			t.Errorf("%s: values %v, want %v", ClassName(l), floatsOf(y), x)
		}
	}
}

func TestReshapeErrors(t *testing.T) {
	cases := []struct {
		target []int
		want   string
	}{
		{nil, "needs a TargetShape"},
		{[]int{-1, -1}, "dimensions must be positive (one may be -1)"},
		{[]int{0, 6}, "dimensions must be positive"},
		{[]int{4, -1}, "cannot reshape (None, 6) into [4 -1]"},
		{[]int{4, 2}, "cannot reshape (None, 6) (6 values) into (None, 4, 2) (8 values)"},
	}
	for i, c := range cases {
		m := NewSequential(&Input{Shape: []int{6}}, &Reshape{TargetShape: c.target})
		if err := m.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d (%v): error %v, want it to contain %q", i, c.target, err, c.want)
		}
	}
}
