package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TreeRowKind names which rows of a matrix a TreeRows selects.
type TreeRowKind int

const (
	// TreeSlotRows are the B·W rows of a level's slots (TreeNodes); a row
	// is present when its slot holds a node.
	TreeSlotRows TreeRowKind = iota
	// TreeChildRows are the B·W·K rows of a level's children
	// (TreeChildren); a row is present when the child exists.
	TreeChildRows
	// TreeNodeRows are the B·M rows of every tree's node slots; a row is
	// present when the slot is a node of its tree (see TreeNodeMask).
	TreeNodeRows
)

func (k TreeRowKind) String() string {
	return [...]string{"slots", "children", "nodes"}[k]
}

// TreeRows selects the rows of a matrix that hold a tree's nodes, read from
// a structure (see CheckTreeSchedule) at a level (unused for
// TreeNodeRows).
type TreeRows struct {
	Structure *gorgonia.Node
	Level     int
	Kind      TreeRowKind
}

// present returns the indices of the present rows of a matrix of n rows.
func (r TreeRows) present(st *tensor.Dense, n int) ([]int, error) {
	s := st.Shape()
	B, L, W, R := s[0], s[1], s[2], s[3]
	if r.Kind == TreeNodeRows {
		idx, err := treeNodeRows(st, n)
		if err != nil {
			return nil, err
		}
		seen := make([]bool, n)
		for _, i := range idx {
			if i >= 0 {
				seen[i] = true
			}
		}
		var out []int
		for i, p := range seen {
			if p {
				out = append(out, i)
			}
		}
		return out, nil
	}
	v := treeFloats(st)
	var out []int
	for b := range B {
		for w := range W {
			row := v[((b*L+r.Level)*W+w)*R:][:R]
			if r.Kind == TreeSlotRows {
				if row[0] >= 0 {
					out = append(out, b*W+w)
				}
				continue
			}
			for k := 1; k < R; k++ {
				if row[k] >= 0 {
					out = append(out, (b*W+w)*(R-1)+k-1)
				}
			}
		}
	}
	return out, nil
}

// rows is the number of rows the selection describes.
func (r TreeRows) rows() int {
	s := r.Structure.Shape()
	switch r.Kind {
	case TreeSlotRows:
		return s[0] * s[2]
	case TreeChildRows:
		return s[0] * s[2] * (s[3] - 1)
	}
	return -1 // any multiple of B
}

// TreeMatMul is a·b computed on the rows of a that rows selects only; the
// other rows of the result are zero, and get no gradient. When those rows
// of a are zero (as the tree gathers leave empty slots and absent
// children) it equals a·b, at the cost of the trees' real nodes rather
// than of every padded slot.
func TreeMatMul(a, b *gorgonia.Node, rows TreeRows) (*gorgonia.Node, error) {
	as, bs := a.Shape(), b.Shape()
	ss := rows.Structure.Shape()
	if as.Dims() != 2 || bs.Dims() != 2 || as[1] != bs[0] {
		return nil, errors.Errorf("ops: TreeMatMul of shapes %v and %v", as, bs)
	}
	if ss.Dims() != 4 || rows.Kind < TreeSlotRows || rows.Kind > TreeNodeRows || (rows.Kind != TreeNodeRows && (rows.Level < 0 || rows.Level >= ss[1])) {
		return nil, errors.Errorf("ops: TreeMatMul: %v rows at level %d of a structure of shape %v", rows.Kind, rows.Level, ss)
	}
	if n := rows.rows(); (n >= 0 && as[0] != n) || (n < 0 && as[0]%ss[0] != 0) {
		return nil, errors.Errorf("ops: TreeMatMul: %v rows of a structure of shape %v do not fit a matrix of shape %v", rows.Kind, ss, as)
	}
	id := fmt.Sprintf("(%v,%d,%v,%v)", rows.Kind, rows.Level, as, bs)
	op := &customOp{
		id:     "TreeMatMul" + id,
		arity:  3,
		typ:    fnType(2, 2, 4, 2),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{as[0], bs[1]}, nil },
		noDiff: []int{2},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, err := rows.present(in[2], as[0])
			if err != nil {
				return err
			}
			return dispatch(o, in[:2],
				func(o []float32, in [][]float32) { rowsMatMul(o, in[0], in[1], idx, as[1], bs[1], false) },
				func(o []float64, in [][]float64) { rowsMatMul(o, in[0], in[1], idx, as[1], bs[1], false) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			da, err := treeMatMulGrad(grad, in[1], in[2], rows, id, false, as)
			if err != nil {
				return nil, err
			}
			db, err := treeMatMulGrad(grad, in[0], in[2], rows, id, true, bs)
			return gorgonia.Nodes{da, db, nil}, err
		},
	}
	return apply(op, a, b, rows.Structure)
}

