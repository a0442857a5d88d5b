package graph

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Spec says what a compiled program takes, computes and differentiates.
type Spec struct {
	// Inputs are fed by Run, in this order.
	Inputs []*gorgonia.Node
	// Outputs are read after every run.
	Outputs []*gorgonia.Node
	// Loss is a scalar node; nil for prediction programs. The terms given to
	// Context.AddLoss must already be part of it.
	Loss *gorgonia.Node
	// Grad asks for the gradient of Loss with respect to every trainable
	// weight the loss depends on.
	Grad bool
	// Layout names the roles of Inputs and Outputs; the zero Layout means
	// that every input is a model input and every output a model output.
	Layout Layout
}

// A Gradient pairs a trainable weight with its gradient from the last run.
type Gradient struct {
	Weight *Weight
	Value  *tensor.Dense
}

// A Program is one compiled graph with its machine.
type Program struct {
	ctx     *Context
	spec    Spec
	vm      gorgonia.VM
	outVals []gorgonia.Value
	// lossVal is allocated on its own: a Read into a field of the Program
	// would make the machine's graph point back at the Program, a cycle
	// through the machine's finaliser that Go never frees.
	lossVal *gorgonia.Value
	params  []*Weight
	gradVal []gorgonia.Value
	gradN   gorgonia.Nodes
	updVal  []gorgonia.Value
	grads   []Gradient

	// Set by the Cache that lends the program (guarded by its mutex).
	key   Key
	owner *Cache
	gen   uint64
	lent  bool
}

// Compile differentiates (when asked) and compiles the graph of ctx.
func Compile(ctx *Context, spec Spec) (*Program, error) {
	if spec.Layout.Feeds() == 0 && spec.Layout.Outputs == 0 {
		spec.Layout = Layout{Inputs: len(spec.Inputs), Outputs: len(spec.Outputs)}
	}
	if err := spec.Layout.check(spec); err != nil {
		return nil, err
	}
	p := &Program{ctx: ctx, spec: spec}
	// roots are the Read statements; only what they need is compiled.
	var roots gorgonia.Nodes
	if spec.Grad {
		if spec.Loss == nil {
			return nil, errors.New("graph: Spec.Grad needs a Loss")
		}
		reach := reachable(ctx.G, spec.Loss)
		var wrt gorgonia.Nodes
		for _, w := range ctx.order {
			if n := ctx.params[w]; w.Trainable && reach[n.ID()] {
				p.params = append(p.params, w)
				wrt = append(wrt, n)
			}
		}
		if len(wrt) > 0 {
			gs, err := gorgonia.Grad(spec.Loss, wrt...)
			if err != nil {
				return nil, errors.Wrap(err, "graph: differentiating the loss")
			}
			p.gradN = gs
			p.gradVal = make([]gorgonia.Value, len(gs))
			for i, g := range gs {
				roots = append(roots, gorgonia.Read(g, &p.gradVal[i]))
			}
		}
	}
	p.outVals = make([]gorgonia.Value, len(spec.Outputs))
	for i, o := range spec.Outputs {
		roots = append(roots, gorgonia.Read(o, &p.outVals[i]))
	}
	if spec.Loss != nil {
		if !spec.Loss.IsScalar() {
			return nil, errors.Errorf("graph: the loss must be a scalar, got shape %v", spec.Loss.Shape())
		}
		p.lossVal = new(gorgonia.Value)
		roots = append(roots, gorgonia.Read(spec.Loss, p.lossVal))
	}
	if ctx.Phase == Train {
		p.updVal = make([]gorgonia.Value, len(ctx.updates))
		for i, u := range ctx.updates {
			roots = append(roots, gorgonia.Read(u.node, &p.updVal[i]))
		}
	}
	// Gorgonia differentiates every input of every op, the data and the
	// labels included; compiling the exact subgraph of the reads drops
	// those unused gradients (about 30% of the first conv layer's time).
	p.vm = gorgonia.NewTapeMachine(ctx.G.ExactSubgraphRoots(roots...))
	return p, nil
}

// reachable marks every node the root depends on.
func reachable(g *gorgonia.ExprGraph, root *gorgonia.Node) map[int64]bool {
	seen := map[int64]bool{root.ID(): true}
	stack := []int64{root.ID()}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		it := g.From(id)
		for it.Next() {
			c := it.Node().ID()
			if !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
		}
	}
	return seen
}

// Context returns the context the program was built from.
func (p *Program) Context() *Context { return p.ctx }

// Layout names the roles of the program's feeds and outputs.
func (p *Program) Layout() Layout { return p.spec.Layout }

// Key is the mode and batch size the program was lent for by a Cache
// (the zero Key for a program compiled directly).
func (p *Program) Key() Key { return p.key }

// Batch is the program's static batch size.
func (p *Program) Batch() int { return p.ctx.Batch }

