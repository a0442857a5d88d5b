package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Tree schedules.
//
// The tree ops read a batch of tree schedules, a structure tensor of shape
// (B, L, W, 1+K) holding node indices as floats (see keras/tree.Encoder):
// for each of B trees, L levels of W slots, a slot being a row [node,
// child 1, …, child K] of node indices in [0, M) or −1 for none. They move
// rows of a state table of shape (B·M, D), the M nodes of each tree one
// after the other, so tree b's node i is row b·M + i. Level L−1, slot 0
// holds each tree's root.

// CheckTreeSchedule returns structure unchanged after checking, at every
// run, that it schedules trees of at most nodes nodes that a layer can
// compose level by level: indices are −1 or in [0, nodes); an empty slot
// has no children; the root slot (level L−1, slot 0) holds a node; no node
// is scheduled twice or has two parents; every scheduled child sits in an
// earlier level; and, with arity > 0, every scheduled node has all arity
// children or none. Route the structure through it before the other tree
// ops so that a malformed batch is an error naming the tree, level and
// slot rather than a wrong result.
func CheckTreeSchedule(structure *gorgonia.Node, nodes, arity int) (*gorgonia.Node, error) {
	s := structure.Shape()
	if s.Dims() != 4 || s[3] < 2 {
		return nil, errors.Errorf("ops: a tree structure has shape (batch, levels, width, 1+children), got %v", s)
	}
	if nodes < 1 {
		return nil, errors.Errorf("ops: CheckTreeSchedule needs a positive node count, got %d", nodes)
	}
	if arity < 0 || arity > s[3]-1 {
		return nil, errors.Errorf("ops: CheckTreeSchedule: arity %d does not fit %d child columns", arity, s[3]-1)
	}
	op := &customOp{
		id:    fmt.Sprintf("CheckTreeSchedule(%d,%d)", nodes, arity),
		arity: 1,
		typ:   fnType(4, 4),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			v := treeFloats(in[0])
			if err := checkSchedule(v, in[0].Shape(), nodes, arity); err != nil {
				return err
			}
			treeSetFloats(out, v)
			return nil
		},
	}
	return apply(op, structure)
}

func checkSchedule(v []float64, s tensor.Shape, nodes, arity int) error {
	B, L, W, R := s[0], s[1], s[2], s[3]
	level := make([]int, nodes)  // level+1 of a scheduled node, 0 if none
	parent := make([]int, nodes) // parent+1, 0 if none
	for b := 0; b < B; b++ {
		clear(level)
		clear(parent)
		tree := v[b*L*W*R : (b+1)*L*W*R]
		for i, x := range tree {
			if x != math.Trunc(x) || x < -1 || x >= float64(nodes) {
				l, w, k := i/(W*R), i/R%W, i%R
				return errors.Errorf("ops: tree %d, level %d, slot %d, column %d: index %v is not −1 or a node in [0, %d)", b, l, w, k, x, nodes)
			}
		}
		for l := 0; l < L; l++ {
			for w := 0; w < W; w++ {
				row := tree[(l*W+w)*R : (l*W+w+1)*R]
				node := int(row[0])
				where := func() string { return fmt.Sprintf("ops: tree %d, level %d, slot %d", b, l, w) }
				children := 0
				for _, c := range row[1:] {
					if c >= 0 {
						children++
					}
				}
				if node < 0 {
					if children > 0 {
						return errors.Errorf("%s: an empty slot has children %v", where(), row[1:])
					}
					if l == L-1 && w == 0 {
						return errors.Errorf("%s: the root slot is empty", where())
					}
					continue
				}
				if level[node] != 0 {
					return errors.Errorf("%s: node %d is scheduled twice (also at level %d)", where(), node, level[node]-1)
				}
				level[node] = l + 1
				if arity > 0 && children != 0 && (children != arity || int(row[arity]) < 0) {
					return errors.Errorf("%s: node %d has children %v; an N-ary cell with arity %d needs all %d or none", where(), node, row[1:], arity, arity)
				}
				for _, cf := range row[1:] {
					c := int(cf)
					if c < 0 {
						continue
					}
					if c == node {
						return errors.Errorf("%s: node %d is its own child", where(), node)
					}
					if parent[c] != 0 {
						return errors.Errorf("%s: node %d has two parents (%d and %d)", where(), c, parent[c]-1, node)
					}
					parent[c] = node + 1
				}
			}
		}
		for l := 0; l < L; l++ {
			for w := 0; w < W; w++ {
				row := tree[(l*W+w)*R : (l*W+w+1)*R]
				for _, cf := range row[1:] {
					if c := int(cf); c >= 0 && level[c] > l {
						return errors.Errorf("ops: tree %d, level %d, slot %d: child %d is scheduled at level %d, not before its parent %d", b, l, w, c, level[c]-1, int(row[0]))
					}
				}
			}
		}
	}
	return nil
}

