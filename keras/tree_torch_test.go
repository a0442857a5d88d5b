package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras/tree"
	"gorgonia.org/tensor"
)

// The reference values come from testdata/torch_tree.py (PyTorch 1.13,
// float64), which computes each tree alone by recursion from the papers'
// equations. The test encodes the same trees as one batch and compares the
// roots' h, every node's h and the gradients of Σ root_h ⊙ upstream with
// respect to the features and the weights.

type torchTreeCase struct {
	Trees        [][][]int    `json:"trees"`
	Features     []torchArray `json:"features"`
	NodeH        []torchArray `json:"node_h"`
	RootH        torchArray   `json:"root_h"`
	Upstream     torchArray   `json:"upstream"`
	GradFeatures []torchArray `json:"grad_features"`
	Kernel       torchArray   `json:"kernel"`
	Recurrent    torchArray   `json:"recurrent_kernel"`
	Bias         torchArray   `json:"bias"`
	GradKernel   torchArray   `json:"grad_kernel"`
	GradRecur    torchArray   `json:"grad_recurrent_kernel"`
	GradBias     torchArray   `json:"grad_bias"`
}

func loadTorchTree(t *testing.T) map[string]torchTreeCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "torch_tree.json"))
	if err != nil {
		t.Fatalf("reading testdata/torch_tree.json (regenerate with /usr/bin/python3 keras/testdata/torch_tree.py): %v", err)
	}
	var f struct {
		Cases map[string]torchTreeCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// treesOf rebuilds the cases' trees from post-order child lists, with
// each node's features.
func (c torchTreeCase) treesOf(t *testing.T) ([]*tree.Tree, int) {
	t.Helper()
	var trees []*tree.Tree
	f := c.Features[0].Shape[1]
	for i, children := range c.Trees {
		tr, err := tree.FromChildren(make([]int, len(children)), children, len(children)-1)
		if err != nil {
			t.Fatal(err)
		}
		// Post-order visits node j j-th: the lists are in post-order.
		j := 0
		var visit func(n *tree.Tree)
		visit = func(n *tree.Tree) {
			for _, ch := range n.Children {
				visit(ch)
			}
			n.Vector = c.Features[i].Data[j*f : (j+1)*f]
			j++
		}
		visit(tr)
		trees = append(trees, tr)
	}
	return trees, f
}

func TestTreeLayersMatchTorch(t *testing.T) {
	cases := loadTorchTree(t)
	layers := map[string]struct {
		make  func(nodes bool) Layer
		arity int
	}{
		"treernn":           {func(n bool) Layer { return &TreeRNN{Units: 2, ReturnNodes: n} }, 0},
		"treelstm_childsum": {func(n bool) Layer { return &TreeLSTM{Units: 2, ReturnNodes: n} }, 0},
		"treelstm_nary":     {func(n bool) Layer { return &TreeLSTM{Units: 2, Arity: 2, ReturnNodes: n} }, 2},
	}
	for name, spec := range layers {
		c, ok := cases[name]
		if !ok {
			t.Fatalf("torch_tree.json has no case %q", name)
		}
		trees, f := c.treesOf(t)
		enc, err := tree.EncoderFor(trees, spec.arity)
		if err != nil {
			t.Fatal(err)
		}
		enc.MaxNodes++ // a padding slot in every tree
		for _, p := range precisions {
			enc.Dtype = p.dt.String()
			x, st, err := enc.EncodeVectors(trees, f)
			if err != nil {
				t.Fatal(err)
			}
			weights := [][]float64{c.Kernel.Data, c.Recurrent.Data, c.Bias.Data}

			l := spec.make(false)
			treeModel(t, l, enc, f, p.dt)
			setWeights(t, l, weights)
			y, gx, gw := upstreamGrads(t, fixedStructure{l, st}, graph.Infer, x, c.Upstream.tensor(p.dt))
			p.check(t, name+" root h", y, c.RootH)
			p.check(t, name+" kernel gradient", gw["kernel"], c.GradKernel)
			p.check(t, name+" recurrent_kernel gradient", gw["recurrent_kernel"], c.GradRecur)
			p.check(t, name+" bias gradient", gw["bias"], c.GradBias)
			p.check(t, name+" feature gradients", gx, padNodes(c.GradFeatures, enc.MaxNodes))

			ln := spec.make(true)
			m := treeModel(t, ln, enc, f, p.dt)
			setWeights(t, ln, weights)
			out, err := m.PredictMulti([]*tensor.Dense{x, st})
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, name+" node h", floatsOf(out[0]), padNodes(c.NodeH, enc.MaxNodes))
		}
	}
}

// padNodes stacks per-tree (nodes, d) arrays into (trees, maxNodes, d),
// zero past each tree's nodes.
func padNodes(per []torchArray, maxNodes int) torchArray {
	d := per[0].Shape[1]
	out := torchArray{Shape: []int{len(per), maxNodes, d}, Data: make([]float64, len(per)*maxNodes*d)}
	for i, a := range per {
		copy(out.Data[i*maxNodes*d:], a.Data)
	}
	return out
}
