package keras

import (
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/keras/tree"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// BenchmarkTreeLSTMTraining measures why tree layers batch the nodes of a
// level across trees: the cost of training on one ListOps tree (child-sum
// TreeLSTM(64) over token ids, Dense softmax at the root)
//
//   - batched: one graph, 64 trees a step;
//   - batch1: the same graph shape, one tree a step;
//   - graph_per_tree: a graph built for each tree's own shape, as a
//     per-sample dynamic graph would, one step on it.
//
// go test ./keras -run '^$' -bench TreeLSTMTraining -benchtime 3x
func BenchmarkTreeLSTMTraining(b *testing.B) {
	d, err := datasets.ListOps(datasets.ListOpsConfig{Samples: 256, MaxDepth: 4, MaxArgs: 4, MaxLength: 40, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	build := func(trees []*tree.Tree) (*Model, []*tensor.Dense) {
		enc, err := tree.EncoderFor(trees, 0)
		if err != nil {
			b.Fatal(err)
		}
		tok, st, err := enc.Encode(trees)
		if err != nil {
			b.Fatal(err)
		}
		ti, si := NewInput(enc.MaxNodes), NewInput(enc.StructureShape()...)
		h := Apply(&TreeLSTM{Units: 64, VocabSize: datasets.ListOpsVocabSize}, ti, si)
		y := Apply(&Dense{Units: 10, Activation: "softmax"}, h)
		m, err := NewModel([]*Tensor{ti, si}, []*Tensor{y})
		if err != nil {
			b.Fatal(err)
		}
		m.SetSeed(1)
		if err := m.Compile(CompileConfig{Optimizer: &training.Adam{}, Loss: "sparse_categorical_crossentropy"}); err != nil {
			b.Fatal(err)
		}
		return m, []*tensor.Dense{tok, st}
	}
	labels := func(lo, hi int) *tensor.Dense {
		v := d.Labels.Data().([]float32)[lo:hi]
		return tensor.New(tensor.WithShape(hi-lo), tensor.WithBacking(append([]float32(nil), v...)))
	}
	fit := func(m *Model, x []*tensor.Dense, y *tensor.Dense, batch int) {
		if _, err := m.FitMulti(x, []*tensor.Dense{y}, FitConfig{Epochs: 1, BatchSize: batch, NoShuffle: true}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		batch int
	}{{"batched", 64}, {"batch1", 1}} {
		b.Run(c.name, func(b *testing.B) {
			m, x := build(d.Trees)
			y := labels(0, len(d.Trees))
			fit(m, x, y, c.batch) // builds the program
			b.ResetTimer()
			for range b.N {
				fit(m, x, y, c.batch)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(d.Trees)), "µs/tree")
		})
	}
	b.Run("graph_per_tree", func(b *testing.B) {
		const n = 16
		for range b.N {
			for i := range n {
				m, x := build(d.Trees[i : i+1])
				fit(m, x, labels(i, i+1), 1)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/tree")
	})
}
