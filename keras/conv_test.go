package keras

import (
	"strings"
	"testing"

	"github.com/keragon/keragon/ops"
	"gorgonia.org/tensor"
)

// convWeights lists a convolution's kernel of shape kernel and, unless
// noBias, its bias of length filters.
func convWeights(kernel []int, filters int, noBias bool) []weightSpec {
	ws := []weightSpec{{"kernel", kernel, true}}
	if !noBias {
		ws = append(ws, weightSpec{"bias", []int{filters}, true})
	}
	return ws
}

// TestConv1DContract: output lengths are worked out by hand with Keras'
// rules: valid (in−span)/stride+1, same and causal ceil(in/stride), with
// span = (k−1)·dilation+1.
func TestConv1DContract(t *testing.T) {
	for _, c := range conv1DContractCases() {
		runLayerTest(t, c)
	}
}

// conv1DContractCases are TestConv1DContract's cases (also listed in allContractCases).
func conv1DContractCases() []layerCase {
	return []layerCase{
		{name: "valid", make: func() Layer { return &Conv1D{Filters: 3, KernelSize: 3} },
			input: []int{6, 2}, output: []int{4, 3}, weights: convWeights([]int{3, 2, 3}, 3, false)},
		{name: "same", make: func() Layer { return &Conv1D{Filters: 3, KernelSize: 3, Padding: "same", Activation: "tanh"} },
			input: []int{5, 2}, output: []int{5, 3}, weights: convWeights([]int{3, 2, 3}, 3, false)},
		{name: "causal", make: func() Layer { return &Conv1D{Filters: 2, KernelSize: 3, Padding: "causal"} },
			input: []int{5, 2}, output: []int{5, 2}, weights: convWeights([]int{3, 2, 2}, 2, false)},
		// (7−3)/2+1 = 3.
		{name: "strides2_valid", make: func() Layer { return &Conv1D{Filters: 2, KernelSize: 3, Strides: 2} },
			input: []int{7, 2}, output: []int{3, 2}, weights: convWeights([]int{3, 2, 2}, 2, false)},
		// ceil(8/2) = 4 with TF's padding (0 before, 1 after).
		{name: "strides2_same", make: func() Layer { return &Conv1D{Filters: 2, KernelSize: 3, Strides: 2, Padding: "same"} },
			input: []int{8, 1}, output: []int{4, 2}, weights: convWeights([]int{3, 1, 2}, 2, false)},
		// span 5: (7−5)+1 = 3.
		{name: "dilation2_valid", make: func() Layer { return &Conv1D{Filters: 2, KernelSize: 3, DilationRate: 2, Name: "dilated"} },
			input: []int{7, 2}, output: []int{3, 2}, weights: convWeights([]int{3, 2, 2}, 2, false)},
		{name: "dilation2_causal", make: func() Layer {
			return &Conv1D{Filters: 2, KernelSize: 2, DilationRate: 2, Padding: "causal", NoBias: true, Activation: "sigmoid"}
		}, input: []int{6, 2}, output: []int{6, 2}, weights: convWeights([]int{2, 2, 2}, 2, true)},
		// A kernel longer than the input is fine with "causal" padding.
		{name: "causal_kernel_longer_than_input", make: func() Layer { return &Conv1D{Filters: 2, KernelSize: 5, Padding: "causal"} },
			input: []int{3, 2}, output: []int{3, 2}, weights: convWeights([]int{5, 2, 2}, 2, false)},
		{name: "regularized", make: func() Layer {
			return &Conv1D{Filters: 2, KernelSize: 2, KernelRegularizer: &ops.L1L2{L2: 0.1}, BiasRegularizer: &ops.L1L2{L1: 0.01},
				KernelInitializer: "he_normal", BiasInitializer: "ones"}
		}, input: []int{4, 3}, output: []int{3, 2}, weights: convWeights([]int{2, 3, 2}, 2, false)},
	}
}

func TestConv2DContract(t *testing.T) {
	for _, c := range conv2DContractCases() {
		runLayerTest(t, c)
	}
}