// A treeSel selects rows of a state table through a tree schedule: for
// every tree b, slot s in [slot0, slot1) of level and schedule column k in
// [k0, k1) (0 the slot's node, 1… its children), the row b·M + index.
type treeSel struct {
	level, slot0, slot1, k0, k1 int
	// sum adds up the rows of one slot (a child sum) instead of listing
	// them.
	sum bool
	// c0, c1 are the table columns read or written.
	c0, c1 int
}

func (s treeSel) String() string {
	sum := ""
	if s.sum {
		sum = "sum"
	}
	return fmt.Sprintf("level%d,slots[%d:%d],cols[%d:%d]%s,table[%d:%d]", s.level, s.slot0, s.slot1, s.k0, s.k1, sum, s.c0, s.c1)
}

// groups is the number of selected rows (or sums) per tree.
func (s treeSel) groups() int {
	if s.sum {
		return s.slot1 - s.slot0
	}
	return (s.slot1 - s.slot0) * (s.k1 - s.k0)
}

// indices returns the table row of every selected (tree, slot, column), −1
// for none, and the table's rows per tree.
func (s treeSel) indices(structure *tensor.Dense, tableRows int) (idx []int, m int, err error) {
	sh := structure.Shape()
	B, L, W, R := sh[0], sh[1], sh[2], sh[3]
	if tableRows%B != 0 {
		return nil, 0, errors.Errorf("ops: a table of %d rows does not hold %d trees", tableRows, B)
	}
	m = tableRows / B
	v := treeFloats(structure)
	idx = make([]int, 0, B*(s.slot1-s.slot0)*(s.k1-s.k0))
	for b := 0; b < B; b++ {
		for w := s.slot0; w < s.slot1; w++ {
			row := v[((b*L+s.level)*W+w)*R:]
			for k := s.k0; k < s.k1; k++ {
				x := row[k]
				if x != math.Trunc(x) || x < -1 || x >= float64(m) {
					return nil, 0, errors.Errorf("ops: tree %d, level %d, slot %d, column %d: index %v is not −1 or a node in [0, %d)", b, s.level, w, k, x, m)
				}
				if x < 0 {
					idx = append(idx, -1)
				} else {
					idx = append(idx, b*m+int(x))
				}
			}
		}
	}
	return idx, m, nil
}

func (s treeSel) check(table, structure *gorgonia.Node) error {
	ts, ss := table.Shape(), structure.Shape()
	if ss.Dims() != 4 {
		return errors.Errorf("ops: a tree structure has shape (batch, levels, width, 1+children), got %v", ss)
	}
	if ts.Dims() != 2 || ts[0]%ss[0] != 0 {
		return errors.Errorf("ops: a tree state table has shape (batch·nodes, d) for %d trees, got %v", ss[0], ts)
	}
	if s.level < 0 || s.level >= ss[1] || s.slot0 < 0 || s.slot1 > ss[2] || s.slot0 >= s.slot1 || s.k0 < 0 || s.k1 > ss[3] || s.k0 >= s.k1 {
		return errors.Errorf("ops: tree selection %v outside a structure of shape %v", s, ss)
	}
	if s.c0 < 0 || s.c1 > ts[1] || s.c0 >= s.c1 {
		return errors.Errorf("ops: table columns [%d, %d) outside a table of shape %v", s.c0, s.c1, ts)
	}
	return nil
}

