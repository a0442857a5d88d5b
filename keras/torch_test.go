package keras

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The reference values come from testdata/torch_layers.py (PyTorch 1.13,
// float64), which documents each case. The tests set the same weights,
// then compare outputs, losses and gradients, tightly in float64 and
// loosely in float32.

type torchArray struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// tensor returns the array as a tensor of dtype dt (a scalar as shape (1)).
func (a torchArray) tensor(dt tensor.Dtype) *tensor.Dense {
	shape := a.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	return denseOf(dt, a.Data, shape...)
}

type torchCase map[string]torchArray

func (c torchCase) get(t *testing.T, name string) torchArray {
	t.Helper()
	a, ok := c[name]
	if !ok {
		t.Fatalf("torch_layers.json: no array %q", name)
	}
	return a
}

var torchLayers = sync.OnceValues(func() (map[string]torchCase, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_layers.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Cases map[string]torchCase `json:"cases"`
	}
	err = json.Unmarshal(b, &f)
	return f.Cases, err
})

func torchCaseNamed(t *testing.T, name string) torchCase {
	t.Helper()
	cases, err := torchLayers()
	if err != nil {
		t.Fatalf("reading testdata/torch_layers.json (regenerate with /usr/bin/python3 keras/testdata/torch_layers.py): %v", err)
	}
	c, ok := cases[name]
	if !ok {
		t.Fatalf("torch_layers.json has no case %q", name)
	}
	return c
}

// precision is a dtype with the tolerance its comparisons get: float64
// agrees with torch's float64 to rounding; float32 to its ~1e-7 epsilon,
// amplified by sums of a few terms and by normalisation.
type precision struct {
	dt       tensor.Dtype
	abs, rel float64
}

var precisions = []precision{
	{tensor.Float64, 1e-12, 1e-10},
	{tensor.Float32, 2e-5, 2e-4},
}

func (p precision) check(t *testing.T, what string, got []float64, want torchArray) {
	t.Helper()
	if err := closeTo(got, want.Data, p.abs, p.rel); err != nil {
		t.Errorf("%v %s: %v", p.dt, what, err)
	}
}

// setFromTorch sets each weight of l whose name ends in "/<key>" from c.
func setFromTorch(t *testing.T, l Layer, c torchCase, keys ...string) {
	t.Helper()
	for _, k := range keys {
		var w *graph.Weight
		for _, x := range l.base().weights {
			if strings.HasSuffix(x.Name, "/"+k) {
				w = x
			}
		}
		if w == nil {
			t.Fatalf("%s has no weight %q", l.base().name, k)
		}
		a := c.get(t, k)
		if !Shape(a.Shape).Equal(w.Shape) {
			t.Fatalf("%s: torch shape %v, weight shape %v", w.Name, a.Shape, w.Shape)
		}
		setWeight(t, w, a.Data)
	}
}

// fitGradients runs the model's Fit program once on x and y with unit
// sample weights and returns its loss and each trainable weight's gradient
// by weight name.
func fitGradients(t *testing.T, m *Model, x, y *tensor.Dense) (float64, map[string][]float64) {
	t.Helper()
	return fitGradientsMulti(t, m, []*tensor.Dense{x}, []*tensor.Dense{y})
}

// fitGradientsMulti is fitGradients for several inputs and targets.
func fitGradientsMulti(t *testing.T, m *Model, xs, ys []*tensor.Dense) (float64, map[string][]float64) {
	t.Helper()
	n := xs[0].Shape()[0]
	p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	feeds := append(append([]*tensor.Dense(nil), xs...), ys...)
	for range ys {
		feeds = append(feeds, onesTensor(m.Dtype(), n))
	}
	if err := p.Run(feeds...); err != nil {
		t.Fatal(err)
	}
	loss, err := p.Loss()
	if err != nil {
		t.Fatal(err)
	}
	grads, err := p.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, g := range grads {
		out[g.Weight.Name] = append([]float64(nil), floatsOf(materialized(g.Value))...)
	}
	return loss, out
}

