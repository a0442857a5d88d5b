package keras

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

func bnWeights(c int, scale, center bool) []weightSpec {
	var ws []weightSpec
	if scale {
		ws = append(ws, weightSpec{"gamma", []int{c}, true})
	}
	if center {
		ws = append(ws, weightSpec{"beta", []int{c}, true})
	}
	return append(ws, weightSpec{"moving_mean", []int{c}, false}, weightSpec{"moving_variance", []int{c}, false})
}

// TestBatchNormalizationContract checks the gradient in the training phase
// (through the batch mean and variance) and in inference (moving averages).
func TestBatchNormalizationContract(t *testing.T) {
	for _, c := range batchNormContractCases() {
		runLayerTest(t, c)
	}
}

// batchNormContractCases are TestBatchNormalizationContract's cases (also listed in allContractCases).
func batchNormContractCases() []layerCase {
	return []layerCase{
		{name: "rank2", make: func() Layer { return &BatchNormalization{} }, input: []int{4}, output: []int{4}, weights: bnWeights(4, true, true)},
		{name: "rank3_channels_last", make: func() Layer { return &BatchNormalization{Momentum: Float(0.9), Epsilon: 0.01} },
			input: []int{2, 3}, output: []int{2, 3}, weights: bnWeights(3, true, true)},
		{name: "rank4", make: func() Layer { return &BatchNormalization{Name: "bn"} }, input: []int{2, 2, 2}, output: []int{2, 2, 2}, weights: bnWeights(2, true, true)},
		{name: "no_scale", make: func() Layer { return &BatchNormalization{NoScale: true} }, input: []int{3}, output: []int{3}, weights: bnWeights(3, false, true)},
		{name: "no_center", make: func() Layer { return &BatchNormalization{NoCenter: true} }, input: []int{3}, output: []int{3}, weights: bnWeights(3, true, false)},
		{name: "state_only", make: func() Layer { return &BatchNormalization{NoCenter: true, NoScale: true} }, input: []int{3}, output: []int{3}, weights: bnWeights(3, false, false)},
	}
}

func TestLayerNormalizationContract(t *testing.T) {
	for _, c := range layerNormContractCases() {
		runLayerTest(t, c)
	}
}

// layerNormContractCases are TestLayerNormalizationContract's cases (also listed in allContractCases).
func layerNormContractCases() []layerCase {
	ln := func(c int, scale, center bool) []weightSpec {
		return bnWeights(c, scale, center)[:btoi(scale)+btoi(center)]
	}
	return []layerCase{
		{name: "rank2", make: func() Layer { return &LayerNormalization{} }, input: []int{4}, output: []int{4}, weights: ln(4, true, true)},
		{name: "rank3", make: func() Layer { return &LayerNormalization{Epsilon: 1e-5, Name: "ln"} }, input: []int{2, 3}, output: []int{2, 3}, weights: ln(3, true, true)},
		{name: "no_scale", make: func() Layer { return &LayerNormalization{NoScale: true} }, input: []int{3}, output: []int{3}, weights: ln(3, false, true)},
		{name: "no_center", make: func() Layer { return &LayerNormalization{NoCenter: true} }, input: []int{3}, output: []int{3}, weights: ln(3, true, false)},
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setWeight copies float64 values into a weight of either dtype.
func setWeight(t *testing.T, w *graph.Weight, v []float64) {
	t.Helper()
	if err := w.Set(denseOf(w.Dtype, v, w.Shape...)); err != nil {
		t.Fatal(err)
	}
}

// channelStats returns the per-channel (last axis) mean and biased variance.
func channelStats(v []float64, c int) (mean, variance []float64) {
	mean, variance = make([]float64, c), make([]float64, c)
	n := float64(len(v) / c)
	for i, x := range v {
		mean[i%c] += x / n
	}
	for i, x := range v {
		d := x - mean[i%c]
		variance[i%c] += d * d / n
	}
	return mean, variance
}

// TestBatchNormalizationByHand checks the three things BatchNormalization
// does, on a rank-3 (channels-last) input, against the formulas:
// training output from the batch statistics, the moving averages after one
// step (with the biased variance, as Keras), and the inference output from
// the moving averages.
func TestBatchNormalizationByHand(t *testing.T) {
	const n, steps, c = 5, 2, 3
	const eps, momentum = 0.01, 0.8
	gamma, beta := []float64{0.5, 2, -1}, []float64{0.1, -0.2, 0.3}
	mm, mv := []float64{0.2, -0.1, 0.4}, []float64{1.5, 0.7, 2.2}
	x := randomTensor(rand.New(rand.NewPCG(3, 0)), tensor.Float64, -2, 3, n, steps, c)
	xs := floatsOf(x)
	mean, variance := channelStats(xs, c)

	l := &BatchNormalization{Momentum: Float(momentum), Epsilon: eps}
	m := oneLayerModel(t, l, []int{steps, c}, tensor.Float64)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		w *graph.Weight
		v []float64
	}{{l.gamma, gamma}, {l.beta, beta}, {l.movingMean, mm}, {l.movingVar, mv}} {
		setWeight(t, w.w, w.v)
	}

	// Inference: (x − moving mean)/sqrt(moving var + ε)·γ + β.
	got, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(xs))
	for i, v := range xs {
		k := i % c
		want[i] = (v-mm[k])/math.Sqrt(mv[k]+eps)*gamma[k] + beta[k]
	}
	if err := closeTo(floatsOf(got), want, 1e-12, 1e-12); err != nil {
		t.Errorf("inference output: %v", err)
	}

	// Training: the same with the batch's mean and biased variance.
	p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(x, x, onesTensor(tensor.Float64, n)); err != nil {
		t.Fatal(err)
	}
	out, _ := p.Output(0)
	for i, v := range xs {
		k := i % c
		want[i] = (v-mean[k])/math.Sqrt(variance[k]+eps)*gamma[k] + beta[k]
	}
	if err := closeTo(floatsOf(out), want, 1e-12, 1e-12); err != nil {
		t.Errorf("training output: %v", err)
	}

	// One Fit step: moving = momentum·moving + (1 − momentum)·batch
	// statistic, with the biased variance.
	if _, err := m.Fit(x, x, FitConfig{BatchSize: n, NoShuffle: true}); err != nil {
		t.Fatal(err)
	}
	wantMean, wantVar := make([]float64, c), make([]float64, c)
	for k := 0; k < c; k++ {
		wantMean[k] = momentum*mm[k] + (1-momentum)*mean[k]
		wantVar[k] = momentum*mv[k] + (1-momentum)*variance[k]
	}
	if err := closeTo(floatsOf(l.movingMean.Value), wantMean, 1e-14, 1e-12); err != nil {
		t.Errorf("moving mean after a step: %v", err)
	}
	if err := closeTo(floatsOf(l.movingVar.Value), wantVar, 1e-14, 1e-12); err != nil {
		t.Errorf("moving variance after a step: %v", err)
	}

	// Evaluate and Predict never move the averages.
	before := snapshot([]*graph.Weight{l.movingMean, l.movingVar})
	if _, _, err := m.Evaluate(x, x); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Predict(x); err != nil {
		t.Fatal(err)
	}
	if after := snapshot([]*graph.Weight{l.movingMean, l.movingVar}); !sameFloats(after[0], before[0]) || !sameFloats(after[1], before[1]) {
		t.Errorf("inference moved the moving averages: %v → %v", before, after)
	}
}

