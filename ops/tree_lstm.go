package ops

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/keragon/keragon/internal/vmath"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TreeLSTM cells (Tai, Socher and Manning 2015).
//
// Gate pre-activations come in the order i, o, u, f: input gate, output
// gate, candidate (tanh) and forget gate, d columns each. A cell returns the
// packed state [h | c] of each node, shape (N, 2d).

// TreeLSTMLeaf is the cell of a node without children: from the input
// pre-activations xw (N, 4d) = x·W + b it returns [h | c] (N, 2d) with
//
//	c = σ(i)·tanh(u),  h = σ(o)·tanh(c)
//
// (the forget columns are unused). Given a structure (see
// CheckTreeSchedule) whose trees have N/B node slots, it computes the
// trees' nodes only; padding slots get zero rows.
func TreeLSTMLeaf(xw *gorgonia.Node, structure ...*gorgonia.Node) (*gorgonia.Node, error) {
	s := xw.Shape()
	if s.Dims() != 2 || s[1]%4 != 0 {
		return nil, errors.Errorf("ops: TreeLSTMLeaf takes pre-activations of shape (n, 4·units), got %v", s)
	}
	c := cellSpec{d: s[1] / 4}
	var at []TreeLevel
	switch len(structure) {
	case 0:
	case 1:
		if ss := structure[0].Shape(); ss.Dims() != 4 || s[0]%ss[0] != 0 {
			return nil, errors.Errorf("ops: TreeLSTMLeaf of %d rows with a structure of shape %v", s[0], ss)
		}
		at = []TreeLevel{{Structure: structure[0], Level: -1}}
	default:
		return nil, errors.Errorf("ops: TreeLSTMLeaf takes one structure, got %d", len(structure))
	}
	return applyCell(c, gorgonia.Nodes{xw}, at)
}

// ChildSumTreeLSTM is the child-sum cell for nodes with up to k children:
//
//	xw (N, 4d)    x·W + b, gates i, o, u, f
//	zs (N, 3d)    h̃·U[:, :3d], h̃ the sum of the children's h
//	zf (N·k, d)   h_k·U[:, 3d:], per child (zero rows for absent ones)
//	ck (N·k, d)   the children's c (zero for absent ones)
//
//	i = σ(xw_i + zs_i)  o = σ(xw_o + zs_o)  u = tanh(xw_u + zs_u)
//	f_k = σ(xw_f + zf_k)
//	c = i·u + Σ_k f_k·c_k,  h = o·tanh(c)   → [h | c] (N, 2d)
//
// Given a TreeLevel, the rows are that level's slots (N = B·W, k = K):
// the cell skips empty slots (their rows are zero) and absent children.
func ChildSumTreeLSTM(xw, zs, zf, ck *gorgonia.Node, at ...TreeLevel) (*gorgonia.Node, error) {
	s := xw.Shape()
	if s.Dims() != 2 || s[1]%4 != 0 {
		return nil, errors.Errorf("ops: ChildSumTreeLSTM takes pre-activations of shape (n, 4·units), got %v", s)
	}
	n, d := s[0], s[1]/4
	k := 0
	if fs := zf.Shape(); fs.Dims() == 2 && fs[0]%max(n, 1) == 0 {
		k = fs[0] / n
	}
	if !zs.Shape().Eq(tensor.Shape{n, 3 * d}) || k < 1 || !zf.Shape().Eq(tensor.Shape{n * k, d}) || !ck.Shape().Eq(tensor.Shape{n * k, d}) {
		return nil, errors.Errorf("ops: ChildSumTreeLSTM shapes: xw %v wants zs (%d, %d), zf and ck (%d·k, %d); got %v, %v, %v",
			s, n, 3*d, n, d, zs.Shape(), zf.Shape(), ck.Shape())
	}
	return applyCell(cellSpec{d: d, k: k}, gorgonia.Nodes{xw, zs, zf, ck}, at)
}

