package ops

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lossGradCase is a loss with generators of inputs away from its kinks.
type lossGradCase struct {
	name string
	loss LossFunc
	// truth and pred fill yTrue and yPred for a shape; truth may depend
	// on the classes (sparse labels) and pred on truth (hinge margins).
	truth func(rng *rand.Rand, shape []int) *tensor.Dense
	pred  func(rng *rand.Rand, shape []int, truth *tensor.Dense) *tensor.Dense
	// sparse: yTrue has yPred's shape without the last axis.
	sparse bool
	// noTrueGrad: the loss has no gradient with respect to yTrue.
	noTrueGrad bool
	// categorical losses are also checked at rank 3 with 4 classes;
	// elementwise ones at (2, 3, 2).
	categorical bool
}

func uniformIn(lo, hi float64) func(*rand.Rand, []int) *tensor.Dense {
	return func(rng *rand.Rand, shape []int) *tensor.Dense { return gradcheck.Random(rng, lo, hi, shape...) }
}

func predIn(lo, hi float64) func(*rand.Rand, []int, *tensor.Dense) *tensor.Dense {
	return func(rng *rand.Rand, shape []int, _ *tensor.Dense) *tensor.Dense {
		return gradcheck.Random(rng, lo, hi, shape...)
	}
}

// predAwayFrom draws predictions p with |p − t| at least 0.05 away from
// every kink (for MAE 0, for Huber ±delta).
func predAwayFrom(kinks ...float64) func(*rand.Rand, []int, *tensor.Dense) *tensor.Dense {
	return func(rng *rand.Rand, shape []int, truth *tensor.Dense) *tensor.Dense {
		p := gradcheck.Random(rng, -2, 2, shape...)
		pd, td := p.Data().([]float64), truth.Data().([]float64)
		for i := range pd {
			for _, k := range kinks {
				if e := pd[i] - td[i]; math.Abs(e-k) < 0.05 {
					pd[i] += 0.1
				}
			}
		}
		return p
	}
}

// hingePred draws predictions with the margin 1 − y·p at least 0.05 from 0.
func hingePred(rng *rand.Rand, shape []int, truth *tensor.Dense) *tensor.Dense {
	p := gradcheck.Random(rng, -2, 2, shape...)
	pd, td := p.Data().([]float64), truth.Data().([]float64)
	binary := allZeroOne(td)
	for i := range pd {
		y := td[i]
		if binary {
			y = 2*y - 1
		}
		if math.Abs(1-y*pd[i]) < 0.05 {
			pd[i] += 0.1
		}
	}
	return p
}

func signs(zeroOne bool) func(*rand.Rand, []int) *tensor.Dense {
	return func(rng *rand.Rand, shape []int) *tensor.Dense {
		t := gradcheck.Random(rng, 0, 1, shape...)
		for i, v := range t.Data().([]float64) {
			y := 1.0
			if v < 0.5 {
				y = -1
				if zeroOne {
					y = 0
				}
			}
			t.Data().([]float64)[i] = y
		}
		return t
	}
}

// softRows draws yTrue rows of non-negative weights; they need not sum to 1.
func softRows(rng *rand.Rand, shape []int) *tensor.Dense {
	return gradcheck.Random(rng, 0, 1, shape...)
}

func labelsFor(rng *rand.Rand, shape []int) *tensor.Dense {
	classes := shape[len(shape)-1]
	t := tensor.New(tensor.WithShape(shape[:len(shape)-1]...), tensor.Of(tensor.Float64))
	for i := range t.Data().([]float64) {
		t.Data().([]float64)[i] = float64(rng.IntN(classes))
	}
	return t
}

