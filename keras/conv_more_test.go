package keras

import (
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

func TestSeparableAndTransposeContract(t *testing.T) {
	for _, c := range separableTransposeContractCases() {
		runLayerTest(t, c)
	}
}

// separableTransposeContractCases are TestSeparableAndTransposeContract's
// cases (also listed in allContractCases).
func separableTransposeContractCases() []layerCase {
	return []layerCase{
		{name: "SeparableConv2D", make: func() Layer {
			return &SeparableConv2D{Filters: 3, KernelSize: []int{2}, DepthMultiplier: 2, Activation: "tanh"}
		}, input: []int{4, 5, 2}, output: []int{3, 4, 3}, weights: []weightSpec{
			{"depthwise_kernel", []int{2, 2, 2, 2}, true}, {"pointwise_kernel", []int{1, 1, 4, 3}, true}, {"bias", []int{3}, true}}},
		{name: "Conv2DTranspose output padding", make: func() Layer {
			return &Conv2DTranspose{Filters: 2, KernelSize: []int{3}, Strides: []int{2}, Padding: "same", OutputPadding: []int{1, 0}}
		}, input: []int{2, 3, 2}, output: []int{4, 5, 2}, weights: []weightSpec{{"kernel", []int{3, 3, 2, 2}, true}, {"bias", []int{2}, true}}},
		{name: "Conv1DTranspose", make: func() Layer { return &Conv1DTranspose{Filters: 2, KernelSize: 2, Strides: 2} },
			input: []int{3, 2}, output: []int{6, 2}, weights: []weightSpec{{"kernel", []int{2, 2, 2}, true}, {"bias", []int{2}, true}}},
	}
}

func TestSeparableAndTransposeMatchTorch(t *testing.T) {
	ref := torchFile(t, "torch_conv_more")
	cases := map[string]struct {
		l       func() Layer
		weights []string
	}{
		"separable_valid": {func() Layer {
			return &SeparableConv2D{Filters: 4, KernelSize: []int{3, 2}, DepthMultiplier: 2}
		}, []string{"depthwise_kernel", "pointwise_kernel", "bias"}},
		"separable_same_strided": {func() Layer {
			return &SeparableConv2D{Filters: 3, KernelSize: []int{3}, Strides: []int{2}, Padding: "same"}
		}, []string{"depthwise_kernel", "pointwise_kernel", "bias"}},
		"separable_dilated": {func() Layer {
			return &SeparableConv2D{Filters: 2, KernelSize: []int{2, 3}, DepthMultiplier: 3, DilationRate: []int{2, 1}}
		}, []string{"depthwise_kernel", "pointwise_kernel", "bias"}},
		"transpose_valid": {func() Layer {
			return &Conv2DTranspose{Filters: 3, KernelSize: []int{3, 2}, Strides: []int{2}}
		}, []string{"kernel", "bias"}},
		"transpose_same": {func() Layer {
			return &Conv2DTranspose{Filters: 2, KernelSize: []int{3}, Strides: []int{2}, Padding: "same"}
		}, []string{"kernel", "bias"}},
		"transpose_same_output_padding": {func() Layer {
			return &Conv2DTranspose{Filters: 3, KernelSize: []int{3}, Strides: []int{2, 3}, Padding: "same", OutputPadding: []int{1, 2}}
		}, []string{"kernel", "bias"}},
		"transpose_valid_output_padding": {func() Layer {
			return &Conv2DTranspose{Filters: 2, KernelSize: []int{2, 3}, Strides: []int{3, 2}, OutputPadding: []int{2, 0}}
		}, []string{"kernel", "bias"}},
		"transpose_dilated_output_padding": {func() Layer {
			return &Conv2DTranspose{Filters: 2, KernelSize: []int{2}, Strides: []int{2}, DilationRate: []int{2, 1}, OutputPadding: []int{1}}
		}, []string{"kernel", "bias"}},
		"transpose1d_same_output_padding": {func() Layer {
			return &Conv1DTranspose{Filters: 2, KernelSize: 3, Strides: 3, Padding: "same", OutputPadding: []int{2}}
		}, []string{"kernel", "bias"}},
	}
	for name, c := range cases {
		tc, ok := ref[name]
		if !ok {
			t.Fatalf("torch_conv_more.json has no case %q", name)
		}
		x := tc.get(t, "x")
		for _, p := range precisions {
			l := c.l()
			builtOn(t, l, p.dt, x.Shape[1:])
			if s, err := l.OutputShape([]Shape{x.Shape[1:]}); err != nil || !s.Equal(tc.get(t, "y").Shape[1:]) {
				t.Errorf("%s: output shape %v (%v), want %v", name, s, err, tc.get(t, "y").Shape[1:])
				continue
			}
			setFromTorch(t, l, tc, c.weights...)
			r := layerRunAll(t, l, graph.Infer, p.dt, []*tensor.Dense{x.tensor(tensor.Float64)}, nil, tc.get(t, "up").tensor(tensor.Float64))
			what := name + "/" + p.dt.String()
			p.check(t, what+" output", r.outputs[0], tc.get(t, "y"))
			p.check(t, what+" input gradient", r.grads[0], tc.get(t, "grad_x"))
			for _, w := range c.weights {
				p.check(t, what+" gradient of "+w, r.wgrads[w], tc.get(t, "grad_"+w))
			}
		}
	}
}

func TestTransposeOutputPaddingErrors(t *testing.T) {
	for i, c := range []struct {
		l    Layer
		in   Shape
		want string
	}{
		{&Conv2DTranspose{Filters: 1, KernelSize: []int{3}, Strides: []int{2}, OutputPadding: []int{2}}, Shape{3, 3, 1}, "less than the stride 2"},
		{&Conv2DTranspose{Filters: 1, KernelSize: []int{3}, OutputPadding: []int{0, 0, 0}}, Shape{3, 3, 1}, "must be 2 number(s)"},
		{&Conv1DTranspose{Filters: 1, KernelSize: 3, OutputPadding: []int{-1}}, Shape{3, 1}, "must not be negative"},
		{&Conv2DTranspose{Filters: 1, KernelSize: []int{3}, Padding: "causal"}, Shape{3, 3, 1}, `padding "causal"`},
	} {
		if _, err := c.l.OutputShape([]Shape{c.in}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: %v, want an error containing %q", i, err, c.want)
		}
	}
	// Keras' None and 0 differ: valid, kernel 2 < stride 3: 3·3 = 9 against (3−1)·3 + 2 = 8.
	for _, c := range []struct {
		op   []int
		want int
	}{{nil, 9}, {[]int{0}, 8}} {
		s, err := (&Conv1DTranspose{Filters: 1, KernelSize: 2, Strides: 3, OutputPadding: c.op}).OutputShape([]Shape{{3, 1}})
		if err != nil || s[0] != c.want {
			t.Errorf("output padding %v: %v (%v), want %d steps", c.op, s, err, c.want)
		}
	}
}
