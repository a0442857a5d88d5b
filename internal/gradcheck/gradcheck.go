// Package gradcheck compares Gorgonia's symbolic gradients with central
// finite differences. It is used by the tests of every op and layer.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Func builds the function under test from input nodes. Its output may have
// any shape: Check reduces it to a scalar with fixed random weights, so that
// every entry of the Jacobian is exercised.
type Func func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error)

// Options tune Check. The zero value means: step 1e-6, tolerance 1e-6
// (absolute) + 1e-4 (relative), all inputs differentiated.
type Options struct {
	Step   float64
	AbsTol float64
	RelTol float64
	// Wrt lists the inputs to differentiate; nil means all.
	Wrt []int
	// Seed seeds the projection weights.
	Seed uint64
}

// Check returns an error describing the worst mismatch between the symbolic
// gradient of f and central differences at the given float64 inputs.
func Check(f Func, inputs []*tensor.Dense, o Options) error {
	if o.Step == 0 {
		o.Step = 1e-6
	}
	if o.AbsTol == 0 {
		o.AbsTol = 1e-6
	}
	if o.RelTol == 0 {
		o.RelTol = 1e-4
	}
	wrt := o.Wrt
	if wrt == nil {
		for i := range inputs {
			wrt = append(wrt, i)
		}
	}
	g := gorgonia.NewGraph()
	vals := make([]*tensor.Dense, len(inputs))
	nodes := make([]*gorgonia.Node, len(inputs))
	for i, x := range inputs {
		if x.Dtype() != tensor.Float64 {
			return errors.Errorf("gradcheck: input %d is %v, want float64", i, x.Dtype())
		}
		vals[i] = x.Clone().(*tensor.Dense)
		nodes[i] = gorgonia.NodeFromAny(g, vals[i], gorgonia.WithName(fmt.Sprintf("in%d", i)))
	}
	out, err := f(g, nodes)
	if err != nil {
		return errors.WithMessage(err, "gradcheck: building f")
	}
	cost := out
	if !out.IsScalar() {
		rng := rand.New(rand.NewPCG(o.Seed, 7))
		w := tensor.New(tensor.WithShape(out.Shape().Clone()...), tensor.Of(tensor.Float64))
		for i := range w.Data().([]float64) {
			w.Data().([]float64)[i] = rng.Float64()*2 - 1
		}
		wn := gorgonia.NodeFromAny(g, w, gorgonia.WithName("projection"))
		if cost, err = gorgonia.HadamardProd(out, wn); err != nil {
			return err
		}
		if cost, err = gorgonia.Sum(cost); err != nil {
			return err
		}
	}
	wrtNodes := make(gorgonia.Nodes, len(wrt))
	for i, k := range wrt {
		wrtNodes[i] = nodes[k]
	}
	grads, err := gorgonia.Grad(cost, wrtNodes...)
	if err != nil {
		return errors.Wrap(err, "gradcheck: Grad")
	}
	var costVal gorgonia.Value
	gorgonia.Read(cost, &costVal)
	gradVals := make([]gorgonia.Value, len(grads))
	for i, gn := range grads {
		gorgonia.Read(gn, &gradVals[i])
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	run := func() (float64, error) {
		m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return scalar(costVal)
	}
	if _, err := run(); err != nil {
		return errors.Wrap(err, "gradcheck: first run")
	}
	analytic := make([][]float64, len(grads))
	for i, v := range gradVals {
		a, err := floats(v)
		if err != nil {
			return err
		}
		analytic[i] = append([]float64(nil), a...)
	}
	var worst string
	worstRatio := 0.0
	for i, k := range wrt {
		data := vals[k].Data().([]float64)
		if len(analytic[i]) != len(data) {
			return errors.Errorf("gradcheck: gradient of input %d has %d entries, want %d", k, len(analytic[i]), len(data))
		}
		for j := range data {
			x0 := data[j]
			data[j] = x0 + o.Step
			fp, err := run()
			if err != nil {
				return err
			}
			data[j] = x0 - o.Step
			fm, err := run()
			if err != nil {
				return err
			}
			data[j] = x0
			num := (fp - fm) / (2 * o.Step)
			diff := math.Abs(num - analytic[i][j])
			tol := o.AbsTol + o.RelTol*math.Abs(num)
			if math.IsNaN(analytic[i][j]) || diff/tol > worstRatio {
				worstRatio = diff / tol
				if math.IsNaN(analytic[i][j]) {
					worstRatio = math.Inf(1)
				}
				worst = fmt.Sprintf("input %d entry %d: symbolic %.10g, numeric %.10g (|diff| %.3g, tolerance %.3g)", k, j, analytic[i][j], num, diff, tol)
			}
		}
	}
	if worstRatio > 1 {
		return errors.New("gradcheck: " + worst)
	}
	return nil
}

// Random returns a float64 tensor of the given shape, uniform in [lo, hi).
func Random(rng *rand.Rand, lo, hi float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float64))
	for i := range t.Data().([]float64) {
		t.Data().([]float64)[i] = lo + (hi-lo)*rng.Float64()
	}
	return t
}

func scalar(v gorgonia.Value) (float64, error) {
	switch s := v.(type) {
	case *gorgonia.F64:
		return float64(*s), nil
	case *tensor.Dense:
		if d, ok := s.Data().([]float64); ok && len(d) == 1 {
			return d[0], nil
		}
		if d, ok := s.Data().(float64); ok {
			return d, nil
		}
	}
	return 0, errors.Errorf("gradcheck: cost is %T, not a float64 scalar", v)
}

func floats(v gorgonia.Value) ([]float64, error) {
	switch s := v.(type) {
	case *gorgonia.F64:
		return []float64{float64(*s)}, nil
	case *tensor.Dense:
		if s.IsView() {
			s = s.Materialize().(*tensor.Dense)
		}
		if d, ok := s.Data().([]float64); ok {
			return d, nil
		}
		if d, ok := s.Data().(float64); ok {
			return []float64{d}, nil
		}
	}
	return nil, errors.Errorf("gradcheck: gradient is %T, not float64", v)
}
