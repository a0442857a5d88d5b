package ensemble

// The grower follows scikit-learn's TreeGrower and Splitter
// (sklearn/ensemble/_hist_gradient_boosting/grower.py, splitting.pyx,
// histogram.pyx): histograms of float32 gradients summed in float64, the
// smaller child's built from its rows and the larger one's by subtraction
// from the parent, splits scanned left to right over the bins, the node of
// largest gain split next (a heap ordered as Python's heapq orders it),
// until MaxLeafNodes leaves.

// minHessianToSplit is scikit-learn's min_hessian_to_split.
const minHessianToSplit = 1e-3

type histBin struct {
	g, h  float64
	count uint32
}

type hgbSplit struct {
	gain                  float64
	feature, bin          int
	gLeft, hLeft          float64
	gRight, hRight        float64
	valueLeft, valueRight float64
}

type hgbNode struct {
	depth       int
	start, stop int // rows[start:stop] of the grower's partition
	g, h, value float64
	hist        []histBin // all features' bins, feature f's at off[f]
	split       hgbSplit
	leaf        bool
	left, right *hgbNode
}

func (n *hgbNode) samples() int { return n.stop - n.start }

// hgbTreeNode is a node of a fitted histogram tree; leaves have Left −1.
type hgbTreeNode struct {
	Feature   int     `json:"feature"`
	Threshold float64 `json:"threshold"`
	Left      int     `json:"left"`
	Right     int     `json:"right"`
	Value     float64 `json:"value"`
}

type hgbGrower struct {
	bins       [][]uint8 // bins[f][row]
	nBins      []int     // non-missing bins per feature
	off        []int     // feature f's bins start at off[f] in a histogram
	free       [][]histBin
	grad, hess []float32
	constHess  bool
	maxLeaves  int // 0: no limit
	maxDepth   int // 0: no limit
	minLeaf    int
	l2         float64
	rows       []int32 // the partition: every node's rows are a range
	buf        []int32
	heap       []*hgbNode
	leaves     []*hgbNode
	root       *hgbNode
	nodes      int
}

func computeValue(g, h, l2 float64) float64 {
	return -g / (h + l2 + 1e-15)
}

// grow grows one tree; the leaves' values are not yet shrunk.
func (gr *hgbGrower) grow() {
	gr.off = make([]int, len(gr.nBins)+1)
	for f, b := range gr.nBins {
		gr.off[f+1] = gr.off[f] + b
	}
	n := len(gr.grad)
	gr.rows = make([]int32, n)
	for i := range gr.rows {
		gr.rows[i] = int32(i)
	}
	gr.buf = make([]int32, n)
	sumG, sumH := 0.0, 0.0
	for _, g := range gr.grad {
		sumG += float64(g)
	}
	if gr.constHess {
		sumH = float64(gr.hess[0]) * float64(n)
	} else {
		for _, h := range gr.hess {
			sumH += float64(h)
		}
	}
	gr.root = &hgbNode{start: 0, stop: n, g: sumG, h: sumH, value: 0}
	if n < 2*gr.minLeaf || sumH < minHessianToSplit {
		gr.finalize(gr.root)
		return
	}
	gr.root.hist = gr.histogram(gr.root)
	gr.splitAndPush(gr.root)
	for len(gr.heap) > 0 {
		gr.splitNext()
	}
}

func (gr *hgbGrower) finalize(n *hgbNode) {
	n.leaf = true
	gr.leaves = append(gr.leaves, n)
}

// newHist returns a zeroed histogram buffer, reusing freed ones.
func (gr *hgbGrower) newHist() []histBin {
	if len(gr.free) > 0 {
		h := gr.free[len(gr.free)-1]
		gr.free = gr.free[:len(gr.free)-1]
		clear(h)
		return h
	}
	return make([]histBin, gr.off[len(gr.off)-1])
}

func (gr *hgbGrower) release(n *hgbNode) {
	if n.hist != nil {
		gr.free = append(gr.free, n.hist)
		n.hist = nil
	}
}

