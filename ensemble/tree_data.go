package ensemble

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// treeData is x as trees read it: float32 columns (scikit-learn's trees
// work in float32 too) with every column's rows sorted once by value, so
// that growing a tree never sorts again. Ensembles of trees share one.
type treeData struct {
	n, d  int
	cols  [][]float32 // cols[f][row]
	order [][]int32   // order[f]: the rows sorted by cols[f], ties by row
}

// float32Rows reads x (n, features…) as float32 rows, refusing NaN and
// infinities; what names the caller in errors.
func float32Rows(x *tensor.Dense, what string) ([]float32, int, int, error) {
	n, err := samples(x)
	if err != nil {
		return nil, 0, 0, errors.WithMessage(err, what)
	}
	if x.IsMaterializable() {
		if m, ok := x.Materialize().(*tensor.Dense); ok {
			x = m
		}
	}
	var v []float32
	switch d := x.Data().(type) {
	case []float32:
		v = d
	case []float64:
		v = make([]float32, len(d))
		for i, f := range d {
			v[i] = float32(f)
		}
	default:
		f, ok := numbers(x)
		if !ok {
			return nil, 0, 0, errors.Wrapf(ErrInput, "%s: x holds %v, want float numbers", what, x.Dtype())
		}
		v = make([]float32, len(f))
		for i, a := range f {
			v[i] = float32(a)
		}
	}
	d := len(v) / n
	for i, f := range v {
		if math.Float32bits(f)&0x7f800000 == 0x7f800000 { // NaN or ±Inf
			return nil, 0, 0, errors.Wrapf(ErrInput, "%s: x holds %v at sample %d, feature %d", what, f, i/d, i%d)
		}
	}
	return v, n, d, nil
}

// newTreeData reads x and sorts its columns.
func newTreeData(x *tensor.Dense, what string) (*treeData, error) {
	v, n, d, err := float32Rows(x, what)
	if err != nil {
		return nil, err
	}
	if n >= math.MaxInt32 {
		return nil, errors.Wrapf(ErrInput, "%s: %d samples, at most %d", what, n, math.MaxInt32-1)
	}
	td := &treeData{n: n, d: d, cols: make([][]float32, d), order: make([][]int32, d)}
	cols := make([]float32, n*d)
	ords := make([]int32, n*d)
	s := newRadix(n)
	for f := 0; f < d; f++ {
		col := cols[f*n : (f+1)*n]
		for i := range col {
			col[i] = v[i*d+f]
		}
		td.cols[f], td.order[f] = col, ords[f*n:(f+1)*n]
		s.sort(col, td.order[f])
	}
	return td, nil
}

// radix sorts a column's rows by value, ties by row, with a stable
// least-significant-digit radix sort of the values' ordered bits (passes
// whose byte is the same for every row are skipped).
type radix struct {
	keys, tmpK []uint32
	tmpI       []int32
}

func newRadix(n int) *radix {
	return &radix{keys: make([]uint32, n), tmpK: make([]uint32, n), tmpI: make([]int32, n)}
}

func (r *radix) sort(col []float32, ord []int32) {
	n := len(col)
	keys, tk, ti := r.keys[:n], r.tmpK[:n], r.tmpI[:n]
	for i, f := range col {
		keys[i] = orderedBits(f)
		ord[i] = int32(i)
	}
	src, srcI := keys, ord
	dst, dstI := tk, ti
	for shift := 0; shift < 32; shift += 8 {
		var count [256]int
		for _, k := range src {
			count[(k>>shift)&255]++
		}
		if count[(src[0]>>shift)&255] == n {
			continue
		}
		pos := 0
		for b, c := range count {
			count[b] = pos
			pos += c
		}
		for i, k := range src {
			b := (k >> shift) & 255
			dst[count[b]] = k
			dstI[count[b]] = srcI[i]
			count[b]++
		}
		src, dst = dst, src
		srcI, dstI = dstI, srcI
	}
	if &srcI[0] != &ord[0] {
		copy(ord, srcI)
	}
}

// orderedBits maps a float32 to a uint32 of the same order.
func orderedBits(f float32) uint32 {
	b := math.Float32bits(f)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// columns returns the data restricted to features (sharing the sorted
// columns), or td itself for nil.
func (td *treeData) columns(features []int) *treeData {
	if features == nil {
		return td
	}
	out := &treeData{n: td.n, d: len(features), cols: make([][]float32, len(features)), order: make([][]int32, len(features))}
	for j, f := range features {
		out.cols[j], out.order[j] = td.cols[f], td.order[f]
	}
	return out
}