func lossGradCases() []lossGradCase {
	withDelta := func(d float64) LossFunc {
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) { return Huber(t, p, d) }
	}
	bce := func(logits bool, s float64) LossFunc {
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) {
			return SmoothedBinaryCrossentropy(t, p, logits, s)
		}
	}
	cce := func(logits bool, s float64) LossFunc {
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) {
			return SmoothedCategoricalCrossentropy(t, p, logits, s)
		}
	}
	scce := func(logits bool) LossFunc {
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) { return SparseCategoricalCrossentropy(t, p, logits) }
	}
	return []lossGradCase{
		{name: "mse", loss: MeanSquaredError, truth: uniformIn(-2, 2), pred: predIn(-2, 2)},
		{name: "mae", loss: MeanAbsoluteError, truth: uniformIn(-2, 2), pred: predAwayFrom(0)},
		{name: "huber(1)", loss: withDelta(1), truth: uniformIn(-2, 2), pred: predAwayFrom(-1, 1)},
		{name: "huber(0.3)", loss: withDelta(0.3), truth: uniformIn(-2, 2), pred: predAwayFrom(-0.3, 0.3)},
		{name: "bce", loss: bce(false, 0), truth: uniformIn(0, 1), pred: predIn(0.05, 0.95)},
		{name: "bce(logits)", loss: bce(true, 0), truth: uniformIn(0, 1), pred: predIn(-4, 4)},
		{name: "bce(smooth)", loss: bce(false, 0.2), truth: uniformIn(0, 1), pred: predIn(0.05, 0.95)},
		{name: "bce(logits,smooth)", loss: bce(true, 0.2), truth: uniformIn(0, 1), pred: predIn(-4, 4)},
		{name: "cce", loss: cce(false, 0), truth: softRows, pred: predIn(0.1, 1), categorical: true},
		{name: "cce(logits)", loss: cce(true, 0), truth: softRows, pred: predIn(-3, 3), categorical: true},
		{name: "cce(smooth)", loss: cce(false, 0.1), truth: softRows, pred: predIn(0.1, 1), categorical: true},
		{name: "cce(logits,smooth)", loss: cce(true, 0.1), truth: softRows, pred: predIn(-3, 3), categorical: true},
		{name: "sparse", loss: scce(false), truth: labelsFor, pred: predIn(0.1, 1), categorical: true,
			sparse: true, noTrueGrad: true},
		{name: "sparse(logits)", loss: scce(true), truth: labelsFor, pred: predIn(-3, 3), categorical: true,
			sparse: true, noTrueGrad: true},
		{name: "hinge(±1)", loss: Hinge, truth: signs(false), pred: hingePred, noTrueGrad: true},
		{name: "hinge(0/1)", loss: Hinge, truth: signs(true), pred: hingePred, noTrueGrad: true},
		{name: "squared_hinge(±1)", loss: SquaredHinge, truth: signs(false), pred: hingePred, noTrueGrad: true},
		{name: "squared_hinge(0/1)", loss: SquaredHinge, truth: signs(true), pred: hingePred, noTrueGrad: true},
	}
}

// TestLossGradients checks every loss against central differences, with
// respect to yPred and (where the loss has one) yTrue.
func TestLossGradients(t *testing.T) {
	for i, c := range lossGradCases() {
		shapes := [][]int{{4, 3}, {2, 3, 2}}
		if c.categorical {
			shapes[1] = []int{2, 3, 4}
		}
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%s%v", c.name, shape), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(i), uint64(len(shape))))
				truth := c.truth(rng, shape)
				var wrt []int
				if c.noTrueGrad {
					wrt = []int{1}
				}
				err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
					return c.loss(in[0], in[1])
				}, []*tensor.Dense{truth, c.pred(rng, shape, truth)}, gradcheck.Options{Wrt: wrt})
				if err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// TestLossGradientThroughComputedTarget: a target made by the graph (here