// treeMatMulGrad is TreeMatMul's gradient: with g the output's gradient,
// da = g·bᵀ on the selected rows (zero elsewhere), db = aᵀ·g over them.
func treeMatMulGrad(g, other, st *gorgonia.Node, rows TreeRows, id string, wrtB bool, shape tensor.Shape) (*gorgonia.Node, error) {
	gs, os := g.Shape(), other.Shape()
	name := "TreeMatMul'a"
	if wrtB {
		name = "TreeMatMul'b"
	}
	op := &customOp{
		id:     name + id,
		arity:  3,
		typ:    fnType(2, 2, 4, 2),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		noDiff: []int{2},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, err := rows.present(in[2], gs[0])
			if err != nil {
				return err
			}
			if wrtB {
				return dispatch(o, in[:2],
					func(o []float32, in [][]float32) { rowsGradB(o, in[0], in[1], idx, os[1], gs[1]) },
					func(o []float64, in [][]float64) { rowsGradB(o, in[0], in[1], idx, os[1], gs[1]) })
			}
			return dispatch(o, in[:2],
				func(o []float32, in [][]float32) { rowsMatMul(o, in[0], in[1], idx, gs[1], os[0], true) },
				func(o []float64, in [][]float64) { rowsMatMul(o, in[0], in[1], idx, gs[1], os[0], true) })
		},
	}
	return apply(op, g, other, st)
}

// packRows copies the rows idx of x (rows of width w) into a new matrix.
func packRows[T float](x []T, idx []int, w int) []T {
	p := make([]T, len(idx)*w)
	for i, r := range idx {
		copy(p[i*w:(i+1)*w], x[r*w:(r+1)*w])
	}
	return p
}

// unpackRows writes the rows of p into rows idx of a zeroed out.
func unpackRows[T float](out, p []T, idx []int, w int) {
	clear(out)
	for i, r := range idx {
		copy(out[r*w:(r+1)*w], p[i*w:(i+1)*w])
	}
}

// rowsMatMul sets out = a·b on rows idx, a holding rows of width k and out
// rows of width n; b is (k, n), or with transB (n, k) and used transposed
// (the gradient g·bᵀ with respect to a).
func rowsMatMul[T float](out, a, b []T, idx []int, k, n int, transB bool) {
	if len(idx) == 0 {
		clear(out)
		return
	}
	ldb := n
	if transB {
		ldb = k
	}
	ap := packRows(a, idx, k)
	cp := make([]T, len(idx)*n)
	gemm(false, transB, len(idx), n, k, 1, ap, k, b, ldb, 0, cp, n)
	unpackRows(out, cp, idx, n)
}

// rowsGradB sets out = aᵀ·g (a: rows of width k, g: rows of width n) over
// rows idx.
func rowsGradB[T float](out, g, a []T, idx []int, k, n int) {
	if len(idx) == 0 {
		clear(out)
		return
	}
	gp := packRows(g, idx, n)
	ap := packRows(a, idx, k)
	gemm(true, false, k, n, len(idx), 1, ap, k, gp, n, 0, out, n)
}
