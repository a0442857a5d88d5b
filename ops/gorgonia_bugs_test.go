package ops

// One test per bug of Gorgonia v0.9.18 / tensor v0.9.24 that Keragon works
// around, and per pitfall it avoids (docs/gorgonia.md lists them all, with
// the tests in other packages). Each test asserts
// that the bug is STILL THERE. When an upgrade fixes one, its test fails:
// then revisit the workaround named in the test's comment (it may become
// unnecessary) and turn the test into a check of the correct behaviour.

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

const upstreamFixed = "Gorgonia's behaviour changed: the bug may be fixed; revisit the workaround and update this test"

// gorgonia.Dropout's gradient divides the kept entries by the drop
// probability p instead of the keep probability 1−p (dropoutDiffOp in
// op_dropout.go), while its forward pass correctly divides by 1−p; its
// random source is seeded from the clock. Keragon uses ops.Dropout: x·mask
// with the mask from DropoutMaskFiller (seeded) and gradient grad·mask.
func TestGorgoniaBugDropoutGradientDividesByRate(t *testing.T) {
	const n, p = 1000, 0.25
	g := gorgonia.NewGraph()
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(n), tensor.WithBacking(ones)), gorgonia.WithName("x"))
	y, err := gorgonia.Dropout(x, p)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := gorgonia.Grad(gorgonia.Must(gorgonia.Sum(y)), x)
	if err != nil {
		t.Fatal(err)
	}
	vals := run(t, g, y, grads[0])
	kept := 0
	for i, yv := range vals[0] {
		dx := vals[1][i]
		if yv == 0 {
			continue
		}
		kept++
		// Forward: y = x/(1−p) = 4/3. Correct gradient: 4/3. Measured: 1/p = 4.
		if yv != 1/(1-p) || dx != 1/p {
			t.Fatalf("entry %d: y %v, dy/dx %v; the bug gave y = %v, dy/dx = %v (correct: %v). %s",
				i, yv, dx, 1/(1-p), 1/p, 1/(1-p), upstreamFixed)
		}
	}
	if kept == 0 || kept == n {
		t.Fatalf("dropout with p=%v kept %d of %d entries", p, kept, n)
	}
}

// gorgonia.Log applied to a SoftMax node does not make a new node: the
// stabiliser rewrites the softmax op in place into a log-softmax, so the
// node that was the softmax now emits log-probabilities, silently changing
// every other reader of it. Keragon uses ops.Softmax and ops.LogSoftmax,
// which Gorgonia does not rewrite, and losses take logits.
func TestGorgoniaBugLogOfSoftmaxRewritesSoftmax(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 0, 0, 0})), gorgonia.WithName("x"))
	p, err := gorgonia.SoftMax(x)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := gorgonia.Log(p)
	if err != nil {
		t.Fatal(err)
	}
	if lp != p {
		t.Errorf("Log(SoftMax(x)) is a new node; the bug returned the softmax node itself. %s", upstreamFixed)
	}
	probs := run(t, g, p)[0]
	// Each row of a softmax sums to 1; the rewritten node holds logs
	// (all negative, their exps summing to 1).
	for r := range 2 {
		var sum, expSum float64
		for _, v := range probs[3*r : 3*r+3] {
			sum += v
			expSum += math.Exp(v)
		}
		if math.Abs(expSum-1) > 1e-12 || sum >= 0 {
			t.Errorf("row %d of the softmax node: %v (sum %v); the bug made it log-probabilities. %s", r, probs[3*r:3*r+3], sum, upstreamFixed)
		}
	}
}

// tensor v0.9.24 reduces some middle axes of tensors with four or more
// axes wrongly: of a (2,3,4,5) tensor, axis 2 is wrong (axes 0, 1 and 3
// are right); of a (2,3,4,5,6) tensor, axes 2 and 3. gorgonia.Sum and
// gorgonia.Mean inherit it. Keragon reduces with its own ops (SumLeading,
// BatchMoments) or reshapes so the reduced axes come last.
func TestGorgoniaBugMiddleAxisReduction(t *testing.T) {
	shape := []int{2, 3, 4, 5}
	const axis = 2
	data := make([]float64, 120)
	for i := range data {
		data[i] = float64(i)
	}
	// want[a, b, d] = Σ_c x[a, b, c, d], x[a,b,c,d] = 60a + 20b + 5c + d.
	want := make([]float64, 0, 30)
	for a := range 2 {
		for b := range 3 {
			for d := range 5 {
				var s float64
				for c := range 4 {
					s += data[60*a+20*b+5*c+d]
				}
				want = append(want, s)
			}
		}
	}
	for _, reduce := range []struct {
		name  string
		f     func(*gorgonia.Node, ...int) (*gorgonia.Node, error)
		scale float64
	}{{"Sum", gorgonia.Sum, 1}, {"Mean", gorgonia.Mean, 0.25}} {
		g := gorgonia.NewGraph()
		x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...))), gorgonia.WithName("x"))
		y, err := reduce.f(x, axis)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, g, y)[0]
		wrong := 0
		for i := range want {
			if got[i] != want[i]*reduce.scale {
				wrong++
			}
		}
		// Measured: 20 of the 30 results are wrong.
		if wrong == 0 {
			t.Errorf("%s over axis %d of %v is right; the bug got %d of %d wrong. %s", reduce.name, axis, shape, 20, len(want), upstreamFixed)
		}
	}
}