// NaryTreeLSTM is the N-ary cell for nodes with k ordered children:
//
//	xw (N, 4d)        x·W + b, gates i, o, u, f
//	z  (N, (3+k)·d)   [h_1 … h_k]·U, gates i, o, u, f_1 … f_k
//	ck (N·k, d)       the children's c
//
//	i = σ(xw_i + z_i)  o = σ(xw_o + z_o)  u = tanh(xw_u + z_u)
//	f_k = σ(xw_f + z_fk)
//	c = i·u + Σ_k f_k·c_k,  h = o·tanh(c)   → [h | c] (N, 2d)
//
// A TreeLevel works as for ChildSumTreeLSTM.
func NaryTreeLSTM(xw, z, ck *gorgonia.Node, at ...TreeLevel) (*gorgonia.Node, error) {
	s := xw.Shape()
	if s.Dims() != 2 || s[1]%4 != 0 {
		return nil, errors.Errorf("ops: NaryTreeLSTM takes pre-activations of shape (n, 4·units), got %v", s)
	}
	n, d := s[0], s[1]/4
	k := 0
	if zs := z.Shape(); zs.Dims() == 2 && zs[1]%d == 0 {
		k = zs[1]/d - 3
	}
	if k < 1 || !z.Shape().Eq(tensor.Shape{n, (3 + k) * d}) || !ck.Shape().Eq(tensor.Shape{n * k, d}) {
		return nil, errors.Errorf("ops: NaryTreeLSTM shapes: xw %v wants z (%d, (3+k)·%d) and ck (%d·k, %d); got %v, %v",
			s, n, d, n, d, z.Shape(), ck.Shape())
	}
	return applyCell(cellSpec{d: d, k: k, nary: true}, gorgonia.Nodes{xw, z, ck}, at)
}

// A TreeLevel is one level of a tree schedule (see CheckTreeSchedule): the
// structure (B, L, W, 1+K) and the level's index.
type TreeLevel struct {
	Structure *gorgonia.Node
	Level     int
}

// cellSpec names a TreeLSTM cell: d units, k children (0: a leaf), the
// child-sum or the N-ary form; with sched, its last input is a structure
// whose level tells which rows and children are present.
type cellSpec struct {
	d, k  int
	nary  bool
	sched bool
	level int
}

func (c cellSpec) String() string {
	form := "childsum"
	if c.nary {
		form = "nary"
	}
	if c.sched {
		form += fmt.Sprintf(",level=%d", c.level)
	}
	return fmt.Sprintf("(%s,d=%d,k=%d)", form, c.d, c.k)
}

// arity is the number of float inputs (the structure excluded).
func (c cellSpec) arity() int {
	switch {
	case c.k == 0:
		return 1
	case c.nary:
		return 3
	}
	return 4
}

// packed is the width of the backward op's output: [dxw (4d) | dz ((3+k)d)
// | dck (k·d)].
func (c cellSpec) packed() int { return 7*c.d + 2*c.k*c.d }

// cellDims is the op type's axis counts: 2 for every matrix, 4 for the
// structure, then the output's.
func (c cellSpec) dims(backward bool) []int {
	dims := make([]int, c.arity())
	for i := range dims {
		dims[i] = 2
	}
	if c.sched {
		dims = append(dims, 4)
	}
	if backward {
		dims = append(dims, 2)
	}
	return append(dims, 2)
}

func applyCell(c cellSpec, in gorgonia.Nodes, at []TreeLevel) (*gorgonia.Node, error) {
	n := in[0].Shape()[0]
	if len(at) > 1 {
		return nil, errors.Errorf("ops: a TreeLSTM cell takes one TreeLevel, got %d", len(at))
	}
	noDiff := []int(nil)
	if len(at) == 1 {
		ss := at[0].Structure.Shape()
		if c.k > 0 && (ss.Dims() != 4 || ss[0]*ss[2] != n || ss[3]-1 != c.k || at[0].Level < 0 || at[0].Level >= ss[1]) {
			return nil, errors.Errorf("ops: TreeLSTM cell of %d rows and %d children at level %d of a structure of shape %v", n, c.k, at[0].Level, ss)
		}
		c.sched, c.level = true, at[0].Level
		in = append(append(gorgonia.Nodes(nil), in...), at[0].Structure)
		noDiff = []int{c.arity()}
	}
	op := &customOp{
		id:     "TreeLSTM" + c.String(),
		arity:  len(in),
		typ:    fnType(c.dims(false)...),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{n, 2 * c.d}, nil },
		noDiff: noDiff,
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			p, err := c.presence(in)
			if err != nil {
				return err
			}
			return dispatch(o, in[:c.arity()],
				func(o []float32, in [][]float32) { cellForward(c, o, in, p) },
				func(o []float64, in [][]float64) { cellForward(c, o, in, p) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			return cellGrads(c, in, grad)
		},
	}
	return apply(op, in...)
}

// presence says which rows and children a cell computes (nil: all).
type presence struct {
	rows, children []bool
}

