package ensemble

import (
	"context"
	"math"

	"github.com/pkg/errors"
)

// The tree builder follows scikit-learn's DepthFirstTreeBuilder and
// BestSplitter (sklearn/tree/_tree.pyx, _splitter.pyx, _criterion.pyx):
// the same stopping rules, the same Fisher–Yates draw of the features at
// each node from the same rand_r stream (known-constant features carried
// from parent to child), the same scan over the sorted values, the same
// proxy of the impurity improvement compared with ">" so the first best
// split wins, the same thresholds. The difference is how rows are sorted:
// scikit-learn sorts the node's rows for every feature it visits; here
// every column is sorted once (treeData) and each split partitions the
// sorted row lists stably into the children's.

const (
	critGini = iota
	critEntropy
	critMSE
	critFriedman
)

// featureThreshold is scikit-learn's FEATURE_THRESHOLD: float32 values
// closer than this are not split apart.
const featureThreshold float32 = 1e-7

// epsilon is DBL_EPSILON, below which scikit-learn takes an impurity as 0.
const epsilon = 2.220446049250313e-16

type builder struct {
	td     *treeData
	ctx    context.Context
	rs     randR
	crit   int
	k      int       // classes (0 for regression)
	labels []int32   // class index per row
	y      []float64 // regression targets
	w      []float64 // nil: every row weighs 1

	maxDepth, minSplit, minLeaf, maxFeatures int

	features []int     // scikit-learn's features array, permuted in place
	constant []int     // its constant_features: known constants in order
	ord      [][]int32 // ord[f][start:end]: a node's rows sorted by feature f
	rows     []int32   // rows[start:end]: a node's rows in row order
	left     []bool    // per row: goes to the left child of the current split
	buf      []int32
	rootW    float64
	nodes    []TreeNode
	leafOf   []int32

	// scratch for the split scan
	total, sumL, sumR []float64
	err               error
}

func (b *builder) weight(row int32) float64 {
	if b.w == nil {
		return 1
	}
	return b.w[row]
}

// build grows the tree from the rows of non-zero weight.
func (b *builder) build() error {
	td := b.td
	m := td.n
	if b.w != nil {
		m = 0
		for _, w := range b.w {
			if w != 0 {
				m++
			}
		}
	}
	block := make([]int32, m*td.d)
	b.ord = make([][]int32, td.d)
	for f := range b.ord {
		o := block[f*m : (f+1)*m]
		if b.w == nil {
			copy(o, td.order[f])
		} else {
			j := 0
			for _, r := range td.order[f] {
				if b.w[r] != 0 {
					o[j] = r
					j++
				}
			}
		}
		b.ord[f] = o
	}
	b.rows = make([]int32, 0, m)
	for r := 0; r < td.n; r++ {
		if b.w == nil || b.w[r] != 0 {
			b.rows = append(b.rows, int32(r))
		}
	}
	b.features = seqInts(td.d)
	b.constant = make([]int, td.d)
	b.left = make([]bool, td.n)
	b.buf = make([]int32, len(b.rows))
	b.leafOf = make([]int32, td.n)
	for i := range b.leafOf {
		b.leafOf[i] = -1
	}
	width := max(b.k, 1)
	b.total, b.sumL, b.sumR = make([]float64, width), make([]float64, width), make([]float64, width)
	for _, r := range b.rows {
		b.rootW += b.weight(r)
	}
	b.grow(0, len(b.rows), 0, 0, 0, true)
	return b.err
}

// nodeStats fills b.total with the node's class weights (or Σw·y) and
// returns its weight, value, and the sum of w·y² (regression).
func (b *builder) nodeStats(start, end int) (w float64, sq float64) {
	for c := range b.total {
		b.total[c] = 0
	}
	for _, r := range b.rows[start:end] {
		wi := b.weight(r)
		w += wi
		if b.k > 0 {
			b.total[b.labels[r]] += wi
		} else {
			wy := wi * b.y[r]
			b.total[0] += wy
			sq += wy * b.y[r]
		}
	}
	return w, sq
}

// nodeImpurity is the criterion's node_impurity.
func (b *builder) nodeImpurity(w, sq float64) float64 {
	switch b.crit {
	case critGini:
		return gini(b.total, w)
	case critEntropy:
		return entropy(b.total, w)
	}
	m := b.total[0] / w
	return sq/w - m*m
}