// conv2DContractCases are TestConv2DContract's cases (also listed in allContractCases).
func conv2DContractCases() []layerCase {
	return []layerCase{
		{name: "valid", make: func() Layer { return &Conv2D{Filters: 3, KernelSize: []int{3}} },
			input: []int{4, 5, 2}, output: []int{2, 3, 3}, weights: convWeights([]int{3, 3, 2, 3}, 3, false)},
		{name: "same", make: func() Layer { return &Conv2D{Filters: 2, KernelSize: []int{3, 2}, Padding: "same"} },
			input: []int{4, 3, 2}, output: []int{4, 3, 2}, weights: convWeights([]int{3, 2, 2, 2}, 2, false)},
		// (5−3)/2+1 = 2 along both axes.
		{name: "strides2_valid", make: func() Layer { return &Conv2D{Filters: 2, KernelSize: []int{3, 3}, Strides: []int{2, 2}} },
			input: []int{5, 5, 1}, output: []int{2, 2, 2}, weights: convWeights([]int{3, 3, 1, 2}, 2, false)},
		// ceil(6/2) = 3 (pads 0 above, 1 below), ceil(5/2) = 3 (1 and 1).
		{name: "strides2_same", make: func() Layer {
			return &Conv2D{Filters: 2, KernelSize: []int{3}, Strides: []int{2}, Padding: "same"}
		}, input: []int{6, 5, 1}, output: []int{3, 3, 2}, weights: convWeights([]int{3, 3, 1, 2}, 2, false)},
		// Span 5 along both axes: 6−5+1 = 2.
		{name: "dilation2_valid", make: func() Layer { return &Conv2D{Filters: 2, KernelSize: []int{3, 3}, DilationRate: []int{2, 2}} },
			input: []int{6, 6, 1}, output: []int{2, 2, 2}, weights: convWeights([]int{3, 3, 1, 2}, 2, false)},
		{name: "dilation2_same", make: func() Layer {
			return &Conv2D{Filters: 2, KernelSize: []int{2, 3}, DilationRate: []int{2}, Padding: "same"}
		}, input: []int{4, 4, 1}, output: []int{4, 4, 2}, weights: convWeights([]int{2, 3, 1, 2}, 2, false)},
		// With "same" padding a kernel larger than the input still gives
		// ceil(in/stride) outputs, as in Keras.
		{name: "same_kernel_larger_than_input", make: func() Layer { return &Conv2D{Filters: 2, KernelSize: []int{5}, Padding: "same"} },
			input: []int{3, 2, 1}, output: []int{3, 2, 2}, weights: convWeights([]int{5, 5, 1, 2}, 2, false)},
		{name: "no_bias", make: func() Layer { return &Conv2D{Filters: 2, KernelSize: []int{2}, NoBias: true, Name: "nb"} },
			input: []int{3, 3, 2}, output: []int{2, 2, 2}, weights: convWeights([]int{2, 2, 2, 2}, 2, true)},
		{name: "relu", make: func() Layer { return &Conv2D{Filters: 3, KernelSize: []int{2}, Activation: "relu"} },
			input: []int{3, 3, 2}, output: []int{2, 2, 3}, weights: convWeights([]int{2, 2, 2, 3}, 3, false)},
		{name: "softmax", make: func() Layer { return &Conv2D{Filters: 3, KernelSize: []int{2}, Activation: "softmax", Padding: "SAME"} },
			input: []int{2, 3, 1}, output: []int{2, 3, 3}, weights: convWeights([]int{2, 2, 1, 3}, 3, false)},
		{name: "regularized", make: func() Layer {
			return &Conv2D{Filters: 2, KernelSize: []int{2}, KernelRegularizer: &ops.L1L2{L1: 0.01, L2: 0.1}, BiasRegularizer: &ops.L1L2{L2: 0.5},
				KernelInitializer: "glorot_normal", BiasInitializer: "ones"}
		}, input: []int{3, 3, 1}, output: []int{2, 2, 2}, weights: convWeights([]int{2, 2, 1, 2}, 2, false)},
	}
}

// TestDepthwiseConv2DContract: the kernel is (kh, kw, channels,
// multiplier) and the output has channels·multiplier channels.
func TestDepthwiseConv2DContract(t *testing.T) {
	for _, c := range depthwiseConv2DContractCases() {
		runLayerTest(t, c)
	}
}

