package dense

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

func TestContiguous(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	if c, err := Contiguous(x); err != nil || c != x {
		t.Errorf("a plain tensor: %v, %v; want itself", c, err)
	}
	tr := x.ShallowClone()
	if err := tr.T(); err != nil {
		t.Fatal(err)
	}
	col, err := x.Slice(nil, tensor.S(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.Slice(tensor.S(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   *tensor.Dense
		want []float32
	}{
		{"transpose", tr, []float32{1, 4, 2, 5, 3, 6}},
		{"column", col.(*tensor.Dense), []float32{2, 5}},
		{"row", rows.(*tensor.Dense), []float32{4, 5, 6}},
	} {
		got, err := Contiguous(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		d := got.Data().([]float32)
		if len(d) != len(c.want) {
			t.Fatalf("%s: %v, want %v", c.name, d, c.want)
		}
		for i := range d {
			if d[i] != c.want[i] {
				t.Fatalf("%s: %v, want %v", c.name, d, c.want)
			}
		}
	}
	if c, err := Contiguous(nil); c != nil || err != nil {
		t.Errorf("nil: %v, %v", c, err)
	}
	ts := []*tensor.Dense{x, tr}
	all, err := All(ts)
	if err != nil || all[0] != x || all[1] == tr || ts[1] != tr {
		t.Errorf("All: %v; want the plain tensor kept, the view copied, the input slice untouched", err)
	}
}

func TestFirstNonFinite(t *testing.T) {
	x := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, math.Inf(1), math.NaN()}))
	if i, v := FirstNonFinite(x); i != 1 || !math.IsInf(v, 1) {
		t.Errorf("FirstNonFinite = %d, %v; want 1, +Inf", i, v)
	}
	y := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))
	if i, _ := FirstNonFinite(y); i != -1 {
		t.Errorf("finite: %d, want -1", i)
	}
}