// gorgonia.AveragePool2D's gradient disagrees with finite differences, for
// instance for the most common 2×2 window with stride 2 and for 3×3 with
// padding 1 (3×3 with stride 1 and no padding happens to be right).
// MaxPool2D passes the same check. Keragon implements average pooling
// itself in ops.
func TestGorgoniaBugAveragePool2DGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	cases := []struct {
		shape             []int
		kernel, pad, step int
	}{
		{[]int{2, 3, 4, 4}, 2, 0, 2},
		{[]int{1, 1, 3, 3}, 3, 1, 1},
	}
	for _, c := range cases {
		x := gradcheck.Random(rng, -1, 1, c.shape...)
		pool := func(f func(*gorgonia.Node, tensor.Shape, []int, []int) (*gorgonia.Node, error)) gradcheck.Func {
			return func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return f(in[0], tensor.Shape{c.kernel, c.kernel}, []int{c.pad, c.pad}, []int{c.step, c.step})
			}
		}
		if err := gradcheck.Check(pool(gorgonia.MaxPool2D), []*tensor.Dense{x}, gradcheck.Options{}); err != nil {
			t.Fatalf("control: MaxPool2D %+v fails the gradient check: %v", c, err)
		}
		if err := gradcheck.Check(pool(gorgonia.AveragePool2D), []*tensor.Dense{x}, gradcheck.Options{}); err == nil {
			t.Errorf("AveragePool2D %+v passes the gradient check. %s", c, upstreamFixed)
		}
	}
}

// gorgonia.GlobalAveragePool2D has no usable gradient: gorgonia.Grad
// through it panics (index out of range in forwardDiffAnalysis). Keragon
// implements global average pooling itself in ops.
func TestGorgoniaBugGlobalAveragePool2DHasNoGradient(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(1, 2, 3, 3), gorgonia.WithName("x"))
	y, err := gorgonia.GlobalAveragePool2D(x)
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(y))
	panicked, gradErr := func() (p bool, err error) {
		defer func() { p = recover() != nil }()
		_, err = gorgonia.Grad(cost, x)
		return false, err
	}()
	if !panicked && gradErr == nil {
		t.Errorf("Grad through GlobalAveragePool2D succeeds; the bug made it panic. %s", upstreamFixed)
	}
}

// gorgonia.GlorotU (uniform) for float32 calls GlorotEtAlN64 and so
// samples a normal distribution (for float64 it is uniform); all of
// Gorgonia's initialisers are seeded from the clock. Keragon uses its own
// initialisers (ops.GlorotUniform, …), drawn from the model's source.
func TestGorgoniaBugGlorotUFloat32IsNormal(t *testing.T) {
	// Gorgonia's Glorot limit for (100, 100): sqrt(3)·sqrt(2/200) ≈ 0.173;
	// a normal with stddev 0.1 exceeds it about 8% of the time.
	limit := math.Sqrt(3) * math.Sqrt(2.0/200)
	f64 := gorgonia.GlorotU(1)(tensor.Float64, 100, 100).([]float64)
	f32 := gorgonia.GlorotU(1)(tensor.Float32, 100, 100).([]float32)
	var out64, out32 int
	for i := range f64 {
		if math.Abs(f64[i]) > limit {
			out64++
		}
		if math.Abs(float64(f32[i])) > limit {
			out32++
		}
	}
	if out64 != 0 {
		t.Errorf("float64 GlorotU: %d of %d samples beyond ±%.4f; it was uniform", out64, len(f64), limit)
	}
	// Out of 10,000 normal samples about 830 lie beyond the limit; P(< 400)
	// is negligible.
	if out32 < 400 {
		t.Errorf("float32 GlorotU: %d of %d samples beyond ±%.4f; the bug (a normal) put ~830 there. %s", out32, len(f32), limit, upstreamFixed)
	}
}

// valueGrad is a weight and its gradient, as Gorgonia's solvers take them.
type valueGrad struct{ v, g *tensor.Dense }

