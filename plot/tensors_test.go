package plot

import (
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestTensorHelpers(t *testing.T) {
	seq := func(shape ...int) *tensor.Dense {
		n := 1
		for _, s := range shape {
			n *= s
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	tests := []struct {
		name      string
		f         func() (*tensor.Dense, error)
		wantShape []int
		want      []float64
	}{
		// kernel (4, 2): row p holds the weights of pixel p to units 0 and 1.
		{"Units", func() (*tensor.Dense, error) { return Units(seq(4, 2), 2, 2) },
			[]int{2, 2, 2}, []float64{0, 2, 4, 6, 1, 3, 5, 7}},
		// kernel (1, 2, 2, 2): element (0, x, c, f) = x·4 + c·2 + f.
		{"Filters 2-D", func() (*tensor.Dense, error) { return Filters(seq(1, 2, 2, 2)) },
			[]int{4, 1, 2}, []float64{0, 4, 2, 6, 1, 5, 3, 7}},
		// Conv1D kernel (2, 1, 3): element (k, 0, f) = k·3 + f.
		{"Filters 1-D", func() (*tensor.Dense, error) { return Filters(seq(2, 1, 3)) },
			[]int{3, 1, 2}, []float64{0, 3, 1, 4, 2, 5}},
		// batch (2, 1, 2, 3): sample 1 starts at 6; pixel p channel c = 6 + 3p + c.
		{"Channels 2-D", func() (*tensor.Dense, error) { return Channels(seq(2, 1, 2, 3), 1) },
			[]int{3, 1, 2}, []float64{6, 9, 7, 10, 8, 11}},
		{"Channels 1-D", func() (*tensor.Dense, error) { return Channels(seq(1, 2, 2), 0) },
			[]int{2, 1, 2}, []float64{0, 2, 1, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual([]int(got.Shape()), tc.wantShape) {
				t.Errorf("shape = %v, want %v", got.Shape(), tc.wantShape)
			}
			if v := got.Data().([]float64); !reflect.DeepEqual(v, tc.want) {
				t.Errorf("values = %v, want %v", v, tc.want)
			}
		})
	}
}

func TestTensorHelperErrors(t *testing.T) {
	k := tensor.New(tensor.WithShape(6, 2), tensor.Of(tensor.Float32))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Units size", second(Units(k, 2, 2)), "(2·2, units), got (6, 2)"},
		{"Units nil", second(Units(nil, 2, 2)), "nil tensor"},
		{"Filters rank", second(Filters(k)), "got (6, 2)"},
		{"Channels rank", second(Channels(k, 0)), "got (6, 2)"},
		{"Channels sample", second(Channels(tensor.New(tensor.WithShape(2, 1, 1, 1), tensor.Of(tensor.Float64)), 2)), "sample 2 is outside the batch of 2"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
}

func second(_ *tensor.Dense, err error) error { return err }

// TestValuesOfView: a transposed view is read in its logical order.
func TestValuesOfView(t *testing.T) {
	d := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 1, 2, 3, 4, 5}))
	if err := d.T(1, 0); err != nil {
		t.Fatal(err)
	}
	v, err := values(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0, 3, 1, 4, 2, 5}; !reflect.DeepEqual(v, want) {
		t.Errorf("values of the transpose = %v, want %v", v, want)
	}
}
