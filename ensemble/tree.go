package ensemble

import (
	"context"
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Tree is a CART decision tree, as scikit-learn's DecisionTreeClassifier
// and DecisionTreeRegressor, written in Go: binary splits "feature ≤
// threshold" chosen to reduce the weighted Gini impurity or entropy
// (classification) or the weighted squared error (regression), thresholds
// half-way between neighbouring values, leaves holding the weighted class
// frequencies or the weighted mean. It honours sample weights, so it is
// the usual base learner of AdaBoost (a stump, MaxDepth 1) and gradient
// boosting (MaxDepth 3).
//
// x is (n, features), float32 or float64 (further axes are flattened);
// see Learner for y. Features are tried in order and the first best split
// is kept, so ties are broken deterministically (scikit-learn breaks them
// at random).
type Tree struct {
	// Regression makes a regression tree: y holds numbers and leaves their
	// mean. By default y holds class indices.
	Regression bool
	// Criterion is "gini" (the default) or "entropy" for classification,
	// "squared_error" (the default and only one) for regression.
	Criterion string
	// MaxDepth limits the depth (a stump has depth 1); 0 means no limit.
	MaxDepth int
	// MinSamplesSplit is the fewest samples a node needs to be split
	// (default 2).
	MinSamplesSplit int
	// MinSamplesLeaf is the fewest samples each leaf keeps (default 1).
	MinSamplesLeaf int

	nodes    []TreeNode
	features int
	classes  int
}

// A TreeNode is a node of a fitted Tree.
type TreeNode struct {
	// Feature and Threshold: samples with x[Feature] ≤ Threshold go to
	// Left, the others to Right. Leaves have Left = Right = −1.
	Feature     int
	Threshold   float64
	Left, Right int
	// Value holds the class probabilities (classification) or the
	// prediction (regression, one number).
	Value []float64
	// Samples and Weight: how many training samples reached the node and
	// their total weight.
	Samples int
	Weight  float64
	// Impurity is the node's Gini impurity, entropy or variance.
	Impurity float64
}

var _ Classifier = (*Tree)(nil)

// Stump returns a decision stump, a classification tree of depth 1:
// AdaBoost's default learner.
func Stump() *Tree { return &Tree{MaxDepth: 1} }

// Clone returns an untrained tree with the same configuration (a Factory;
// trees use no randomness, so the seed is ignored).
func (t *Tree) Clone(seed uint64) (Learner, error) {
	return &Tree{Regression: t.Regression, Criterion: t.Criterion, MaxDepth: t.MaxDepth,
		MinSamplesSplit: t.MinSamplesSplit, MinSamplesLeaf: t.MinSamplesLeaf}, nil
}

// Nodes returns the fitted tree, root first (nil before Fit).
func (t *Tree) Nodes() []TreeNode { return t.nodes }

// Depth returns the depth of the fitted tree (0 for a single leaf).
func (t *Tree) Depth() int {
	var depth func(i int) int
	depth = func(i int) int {
		n := t.nodes[i]
		if n.Left < 0 {
			return 0
		}
		return 1 + max(depth(n.Left), depth(n.Right))
	}
	if len(t.nodes) == 0 {
		return 0
	}
	return depth(0)
}

// featureThreshold is scikit-learn's FEATURE_THRESHOLD: values closer
// than this are not split apart.
const featureThreshold = 1e-7

// Fit grows the tree on x, y with optional sample weights.
func (t *Tree) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return t.FitContext(context.Background(), x, y, sampleWeight)
}