// sigmoid or softmax of an input) is differentiated through the loss.
func TestLossGradientThroughComputedTarget(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		name   string
		target ActivationFunc
		loss   LossFunc
	}{
		{"mse", Tanh, MeanSquaredError},
		{"bce", Sigmoid, func(t, p *gorgonia.Node) (*gorgonia.Node, error) { return BinaryCrossentropy(t, p, true) }},
		{"cce", Softmax, func(t, p *gorgonia.Node) (*gorgonia.Node, error) {
			return CategoricalCrossentropy(t, p, true)
		}},
	}
	for _, c := range cases {
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			target, err := c.target(in[0])
			if err != nil {
				return nil, err
			}
			return c.loss(target, in[1])
		}, []*tensor.Dense{gradcheck.Random(rng, -2, 2, 4, 3), gradcheck.Random(rng, -2, 2, 4, 3)},
			gradcheck.Options{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestLossTrailingAxisOfOne: labels (batch) go with predictions (batch, 1),
// sparse labels may be (batch, 1), and gradients keep each input's shape.
func TestLossTrailingAxisOfOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	truth := tensor.New(tensor.WithShape(5), tensor.WithBacking([]float64{1, 0, 0, 1, 1}))
	err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		out, err := BinaryCrossentropy(in[0], in[1], false)
		if err == nil && !sameShape(out.Shape(), tensor.Shape{5}) {
			err = fmt.Errorf("loss shape %v, want (5)", out.Shape())
		}
		return out, err
	}, []*tensor.Dense{truth, gradcheck.Random(rng, 0.1, 0.9, 5, 1)}, gradcheck.Options{})
	if err != nil {
		t.Error(err)
	}
	labels := tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float64{2, 0, 3}))
	err = gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		out, err := SparseCategoricalCrossentropy(in[0], in[1], true)
		if err == nil && !sameShape(out.Shape(), tensor.Shape{3}) {
			err = fmt.Errorf("loss shape %v, want (3)", out.Shape())
		}
		return out, err
	}, []*tensor.Dense{labels, gradcheck.Random(rng, -2, 2, 3, 4)}, gradcheck.Options{Wrt: []int{1}})
	if err != nil {
		t.Errorf("sparse labels (3, 1): %v", err)
	}
}

// torchCase is one entry of testdata/torch_losses.json.
type torchCase struct {
	Name        string      `json:"name"`
	Loss        string      `json:"loss"`
	YTrue       torchTensor `json:"y_true"`
	YPred       torchTensor `json:"y_pred"`
	PerSample   []float64   `json:"per_sample"`
	GradPred    []float64   `json:"grad_pred"`
	GradTrue    []float64   `json:"grad_true"`
	Float64Only bool        `json:"float64_only"`
	FromLogits  bool        `json:"from_logits"`
	Delta       float64     `json:"delta"`
	Smoothing   float64     `json:"smoothing"`
}

type torchTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (c torchCase) lossFunc() (LossFunc, error) {
	switch c.Loss {
	case "mse":
		return MeanSquaredError, nil
	case "mae":
		return MeanAbsoluteError, nil
	case "huber":
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) { return Huber(t, p, c.Delta) }, nil
	case "bce":
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) {
			return SmoothedBinaryCrossentropy(t, p, c.FromLogits, c.Smoothing)
		}, nil
	case "cce":
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) {
			return SmoothedCategoricalCrossentropy(t, p, c.FromLogits, c.Smoothing)
		}, nil
	case "sparse":
		return func(t, p *gorgonia.Node) (*gorgonia.Node, error) {
			return SparseCategoricalCrossentropy(t, p, c.FromLogits)
		}, nil
	case "hinge":
		return Hinge, nil
	case "squared_hinge":
		return SquaredHinge, nil
	}
	return nil, fmt.Errorf("unknown loss %q", c.Loss)
}

func loadTorchCases(t *testing.T) []torchCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_losses.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []torchCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("testdata/torch_losses.json has no cases")
	}
	return file.Cases
}