// presence reads the level's slots from the structure input, if any; a
// leaf cell (level −1) reads the trees' nodes.
func (c cellSpec) presence(in []*tensor.Dense) (presence, error) {
	if !c.sched {
		return presence{}, nil
	}
	st := in[c.arity()]
	if c.k == 0 {
		n := in[0].Shape()[0]
		idx, err := (TreeRows{Kind: TreeNodeRows}).present(st, n)
		if err != nil {
			return presence{}, err
		}
		p := presence{rows: make([]bool, n)}
		for _, r := range idx {
			p.rows[r] = true
		}
		return p, nil
	}
	s := st.Shape()
	B, L, W, R := s[0], s[1], s[2], s[3]
	v := treeFloats(st)
	p := presence{rows: make([]bool, B*W), children: make([]bool, B*W*c.k)}
	for b := range B {
		for w := range W {
			row := v[((b*L+c.level)*W+w)*R:][:R]
			r := b*W + w
			p.rows[r] = row[0] >= 0
			for k := range c.k {
				p.children[r*c.k+k] = row[1+k] >= 0
			}
		}
	}
	return p, nil
}

func (p presence) row(r int) bool   { return p.rows == nil || p.rows[r] }
func (p presence) child(i int) bool { return p.children == nil || p.children[i] }

// cellGrads runs the backward op once and splits its packed output.
func cellGrads(c cellSpec, in gorgonia.Nodes, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	n := in[0].Shape()[0]
	width := c.packed()
	if c.k == 0 {
		width = 4 * c.d
	}
	op := &customOp{
		id:    "TreeLSTM'" + c.String(),
		arity: len(in) + 1,
		typ:   fnType(c.dims(true)...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{n, width}, nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			p, err := c.presence(in)
			if err != nil {
				return err
			}
			floats := append(in[:c.arity():c.arity()], in[len(in)-1])
			return dispatch(o, floats,
				func(o []float32, in [][]float32) { cellBackward(c, o, in, p) },
				func(o []float64, in [][]float64) { cellBackward(c, o, in, p) })
		},
	}
	p, err := apply(op, append(append(gorgonia.Nodes(nil), in...), grad)...)
	if err != nil {
		return nil, err
	}
	if c.k == 0 {
		if c.sched {
			return gorgonia.Nodes{p, nil}, nil
		}
		return gorgonia.Nodes{p}, nil
	}
	d, k := c.d, c.k
	var parts []*gorgonia.Node
	spans := [][3]int{{0, 4 * d, 1}} // dxw
	if c.nary {
		spans = append(spans, [3]int{4 * d, (7 + k) * d, 1}) // dz
	} else {
		spans = append(spans, [3]int{4 * d, 7 * d, 1}, [3]int{7 * d, (7 + k) * d, k}) // dzs, dzf
	}
	spans = append(spans, [3]int{(7 + k) * d, (7 + 2*k) * d, k}) // dck
	for _, s := range spans {
		part, err := columns(p, s[0], s[1], s[2])
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	if c.sched {
		parts = append(parts, nil) // the structure
	}
	return parts, nil
}

// treeSigmoid and treeTanh use internal/vmath's float32 functions
// for float32: math.Exp in float64 was a seventh of a
// ListOps training step. The size test is resolved per instantiation.
func treeSigmoid[T float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(vmath.Sigmoid32(float32(x)))
	}
	return T(1 / (1 + math.Exp(-float64(x))))
}

func treeTanh[T float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(vmath.Tanh32(float32(x)))
	}
	return T(math.Tanh(float64(x)))
}

// cellInputs views one row's inputs: the x pre-activations, the
// recurrent ones for i, o, u, and per child the forget pre-activation and
// c.
type cellInputs[T float] struct {
	c  cellSpec
	in [][]T
}

func (ci cellInputs[T]) xw(r int) []T { d := ci.c.d; return ci.in[0][r*4*d : (r+1)*4*d] }

// ziou returns the recurrent i, o, u pre-activations of row r (nil for a
// leaf).
func (ci cellInputs[T]) ziou(r int) []T {
	d, k := ci.c.d, ci.c.k
	switch {
	case k == 0:
		return nil
	case ci.c.nary:
		return ci.in[1][r*(3+k)*d : r*(3+k)*d+3*d]
	}
	return ci.in[1][r*3*d : (r+1)*3*d]
}