// FitContext is Fit, stopping with ctx's error once ctx is done.
func (t *Tree) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	t.nodes = nil
	crit := t.Criterion
	switch {
	case crit == "" && t.Regression:
		crit = "squared_error"
	case crit == "":
		crit = "gini"
	case t.Regression && crit != "squared_error" && crit != "friedman_mse",
		!t.Regression && crit != "gini" && crit != "entropy":
		return errors.Wrapf(ErrConfig, "ensemble: Tree criterion %q: want \"gini\" or \"entropy\" (classification) or \"squared_error\" (regression)", t.Criterion)
	}
	minSplit, minLeaf := t.MinSamplesSplit, t.MinSamplesLeaf
	if minSplit == 0 {
		minSplit = 2
	}
	if minLeaf == 0 {
		minLeaf = 1
	}
	if minSplit < 2 || minLeaf < 1 || t.MaxDepth < 0 {
		return errors.Wrapf(ErrConfig, "ensemble: Tree MaxDepth %d, MinSamplesSplit %d, MinSamplesLeaf %d: want ≥ 0, ≥ 2 and ≥ 1", t.MaxDepth, t.MinSamplesSplit, t.MinSamplesLeaf)
	}
	m, err := matrixOf(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Tree")
	}
	w, err := checkWeights(sampleWeight, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Tree")
	}
	if w == nil {
		w = make([]float64, m.n)
		for i := range w {
			w[i] = 1
		}
	}
	g := &grower{m: m, w: w, crit: crit, maxDepth: t.MaxDepth, minSplit: minSplit, minLeaf: minLeaf, ctx: ctx}
	if t.Regression {
		if g.y, err = targets(y, m.n); err != nil {
			return errors.WithMessage(err, "ensemble: Tree")
		}
	} else {
		if g.labels, g.k, err = classIndices(y, m.n); err != nil {
			return errors.WithMessage(err, "ensemble: Tree")
		}
	}
	idx := make([]int, m.n)
	for i := range idx {
		idx[i] = i
	}
	g.grow(idx, 0)
	if g.err != nil {
		return g.err
	}
	t.nodes, t.features, t.classes = g.nodes, m.d, g.k
	return nil
}

// grower holds the state of one Fit.
type grower struct {
	m                           matrix
	w, y                        []float64
	labels                      []int
	k                           int
	crit                        string
	maxDepth, minSplit, minLeaf int
	nodes                       []TreeNode
	ctx                         context.Context
	err                         error
}