// depthwiseConv2DContractCases are TestDepthwiseConv2DContract's cases (also listed in allContractCases).
func depthwiseConv2DContractCases() []layerCase {
	return []layerCase{
		{name: "multiplier2", make: func() Layer { return &DepthwiseConv2D{KernelSize: []int{3}, DepthMultiplier: 2} },
			input: []int{4, 4, 2}, output: []int{2, 2, 4}, weights: convWeights([]int{3, 3, 2, 2}, 4, false)},
		{name: "multiplier1", make: func() Layer { return &DepthwiseConv2D{KernelSize: []int{2, 3}, Activation: "tanh"} },
			input: []int{3, 4, 3}, output: []int{2, 2, 3}, weights: convWeights([]int{2, 3, 3, 1}, 3, false)},
		{name: "same_strides2", make: func() Layer {
			return &DepthwiseConv2D{KernelSize: []int{3}, DepthMultiplier: 2, Strides: []int{2}, Padding: "same"}
		}, input: []int{4, 3, 2}, output: []int{2, 2, 4}, weights: convWeights([]int{3, 3, 2, 2}, 4, false)},
		{name: "dilation2_no_bias", make: func() Layer {
			return &DepthwiseConv2D{KernelSize: []int{2}, DepthMultiplier: 3, DilationRate: []int{2, 1}, NoBias: true}
		}, input: []int{4, 3, 1}, output: []int{2, 2, 3}, weights: convWeights([]int{2, 2, 1, 3}, 3, true)},
		{name: "regularized", make: func() Layer {
			return &DepthwiseConv2D{KernelSize: []int{2}, KernelRegularizer: &ops.L1L2{L2: 0.1}, BiasRegularizer: &ops.L1L2{L1: 0.1}}
		}, input: []int{3, 3, 2}, output: []int{2, 2, 2}, weights: convWeights([]int{2, 2, 2, 1}, 2, false)},
	}
}

// TestConv1DCausal: with "causal" padding, output step t depends on input
// steps up to t·stride only (Keras pads (k−1)·dilation zeros at the
// start), and "same" with an even span does depend on later steps: a
// layer that padded on the wrong side would pass the contract's shape and
// gradient checks but not this.
func TestConv1DCausal(t *testing.T) {
	const steps = 9
	for _, c := range []struct {
		layer  *Conv1D
		causal bool
	}{
		{&Conv1D{Filters: 2, KernelSize: 3, Padding: "causal"}, true},
		{&Conv1D{Filters: 2, KernelSize: 2, Padding: "causal", DilationRate: 3}, true},
		{&Conv1D{Filters: 2, KernelSize: 3, Padding: "causal", Strides: 2}, true},
		{&Conv1D{Filters: 2, KernelSize: 3, Padding: "same"}, false},
	} {
		l := c.layer
		m := oneLayerModel(t, l, []int{steps, 2}, tensor.Float64)
		x := randomTensor(newTestRand(3), tensor.Float64, -1, 1, 1, steps, 2)
		base, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		stride := max(l.Strides, 1)
		// Change input step s and list the output steps that move.
		for s := 0; s < steps; s++ {
			y, err := m.Predict(withValue(withValue(x, 2*s, 5), 2*s+1, -5))
			if err != nil {
				t.Fatal(err)
			}
			a, b := floatsOf(base), floatsOf(y)
			for o := 0; o < len(a)/2; o++ {
				moved := a[2*o] != b[2*o] || a[2*o+1] != b[2*o+1]
				if c.causal && moved && o*stride < s {
					t.Errorf("%+v: output step %d changed with input step %d", *l, o, s)
				}
				if c.causal && !moved && o*stride == s {
					t.Errorf("%+v: output step %d did not see its own input step %d", *l, o, s)
				}
				if !c.causal && o == s-1 && !moved {
					t.Errorf("%+v: output step %d did not see input step %d", *l, o, s)
				}
			}
		}
	}
}