// TreeNodes returns the rows (columns [from, to)) of the nodes in level's
// slots: shape (B·W, to−from), zero for empty slots.
func TreeNodes(table, structure *gorgonia.Node, level, from, to int) (*gorgonia.Node, error) {
	return treeGather(table, structure, treeSel{level: level, slot1: structure.Shape()[2], k1: 1, c0: from, c1: to})
}

// TreeRoots returns each tree's root row (columns [from, to)): (B, to−from).
func TreeRoots(table, structure *gorgonia.Node, from, to int) (*gorgonia.Node, error) {
	return treeGather(table, structure, treeSel{level: structure.Shape()[1] - 1, slot1: 1, k1: 1, c0: from, c1: to})
}

// TreeChildren returns the rows (columns [from, to)) of the children of
// level's slots: shape (B·W·K, to−from), child k of slot w of tree b in
// row (b·W + w)·K + k, zero where there is no child.
func TreeChildren(table, structure *gorgonia.Node, level, from, to int) (*gorgonia.Node, error) {
	s := structure.Shape()
	return treeGather(table, structure, treeSel{level: level, slot1: s[2], k0: 1, k1: s[3], c0: from, c1: to})
}

// TreeChildSum returns, for each of level's slots, the sum of its
// children's rows (columns [from, to)): shape (B·W, to−from).
func TreeChildSum(table, structure *gorgonia.Node, level, from, to int) (*gorgonia.Node, error) {
	s := structure.Shape()
	return treeGather(table, structure, treeSel{level: level, slot1: s[2], k0: 1, k1: s[3], sum: true, c0: from, c1: to})
}

// treeGather reads the selected rows; its gradient adds them back.
func treeGather(table, structure *gorgonia.Node, s treeSel) (*gorgonia.Node, error) {
	if err := s.check(table, structure); err != nil {
		return nil, err
	}
	ts := table.Shape().Clone()
	out := tensor.Shape{structure.Shape()[0] * s.groups(), s.c1 - s.c0}
	op := &customOp{
		id:     "TreeGather" + s.String() + fmt.Sprint(ts, structure.Shape()),
		arity:  2,
		typ:    fnType(2, 4, 2),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return out.Clone(), nil },
		noDiff: []int{1},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, _, err := s.indices(in[1], ts[0])
			if err != nil {
				return err
			}
			return dispatch(o, in,
				func(o []float32, in [][]float32) { gatherSel(o, in[0], ts[1], idx, s) },
				func(o []float64, in [][]float64) { gatherSel(o, in[0], ts[1], idx, s) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dt, err := treeScatterAdd(grad, in[1], s, ts)
			return gorgonia.Nodes{dt, nil}, err
		},
	}
	return apply(op, table, structure)
}

func gatherSel[T float](out, table []T, d int, idx []int, s treeSel) {
	w := s.c1 - s.c0
	per := s.k1 - s.k0
	if s.sum {
		for g := range len(idx) / per {
			o := out[g*w : (g+1)*w]
			clear(o)
			for _, r := range idx[g*per : (g+1)*per] {
				if r < 0 {
					continue
				}
				for j, v := range table[r*d+s.c0 : r*d+s.c1] {
					o[j] += v
				}
			}
		}
		return
	}
	for i, r := range idx {
		o := out[i*w : (i+1)*w]
		if r < 0 {
			clear(o)
			continue
		}
		copy(o, table[r*d+s.c0:r*d+s.c1])
	}
}

// treeScatterAdd adds rows of src into a zero table of shape ts at the
// selected rows: the adjoint of treeGather.
func treeScatterAdd(src, structure *gorgonia.Node, s treeSel, ts tensor.Shape) (*gorgonia.Node, error) {
	op := &customOp{
		id:     "TreeScatterAdd" + s.String() + fmt.Sprint(ts, structure.Shape()),
		arity:  2,
		typ:    fnType(2, 4, 2),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return ts.Clone(), nil },
		noDiff: []int{1},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, _, err := s.indices(in[1], ts[0])
			if err != nil {
				return err
			}
			return dispatch(o, in,
				func(o []float32, in [][]float32) { scatterAddSel(o, in[0], ts[1], idx, s) },
				func(o []float64, in [][]float64) { scatterAddSel(o, in[0], ts[1], idx, s) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			ds, err := treeGather(grad, in[1], s)
			return gorgonia.Nodes{ds, nil}, err
		},
	}
	return apply(op, src, structure)
}

