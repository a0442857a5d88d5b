package ops

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestRegularizerGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, r := range []L1L2{L1(0.3), L2(0.2), {L1: 0.05, L2: 0.7}} {
		for _, shape := range [][]int{{4, 3}, {2, 3, 2}, {5}} {
			// Keep weights away from 0, where |w| has its kink.
			w := awayFromKinks(gradcheck.Random(rng, -2, 2, shape...))
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return r.Penalty(in[0])
			}, []*tensor.Dense{w}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%+v %v: %v", r, shape, err)
			}
		}
	}
}

// penaltyOf runs r.Penalty on w and returns the penalty and its gradient.
func penaltyOf(t *testing.T, r Regularizer, w *tensor.Dense) (float64, []float64) {
	t.Helper()
	g := gorgonia.NewGraph()
	wn := gorgonia.NodeFromAny(g, w, gorgonia.WithName("w"))
	p, err := r.Penalty(wn)
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsScalar() || p.Dtype() != w.Dtype() {
		t.Fatalf("penalty is %v of shape %v, want a %v scalar", p.Dtype(), p.Shape(), w.Dtype())
	}
	grads, err := gorgonia.Grad(p, wn)
	if err != nil {
		t.Fatal(err)
	}
	var pv, gv gorgonia.Value
	gorgonia.Read(p, &pv)
	gorgonia.Read(grads[0], &gv)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	v, err := scalarValue(pv)
	if err != nil {
		t.Fatal(err)
	}
	return v, valueFloats(t, gv)
}

// TestRegularizerValues checks hand-worked penalties for
// w = [1, −2, 0, 0.5]: Σ|w| = 3.5, Σw² = 5.25.
func TestRegularizerValues(t *testing.T) {
	w := []float64{1, -2, 0, 0.5}
	cases := []struct {
		r        L1L2
		want     float64
		wantGrad []float64 // l1·sign(w) + 2·l2·w, sign(0) = 0
	}{
		{L1(0.01), 0.035, []float64{0.01, -0.01, 0, 0.01}},
		{L2(0.01), 0.0525, []float64{0.02, -0.04, 0, 0.01}},
		{L1L2{L1: 0.1, L2: 0.2}, 0.35 + 1.05, []float64{0.1 + 0.4, -0.1 - 0.8, 0, 0.1 + 0.2}},
		{L1L2{}, 0, []float64{0, 0, 0, 0}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			tol := 1e-15
			if dt == tensor.Float32 {
				tol = 1e-7
			}
			got, grad := penaltyOf(t, c.r, denseOf(dt, []int{2, 2}, w))
			if math.Abs(got-c.want) > tol*(1+c.want) {
				t.Errorf("%+v %v: penalty %.17g, want %.17g", c.r, dt, got, c.want)
			}
			for i := range grad {
				if math.Abs(grad[i]-c.wantGrad[i]) > tol {
					t.Errorf("%+v %v: gradient[%d] %.17g, want %.17g", c.r, dt, i, grad[i], c.wantGrad[i])
				}
			}
		}
	}
}

func TestRegularizerByName(t *testing.T) {
	cases := []struct {
		name string
		want Regularizer
	}{
		{"l1", L1L2{L1: 0.01}},
		{"L2", L1L2{L2: 0.01}},
		{"l1_l2", L1L2{L1: 0.01, L2: 0.01}},
		{"L1L2", L1L2{L1: 0.01, L2: 0.01}},
		{"", nil},
	}
	for _, c := range cases {
		got, err := RegularizerByName(c.name)
		if err != nil || got != c.want {
			t.Errorf("RegularizerByName(%q) = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := RegularizerByName("l3"); err == nil || !strings.Contains(err.Error(), `"l3"`) {
		t.Errorf(`RegularizerByName("l3"): got error %v, want one naming "l3"`, err)
	}
}

func TestRegularizerRejectsBadFactors(t *testing.T) {
	g := gorgonia.NewGraph()
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 2), gorgonia.WithName("w"))
	cases := []struct {
		r    L1L2
		want string
	}{
		{L1(-0.1), "L1 must be non-negative and finite, got -0.1"},
		{L2(math.Inf(1)), "L2 must be non-negative and finite, got +Inf"},
		{L1L2{L1: math.NaN()}, "L1 must be non-negative and finite, got NaN"},
	}
	for _, c := range cases {
		if _, err := c.r.Penalty(w); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got error %v, want one containing %q", c.r, err, c.want)
		}
	}
}
