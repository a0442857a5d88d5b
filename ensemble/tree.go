package ensemble

import (
	"context"
	"math"

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
// like scikit-learn the tree works on float32 values. y holds class labels
// (any numbers; the classes are the sorted distinct labels) or, with
// Regression, targets.
//
// At each split the features are visited in a random order drawn, as
// scikit-learn's splitter draws it, from Seed: the first of equally good
// splits wins, so a Tree with Seed s grows the tree DecisionTreeClassifier
// (random_state=s) grows, ties included (for s < 2³²). The rows are sorted
// once per Fit, not at every node.
type Tree struct {
	// Regression makes a regression tree: y holds numbers and leaves their
	// mean. By default y holds class labels.
	Regression bool `json:"regression,omitempty"`
	// Criterion is "gini" (the default) or "entropy" for classification,
	// "squared_error" (the default) or "friedman_mse" for regression.
	Criterion string `json:"criterion,omitempty"`
	// MaxDepth limits the depth (a stump has depth 1); 0 means no limit.
	MaxDepth int `json:"max_depth,omitempty"`
	// MinSamplesSplit is the fewest samples a node needs to be split
	// (default 2).
	MinSamplesSplit int `json:"min_samples_split,omitempty"`
	// MinSamplesLeaf is the fewest samples each leaf keeps (default 1).
	MinSamplesLeaf int `json:"min_samples_leaf,omitempty"`
	// MaxFeatures is the number of features drawn at each split (random
	// forests draw a few); 0 means all of them.
	MaxFeatures int `json:"max_features,omitempty"`
	// Seed orders the features visited at each split, as scikit-learn's
	// random_state; 0 is a seed like any other. Clone sets it.
	Seed uint64 `json:"seed,omitempty"`

	nodes    []TreeNode
	features int
	classes  []float64 // nil for regression

	trainLeaf []int32 // leaf of every training row (−1 for weight 0), for boosting
}

// A TreeNode is a node of a fitted Tree.
type TreeNode struct {
	// Feature and Threshold: samples with x[Feature] ≤ Threshold go to
	// Left, the others to Right. Leaves have Left = Right = −1.
	Feature   int     `json:"feature"`
	Threshold float64 `json:"threshold"`
	Left      int     `json:"left"`
	Right     int     `json:"right"`
	// Value holds the class probabilities (classification) or the
	// prediction (regression, one number).
	Value []float64 `json:"value"`
	// Samples and Weight: how many training samples reached the node and
	// their total weight.
	Samples int     `json:"samples"`
	Weight  float64 `json:"weight"`
	// Impurity is the node's Gini impurity, entropy or variance.
	Impurity float64 `json:"impurity"`
}

var (
	_ Classifier     = (*Tree)(nil)
	_ ContextLearner = (*Tree)(nil)
)

// Stump returns a decision stump, a classification tree of depth 1:
// AdaBoost's default learner.
func Stump() *Tree { return &Tree{MaxDepth: 1} }

// Clone returns an untrained tree with the same configuration and the
// given seed (a Factory).
func (t *Tree) Clone(seed uint64) (Learner, error) {
	c := t.config()
	c.Seed = seed
	return &c, nil
}

// config returns the tree's configuration without its fitted state.
func (t *Tree) config() Tree {
	return Tree{Regression: t.Regression, Criterion: t.Criterion, MaxDepth: t.MaxDepth,
		MinSamplesSplit: t.MinSamplesSplit, MinSamplesLeaf: t.MinSamplesLeaf, MaxFeatures: t.MaxFeatures, Seed: t.Seed}
}

// Nodes returns the fitted tree, root first (nil before Fit).
func (t *Tree) Nodes() []TreeNode { return t.nodes }

// Classes returns the class labels of a fitted classification tree, in
// the order of PredictProba's columns (nil for regression or before Fit).
func (t *Tree) ClassLabels() []float64 { return t.classes }

// Depth returns the depth of the fitted tree (0 for a single leaf).
func (t *Tree) Depth() int {
	if len(t.nodes) == 0 {
		return 0
	}
	depth := make([]int, len(t.nodes))
	most := 0
	for i, n := range t.nodes { // children come after their parent
		if n.Left >= 0 {
			depth[n.Left], depth[n.Right] = depth[i]+1, depth[i]+1
			most = max(most, depth[i]+1)
		}
	}
	return most
}

// Fit grows the tree on x, y with optional sample weights.
func (t *Tree) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return t.FitContext(context.Background(), x, y, sampleWeight)
}

// FitContext is Fit, stopping with ctx's error once ctx is done.
func (t *Tree) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	t.reset()
	if err := t.check(); err != nil {
		return err
	}
	td, err := newTreeData(x, "ensemble: Tree")
	if err != nil {
		return err
	}
	return t.fitData(ctx, td, y, sampleWeight, splitterSeed(t.Seed))
}

func (t *Tree) reset() { t.nodes, t.features, t.classes, t.trainLeaf = nil, 0, nil, nil }

// check validates the configuration.
func (t *Tree) check() error {
	switch c := t.Criterion; {
	case c == "":
	case t.Regression && c != "squared_error" && c != "friedman_mse",
		!t.Regression && c != "gini" && c != "entropy":
		return errors.Wrapf(ErrConfig, "ensemble: Tree criterion %q: want \"gini\" or \"entropy\" (classification), \"squared_error\" or \"friedman_mse\" (regression)", t.Criterion)
	}
	if t.MaxDepth < 0 || t.MinSamplesSplit < 0 || t.MinSamplesSplit == 1 || t.MinSamplesLeaf < 0 || t.MaxFeatures < 0 {
		return errors.Wrapf(ErrConfig, "ensemble: Tree MaxDepth %d, MinSamplesSplit %d, MinSamplesLeaf %d, MaxFeatures %d: want ≥ 0, 0 or ≥ 2, ≥ 0 and ≥ 0",
			t.MaxDepth, t.MinSamplesSplit, t.MinSamplesLeaf, t.MaxFeatures)
	}
	return nil
}