// TestSharedConvOnOtherImageSizes: as in Keras, one convolution layer
// applies to images of any height and width with the channels it was
// built for, sharing its kernel; other channels are an error at Apply.
func TestSharedConvOnOtherImageSizes(t *testing.T) {
	a, b := NewInput(6, 7, 2), NewInput(4, 4, 2)
	conv := &Conv2D{Filters: 3, KernelSize: []int{3}, Padding: "same", Name: "shared"}
	m, err := NewModel([]*Tensor{a, b}, []*Tensor{Apply(conv, a), Apply(conv, b)})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	m.SetSeed(1)
	if n := len(m.Weights()); n != 2 {
		t.Errorf("%d weights, want the shared kernel and bias", n)
	}
	xa := randomTensor(newTestRand(1), tensor.Float32, -1, 1, 2, 6, 7, 2)
	xb := randomTensor(newTestRand(2), tensor.Float32, -1, 1, 2, 4, 4, 2)
	ys, err := m.PredictMulti([]*tensor.Dense{xa, xb})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	// Each output is what a model of the one layer gives.
	for i, x := range []*tensor.Dense{xa, xb} {
		single, err := NewModel([]*Tensor{[]*Tensor{a, b}[i]}, []*Tensor{Apply(conv, []*Tensor{a, b}[i])})
		if err != nil {
			t.Fatal(err)
		}
		want, err := single.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := identicalBits(ys[i], want); err != nil {
			t.Errorf("output %d: %v", i, err)
		}
	}
	if err := Apply(conv, NewInput(6, 7, 3)).Err(); err == nil || !strings.Contains(err.Error(), "2") || !strings.Contains(err.Error(), "3") {
		t.Errorf("shared Conv2D built for 2 channels, applied to 3: error %v, want one naming 2 and 3", err)
	}
}