// denseOf makes a tensor of dtype dt from float64 data.
func denseOf(dt tensor.Dtype, shape []int, data []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		d := make([]float32, len(data))
		for i, v := range data {
			d[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
}

func valueFloats(t *testing.T, v gorgonia.Value) []float64 {
	t.Helper()
	d, ok := v.(*tensor.Dense)
	if !ok {
		t.Fatalf("value is %T, want *tensor.Dense", v)
	}
	if d.IsView() {
		d = d.Materialize().(*tensor.Dense)
	}
	switch s := d.Data().(type) {
	case []float64:
		return append([]float64(nil), s...)
	case []float32:
		out := make([]float64, len(s))
		for i, x := range s {
			out[i] = float64(x)
		}
		return out
	}
	t.Fatalf("value holds %T", d.Data())
	return nil
}

// lossRun is what evalLoss measured.
type lossRun struct {
	perSample, gradPred, gradTrue []float64
}

// evalLoss builds loss(yTrue, yPred), differentiates its mean over the batch
// and runs the graph once.
func evalLoss(t *testing.T, f LossFunc, yTrue, yPred *tensor.Dense, trueGrad bool) lossRun {
	t.Helper()
	g := gorgonia.NewGraph()
	tn := gorgonia.NodeFromAny(g, yTrue, gorgonia.WithName("yTrue"))
	pn := gorgonia.NodeFromAny(g, yPred, gorgonia.WithName("yPred"))
	loss, err := f(tn, pn)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := gorgonia.Mean(loss)
	if err != nil {
		t.Fatal(err)
	}
	wrt := gorgonia.Nodes{pn}
	if trueGrad {
		wrt = append(wrt, tn)
	}
	grads, err := gorgonia.Grad(cost, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	var lv gorgonia.Value
	gorgonia.Read(loss, &lv)
	gv := make([]gorgonia.Value, len(grads))
	for i, gn := range grads {
		gorgonia.Read(gn, &gv[i])
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	r := lossRun{perSample: valueFloats(t, lv), gradPred: valueFloats(t, gv[0])}
	if trueGrad {
		r.gradTrue = valueFloats(t, gv[1])
	}
	return r
}

// TestLossesAgainstTorch compares per-sample losses and the gradients of
// their batch mean with PyTorch's (testdata/torch_losses.py), in float64 to
// 1e-10 and in float32 to 1e-5 (relative).
func TestLossesAgainstTorch(t *testing.T) {
	tols := []struct {
		dt       tensor.Dtype
		rel, abs float64
	}{
		{tensor.Float64, 1e-10, 1e-12},
		{tensor.Float32, 1e-5, 1e-6},
	}
	for _, c := range loadTorchCases(t) {
		f, err := c.lossFunc()
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for _, tol := range tols {
			if tol.dt == tensor.Float32 && c.Float64Only {
				continue
			}
			t.Run(fmt.Sprintf("%s/%v", c.Name, tol.dt), func(t *testing.T) {
				yTrue := denseOf(tol.dt, c.YTrue.Shape, c.YTrue.Data)
				yPred := denseOf(tol.dt, c.YPred.Shape, c.YPred.Data)
				got := evalLoss(t, f, yTrue, yPred, c.GradTrue != nil)
				compare := func(what string, got, want []float64) {
					if len(got) != len(want) {
						t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
					}
					for i := range want {
						if d := math.Abs(got[i] - want[i]); !(d <= tol.abs+tol.rel*math.Abs(want[i])) {
							t.Errorf("%s[%d]: got %.15g, want %.15g (|diff| %.3g)", what, i, got[i], want[i], d)
						}
					}
				}
				compare("per-sample loss", got.perSample, c.PerSample)
				compare("d/dyPred", got.gradPred, c.GradPred)
				if c.GradTrue != nil {
					compare("d/dyTrue", got.gradTrue, c.GradTrue)
				}
			})
		}
	}
}

// TestLossesRejectMismatchedShapes: shape errors come when the graph is
// built and name both shapes.
func TestLossesRejectMismatchedShapes(t *testing.T) {
	bce := func(t, p *gorgonia.Node) (*gorgonia.Node, error) { return BinaryCrossentropy(t, p, false) }
	cce := func(t, p *gorgonia.Node) (*gorgonia.Node, error) { return CategoricalCrossentropy(t, p, true) }
	scce := func(t, p *gorgonia.Node) (*gorgonia.Node, error) { return SparseCategoricalCrossentropy(t, p, true) }
	cases := []struct {
		name        string
		loss        LossFunc
		true_, pred []int
		want        string
	}{
		{"mse", MeanSquaredError, []int{4, 2}, []int{4, 3}, "yTrue shape (4, 2) does not match yPred shape (4, 3)"},
		{"mse transposed", MeanSquaredError, []int{1, 4}, []int{4}, "yTrue shape (1, 4) does not match yPred shape (4)"},
		{"bce", bce, []int{3, 4}, []int{4, 3}, "yTrue shape (3, 4) does not match"},
		{"hinge", Hinge, []int{4, 3, 1}, []int{4, 3, 2}, "does not match"},
		{"cce", cce, []int{4}, []int{4, 3}, "yTrue shape (4) does not match yPred shape (4, 3)"},
		{"cce rank 1", cce, []int{3}, []int{3}, "class axis"},
		{"sparse", scce, []int{4, 3}, []int{4, 3}, "labels shape (4, 3) does not match yPred shape (4, 3)"},
		{"sparse rank 3", scce, []int{2}, []int{2, 3, 4}, "want (2, 3)"},
	}
	for _, c := range cases {
		g := gorgonia.NewGraph()
		tn := gorgonia.NewTensor(g, tensor.Float64, len(c.true_), gorgonia.WithShape(c.true_...), gorgonia.WithName("t"))
		pn := gorgonia.NewTensor(g, tensor.Float64, len(c.pred), gorgonia.WithShape(c.pred...), gorgonia.WithName("p"))
		_, err := c.loss(tn, pn)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestLossesRejectBadParameters: invalid delta, smoothing or dtype mix.
func TestLossesRejectBadParameters(t *testing.T) {
	g := gorgonia.NewGraph()
	p := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("p"))
	p32 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 3), gorgonia.WithName("p32"))
	cases := []struct {
		name string
		f    func() (*gorgonia.Node, error)
		want string
	}{
		{"huber delta 0", func() (*gorgonia.Node, error) { return Huber(p, p, 0) }, "delta must be positive and finite, got 0"},
		{"huber delta NaN", func() (*gorgonia.Node, error) { return Huber(p, p, math.NaN()) }, "got NaN"},
		{"smoothing 1.5", func() (*gorgonia.Node, error) { return SmoothedBinaryCrossentropy(p, p, false, 1.5) }, "got 1.5"},
		{"smoothing -0.1", func() (*gorgonia.Node, error) { return SmoothedCategoricalCrossentropy(p, p, true, -0.1) }, "got -0.1"},
		{"mixed dtypes", func() (*gorgonia.Node, error) { return MeanSquaredError(p32, p) }, "yTrue is float32 but yPred is float64"},
	}
	for _, c := range cases {
		if _, err := c.f(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestSparseLabelErrors: a label that is not a class index fails the run
// with an error naming it.
func TestSparseLabelErrors(t *testing.T) {
	cases := []struct {
		labels []float64
		shape  []int
		want   string
	}{
		{[]float64{0, 3, 1}, []int{3, 3}, "label 3 (sample 1) is not a class index in [0, 3)"},
		{[]float64{0, 1, -1}, []int{3, 3}, "label -1 (sample 2)"},
		{[]float64{0.5, 1, 2}, []int{3, 3}, "label 0.5 (sample 0)"},
		{[]float64{1, math.NaN(), 2}, []int{3, 3}, "label NaN (sample 1)"},
		{[]float64{0, 1, 2, 2, 7, 0}, []int{2, 3, 3}, "label 7 (sample 1, row 1)"},
	}
	for _, logits := range []bool{false, true} {
		for i, c := range cases {
			g := gorgonia.NewGraph()
			lshape := c.shape[:len(c.shape)-1]
			ln := gorgonia.NodeFromAny(g, denseOf(tensor.Float64, lshape, c.labels), gorgonia.WithName("labels"))
			pred := make([]float64, tensor.Shape(c.shape).TotalSize())
			for j := range pred {
				pred[j] = 0.25
			}
			pn := gorgonia.NodeFromAny(g, denseOf(tensor.Float64, c.shape, pred), gorgonia.WithName("p"))
			loss, err := SparseCategoricalCrossentropy(ln, pn, logits)
			if err != nil {
				t.Fatal(err)
			}
			cost, err := gorgonia.Mean(loss)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gorgonia.Grad(cost, pn); err != nil {
				t.Fatal(err)
			}
			m := gorgonia.NewTapeMachine(g)
			err = m.RunAll()
			m.Close()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("case %d (logits %v): got error %v, want one containing %q", i, logits, err, c.want)
			}
		}
	}
}
