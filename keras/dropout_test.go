package keras

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestDropoutContract(t *testing.T) {
	for _, c := range dropoutContractCases() {
		runLayerTest(t, c)
	}
}

// dropoutContractCases are TestDropoutContract's cases (also listed in allContractCases).
func dropoutContractCases() []layerCase {
	return []layerCase{
		{name: "rate_0.3", make: func() Layer { return &Dropout{Rate: 0.3} }, input: []int{4}, output: []int{4}},
		{name: "rate_0.5_rank3", make: func() Layer { return &Dropout{Rate: 0.5, Name: "drop"} }, input: []int{2, 3}, output: []int{2, 3}},
		{name: "rate_0", make: func() Layer { return &Dropout{} }, input: []int{3}, output: []int{3}},
	}
}

// TestDropoutInferenceIsIdentity: Predict and Evaluate leave inputs as
// they are, bit for bit.
func TestDropoutInferenceIsIdentity(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m := oneLayerModel(t, &Dropout{Rate: 0.6}, []int{5}, dt)
		x := randomTensor(rand.New(rand.NewPCG(1, 0)), dt, -3, 3, 40, 5)
		y, err := m.Predict(x, EvalConfig{BatchSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		if err := identicalBits(y, x); err != nil {
			t.Errorf("%v: Predict through Dropout changed the input: %v", dt, err)
		}
	}
}

// dropoutTrainRun runs a training-phase graph of Dropout{rate} on x and
// returns the output and the gradient of Σ output with respect to x.
func dropoutTrainRun(t *testing.T, rate float64, x *tensor.Dense, seed uint64) (out, grad []float64) {
	t.Helper()
	l := &Dropout{Rate: rate}
	oneLayerModel(t, l, x.Shape()[1:], tensor.Float64)
	ctx := graph.NewContext(graph.Train, x.Shape()[0], tensor.Float64, rand.New(rand.NewPCG(seed, 0)))
	xw := graph.NewWeight("x", tensor.Float64, x.Shape(), nil, true)
	if err := xw.Set(x); err != nil {
		t.Fatal(err)
	}
	xn, _ := ctx.Param(xw)
	y, err := l.Call(ctx, []*gorgonia.Node{xn})
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.Compile(ctx, graph.Spec{Outputs: []*gorgonia.Node{y}, Loss: gorgonia.Must(gorgonia.Sum(y)), Grad: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	o, _ := p.Output(0)
	g, err := p.Gradients()
	if err != nil || len(g) != 1 {
		t.Fatalf("gradients %v, %v; want one", g, err)
	}
	return append([]float64(nil), floatsOf(o)...), append([]float64(nil), floatsOf(materialized(g[0].Value))...)
}

// TestDropoutTrainingStatistics: in training each value is dropped with
// probability Rate and the others are scaled by 1/(1−Rate), so the mean is
// kept; the gradient is the mask; a new mask is drawn every run.
func TestDropoutTrainingStatistics(t *testing.T) {
	const n, d = 100, 100 // 10,000 draws
	ones := make([]float64, n*d)
	for i := range ones {
		ones[i] = 1
	}
	x := denseOf(tensor.Float64, ones, n, d)
	for _, rate := range []float64{0.1, 0.3, 0.5, 0.9} {
		out, grad := dropoutTrainRun(t, rate, x, 5)
		keep := 1 / (1 - rate)
		zeros, sum := 0, 0.0
		for i, v := range out {
			switch v {
			case 0:
				zeros++
			case keep:
			default:
				t.Fatalf("rate %v: output %d is %v, want 0 or 1/(1−rate) = %v", rate, i, v, keep)
			}
			sum += v
			// x is all ones, so d(Σ out)/dx = mask = out.
			if grad[i] != v {
				t.Fatalf("rate %v: gradient %d is %v, want the mask value %v", rate, i, grad[i], v)
			}
		}
		// The dropped fraction is Binomial(10⁴, rate)/10⁴: allow 5 σ.
		sigma := math.Sqrt(rate * (1 - rate) / float64(n*d))
		if got := float64(zeros) / float64(n*d); math.Abs(got-rate) > 5*sigma {
			t.Errorf("rate %v: dropped fraction %v, want %v ± %v", rate, got, rate, 5*sigma)
		}
		// The mean is keep·(kept fraction): 1 within 5 σ·keep.
		if mean := sum / float64(n*d); math.Abs(mean-1) > 5*sigma*keep {
			t.Errorf("rate %v: mean output %v, want 1 ± %v", rate, mean, 5*sigma*keep)
		}
	}
	a, _ := dropoutTrainRun(t, 0.5, x, 5)
	b, _ := dropoutTrainRun(t, 0.5, x, 6)
	if a[0] == b[0] && sameFloats(a, b) {
		t.Error("two seeds gave the same dropout mask")
	}
}

// TestDropoutMaskChangesEveryStep: the Fit program draws a new mask for
// each run, from the model's seed.
func TestDropoutMaskChangesEveryStep(t *testing.T) {
	m := oneLayerModel(t, &Dropout{Rate: 0.5}, []int{50}, tensor.Float32)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	x := randomTensor(rand.New(rand.NewPCG(1, 0)), tensor.Float32, 1, 2, 4, 50)
	var outs [][]float64
	for i := 0; i < 2; i++ {
		if err := p.Run(x, x, onesTensor(tensor.Float32, 4)); err != nil {
			t.Fatal(err)
		}
		o, _ := p.Output(0)
		outs = append(outs, append([]float64(nil), floatsOf(o)...))
	}
	if sameFloats(outs[0], outs[1]) {
		t.Error("two training runs used the same dropout mask")
	}
}

func TestDropoutRateErrors(t *testing.T) {
	for _, rate := range []float64{1, 1.5, -0.1, math.NaN()} {
		m := NewSequential(&Input{Shape: []int{3}}, &Dropout{Rate: rate})
		err := m.Err()
		if err == nil || !strings.Contains(err.Error(), "Dropout rate must be in [0, 1)") {
			t.Errorf("rate %v: error %v, want one about the range [0, 1)", rate, err)
		}
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