func (w valueGrad) Value() gorgonia.Value         { return w.v }
func (w valueGrad) Grad() (gorgonia.Value, error) { return w.g, nil }

// weight returns the weight's one entry.
func (w valueGrad) weight() float64 { return w.v.Data().([]float64)[0] }

// newValueGrad returns a one-entry weight w with gradient g.
func newValueGrad(w, g float64) valueGrad {
	return valueGrad{
		tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{w})),
		tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{g})),
	}
}

func stepOnce(s gorgonia.Solver, w valueGrad) error { return s.Step([]gorgonia.ValueGrad{w}) }

// RMSProp's default decay (rho) is 0.999 where Keras and the RMSProp paper
// use 0.9. Measured from one step from w = 0 with gradient 1 and a zero
// cache: |Δw| = η/sqrt(1−ρ) (ε aside). Keragon's optimisers live in
// training/, with Keras' defaults.
func TestGorgoniaBugRMSPropDefaultRho(t *testing.T) {
	w := newValueGrad(0, 1)
	s := gorgonia.NewRMSPropSolver(gorgonia.WithLearnRate(0.001))
	if err := stepOnce(s, w); err != nil {
		t.Fatal(err)
	}
	step := -w.weight()
	rho := 1 - (0.001/step)*(0.001/step)
	if math.Abs(rho-0.999) > 1e-4 {
		t.Errorf("RMSProp's default rho measures %.5f (step %.6g); the bug had 0.999 (Keras: 0.9). %s", rho, step, upstreamFixed)
	}
}

// AdaGrad ignores WithLearnRate (the option's type switch has no
// *AdaGradSolver case), so its rate is always 0.001. Keragon's optimisers
// live in training/.
func TestGorgoniaBugAdaGradIgnoresLearnRate(t *testing.T) {
	w := newValueGrad(0, 1)
	s := gorgonia.NewAdaGradSolver(gorgonia.WithLearnRate(0.5))
	if err := stepOnce(s, w); err != nil {
		t.Fatal(err)
	}
	// With learning rate η and a zero cache, one step moves w by
	// η·g/sqrt(g²+ε) ≈ η: 0.5 if the option worked, 0.001 with the bug.
	if step := -w.weight(); math.Abs(step-0.001) > 1e-6 {
		t.Errorf("AdaGrad with WithLearnRate(0.5) stepped %.6g; the bug stepped 0.001 (correct: 0.5). %s", step, upstreamFixed)
	}
}

// gorgonia.NodeFromAny gives two unnamed tensor constants of the same shape
// one node, whatever their values: the second constant silently reads the
// first one's numbers (and so does everything built on it). Naming them
// (gorgonia.WithName) keeps them apart. Keragon names every tensor
// constant it makes with a name unique in its graph (ops/rnn_ops.go's zero
// states, internal/gradcheck's inputs); scalar constants
// (graph.Context.Constant) of equal value merging is harmless.
func TestGorgoniaPitfallUnnamedConstantsMerge(t *testing.T) {
	g := gorgonia.NewGraph()
	vec := func(v ...float64) *tensor.Dense { return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v)) }
	a := gorgonia.NodeFromAny(g, vec(1, 2))
	b := gorgonia.NodeFromAny(g, vec(3, 4))
	if a != b {
		t.Errorf("%s: unnamed constants [1 2] and [3 4] are two nodes", upstreamFixed)
	}
	c := gorgonia.NodeFromAny(g, vec(3, 4), gorgonia.WithName("c"))
	d := gorgonia.NodeFromAny(g, vec(5, 6), gorgonia.WithName("d"))
	if c == d {
		t.Errorf("named constants c and d became one node: naming no longer keeps constants apart")
	}
}

// Gorgonia merges two applications of ops that hash alike to the same
// inputs into one node (common subexpressions), whatever the ops compute.
// Every Keragon op therefore hashes all its parameters (customOp's id,
// unaryKernel's params); this test shows the merging with two customOps
// of one id that compute different things.
func TestGorgoniaPitfallOpsThatHashAlikeMerge(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(2), gorgonia.WithName("x"))
	scale := func(k float64) *customOp {
		return &customOp{id: "pitfall_scale", arity: 1, do: func(out *tensor.Dense, in []*tensor.Dense) error {
			for i, v := range in[0].Data().([]float64) {
				out.Data().([]float64)[i] = k * v
			}
			return nil
		}}
	}
	twice, err := apply(scale(2), x)
	if err != nil {
		t.Fatal(err)
	}
	thrice, err := apply(scale(3), x)
	if err != nil {
		t.Fatal(err)
	}
	if twice != thrice {
		t.Errorf("%s: two ops with one hash applied to x are two nodes", upstreamFixed)
	}
}