// histogram builds a node's histograms from its rows.
func (gr *hgbGrower) histogram(n *hgbNode) []histBin {
	hist := gr.newHist()
	rows := gr.rows[n.start:n.stop]
	for f, col := range gr.bins {
		h := hist[gr.off[f]:gr.off[f+1]]
		if gr.constHess {
			for _, r := range rows {
				b := &h[col[r]]
				b.g += float64(gr.grad[r])
				b.count++
			}
		} else {
			for _, r := range rows {
				b := &h[col[r]]
				b.g += float64(gr.grad[r])
				b.h += float64(gr.hess[r])
				b.count++
			}
		}
	}
	return hist
}

// subtract turns parent into parent − sibling, bin by bin (the parent's
// histogram is not needed after), and returns it.
func subtract(parent, sibling []histBin) []histBin {
	sibling = sibling[:len(parent)]
	for b := range parent {
		parent[b].g -= sibling[b].g
		parent[b].h -= sibling[b].h
		parent[b].count -= sibling[b].count
	}
	return parent
}

// splitAndPush finds a node's best split and queues the node, or makes it
// a leaf when no split gains.
func (gr *hgbGrower) splitAndPush(n *hgbNode) {
	n.split = gr.findSplit(n)
	if n.split.gain <= 0 {
		gr.finalize(n)
		return
	}
	gr.push(n)
}

// findSplit is Splitter.find_node_split for numerical features without
// missing values.
func (gr *hgbGrower) findSplit(n *hgbNode) hgbSplit {
	best := hgbSplit{gain: -1}
	lossNode := n.g * n.value // _loss_from_value(value, sum_gradients)
	samples := uint32(n.samples())
	for f := range gr.bins {
		h := n.hist[gr.off[f]:gr.off[f+1]]
		bestGain := -1.0
		found := false
		var s hgbSplit
		var gl, hl float64
		var cl uint32
		for b := 0; b < gr.nBins[f]-1; b++ {
			if h[b].count == 0 {
				// Nothing moves left: the sums and so the gain are the
				// previous bin's, which cannot beat itself.
				continue
			}
			cl += h[b].count
			cr := samples - cl
			if gr.constHess {
				hl += float64(h[b].count)
			} else {
				hl += h[b].h
			}
			hr := n.h - hl
			gl += h[b].g
			gr_ := n.g - gl
			if int(cl) < gr.minLeaf {
				continue
			}
			if int(cr) < gr.minLeaf {
				break
			}
			if hl < minHessianToSplit {
				continue
			}
			if hr < minHessianToSplit {
				break
			}
			vl, vr := computeValue(gl, hl, gr.l2), computeValue(gr_, hr, gr.l2)
			gain := lossNode - gl*vl - gr_*vr
			if gain > bestGain && gain > 0 {
				found, bestGain = true, gain
				s = hgbSplit{gain: gain, feature: f, bin: b, gLeft: gl, hLeft: hl}
			}
		}
		if !found {
			continue
		}
		s.gRight, s.hRight = n.g-s.gLeft, n.h-s.hLeft
		s.valueLeft, s.valueRight = computeValue(s.gLeft, s.hLeft, gr.l2), computeValue(s.gRight, s.hRight, gr.l2)
		if s.gain > best.gain {
			best = s
		}
	}
	return best
}

// Python's heapq with TreeNode.__lt__ (higher gain first).
func (gr *hgbGrower) less(a, b *hgbNode) bool { return a.split.gain > b.split.gain }

func (gr *hgbGrower) push(n *hgbNode) {
	gr.heap = append(gr.heap, n)
	gr.siftDown(0, len(gr.heap)-1)
}

func (gr *hgbGrower) pop() *hgbNode {
	h := gr.heap
	last := h[len(h)-1]
	gr.heap = h[:len(h)-1]
	if len(gr.heap) == 0 {
		return last
	}
	top := gr.heap[0]
	gr.heap[0] = last
	gr.siftUp(0)
	return top
}

func (gr *hgbGrower) siftDown(start, pos int) {
	h := gr.heap
	item := h[pos]
	for pos > start {
		parent := (pos - 1) >> 1
		if gr.less(item, h[parent]) {
			h[pos] = h[parent]
			pos = parent
			continue
		}
		break
	}
	h[pos] = item
}

