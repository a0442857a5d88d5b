package datasets

import (
	"reflect"
	"strings"
	"testing"
)

// PadSequences follows keras.utils.pad_sequences: Keras 3 gives, for
// [[1], [2, 3], [4, 5, 6]], [[0 0 1] [0 2 3] [4 5 6]] by default and the
// variants below with padding/truncating "post" and maxlen 2.
func TestPadSequences(t *testing.T) {
	seqs := [][]int{{1}, {2, 3}, {4, 5, 6}}
	for _, c := range []struct {
		name string
		cfg  PadConfig
		want []float32
		cols int
	}{
		{"defaults", PadConfig{}, []float32{0, 0, 1, 0, 2, 3, 4, 5, 6}, 3},
		{"post", PadConfig{Post: true}, []float32{1, 0, 0, 2, 3, 0, 4, 5, 6}, 3},
		{"maxlen 2", PadConfig{MaxLen: 2}, []float32{0, 1, 2, 3, 5, 6}, 2},
		{"maxlen 2 truncating post", PadConfig{MaxLen: 2, TruncatePost: true}, []float32{0, 1, 2, 3, 4, 5}, 2},
		{"value -1, maxlen 4", PadConfig{MaxLen: 4, Value: -1}, []float32{-1, -1, -1, 1, -1, -1, 2, 3, -1, 4, 5, 6}, 4},
	} {
		got, err := PadSequences(seqs, c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual([]int(got.Shape()), []int{3, c.cols}) || !reflect.DeepEqual(got.Data(), c.want) {
			t.Errorf("%s: got %v %v, want (3, %d) %v", c.name, got.Shape(), got.Data(), c.cols, c.want)
		}
	}
}

func TestSequencesErrors(t *testing.T) {
	got, err := Sequences([][]int{{1, 2}, {3, 4}})
	if err != nil || !reflect.DeepEqual(got.Data(), []float32{1, 2, 3, 4}) {
		t.Errorf("rectangular: got %v, %v", got, err)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"ragged", func() error { _, err := Sequences([][]int{{1, 2}, {3, 4}, {5}}); return err }(), "ragged: sequence 2 has 1 steps, sequence 0 has 2; pad them with PadSequences"},
		{"none", func() error { _, err := Sequences(nil); return err }(), "no sequences"},
		{"empty", func() error { _, err := Sequences([][]int{{}, {}}); return err }(), "empty sequences"},
		{"pad none", func() error { _, err := PadSequences(nil, PadConfig{}); return err }(), "no sequences"},
		{"pad negative", func() error { _, err := PadSequences([][]int{{1}}, PadConfig{MaxLen: -1}); return err }(), "MaxLen must be ≥ 0, got -1"},
		{"pad all empty", func() error { _, err := PadSequences([][]int{{}}, PadConfig{}); return err }(), "all empty"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, c.err, c.want)
		}
	}
}