// fitData grows the tree on sorted data, its splitter drawing features
// from the rand_r state rs.
func (t *Tree) fitData(ctx context.Context, td *treeData, y *tensor.Dense, sampleWeight []float64, rs uint32) error {
	t.reset()
	b := &builder{td: td, ctx: ctx, rs: randR(rs), maxDepth: t.MaxDepth, minSplit: t.MinSamplesSplit, minLeaf: t.MinSamplesLeaf}
	if b.minSplit == 0 {
		b.minSplit = 2
	}
	if b.minLeaf == 0 {
		b.minLeaf = 1
	}
	if b.maxDepth == 0 {
		b.maxDepth = math.MaxInt
	}
	b.maxFeatures = td.d
	if t.MaxFeatures > 0 && t.MaxFeatures < td.d {
		b.maxFeatures = t.MaxFeatures
	}
	var err error
	if t.Regression {
		b.crit = critMSE
		if t.Criterion == "friedman_mse" {
			b.crit = critFriedman
		}
		if b.y, err = targets(y, td.n); err != nil {
			return errors.WithMessage(err, "ensemble: Tree")
		}
	} else {
		b.crit = critGini
		if t.Criterion == "entropy" {
			b.crit = critEntropy
		}
		var idx []int
		if t.classes, idx, err = learnerClasses(y, td.n); err != nil {
			t.classes = nil
			return errors.WithMessage(err, "ensemble: Tree")
		}
		b.k = len(t.classes)
		b.labels = make([]int32, td.n)
		for i, c := range idx {
			b.labels[i] = int32(c)
		}
	}
	if b.w, err = checkWeights(sampleWeight, td.n); err != nil {
		t.classes = nil
		return errors.WithMessage(err, "ensemble: Tree")
	}
	if err := b.build(); err != nil {
		t.classes = nil
		return err
	}
	t.nodes, t.features, t.trainLeaf = b.nodes, td.d, b.leafOf
	return nil
}

// leaf returns the index of the leaf a row of float32 values falls in.
func (t *Tree) leaf(row []float32) int {
	i := 0
	for t.nodes[i].Left >= 0 {
		if float64(row[t.nodes[i].Feature]) <= t.nodes[i].Threshold {
			i = t.nodes[i].Left
		} else {
			i = t.nodes[i].Right
		}
	}
	return i
}

// leaves returns the leaf of every sample of x.
func (t *Tree) leaves(x *tensor.Dense) ([]int, error) {
	if t.nodes == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Tree")
	}
	v, n, d, err := float32Rows(x, "ensemble: Tree")
	if err != nil {
		return nil, err
	}
	if d != t.features {
		return nil, errors.Wrapf(ErrInput, "ensemble: Tree fitted on %d features, x has %d (shape %v)", t.features, d, x.Shape())
	}
	out := make([]int, n)
	for i := range out {
		out[i] = t.leaf(v[i*d : (i+1)*d])
	}
	return out, nil
}

// Predict returns the class (the most probable, the smallest on ties) or
// the value of every sample, as a float64 tensor (n).
func (t *Tree) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	leaves, err := t.leaves(x)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(leaves))
	for i, l := range leaves {
		v := t.nodes[l].Value
		if t.classes == nil {
			out[i] = v[0]
		} else {
			out[i] = t.classes[argmax(v)]
		}
	}
	return vec(out), nil
}

// PredictProba returns the class frequencies of every sample's leaf,
// (n, classes), the columns in the order of ClassLabels.
func (t *Tree) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if t.Regression {
		return nil, errors.Wrap(ErrNoProba, "ensemble: a regression Tree")
	}
	leaves, err := t.leaves(x)
	if err != nil {
		return nil, err
	}
	rows := make([][]float64, len(leaves))
	for i, l := range leaves {
		rows[i] = t.nodes[l].Value
	}
	return rowsTensor(rows, len(t.classes)), nil
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (t *Tree) Score(x, y *tensor.Dense) (float64, error) {
	return score(t, x, y, t.Regression)
}

// output is Predict's value for a leaf.
func (t *Tree) output(leaf int) float64 {
	v := t.nodes[leaf].Value
	if t.classes == nil {
		return v[0]
	}
	return t.classes[argmax(v)]
}

// trainPredictions returns Predict's output for the training rows from
// the leaves they reached, or nil if a row (of weight 0) reached none.
func (t *Tree) trainPredictions(n int) []float64 {
	if len(t.trainLeaf) != n {
		return nil
	}
	out := make([]float64, n)
	for i, l := range t.trainLeaf {
		if l < 0 {
			return nil
		}
		out[i] = t.output(int(l))
	}
	return out
}

// columnPredictions returns Predict's output for every row of the data
// the tree was fitted on (rows of weight 0 included).
func (t *Tree) columnPredictions(td *treeData) []float64 {
	out := make([]float64, td.n)
	for i := range out {
		l := -1
		if i < len(t.trainLeaf) {
			l = int(t.trainLeaf[i])
		}
		if l < 0 {
			l = 0
			for t.nodes[l].Left >= 0 {
				nd := &t.nodes[l]
				if float64(td.cols[nd.Feature][i]) <= nd.Threshold {
					l = nd.Left
				} else {
					l = nd.Right
				}
			}
		}
		out[i] = t.output(l)
	}
	return out
}