func (gr *hgbGrower) siftUp(pos int) {
	h := gr.heap
	end, start := len(h), pos
	item := h[pos]
	child := 2*pos + 1
	for child < end {
		if right := child + 1; right < end && !gr.less(h[child], h[right]) {
			child = right
		}
		h[pos] = h[child]
		pos = child
		child = 2*pos + 1
	}
	h[pos] = item
	gr.siftDown(start, pos)
}

// splitNext splits the queued node of largest gain.
func (gr *hgbGrower) splitNext() {
	n := gr.pop()
	// Partition the node's rows, stably: bin ≤ split bin goes left.
	rows := gr.rows[n.start:n.stop]
	col := gr.bins[n.split.feature]
	j, k := 0, 0
	for _, r := range rows {
		if int(col[r]) <= n.split.bin {
			rows[j] = r
			j++
		} else {
			gr.buf[k] = r
			k++
		}
	}
	copy(rows[j:], gr.buf[:k])
	depth := n.depth + 1
	left := &hgbNode{depth: depth, start: n.start, stop: n.start + j, g: n.split.gLeft, h: n.split.hLeft, value: n.split.valueLeft}
	right := &hgbNode{depth: depth, start: n.start + j, stop: n.stop, g: n.split.gRight, h: n.split.hRight, value: n.split.valueRight}
	n.left, n.right = left, right
	gr.nodes += 2
	leaves := len(gr.leaves) + len(gr.heap) + 2
	if gr.maxLeaves > 0 && leaves == gr.maxLeaves {
		gr.finalize(left)
		gr.finalize(right)
		for len(gr.heap) > 0 {
			last := gr.heap[len(gr.heap)-1]
			gr.heap = gr.heap[:len(gr.heap)-1]
			gr.finalize(last)
			gr.release(last)
		}
		gr.release(n)
		return
	}
	if gr.maxDepth > 0 && depth == gr.maxDepth {
		gr.finalize(left)
		gr.finalize(right)
		gr.release(n)
		return
	}
	if left.samples() < 2*gr.minLeaf {
		gr.finalize(left)
	}
	if right.samples() < 2*gr.minLeaf {
		gr.finalize(right)
	}
	if !left.leaf || !right.leaf {
		small, large := right, left
		if left.samples() < right.samples() {
			small, large = left, right
		}
		small.hist = gr.histogram(small)
		large.hist = subtract(n.hist, small.hist)
		n.hist = nil
		if !left.leaf {
			gr.splitAndPush(left)
		}
		if !right.leaf {
			gr.splitAndPush(right)
		}
		for _, c := range []*hgbNode{left, right} {
			if c.leaf {
				gr.release(c)
			}
		}
	}
	gr.release(n)
}

// tree returns the grown tree, leaves shrunk by shrinkage, thresholds
// in feature values, and every training row's leaf value.
func (gr *hgbGrower) tree(thresholds [][]float64, shrinkage float64) ([]hgbTreeNode, []float64) {
	for _, l := range gr.leaves {
		l.value *= shrinkage
	}
	var nodes []hgbTreeNode
	var walk func(n *hgbNode) int
	walk = func(n *hgbNode) int {
		id := len(nodes)
		nodes = append(nodes, hgbTreeNode{Left: -1, Right: -1, Value: n.value})
		if n.left != nil {
			l := walk(n.left)
			r := walk(n.right)
			nodes[id].Feature = n.split.feature
			nodes[id].Threshold = thresholds[n.split.feature][n.split.bin]
			nodes[id].Left, nodes[id].Right = l, r
		}
		return id
	}
	walk(gr.root)
	out := make([]float64, len(gr.grad))
	for _, l := range gr.leaves {
		for _, r := range gr.rows[l.start:l.stop] {
			out[r] = l.value
		}
	}
	return nodes, out
}

// predictTree returns the value of the leaf row falls in.
func predictTree(nodes []hgbTreeNode, row []float64) float64 {
	i := 0
	for nodes[i].Left >= 0 {
		if row[nodes[i].Feature] <= nodes[i].Threshold {
			i = nodes[i].Left
		} else {
			i = nodes[i].Right
		}
	}
	return nodes[i].Value
}