// zf returns the recurrent forget pre-activation of child j of row r.
func (ci cellInputs[T]) zf(r, j int) []T {
	d, k := ci.c.d, ci.c.k
	if ci.c.nary {
		base := r*(3+k)*d + 3*d + j*d
		return ci.in[1][base : base+d]
	}
	return ci.in[2][(r*k+j)*d : (r*k+j+1)*d]
}

// ck returns the c of child j of row r.
func (ci cellInputs[T]) ck(r, j int) []T {
	d, k := ci.c.d, ci.c.k
	in := ci.in[ci.c.arity()-1] // the last forward input
	return in[(r*k+j)*d : (r*k+j+1)*d]
}

// gates computes row r's gates into i, o, u, and its c.
func (ci cellInputs[T]) gates(r int, i, o, u, c []T, p presence) {
	d, k := ci.c.d, ci.c.k
	xw, z := ci.xw(r), ci.ziou(r)
	for j := range d {
		ai, ao, au := xw[j], xw[d+j], xw[2*d+j]
		if z != nil {
			ai, ao, au = ai+z[j], ao+z[d+j], au+z[2*d+j]
		}
		i[j], o[j], u[j] = treeSigmoid(ai), treeSigmoid(ao), treeTanh(au)
		c[j] = i[j] * u[j]
	}
	xf := xw[3*d : 4*d]
	for kk := range k {
		if !p.child(r*k + kk) {
			continue
		}
		zf, ck := ci.zf(r, kk), ci.ck(r, kk)
		for j := range d {
			c[j] += treeSigmoid(xf[j]+zf[j]) * ck[j]
		}
	}
}

func cellForward[T float](c cellSpec, out []T, in [][]T, p presence) {
	d := c.d
	ci := cellInputs[T]{c: c, in: in}
	buf := make([]T, 3*d)
	i, o, u := buf[:d], buf[d:2*d], buf[2*d:]
	for r := range len(in[0]) / (4 * d) {
		h, cc := out[r*2*d:r*2*d+d], out[r*2*d+d:(r+1)*2*d]
		if !p.row(r) {
			clear(out[r*2*d : (r+1)*2*d])
			continue
		}
		ci.gates(r, i, o, u, cc, p)
		for j := range d {
			h[j] = o[j] * treeTanh(cc[j])
		}
	}
}

// cellBackward writes, per row, [dxw | dz | dck] (or dxw alone for a leaf)
// from the inputs and the gradient [dh | dc] of the output.
func cellBackward[T float](c cellSpec, out []T, in [][]T, p presence) {
	d, k := c.d, c.k
	ci := cellInputs[T]{c: c, in: in}
	grad := in[len(in)-1]
	buf := make([]T, 5*d)
	i, o, u, cc, dc := buf[:d], buf[d:2*d], buf[2*d:3*d], buf[3*d:4*d], buf[4*d:]
	width := c.packed()
	if k == 0 {
		width = 4 * d
	}
	for r := range len(in[0]) / (4 * d) {
		row := out[r*width : (r+1)*width]
		if !p.row(r) {
			clear(row)
			continue
		}
		ci.gates(r, i, o, u, cc, p)
		g := grad[r*2*d : (r+1)*2*d]
		dxw := row[:4*d]
		for j := range d {
			t := treeTanh(cc[j])
			dh := g[j]
			dc[j] = g[d+j] + dh*o[j]*(1-t*t)
			dxw[j] = dc[j] * u[j] * i[j] * (1 - i[j])   // i
			dxw[d+j] = dh * t * o[j] * (1 - o[j])       // o
			dxw[2*d+j] = dc[j] * i[j] * (1 - u[j]*u[j]) // u
			dxw[3*d+j] = 0                              // f, summed below
		}
		if k == 0 {
			continue
		}
		dz := row[4*d : (7+k)*d]
		copy(dz[:3*d], dxw[:3*d])
		dck := row[(7+k)*d:]
		xf := ci.xw(r)[3*d : 4*d]
		for kk := range k {
			dzf := dz[(3+kk)*d : (4+kk)*d]
			dcc := dck[kk*d : (kk+1)*d]
			if !p.child(r*k + kk) {
				clear(dzf)
				clear(dcc)
				continue
			}
			zf, ck := ci.zf(r, kk), ci.ck(r, kk)
			for j := range d {
				f := treeSigmoid(xf[j] + zf[j])
				df := dc[j] * ck[j] * f * (1 - f)
				dzf[j] = df
				dxw[3*d+j] += df
				dcc[j] = dc[j] * f
			}
		}
	}
}