func scatterAddSel[T float](table, src []T, d int, idx []int, s treeSel) {
	clear(table)
	w := s.c1 - s.c0
	per := 1
	if s.sum {
		per = s.k1 - s.k0
	}
	for i, r := range idx {
		if r < 0 {
			continue
		}
		g := i / per
		row := table[r*d+s.c0 : r*d+s.c1]
		for j, v := range src[g*w : (g+1)*w] {
			row[j] += v
		}
	}
}

// TreeUpdate returns table with the rows of level's nodes replaced by the
// rows of src (B·W, D), one per slot; rows of empty slots are ignored. Its
// gradient passes the other rows to table and the replaced ones to src.
func TreeUpdate(table, src, structure *gorgonia.Node, level int) (*gorgonia.Node, error) {
	ts := table.Shape().Clone()
	s := treeSel{level: level, slot1: structure.Shape()[2], k1: 1, c0: 0, c1: ts[len(ts)-1]}
	if err := s.check(table, structure); err != nil {
		return nil, err
	}
	if want := (tensor.Shape{structure.Shape()[0] * s.groups(), ts[1]}); !src.Shape().Eq(want) {
		return nil, errors.Errorf("ops: TreeUpdate of level %d takes rows of shape %v, got %v", level, want, src.Shape())
	}
	op := &customOp{
		id:     "TreeUpdate" + s.String() + fmt.Sprint(ts, structure.Shape()),
		arity:  3,
		typ:    fnType(2, 2, 4, 2),
		noDiff: []int{2},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, _, err := s.indices(in[2], ts[0])
			if err != nil {
				return err
			}
			var kerr error
			if err := dispatch(o, in,
				func(o []float32, in [][]float32) { kerr = updateRows(o, in[0], in[1], ts[1], idx) },
				func(o []float64, in [][]float64) { kerr = updateRows(o, in[0], in[1], ts[1], idx) }); err != nil {
				return err
			}
			return kerr
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dt, err := treeZeroRows(grad, in[2], s)
			if err != nil {
				return nil, err
			}
			ds, err := treeGather(grad, in[2], s)
			return gorgonia.Nodes{dt, ds, nil}, err
		},
	}
	return apply(op, table, src, structure)
}

func updateRows[T float](out, table, src []T, d int, idx []int) error {
	copy(out, table)
	for i, r := range idx {
		if r >= 0 {
			copy(out[r*d:(r+1)*d], src[i*d:(i+1)*d])
		}
	}
	return nil
}