func gini(counts []float64, w float64) float64 {
	sq := 0.0
	for _, c := range counts {
		sq += c * c
	}
	return 1 - sq/(w*w)
}

func entropy(counts []float64, w float64) float64 {
	e := 0.0
	for _, c := range counts {
		if c > 0 {
			p := c / w
			e -= p * (math.Log(p) / math.Ln2)
		}
	}
	return e
}

// nodeValue returns the node's class frequencies or mean.
func (b *builder) nodeValue(w float64) []float64 {
	if b.k == 0 {
		return []float64{b.total[0] / w}
	}
	norm := 0.0
	for _, c := range b.total {
		norm += c
	}
	if norm == 0 {
		norm = 1
	}
	v := make([]float64, b.k)
	for c, x := range b.total {
		v[c] = x / norm
	}
	return v
}

type split struct {
	feature, pos      int // pos: the first row of the right child
	threshold         float64
	impLeft, impRight float64
	improvement       float64
	nConst            int
	found             bool
}

// grow adds the node for rows[start:end] and its subtree, and returns
// the node's index. impurity comes from the parent's split (or is computed
// for the root); nConst features at the front of b.features are known to
// be constant in the node.
func (b *builder) grow(start, end, depth int, impurity float64, nConst int, root bool) int {
	id := len(b.nodes)
	w, sq := b.nodeStats(start, end)
	if root {
		impurity = b.nodeImpurity(w, sq)
	}
	b.nodes = append(b.nodes, TreeNode{Left: -1, Right: -1, Value: b.nodeValue(w), Samples: end - start, Weight: w, Impurity: impurity})
	if b.err != nil {
		return id
	}
	if err := b.ctx.Err(); err != nil {
		b.err = errors.WithStack(err)
		return id
	}
	n := end - start
	leaf := depth >= b.maxDepth || n < b.minSplit || n < 2*b.minLeaf || impurity <= epsilon
	var s split
	if !leaf {
		s = b.bestSplit(start, end, w, sq, impurity, nConst)
		leaf = !s.found || s.improvement+epsilon < 0
	}
	if leaf {
		for _, r := range b.rows[start:end] {
			b.leafOf[r] = int32(id)
		}
		return id
	}
	b.partition(start, end, s, depth+1 < b.maxDepth)
	l := b.grow(start, s.pos, depth+1, s.impLeft, s.nConst, false)
	r := b.grow(s.pos, end, depth+1, s.impRight, s.nConst, false)
	b.nodes[id].Feature, b.nodes[id].Threshold = s.feature, s.threshold
	b.nodes[id].Left, b.nodes[id].Right = l, r
	return id
}

// bestSplit is BestSplitter.node_split.
func (b *builder) bestSplit(start, end int, w, sq, impurity float64, nKnown int) split {
	best := split{pos: end}
	bestProxy := math.Inf(-1)
	fi := len(b.features)
	nVisited, nFound, nDrawn, nTotal := 0, 0, 0, nKnown
	feats := b.features
	for fi > nTotal && (nVisited < b.maxFeatures || nVisited <= nFound+nDrawn) {
		nVisited++
		fj := b.rs.intn(nDrawn, fi-nFound)
		if fj < nKnown {
			feats[nDrawn], feats[fj] = feats[fj], feats[nDrawn]
			nDrawn++
			continue
		}
		fj += nFound
		f := feats[fj]
		col, seg := b.td.cols[f], b.ord[f][start:end]
		if col[seg[len(seg)-1]] <= col[seg[0]]+featureThreshold {
			feats[fj], feats[nTotal] = feats[nTotal], feats[fj]
			nFound++
			nTotal++
			continue
		}
		fi--
		feats[fi], feats[fj] = feats[fj], feats[fi]
		if pos, thr, proxy, ok := b.scan(col, seg, w, bestProxy); ok {
			bestProxy = proxy
			best.found, best.feature, best.pos, best.threshold = true, f, start+pos, thr
		}
	}
	// scikit-learn restores the known constants' order for the siblings
	// and children, and records the newly found ones.
	copy(feats[:nKnown], b.constant[:nKnown])
	copy(b.constant[nKnown:nTotal], feats[nKnown:nTotal])
	best.nConst = nTotal
	if !best.found {
		return best
	}
	// The children's impurities and the improvement, as the criterion
	// computes them once the split is chosen.
	seg := b.ord[best.feature][start:end]
	p := best.pos - start
	for c := range b.sumL {
		b.sumL[c] = 0
	}
	wl, sqL := 0.0, 0.0
	for _, r := range seg[:p] {
		wi := b.weight(r)
		wl += wi
		if b.k > 0 {
			b.sumL[b.labels[r]] += wi
		} else {
			wy := wi * b.y[r]
			b.sumL[0] += wy
			sqL += wy * b.y[r]
		}
	}
	wr := w - wl
	for c := range b.sumR {
		b.sumR[c] = b.total[c] - b.sumL[c]
	}
	switch b.crit {
	case critGini:
		best.impLeft, best.impRight = gini(b.sumL, wl), gini(b.sumR, wr)
	case critEntropy:
		best.impLeft, best.impRight = entropy(b.sumL, wl), entropy(b.sumR, wr)
	default:
		ml, mr := b.sumL[0]/wl, b.sumR[0]/wr
		best.impLeft = sqL/wl - ml*ml
		best.impRight = (sq-sqL)/wr - mr*mr
	}
	best.improvement = (w / b.rootW) * (impurity - wr/w*best.impRight - wl/w*best.impLeft)
	return best
}