// TestLayerNormalizationByHand: each sample is normalised over its last
// axis, the same in training and inference.
func TestLayerNormalizationByHand(t *testing.T) {
	const n, c, eps = 4, 5, 1e-3
	gamma, beta := []float64{1, 0.5, -2, 3, 0.1}, []float64{0, 1, -1, 0.5, 0.2}
	x := randomTensor(rand.New(rand.NewPCG(4, 0)), tensor.Float64, -3, 3, n, c)
	xs := floatsOf(x)
	want := make([]float64, len(xs))
	for r := 0; r < n; r++ {
		row := xs[r*c : (r+1)*c]
		mean, variance := channelStats(row, 1)
		for k, v := range row {
			want[r*c+k] = (v-mean[0])/math.Sqrt(variance[0]+eps)*gamma[k] + beta[k]
		}
	}
	l := &LayerNormalization{}
	m := oneLayerModel(t, l, []int{c}, tensor.Float64)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	setWeight(t, l.gamma, gamma)
	setWeight(t, l.beta, beta)
	got, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := closeTo(floatsOf(got), want, 1e-12, 1e-12); err != nil {
		t.Errorf("inference: %v", err)
	}
	p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(x, x, onesTensor(tensor.Float64, n)); err != nil {
		t.Fatal(err)
	}
	out, _ := p.Output(0)
	if err := closeTo(floatsOf(out), want, 1e-12, 1e-12); err != nil {
		t.Errorf("training: %v", err)
	}
}

func TestNormalizationConfigErrors(t *testing.T) {
	cases := []struct {
		layer Layer
		want  string
	}{
		{&BatchNormalization{Momentum: Float(1)}, "0 <= momentum < 1 and epsilon >= 0, got 1 and 0"},
		{&BatchNormalization{Momentum: Float(-0.5)}, "got -0.5 and 0"},
		{&BatchNormalization{Epsilon: -1e-3}, "got 0.99 and -0.001"},
		{&BatchNormalization{Momentum: Float(math.NaN())}, "got NaN and 0"},
		{&BatchNormalization{Epsilon: math.NaN()}, "got 0.99 and NaN"},
		{&LayerNormalization{Epsilon: -1}, "epsilon >= 0 (shape (None, 3), epsilon -1)"},
		{&LayerNormalization{Epsilon: math.NaN()}, "epsilon NaN"},
	}
	for i, c := range cases {
		m := NewSequential(&Input{Shape: []int{3}}, c.layer)
		if err := m.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d (%+v): error %v, want it to contain %q", i, c.layer, err, c.want)
		}
	}
}