// upstreamGrads calls the built layer l on x in a graph of the given phase
// and returns its output and the gradients of Σ output ⊙ upstream with
// respect to x and to each trainable weight (by name suffix), as torch's
// y.backward(upstream) gives them.
func upstreamGrads(t *testing.T, l Layer, phase graph.Phase, x, upstream *tensor.Dense) (y, gx []float64, gw map[string][]float64) {
	t.Helper()
	dt := x.Dtype()
	ctx := graph.NewContext(phase, x.Shape()[0], dt, rand.New(rand.NewPCG(1, 0)))
	xw := graph.NewWeight("x", dt, x.Shape(), nil, true)
	if err := xw.Set(x); err != nil {
		t.Fatal(err)
	}
	xn, _ := ctx.Param(xw)
	out, err := l.Call(ctx, []*gorgonia.Node{xn})
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(out, gorgonia.NodeFromAny(ctx.G, upstream)))))
	p, err := graph.Compile(ctx, graph.Spec{Outputs: []*gorgonia.Node{out}, Loss: cost, Grad: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	o, _ := p.Output(0)
	y = append([]float64(nil), floatsOf(o)...)
	grads, err := p.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	gw = map[string][]float64{}
	for _, g := range grads {
		v := append([]float64(nil), floatsOf(materialized(g.Value))...)
		if g.Weight == xw {
			gx = v
			continue
		}
		gw[g.Weight.Name[strings.LastIndex(g.Weight.Name, "/")+1:]] = v
	}
	return y, gx, gw
}

func TestDenseMatchesTorch(t *testing.T) {
	for _, name := range []string{"dense", "dense_rank3"} {
		c := torchCaseNamed(t, name)
		for _, p := range precisions {
			xa, ka := c.get(t, "x"), c.get(t, "kernel")
			l := &Dense{Units: ka.Shape[1]}
			m := oneLayerModel(t, l, xa.Shape[1:], p.dt)
			if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
				t.Fatal(err)
			}
			setFromTorch(t, l, c, "kernel", "bias")
			x, y := xa.tensor(p.dt), c.get(t, "target").tensor(p.dt)
			pred, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, name+" Predict", floatsOf(pred), c.get(t, "y"))
			loss, _, err := m.Evaluate(x, y)
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, name+" Evaluate loss", []float64{loss}, c.get(t, "loss"))
			fitLoss, grads := fitGradients(t, m, x, y)
			p.check(t, name+" Fit loss", []float64{fitLoss}, c.get(t, "loss"))
			p.check(t, name+" kernel gradient", grads["dense/kernel"], c.get(t, "grad_kernel"))
			p.check(t, name+" bias gradient", grads["dense/bias"], c.get(t, "grad_bias"))
		}
	}
}

func TestBatchNormalizationTrainingMatchesTorch(t *testing.T) {
	for _, name := range []string{"batchnorm_train", "batchnorm_train_rank3"} {
		c := torchCaseNamed(t, name)
		for _, p := range precisions {
			xa := c.get(t, "x")
			l := &BatchNormalization{}
			m := oneLayerModel(t, l, xa.Shape[1:], p.dt)
			if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "mse"}); err != nil {
				t.Fatal(err)
			}
			setFromTorch(t, l, c, "gamma", "beta", "moving_mean", "moving_variance")
			x, target := xa.tensor(p.dt), c.get(t, "target").tensor(p.dt)

			// A fixed upstream gradient, through the batch statistics.
			y, gx, gw := upstreamGrads(t, l, graph.Train, x, c.get(t, "upstream").tensor(p.dt))
			p.check(t, name+" output", y, c.get(t, "y"))
			p.check(t, name+" input gradient", gx, c.get(t, "grad_x"))
			p.check(t, name+" gamma gradient", gw["gamma"], c.get(t, "grad_gamma"))
			p.check(t, name+" beta gradient", gw["beta"], c.get(t, "grad_beta"))

			// The Fit program's loss and gradients for mse.
			loss, grads := fitGradients(t, m, x, target)
			p.check(t, name+" Fit mse loss", []float64{loss}, c.get(t, "loss_mse"))
			p.check(t, name+" Fit gamma gradient", grads["batch_normalization/gamma"], c.get(t, "grad_gamma_mse"))
			p.check(t, name+" Fit beta gradient", grads["batch_normalization/beta"], c.get(t, "grad_beta_mse"))

			// One step of Fit moves the averages by Keras' rule (biased
			// variance, momentum 0.99), whatever the optimizer does.
			if _, err := m.Fit(x, target, FitConfig{BatchSize: xa.Shape[0], NoShuffle: true}); err != nil {
				t.Fatal(err)
			}
			p.check(t, name+" moving mean after a step", floatsOf(l.movingMean.Value), c.get(t, "moving_mean_after"))
			p.check(t, name+" moving variance after a step", floatsOf(l.movingVar.Value), c.get(t, "moving_variance_after"))
			if p.dt == tensor.Float64 {
				if err := closeTo(floatsOf(l.movingVar.Value), c.get(t, "torch_running_var").Data, 1e-6, 0); err == nil {
					t.Errorf("%s: the moving variance matches torch's running_var, which uses the unbiased variance", name)
				}
			}
		}
	}
}

