package datasets

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestOneHot(t *testing.T) {
	want := []float64{0, 0, 1, 1, 0, 0, 0, 1, 0}
	cases := []struct {
		name   string
		labels *tensor.Dense
		dtype  tensor.Dtype
	}{
		{"float32 (n)", tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{2, 0, 1})), tensor.Float32},
		{"float64 (n, 1)", tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float64{2, 0, 1})), tensor.Float64},
		{"int", tensor.New(tensor.WithShape(3), tensor.WithBacking([]int{2, 0, 1})), tensor.Float32},
		{"uint8", tensor.New(tensor.WithShape(3), tensor.WithBacking([]uint8{2, 0, 1})), tensor.Float32},
	}
	for _, c := range cases {
		got, err := OneHot(c.labels, 3)
		if err != nil {
			t.Errorf("%s: %+v", c.name, err)
			continue
		}
		if !equalInts(got.Shape(), []int{3, 3}) || got.Dtype() != c.dtype {
			t.Errorf("%s: shape %v dtype %v, want [3 3] %v", c.name, got.Shape(), got.Dtype(), c.dtype)
			continue
		}
		for i, w := range want {
			v, _ := got.At(i/3, i%3)
			var f float64
			switch v := v.(type) {
			case float32:
				f = float64(v)
			case float64:
				f = v
			}
			if f != w {
				t.Errorf("%s: element %d is %v, want %v", c.name, i, v, w)
			}
		}
	}
}

func TestOneHotErrors(t *testing.T) {
	f32 := func(shape []int, v ...float32) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	cases := []struct {
		name    string
		labels  *tensor.Dense
		classes int
		want    string
	}{
		{"nil", nil, 3, "nil labels"},
		{"zero classes", f32([]int{1}, 0), 0, "classes ≥ 1, got 0"},
		{"too big", f32([]int{2}, 1, 3), 3, "label 1 is 3, want a whole number in 0..2"},
		{"negative", f32([]int{1}, -1), 3, "label 0 is -1"},
		{"fraction", f32([]int{1}, 0.5), 3, "label 0 is 0.5"},
		{"matrix", f32([]int{2, 2}, 0, 1, 0, 1), 3, "shape (n) or (n, 1), got (2, 2)"},
		{"string dtype", tensor.New(tensor.WithShape(1), tensor.WithBacking([]string{"a"})), 3, "got string"},
	}
	for _, c := range cases {
		if _, err := OneHot(c.labels, c.classes); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestTake(t *testing.T) {
	x := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	got, err := Take(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(got.Shape(), []int{2, 2}) || !equalFloats(got.Data().([]float32), []float32{1, 2, 3, 4}) {
		t.Errorf("Take(x, 2) = %v shape %v, want [1 2 3 4] shape [2 2]", got.Data(), got.Shape())
	}
	got.Data().([]float32)[0] = 9
	if x.Data().([]float32)[0] != 1 {
		t.Error("Take shares its data with x, want a copy")
	}
	// A view (rows 1..2) is copied in order.
	v, err := x.Slice(tensor.S(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	got, err = Take(v.(*tensor.Dense), 1)
	if err != nil {
		t.Fatalf("Take of a view: %+v", err)
	}
	if !equalFloats(got.Data().([]float32), []float32{3, 4}) {
		t.Errorf("Take(view, 1) = %v, want [3 4]", got.Data())
	}
	for _, n := range []int{0, 4} {
		if _, err := Take(x, n); err == nil || !strings.Contains(err.Error(), "want 1..3") {
			t.Errorf("Take(x, %d): error %v, want one saying 1..3", n, err)
		}
	}
}

// TestOneHotOfAView: labels given as a column of a table are read as they
// look, not as the table's backing slice.
func TestOneHotOfAView(t *testing.T) {
	table := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{9, 2, 9, 0, 9, 1}))
	col, err := table.Slice(nil, tensor.S(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	hot, err := OneHot(col.(*tensor.Dense), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0, 1, 1, 0, 0, 0, 1, 0}
	for i, v := range hot.Data().([]float32) {
		if v != want[i] {
			t.Fatalf("OneHot of column 1 = %v, want %v", hot.Data(), want)
		}
	}
}