// Run feeds the inputs (in Spec.Inputs order, shapes exactly as declared),
// refills the random inputs and runs the whole tape once.
func (p *Program) Run(feeds ...*tensor.Dense) error {
	if len(feeds) != len(p.spec.Inputs) {
		return errors.Errorf("graph: program takes %d inputs, got %d", len(p.spec.Inputs), len(feeds))
	}
	for i, f := range feeds {
		n := p.spec.Inputs[i]
		if f == nil {
			return errors.Errorf("graph: input %d (%s) is nil", i, n.Name())
		}
		if !f.Shape().Eq(n.Shape()) {
			return errors.Errorf("graph: input %d (%s) has shape %v, want %v", i, n.Name(), f.Shape(), n.Shape())
		}
		if f.Dtype() != n.Dtype() {
			return errors.Errorf("graph: input %d (%s) is %v, want %v", i, n.Name(), f.Dtype(), n.Dtype())
		}
		if err := gorgonia.Let(n, f); err != nil {
			return errors.Wrapf(err, "graph: feeding %s", n.Name())
		}
	}
	for _, r := range p.ctx.randoms {
		r.fill(p.ctx.rng, r.val)
	}
	p.vm.Reset()
	if err := runSafely(p.vm); err != nil {
		return errors.Wrap(err, "graph: running the program")
	}
	return nil
}

func runSafely(vm gorgonia.VM) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("panic in gorgonia: %v", r)
		}
	}()
	return vm.RunAll()
}

// NumOutputs is the number of outputs read after each run.
func (p *Program) NumOutputs() int { return len(p.outVals) }

// Output returns output i of the last run. The tensor is reused by the next
// run: copy it to keep it.
func (p *Program) Output(i int) (*tensor.Dense, error) {
	if i < 0 || i >= len(p.outVals) {
		return nil, errors.Errorf("graph: no output %d", i)
	}
	return asTensor(p.outVals[i])
}

// Loss returns the loss of the last run.
func (p *Program) Loss() (float64, error) {
	if p.lossVal == nil || *p.lossVal == nil {
		return math.NaN(), errors.New("graph: the program has no loss, or has not run")
	}
	return scalarOf(*p.lossVal)
}

// Gradients returns the gradient of each trainable weight from the last run.
// The tensors are reused by the next run.
func (p *Program) Gradients() ([]Gradient, error) {
	if p.grads == nil {
		p.grads = make([]Gradient, len(p.params))
	}
	for i, w := range p.params {
		t, err := asTensor(p.gradVal[i])
		if err != nil {
			return nil, errors.WithMessagef(err, "gradient of %s", w.Name)
		}
		p.grads[i] = Gradient{Weight: w, Value: t}
	}
	return p.grads, nil
}

// ApplyUpdates moves every state weight registered with AddUpdate toward
// its value in the last run (a training program only).
func (p *Program) ApplyUpdates() error {
	for i, u := range p.ctx.updates {
		if i >= len(p.updVal) || p.updVal[i] == nil {
			return errors.New("graph: ApplyUpdates before a training run")
		}
		v, err := asTensor(p.updVal[i])
		if err != nil {
			return err
		}
		m := u.momentum
		switch dst := u.w.Value.Data().(type) {
		case []float32:
			src := v.Data().([]float32)
			for j := range dst {
				dst[j] = float32(m)*dst[j] + float32(1-m)*src[j]
			}
		case []float64:
			src := v.Data().([]float64)
			for j := range dst {
				dst[j] = m*dst[j] + (1-m)*src[j]
			}
		}
	}
	return nil
}

// gradNode returns the gradient node of the i-th trainable weight.
func (p *Program) gradNode(i int) *gorgonia.Node {
	if i < len(p.gradN) {
		return p.gradN[i]
	}
	return nil
}

// Graph returns the program's expression graph.
func (p *Program) Graph() *gorgonia.ExprGraph { return p.ctx.G }

// Close releases the machine.
func (p *Program) Close() error { return p.vm.Close() }

func asTensor(v gorgonia.Value) (*tensor.Dense, error) {
	switch t := v.(type) {
	case *tensor.Dense:
		return t, nil
	case *gorgonia.F32:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(*t)})), nil
	case *gorgonia.F64:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(*t)})), nil
	case nil:
		return nil, errors.New("graph: no value (has the program run?)")
	}
	return nil, errors.Errorf("graph: unexpected value type %T", v)
}

func scalarOf(v gorgonia.Value) (float64, error) {
	switch t := v.(type) {
	case *gorgonia.F32:
		return float64(*t), nil
	case *gorgonia.F64:
		return float64(*t), nil
	case *tensor.Dense:
		if t.Shape().TotalSize() == 1 {
			switch d := t.Data().(type) {
			case []float32:
				return float64(d[0]), nil
			case []float64:
				return d[0], nil
			case float32:
				return float64(d), nil
			case float64:
				return d, nil
			}
		}
	}
	return math.NaN(), errors.New(fmt.Sprintf("graph: %T is not a scalar", v))
}
