package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gather looks rows of table up by index, as an embedding does:
//
//	table   (vocabulary, d)
//	indices (…) float, each an integer in [0, vocabulary)
//	result  (…, d), result[i…] = table[indices[i…]]
//
// The gradient flows to table only (rows used several times accumulate);
// an index outside the table is an error of the run that names it.
func Gather(table, indices *gorgonia.Node) (*gorgonia.Node, error) {
	ts, is := table.Shape(), indices.Shape()
	if ts.Dims() != 2 {
		return nil, errors.Errorf("ops: Gather needs a (vocabulary, d) table, got shape %v", ts)
	}
	if is.Dims() == 0 {
		return nil, errors.New("ops: Gather needs indices with at least one axis")
	}
	out := append(is.Clone(), ts[1])
	vocab := ts[0]
	op := &customOp{
		id:     fmt.Sprintf("Gather%v", out),
		arity:  2,
		typ:    fnType(2, is.Dims(), len(out)),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return out.Clone(), nil },
		noDiff: []int{1},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, err := indexList(in[1], vocab)
			if err != nil {
				return err
			}
			return dispatch(o, in,
				func(o []float32, in [][]float32) { gatherRows(o, in[0], idx) },
				func(o []float64, in [][]float64) { gatherRows(o, in[0], idx) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dt, err := scatterAdd(grad, in[1], ts)
			return gorgonia.Nodes{dt, nil}, err
		},
	}
	return apply(op, table, indices)
}

// indexList reads float indices and checks each is a row of the table.
func indexList(t *tensor.Dense, vocab int) ([]int, error) {
	var vals []float64
	switch d := t.Data().(type) {
	case []float32:
		vals = make([]float64, len(d))
		for i, v := range d {
			vals[i] = float64(v)
		}
	case []float64:
		vals = d
	default:
		return nil, errors.Errorf("ops: Gather indices must be float32 or float64, got %v", t.Dtype())
	}
	idx := make([]int, len(vals))
	for i, v := range vals {
		if v != math.Trunc(v) || v < 0 || v >= float64(vocab) {
			return nil, errors.Errorf("ops: index %v at position %d is not a row of a table of %d", v, i, vocab)
		}
		idx[i] = int(v)
	}
	return idx, nil
}

func gatherRows[T float](out, table []T, idx []int) {
	d := len(out) / max(len(idx), 1)
	for i, r := range idx {
		copy(out[i*d:(i+1)*d], table[r*d:(r+1)*d])
	}
}

// scatterAdd sums the rows of grad (…, d) into a zero table of the given
// shape at the rows indices name: Gather's gradient.
func scatterAdd(grad, indices *gorgonia.Node, table tensor.Shape) (*gorgonia.Node, error) {
	vocab := table[0]
	op := &customOp{
		id:     fmt.Sprintf("ScatterAdd%v", table),
		arity:  2,
		typ:    fnType(grad.Dims(), indices.Dims(), 2),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return table.Clone(), nil },
		noDiff: []int{1},
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			idx, err := indexList(in[1], vocab)
			if err != nil {
				return err
			}
			return dispatch(o, in,
				func(o []float32, in [][]float32) { scatterRows(o, in[0], idx) },
				func(o []float64, in [][]float64) { scatterRows(o, in[0], idx) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dg, err := Gather(grad, in[1])
			return gorgonia.Nodes{dg, nil}, err
		},
	}
	return apply(op, grad, indices)
}

func scatterRows[T float](table, grad []T, idx []int) {
	clear(table)
	d := len(grad) / max(len(idx), 1)
	for i, r := range idx {
		row := table[r*d : (r+1)*d]
		for j, v := range grad[i*d : (i+1)*d] {
			row[j] += v
		}
	}
}