// treeZeroRows zeroes the selected rows (whole rows): the gradient of
// TreeUpdate with respect to the table, its own adjoint.
func treeZeroRows(x, structure *gorgonia.Node, s treeSel) (*gorgonia.Node, error) {
	ts := x.Shape().Clone()
	op := &customOp{
		id:     "TreeZeroRows" + s.String() + fmt.Sprint(ts, structure.Shape()),
		arity:  2,
		typ:    fnType(2, 4, 2),
		noDiff: []int{1},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, _, err := s.indices(in[1], ts[0])
			if err != nil {
				return err
			}
			return dispatch(o, in,
				func(o []float32, in [][]float32) { zeroRows(o, in[0], ts[1], idx, false) },
				func(o []float64, in [][]float64) { zeroRows(o, in[0], ts[1], idx, false) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := treeZeroRows(grad, in[1], s)
			return gorgonia.Nodes{dx, nil}, err
		},
	}
	return apply(op, x, structure)
}

// zeroRows copies x into out and zeroes the rows listed in idx, or, with
// keep, every row but those.
func zeroRows[T float](out, x []T, d int, idx []int, keep bool) {
	copy(out, x)
	if keep {
		present := make([]bool, len(x)/d)
		for _, r := range idx {
			if r >= 0 {
				present[r] = true
			}
		}
		for r, p := range present {
			if !p {
				clear(out[r*d : (r+1)*d])
			}
		}
		return
	}
	for _, r := range idx {
		if r >= 0 {
			clear(out[r*d : (r+1)*d])
		}
	}
}

// TreeMaskNodes zeroes the rows of x (B·M, D) that are no node of their
// tree: a node is the root or some node's child. Its gradient is masked
// alike.
func TreeMaskNodes(x, structure *gorgonia.Node) (*gorgonia.Node, error) {
	xs := x.Shape().Clone()
	ss := structure.Shape()
	if err := (treeSel{slot1: 1, k1: 1, c1: 1}).check(x, structure); err != nil {
		return nil, err
	}
	op := &customOp{
		id:     "TreeMaskNodes" + fmt.Sprint(xs, ss),
		arity:  2,
		typ:    fnType(2, 4, 2),
		noDiff: []int{1},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, err := treeNodeRows(in[1], xs[0])
			if err != nil {
				return err
			}
			return dispatch(o, in,
				func(o []float32, in [][]float32) { zeroRows(o, in[0], xs[1], idx, true) },
				func(o []float64, in [][]float64) { zeroRows(o, in[0], xs[1], idx, true) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := TreeMaskNodes(grad, in[1])
			return gorgonia.Nodes{dx, nil}, err
		},
	}
	return apply(op, x, structure)
}

// TreeNodeMask returns, for trees of nodes node slots, a (B, nodes) mask:
// 1 for the slots that are nodes of their tree (the root or some node's
// child), 0 for padding. It has no gradient.
func TreeNodeMask(structure *gorgonia.Node, nodes int) (*gorgonia.Node, error) {
	ss := structure.Shape()
	if ss.Dims() != 4 || nodes < 1 {
		return nil, errors.Errorf("ops: TreeNodeMask of %d nodes per tree from a structure of shape %v", nodes, ss)
	}
	op := &customOp{
		id:    fmt.Sprintf("TreeNodeMask(%d)", nodes),
		arity: 1,
		typ:   fnType(4, 2),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{ss[0], nodes}, nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, err := treeNodeRows(in[0], ss[0]*nodes)
			if err != nil {
				return err
			}
			v := make([]float64, ss[0]*nodes)
			for _, r := range idx {
				if r >= 0 {
					v[r] = 1
				}
			}
			treeSetFloats(o, v)
			return nil
		},
	}
	return apply(op, structure)
}

// treeNodeRows lists the table rows of every tree's nodes: the roots and
// every scheduled child (−1 entries for none).
func treeNodeRows(structure *tensor.Dense, tableRows int) ([]int, error) {
	ss := structure.Shape()
	idx, _, err := treeSel{level: ss[1] - 1, slot1: 1, k1: 1}.indices(structure, tableRows)
	if err != nil {
		return nil, err
	}
	for l := 0; l < ss[1]; l++ {
		ch, _, err := treeSel{level: l, slot1: ss[2], k0: 1, k1: ss[3]}.indices(structure, tableRows)
		if err != nil {
			return nil, err
		}
		idx = append(idx, ch...)
	}
	return idx, nil
}

// Columns returns columns [from, to) of a matrix x (N, D): (N, to−from).
func Columns(x *gorgonia.Node, from, to int) (*gorgonia.Node, error) {
	return columns(x, from, to, 1)
}

// columns returns columns [from, to) of x (N, D), each row split into
// split rows: (N·split, (to−from)/split).
func columns(x *gorgonia.Node, from, to, split int) (*gorgonia.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 2 || from < 0 || to > xs[1] || from >= to || (to-from)%split != 0 {
		return nil, errors.Errorf("ops: Columns [%d, %d) (in %d rows each) of a matrix of shape %v", from, to, split, xs)
	}
	d := xs[1]
	out := tensor.Shape{xs[0] * split, (to - from) / split}
	op := &customOp{
		id:    fmt.Sprintf("Columns(%d,%d,%d,%d)", d, from, to, split),
		arity: 1,
		typ:   fnType(2, 2),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return out.Clone(), nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(o, in,
				func(o []float32, in [][]float32) { copyColumns(o, in[0], d, from, to) },
				func(o []float64, in [][]float64) { copyColumns(o, in[0], d, from, to) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := padColumns(grad, xs[0], d, from, to)
			return gorgonia.Nodes{dx}, err
		},
	}
	return apply(op, x)
}

func copyColumns[T float](out, x []T, d, from, to int) {
	w := to - from
	for r := range len(x) / d {
		copy(out[r*w:(r+1)*w], x[r*d+from:r*d+to])
	}
}

// padColumns places g (its values read as n rows of to−from) in columns
// [from, to) of an (n, d) zero matrix: the adjoint of columns.
func padColumns(g *gorgonia.Node, n, d, from, to int) (*gorgonia.Node, error) {
	gs := g.Shape().Clone()
	split := gs[0] / n
	op := &customOp{
		id:    fmt.Sprintf("PadColumns(%d,%d,%d,%d)", d, from, to, split),
		arity: 1,
		typ:   fnType(2, 2),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{n, d}, nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(o, in,
				func(o []float32, in [][]float32) { padCols(o, in[0], d, from, to) },
				func(o []float64, in [][]float64) { padCols(o, in[0], d, from, to) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dg, err := columns(grad, from, to, split)
			return gorgonia.Nodes{dg}, err
		},
	}
	return apply(op, g)
}

func padCols[T float](out, g []T, d, from, to int) {
	clear(out)
	w := to - from
	for r := range len(out) / d {
		copy(out[r*d+from:r*d+to], g[r*w:(r+1)*w])
	}
}

// treeFloats reads a float32 or float64 tensor as float64 values.
func treeFloats(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		v := make([]float64, len(d))
		for i, x := range d {
			v[i] = float64(x)
		}
		return v
	case []float64:
		return d
	}
	return nil
}

// treeSetFloats writes float64 values into a float32 or float64 tensor.
func treeSetFloats(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	case []float64:
		copy(d, v)
	}
}

// SumGroups adds up each group of k consecutive rows of x (N·k, d):
// (N, d). TreeChildren followed by SumGroups is TreeChildSum.
func SumGroups(x *gorgonia.Node, k int) (*gorgonia.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 2 || k < 1 || xs[0]%k != 0 {
		return nil, errors.Errorf("ops: SumGroups of %d rows of a matrix of shape %v", k, xs)
	}
	n, d := xs[0]/k, xs[1]
	op := &customOp{
		id:    fmt.Sprintf("SumGroups(%d,%d)", k, d),
		arity: 1,
		typ:   fnType(2, 2),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{n, d}, nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(o, in,
				func(o []float32, in [][]float32) { sumGroups(o, in[0], k, d) },
				func(o []float64, in [][]float64) { sumGroups(o, in[0], k, d) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := repeatGroups(grad, k)
			return gorgonia.Nodes{dx}, err
		},
	}
	return apply(op, x)
}

func sumGroups[T float](out, x []T, k, d int) {
	for g := range len(out) / d {
		o := out[g*d : (g+1)*d]
		copy(o, x[g*k*d:(g*k+1)*d])
		for j := 1; j < k; j++ {
			for c, v := range x[(g*k+j)*d : (g*k+j+1)*d] {
				o[c] += v
			}
		}
	}
}

// repeatGroups repeats each row of g (N, d) k times: the adjoint of
// SumGroups.
func repeatGroups(g *gorgonia.Node, k int) (*gorgonia.Node, error) {
	gs := g.Shape()
	n, d := gs[0], gs[1]
	op := &customOp{
		id:    fmt.Sprintf("RepeatGroups(%d,%d)", k, d),
		arity: 1,
		typ:   fnType(2, 2),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{n * k, d}, nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(o, in,
				func(o []float32, in [][]float32) { repeatGroupRows(o, in[0], k, d) },
				func(o []float64, in [][]float64) { repeatGroupRows(o, in[0], k, d) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dg, err := SumGroups(grad, k)
			return gorgonia.Nodes{dg}, err
		},
	}
	return apply(op, g)
}

func repeatGroupRows[T float](out, g []T, k, d int) {
	for r := range len(g) / d {
		for j := range k {
			copy(out[(r*k+j)*d:(r*k+j+1)*d], g[r*d:(r+1)*d])
		}
	}
}
