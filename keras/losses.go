package keras

import (
	"sort"
	"strings"

	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Loss names a loss function with its options, like a Keras loss object
// (keras.losses.SparseCategoricalCrossentropy(from_logits=True)).
// CompileConfig.Loss also takes the bare name as a string.
type Loss struct {
	// Name is a Keras name: "mse", "sparse_categorical_crossentropy", ….
	Name string `json:"name"`
	// FromLogits says the model outputs logits rather than probabilities
	// (cross-entropies only).
	FromLogits bool `json:"from_logits,omitempty"`
	// Delta is Huber's threshold (default 1).
	Delta float64 `json:"delta,omitempty"`
}

// lossFunc is a resolved loss for one output.
type lossFunc struct {
	name        string
	targetShape Shape
	sparse      bool // targets are class indices
	target      func(v float64) error
	classes     int // for sparse targets
	perSample   func(yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error)
}

type lossKind struct {
	canonical string
	sparse    bool
	make      func(l Loss) func(yTrue, yPred *gorgonia.Node) (*gorgonia.Node, error)
	// target, if set, checks every target value before training starts.
	target func(v float64) error
}

// binaryTarget accepts the labels of the binary linear models.
func binaryTarget(v float64) error {
	if v != 1 && v != 0 && v != -1 {
		return errors.Errorf("label %v is not a binary label (1, and 0 or -1)", v)
	}
	return nil
}

// withLogits uses the logits of a softmax or sigmoid output, when the model
// ends in one, as Keras does: the result is the same number, computed
// without the clipping and the overflow of log(p).
func withLogits(fromLogits bool, yPred *gorgonia.Node, logitsOf func(*gorgonia.Node) (*gorgonia.Node, bool)) (*gorgonia.Node, bool) {
	if fromLogits {
		return yPred, true
	}
	if z, ok := logitsOf(yPred); ok {
		return z, true
	}
	return yPred, false
}

var lossKinds = map[string]lossKind{
	"mean_squared_error": {canonical: "mean_squared_error", make: func(Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.MeanSquaredError
	}},
	"mean_absolute_error": {canonical: "mean_absolute_error", make: func(Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.MeanAbsoluteError
	}},
	"huber": {canonical: "huber", make: func(l Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		d := l.Delta
		if d == 0 {
			d = 1
		}
		return func(a, b *gorgonia.Node) (*gorgonia.Node, error) { return ops.Huber(a, b, d) }
	}},
	"binary_crossentropy": {canonical: "binary_crossentropy", make: func(l Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		return func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
			z, logits := withLogits(l.FromLogits, b, ops.SigmoidLogitsOf)
			return ops.BinaryCrossentropy(a, z, logits)
		}
	}},
	"categorical_crossentropy": {canonical: "categorical_crossentropy", make: func(l Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		return func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
			z, logits := withLogits(l.FromLogits, b, ops.LogitsOf)
			return ops.CategoricalCrossentropy(a, z, logits)
		}
	}},
	"sparse_categorical_crossentropy": {canonical: "sparse_categorical_crossentropy", sparse: true, make: func(l Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		return func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
			z, logits := withLogits(l.FromLogits, b, ops.LogitsOf)
			return ops.SparseCategoricalCrossentropy(a, z, logits)
		}
	}},
	"hinge": {canonical: "hinge", make: func(Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.Hinge
	}},
	"squared_hinge": {canonical: "squared_hinge", make: func(Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
		return ops.SquaredHinge
	}},
	// The losses of linear classifiers (NewPerceptron, NewLinearSVM): binary
	// labels, or class indices one-vs-rest for the sparse forms.
	"perceptron":               {canonical: "perceptron", make: linearLoss(ops.Perceptron), target: binaryTarget},
	"sparse_perceptron":        {canonical: "sparse_perceptron", sparse: true, make: linearLoss(ops.SparsePerceptron)},
	"svm_hinge":                {canonical: "svm_hinge", make: linearLoss(ops.SVMHinge), target: binaryTarget},
	"sparse_svm_hinge":         {canonical: "sparse_svm_hinge", sparse: true, make: linearLoss(ops.SparseSVMHinge)},
	"svm_squared_hinge":        {canonical: "svm_squared_hinge", make: linearLoss(ops.SVMSquaredHinge), target: binaryTarget},
	"sparse_svm_squared_hinge": {canonical: "sparse_svm_squared_hinge", sparse: true, make: linearLoss(ops.SparseSVMSquaredHinge)},
}

var lossAliases = map[string]string{
	"mse": "mean_squared_error", "mae": "mean_absolute_error", "huber_loss": "huber",
	"bce": "binary_crossentropy", "cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy",
}

// LossNames lists the loss names Compile accepts.
func LossNames() []string {
	var names []string
	for k := range lossKinds {
		names = append(names, k)
	}
	for k := range lossAliases {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// resolveLoss turns a Loss into a function for an output of shape out.
func resolveLoss(l Loss, out Shape) (*lossFunc, error) {
	name := strings.ToLower(l.Name)
	if a, ok := lossAliases[name]; ok {
		name = a
	}
	k, ok := lossKinds[name]
	if !ok {
		return nil, errors.Errorf("keras: unknown loss %q (known: %s)", l.Name, strings.Join(LossNames(), ", "))
	}
	lf := &lossFunc{name: k.canonical, sparse: k.sparse, perSample: k.make(l), targetShape: out, target: k.target}
	if k.sparse {
		if len(out) < 1 {
			return nil, errors.Errorf("keras: %s needs an output with a class axis, got %v", name, out)
		}
		lf.classes = out[len(out)-1]
		lf.targetShape = append(Shape(nil), out[:len(out)-1]...)
	}
	return lf, nil
}