// grow adds the node for the samples idx and its subtree; it returns the
// node's index.
func (g *grower) grow(idx []int, depth int) int {
	id := len(g.nodes)
	value, weight, impurity := g.stats(idx)
	g.nodes = append(g.nodes, TreeNode{Left: -1, Right: -1, Value: value, Samples: len(idx), Weight: weight, Impurity: impurity})
	if g.err != nil {
		return id
	}
	if err := g.ctx.Err(); err != nil {
		g.err = errors.WithStack(err)
		return id
	}
	n := len(idx)
	if (g.maxDepth > 0 && depth >= g.maxDepth) || n < g.minSplit || n < 2*g.minLeaf || impurity <= 1e-15 {
		return id
	}
	feature, threshold, ok := g.bestSplit(idx)
	if !ok {
		return id
	}
	var left, right []int
	for _, i := range idx {
		if g.m.data[i*g.m.d+feature] <= threshold {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	l := g.grow(left, depth+1)
	r := g.grow(right, depth+1)
	g.nodes[id].Feature, g.nodes[id].Threshold = feature, threshold
	g.nodes[id].Left, g.nodes[id].Right = l, r
	return id
}

// stats returns a node's value, total weight and impurity.
func (g *grower) stats(idx []int) (value []float64, weight, impurity float64) {
	if g.labels == nil {
		sum := 0.0
		for _, i := range idx {
			weight += g.w[i]
			sum += g.w[i] * g.y[i]
		}
		mean := 0.0
		if weight > 0 {
			mean = sum / weight
		}
		for _, i := range idx {
			d := g.y[i] - mean
			impurity += g.w[i] * d * d
		}
		if weight > 0 {
			impurity /= weight
		}
		return []float64{mean}, weight, impurity
	}
	counts := make([]float64, g.k)
	for _, i := range idx {
		counts[g.labels[i]] += g.w[i]
		weight += g.w[i]
	}
	impurity = classImpurity(counts, weight, g.crit)
	if weight > 0 {
		for c := range counts {
			counts[c] /= weight
		}
	}
	return counts, weight, impurity
}

func classImpurity(counts []float64, weight float64, crit string) float64 {
	if weight <= 0 {
		return 0
	}
	imp := 0.0
	if crit == "entropy" {
		for _, c := range counts {
			if c > 0 {
				p := c / weight
				imp -= p * math.Log2(p)
			}
		}
		return imp
	}
	imp = 1
	for _, c := range counts {
		p := c / weight
		imp -= p * p
	}
	return imp
}

// bestSplit finds the split of idx with the largest impurity decrease.
func (g *grower) bestSplit(idx []int) (feature int, threshold float64, ok bool) {
	n := len(idx)
	order := make([]int, n)
	best := math.Inf(-1)
	var total []float64
	var totalW, totalS float64
	if g.labels != nil {
		total = make([]float64, g.k)
	}
	for _, i := range idx {
		totalW += g.w[i]
		if g.labels != nil {
			total[g.labels[i]] += g.w[i]
		} else {
			totalS += g.w[i] * g.y[i]
		}
	}
	left := make([]float64, g.k)
	right := make([]float64, g.k)
	d := g.m.d
	for f := 0; f < d; f++ {
		copy(order, idx)
		col := func(i int) float64 { return g.m.data[i*d+f] }
		sort.SliceStable(order, func(a, b int) bool { return col(order[a]) < col(order[b]) })
		if col(order[n-1]) <= col(order[0])+featureThreshold {
			continue // constant feature
		}
		for c := range left {
			left[c] = 0
		}
		wl, sl := 0.0, 0.0
		for p := 0; p < n-1; p++ {
			i := order[p]
			wl += g.w[i]
			if g.labels != nil {
				left[g.labels[i]] += g.w[i]
			} else {
				sl += g.w[i] * g.y[i]
			}
			a, b := col(i), col(order[p+1])
			if b <= a+featureThreshold {
				continue
			}
			nl := p + 1
			if nl < g.minLeaf || n-nl < g.minLeaf {
				continue
			}
			wr := totalW - wl
			if wl <= 0 || wr <= 0 {
				continue
			}
			var score float64 // larger is better
			switch {
			case g.labels == nil:
				sr := totalS - sl
				score = sl*sl/wl + sr*sr/wr
			default:
				for c := range right {
					right[c] = total[c] - left[c]
				}
				if g.crit == "entropy" {
					score = -(wl*classImpurity(left, wl, g.crit) + wr*classImpurity(right, wr, g.crit))
				} else {
					sq := 0.0
					for c := range left {
						sq += left[c] * left[c] / wl
						sq += right[c] * right[c] / wr
					}
					score = sq
				}
			}
			if score > best {
				best, feature, ok = score, f, true
				threshold = a + (b-a)/2
				if threshold == b || math.IsInf(threshold, 0) || math.IsNaN(threshold) {
					threshold = a
				}
			}
		}
	}
	return feature, threshold, ok
}

// leaf returns the index of the leaf row falls in.
func (t *Tree) leaf(row []float64) int {
	i := 0
	for t.nodes[i].Left >= 0 {
		if row[t.nodes[i].Feature] <= t.nodes[i].Threshold {
			i = t.nodes[i].Left
		} else {
			i = t.nodes[i].Right
		}
	}
	return i
}

// leaves returns the leaf of every sample of x.
func (t *Tree) leaves(x *tensor.Dense) ([]int, matrix, error) {
	if t.nodes == nil {
		return nil, matrix{}, errors.Wrap(ErrNotFitted, "ensemble: Tree")
	}
	m, err := matrixOf(x)
	if err != nil {
		return nil, m, errors.WithMessage(err, "ensemble: Tree")
	}
	if m.d != t.features {
		return nil, m, errors.Wrapf(ErrInput, "ensemble: Tree fitted on %d features, x has %d (shape %v)", t.features, m.d, x.Shape())
	}
	out := make([]int, m.n)
	for i := range out {
		out[i] = t.leaf(m.row(i))
	}
	return out, m, nil
}

// Predict returns the class (the most probable, the smallest on ties) or
// the value of every sample, as a float64 tensor (n).
func (t *Tree) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	leaves, _, err := t.leaves(x)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(leaves))
	for i, l := range leaves {
		v := t.nodes[l].Value
		if t.classes == 0 {
			out[i] = v[0]
		} else {
			out[i] = float64(argmax(v))
		}
	}
	return vec(out), nil
}

// PredictProba returns the class frequencies of every sample's leaf,
// (n, classes) with classes the largest label seen at Fit + 1.
func (t *Tree) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if t.nodes != nil && t.classes == 0 {
		return nil, errors.Wrap(ErrNoProba, "ensemble: a regression Tree")
	}
	leaves, _, err := t.leaves(x)
	if err != nil {
		return nil, err
	}
	rows := make([][]float64, len(leaves))
	for i, l := range leaves {
		rows[i] = t.nodes[l].Value
	}
	return rowsTensor(rows, t.classes), nil
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (t *Tree) Score(x, y *tensor.Dense) (float64, error) {
	return score(t, x, y, t.Regression)
}