func TestBatchNormalizationInferenceMatchesTorch(t *testing.T) {
	c := torchCaseNamed(t, "batchnorm_infer")
	for _, p := range precisions {
		xa := c.get(t, "x")
		l := &BatchNormalization{}
		m := oneLayerModel(t, l, xa.Shape[1:], p.dt)
		if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
			t.Fatal(err)
		}
		setFromTorch(t, l, c, "gamma", "beta", "moving_mean", "moving_variance")
		x := xa.tensor(p.dt)
		pred, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		p.check(t, "Predict", floatsOf(pred), c.get(t, "y"))
		y, gx, gw := upstreamGrads(t, l, graph.Infer, x, c.get(t, "upstream").tensor(p.dt))
		p.check(t, "output", y, c.get(t, "y"))
		p.check(t, "input gradient", gx, c.get(t, "grad_x"))
		p.check(t, "gamma gradient", gw["gamma"], c.get(t, "grad_gamma"))
		p.check(t, "beta gradient", gw["beta"], c.get(t, "grad_beta"))
	}
}

func TestLayerNormalizationMatchesTorch(t *testing.T) {
	for _, name := range []string{"layernorm", "layernorm_rank3"} {
		c := torchCaseNamed(t, name)
		for _, p := range precisions {
			xa := c.get(t, "x")
			l := &LayerNormalization{}
			m := oneLayerModel(t, l, xa.Shape[1:], p.dt)
			if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
				t.Fatal(err)
			}
			setFromTorch(t, l, c, "gamma", "beta")
			x := xa.tensor(p.dt)
			pred, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, name+" Predict", floatsOf(pred), c.get(t, "y"))
			for _, ph := range []graph.Phase{graph.Infer, graph.Train} {
				y, gx, gw := upstreamGrads(t, l, ph, x, c.get(t, "upstream").tensor(p.dt))
				p.check(t, name+" "+ph.String()+" output", y, c.get(t, "y"))
				p.check(t, name+" "+ph.String()+" input gradient", gx, c.get(t, "grad_x"))
				p.check(t, name+" "+ph.String()+" gamma gradient", gw["gamma"], c.get(t, "grad_gamma"))
				p.check(t, name+" "+ph.String()+" beta gradient", gw["beta"], c.get(t, "grad_beta"))
			}
		}
	}
}

// TestMLPMatchesTorch: a softmax MLP under sparse categorical
// cross-entropy gives torch's cross_entropy on the logits, with and
// without sample weights, and the same weight gradients.
func TestMLPMatchesTorch(t *testing.T) {
	c := torchCaseNamed(t, "mlp")
	for _, p := range precisions {
		h := &Dense{Units: c.get(t, "w1").Shape[1], Activation: "relu"}
		o := &Dense{Units: c.get(t, "w2").Shape[1], Activation: "softmax"}
		m := NewSequential(&Input{Shape: c.get(t, "x").Shape[1:], Dtype: p.dt.String()}, h, o)
		m.SetSeed(1)
		if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "sparse_categorical_crossentropy"}); err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			w   *graph.Weight
			key string
		}{{h.kernel, "w1"}, {h.bias, "b1"}, {o.kernel, "w2"}, {o.bias, "b2"}} {
			setWeight(t, w.w, c.get(t, w.key).Data)
		}
		x, labels := c.get(t, "x").tensor(p.dt), c.get(t, "labels").tensor(p.dt)
		probs, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		p.check(t, "probabilities", floatsOf(probs), c.get(t, "probs"))
		loss, _, err := m.Evaluate(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		p.check(t, "Evaluate loss", []float64{loss}, c.get(t, "loss"))
		loss, _, err = m.Evaluate(x, labels, EvalConfig{SampleWeight: c.get(t, "sample_weight").tensor(p.dt)})
		if err != nil {
			t.Fatal(err)
		}
		p.check(t, "Evaluate loss with sample weights", []float64{loss}, c.get(t, "loss_weighted"))
		fitLoss, grads := fitGradients(t, m, x, labels)
		p.check(t, "Fit loss", []float64{fitLoss}, c.get(t, "loss"))
		for _, g := range []struct{ weight, key string }{
			{"dense/kernel", "grad_w1"}, {"dense/bias", "grad_b1"}, {"dense_1/kernel", "grad_w2"}, {"dense_1/bias", "grad_b2"},
		} {
			p.check(t, g.weight+" gradient", grads[g.weight], c.get(t, g.key))
		}
	}
}
