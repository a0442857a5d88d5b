package ensemble

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestNumbersOfViews: a transposed or column-sliced tensor is read as it
// looks.
func TestNumbersOfViews(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	tr := x.ShallowClone()
	if err := tr.T(); err != nil {
		t.Fatal(err)
	}
	got, ok := numbers(tr)
	want := []float64{1, 4, 2, 5, 3, 6}
	if !ok || len(got) != len(want) {
		t.Fatalf("numbers(transpose) = %v, %v", got, ok)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("numbers(transpose) = %v, want %v", got, want)
		}
	}
	col, err := x.Slice(nil, tensor.S(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := numbers(col.(*tensor.Dense)); !ok || len(got) != 2 || got[0] != 3 || got[1] != 6 {
		t.Errorf("numbers(column 2) = %v, %v; want [3 6]", got, ok)
	}
}