// scan finds the best split of one feature's sorted rows seg, if its
// proxy beats bestProxy: the position of the first right row, the
// threshold and the proxy.
func (b *builder) scan(col []float32, seg []int32, w, bestProxy float64) (int, float64, float64, bool) {
	n := len(seg)
	sumL := b.sumL
	for c := range sumL {
		sumL[c] = 0
	}
	wl := 0.0
	found, bestPos, bestThr := false, 0, 0.0
	add := func(r int32) {
		wi := b.weight(r)
		wl += wi
		if b.k > 0 {
			sumL[b.labels[r]] += wi
		} else {
			sumL[0] += wi * b.y[r]
		}
	}
	for p := 0; p < n; {
		for p+1 < n && col[seg[p+1]] <= col[seg[p]]+featureThreshold {
			add(seg[p])
			p++
		}
		add(seg[p])
		p++
		if p >= n {
			break
		}
		if p < b.minLeaf || n-p < b.minLeaf {
			continue
		}
		wr := w - wl
		var proxy float64
		switch b.crit {
		case critGini, critEntropy:
			for c := range b.sumR {
				b.sumR[c] = b.total[c] - sumL[c]
			}
			if b.crit == critGini {
				proxy = -wr*gini(b.sumR, wr) - wl*gini(sumL, wl)
			} else {
				proxy = -wr*entropy(b.sumR, wr) - wl*entropy(sumL, wl)
			}
		case critMSE:
			sr := b.total[0] - sumL[0]
			proxy = sumL[0]*sumL[0]/wl + sr*sr/wr
		default: // friedman_mse
			sr := b.total[0] - sumL[0]
			diff := wr*sumL[0] - wl*sr
			proxy = diff * diff / (wl * wr)
		}
		if proxy > bestProxy {
			bestProxy, found, bestPos = proxy, true, p
			a, c := float64(col[seg[p-1]]), float64(col[seg[p]])
			bestThr = a/2 + c/2
			if bestThr == c || math.IsInf(bestThr, 0) {
				bestThr = a
			}
		}
	}
	return bestPos, bestThr, bestProxy, found
}

// partition reorders rows[start:end] and (with sorted) every feature's
// sorted rows that a descendant may still visit (all but the features known constant in
// the node, at the front of b.features), stably, into the left child's
// rows then the right child's.
func (b *builder) partition(start, end int, s split, sorted bool) {
	seg := b.ord[s.feature][start:end]
	p := s.pos - start
	for _, r := range seg[:p] {
		b.left[r] = true
	}
	for _, r := range seg[p:] {
		b.left[r] = false
	}
	b.stable(b.rows[start:end])
	if !sorted {
		return // the children are at the depth limit: leaves, never searched
	}
	for _, f := range b.features[s.nConst:] {
		if f != s.feature {
			b.stable(b.ord[f][start:end])
		}
	}
}

func (b *builder) stable(seg []int32) {
	j, k := 0, 0
	buf := b.buf
	for _, r := range seg {
		if b.left[r] {
			seg[j] = r
			j++
		} else {
			buf[k] = r
			k++
		}
	}
	copy(seg[j:], buf[:k])
}
