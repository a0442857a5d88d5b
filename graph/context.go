package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Phase says whether a graph is built for training or for inference; layers
// such as Dropout and BatchNormalization behave differently in each.
type Phase int

const (
	// Infer is the phase of Predict and Evaluate.
	Infer Phase = iota
	// Train is the phase of a training step.
	Train
)

func (p Phase) String() string {
	if p == Train {
		return "train"
	}
	return "infer"
}

// A Context collects what the code building one graph declares.
type Context struct {
	// G is the graph under construction.
	G *gorgonia.ExprGraph
	// Phase is Train or Infer.
	Phase Phase
	// Batch is the static batch size of this graph.
	Batch int
	// Dtype is the model's element type.
	Dtype tensor.Dtype

	rng     *rand.Rand
	params  map[*Weight]*gorgonia.Node
	order   []*Weight
	randoms []randomInput
	losses  []*gorgonia.Node
	updates []stateUpdate
	names   map[string]int
}

type randomInput struct {
	node *gorgonia.Node
	val  *tensor.Dense
	fill func(rng *rand.Rand, t *tensor.Dense)
}

type stateUpdate struct {
	w        *Weight
	node     *gorgonia.Node
	momentum float64
}

// NewContext starts a graph. rng is the model's seeded source: it fills
// random inputs before every run of the compiled program.
func NewContext(phase Phase, batch int, dt tensor.Dtype, rng *rand.Rand) *Context {
	return &Context{
		G: gorgonia.NewGraph(), Phase: phase, Batch: batch, Dtype: dt, rng: rng,
		params: map[*Weight]*gorgonia.Node{}, names: map[string]int{},
	}
}

// Training reports whether the graph is built for a training step.
func (c *Context) Training() bool { return c.Phase == Train }

// unique returns name, or name_N if it is taken in this graph.
func (c *Context) unique(name string) string {
	n := c.names[name]
	c.names[name] = n + 1
	if n == 0 {
		return name
	}
	return fmt.Sprintf("%s_%d", name, n)
}

// Param returns w's node in this graph, bound by reference to w.Value's
// memory: w.Value must keep its backing array (Weight.Set copies into it).
func (c *Context) Param(w *Weight) (*gorgonia.Node, error) {
	if n, ok := c.params[w]; ok {
		return n, nil
	}
	if w.Value == nil {
		return nil, errors.Errorf("graph: weight %s has no value", w.Name)
	}
	if w.Dtype != c.Dtype {
		return nil, errors.Errorf("graph: weight %s is %v in a %v graph", w.Name, w.Dtype, c.Dtype)
	}
	// Each graph binds a tensor header of its own over the weight's one
	// backing array: updates made in place are seen by every program, and
	// what Gorgonia writes into a bound tensor's header (NewTapeMachine
	// sets its engine) stays in this program, so programs can be built
	// while other goroutines read the weights.
	view := tensor.New(tensor.WithShape(w.Shape...), tensor.WithBacking(w.Value.Data()))
	n := gorgonia.NewTensor(c.G, w.Dtype, len(w.Shape), gorgonia.WithShape(w.Shape...),
		gorgonia.WithName(c.unique(w.Name)), gorgonia.WithValue(view))
	c.params[w] = n
	c.order = append(c.order, w)
	return n, nil
}

// Input declares a tensor fed at every run, in the order of Spec.Inputs.
func (c *Context) Input(name string, shape ...int) *gorgonia.Node {
	return gorgonia.NewTensor(c.G, c.Dtype, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(c.unique(name)))
}

// RandomInput declares a tensor that the program refills with fill before
// every run, drawing from the model's seeded source.
func (c *Context) RandomInput(name string, shape []int, fill func(rng *rand.Rand, t *tensor.Dense)) *gorgonia.Node {
	v := tensor.New(tensor.Of(c.Dtype), tensor.WithShape(shape...))
	n := gorgonia.NewTensor(c.G, c.Dtype, len(shape), gorgonia.WithShape(shape...),
		gorgonia.WithName(c.unique(name)), gorgonia.WithValue(v))
	c.randoms = append(c.randoms, randomInput{node: n, val: v, fill: fill})
	return n
}

// Constant adds a scalar constant of the graph's dtype.
func (c *Context) Constant(x float64) *gorgonia.Node {
	if c.Dtype == tensor.Float32 {
		return gorgonia.NewConstant(float32(x))
	}
	return gorgonia.NewConstant(x)
}

// AddLoss adds a scalar term (a regularisation penalty) to the loss that
// the program differentiates.
func (c *Context) AddLoss(n *gorgonia.Node) error {
	if !n.IsScalar() {
		return errors.Errorf("graph: AddLoss wants a scalar, got shape %v", n.Shape())
	}
	c.losses = append(c.losses, n)
	return nil
}

// Losses returns the terms given to AddLoss.
func (c *Context) Losses() []*gorgonia.Node { return c.losses }

// AddUpdate asks that, after each training step, w become
// momentum·w + (1−momentum)·value, value being n's value in that step.
// BatchNormalization's moving averages use it.
func (c *Context) AddUpdate(w *Weight, n *gorgonia.Node, momentum float64) error {
	if !n.Shape().Eq(tensor.Shape(w.Shape)) && n.Shape().TotalSize() != w.Size() {
		return errors.Errorf("graph: update of %s (shape %v) from a node of shape %v", w.Name, w.Shape, n.Shape())
	}
	c.updates = append(c.updates, stateUpdate{w: w, node: n, momentum: momentum})
	return nil
}

// Params returns the weights used in this graph, in order of first use.
func (c *Context) Params() []*Weight { return append([]*Weight(nil), c.order...) }