// TestConvBadInput: a badly configured or badly fed convolution is an
// error at model construction that names the layer (its name and class)
// and echoes the bad value, never a panic.
func TestConvBadInput(t *testing.T) {
	cases := []struct {
		name  string
		input []int
		layer Layer
		want  []string
	}{
		{"Conv2D on rank-2 samples", []int{8, 3}, &Conv2D{Filters: 2, KernelSize: []int{3}},
			[]string{`layer "conv2d" (Conv2D)`, "(height, width, channels)", "(None, 8, 3)"}},
		{"Conv2D on rank-4 samples", []int{4, 4, 4, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, Name: "c"},
			[]string{`layer "c" (Conv2D)`, "(None, 4, 4, 4, 1)"}},
		{"Conv1D on images", []int{4, 4, 1}, &Conv1D{Filters: 2, KernelSize: 3},
			[]string{`layer "conv1d" (Conv1D)`, "(steps, channels)", "(None, 4, 4, 1)"}},
		{"DepthwiseConv2D on sequences", []int{8, 3}, &DepthwiseConv2D{KernelSize: []int{3}},
			[]string{`layer "depthwise_conv2d" (DepthwiseConv2D)`, "(None, 8, 3)"}},
		{"Conv2D kernel taller than the input, valid", []int{4, 6, 1}, &Conv2D{Filters: 2, KernelSize: []int{5, 3}},
			[]string{`(Conv2D)`, "window of 5", "input of 4", `"valid"`}},
		{"Conv2D dilated kernel wider than the input", []int{6, 4, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, DilationRate: []int{2}},
			[]string{`(Conv2D)`, "window of 5", "input of 4"}},
		{"Conv1D kernel longer than the input", []int{3, 2}, &Conv1D{Filters: 2, KernelSize: 4},
			[]string{`(Conv1D)`, "window of 4", "input of 3"}},
		{"DepthwiseConv2D kernel larger than the input", []int{2, 2, 1}, &DepthwiseConv2D{KernelSize: []int{3}},
			[]string{`(DepthwiseConv2D)`, "window of 3", "input of 2"}},
		{"Conv2D bad padding", []int{4, 4, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, Padding: "full"},
			[]string{`(Conv2D)`, `unknown padding "full"`}},
		{"Conv2D causal padding", []int{4, 4, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, Padding: "causal"},
			[]string{`(Conv2D)`, `"causal"`}},
		{"Conv1D bad padding", []int{6, 1}, &Conv1D{Filters: 2, KernelSize: 3, Padding: "reflect"},
			[]string{`(Conv1D)`, `unknown padding "reflect"`}},
		{"DepthwiseConv2D bad padding", []int{4, 4, 1}, &DepthwiseConv2D{KernelSize: []int{3}, Padding: "vaild"},
			[]string{`(DepthwiseConv2D)`, `unknown padding "vaild"`}},
		{"Conv2D negative strides", []int{6, 6, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, Strides: []int{-1, 2}},
			[]string{`(Conv2D)`, "strides must be positive", "[-1 2]"}},
		{"Conv2D zero strides", []int{6, 6, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, Strides: []int{0}},
			[]string{`(Conv2D)`, "strides must be positive", "0"}},
		{"Conv1D negative strides", []int{6, 1}, &Conv1D{Filters: 2, KernelSize: 3, Strides: -2},
			[]string{`(Conv1D)`, "-2"}},
		{"Conv1D negative dilation", []int{6, 1}, &Conv1D{Filters: 2, KernelSize: 3, DilationRate: -1},
			[]string{`(Conv1D)`, "-1"}},
		{"DepthwiseConv2D negative strides", []int{6, 6, 1}, &DepthwiseConv2D{KernelSize: []int{3}, Strides: []int{-2}},
			[]string{`(DepthwiseConv2D)`, "strides must be positive", "-2"}},
		{"Conv2D negative dilation", []int{6, 6, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, DilationRate: []int{1, -1}},
			[]string{`(Conv2D)`, "dilation_rate must be positive", "[1 -1]"}},
		{"Conv2D three kernel numbers", []int{6, 6, 1}, &Conv2D{Filters: 2, KernelSize: []int{3, 3, 3}},
			[]string{`(Conv2D)`, "kernel_size needs 2 numbers", "[3 3 3]"}},
		{"Conv2D no kernel size", []int{6, 6, 1}, &Conv2D{Filters: 2},
			[]string{`(Conv2D)`, "KernelSize"}},
		{"Conv2D no filters", []int{6, 6, 1}, &Conv2D{KernelSize: []int{3}},
			[]string{`(Conv2D)`, "positive Filters, got 0"}},
		{"Conv1D negative filters", []int{6, 1}, &Conv1D{Filters: -3, KernelSize: 3},
			[]string{`(Conv1D)`, "positive Filters, got -3"}},
		{"Conv1D no kernel size", []int{6, 1}, &Conv1D{Filters: 3},
			[]string{`(Conv1D)`, "KernelSize"}},
		{"DepthwiseConv2D negative multiplier", []int{6, 6, 1}, &DepthwiseConv2D{KernelSize: []int{3}, DepthMultiplier: -2},
			[]string{`(DepthwiseConv2D)`, "depth multiplier", "-2"}},
		{"Conv2D unknown activation", []int{6, 6, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, Activation: "rleu"},
			[]string{`(Conv2D)`, `"rleu"`}},
		{"Conv2D unknown initializer", []int{6, 6, 1}, &Conv2D{Filters: 2, KernelSize: []int{3}, KernelInitializer: "glorot"},
			[]string{`"conv2d"`, `"glorot"`}},
	}
	for _, c := range cases {
		err := noPanic(t, c.name, func() error {
			return NewSequential(&Input{Shape: c.input}, c.layer).Err()
		})
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to contain %q", c.name, err, w)
			}
		}
	}
}

// TestDepthwiseConv2DErrorsSayDepthwise: DepthwiseConv2D checks its
// configuration through a Conv2D, and the messages say so ("keras: Conv2D
// needs a KernelSize" for a DepthwiseConv2D): they should name the class
// the user wrote.
func TestDepthwiseConv2DErrorsSayDepthwise(t *testing.T) {
	for i, c := range []struct {
		input []int
		layer *DepthwiseConv2D
	}{
		{[]int{8, 3}, &DepthwiseConv2D{KernelSize: []int{3}}},
		{[]int{6, 6, 1}, &DepthwiseConv2D{}},
		{[]int{6, 6, 1}, &DepthwiseConv2D{KernelSize: []int{3}, Strides: []int{-2}}},
		{[]int{6, 6, 1}, &DepthwiseConv2D{KernelSize: []int{3}, Padding: "causal"}},
	} {
		err := NewSequential(&Input{Shape: c.input}, c.layer).Err()
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if msg := strings.ReplaceAll(err.Error(), "DepthwiseConv2D", ""); strings.Contains(msg, "Conv2D") {
			t.Errorf("case %d: error %q speaks of a Conv2D", i, err)
		}
	}
}
