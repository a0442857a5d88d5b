package onnx

import (
	"math"
	"strings"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// layerOp exports one application of a layer; out is its (first)
// output's shape.
func (e *exporter) layerOp(l keras.Layer, in []exported, shapes []keras.Shape, out keras.Shape) ([]exported, error) {
	one := func(name string, cf bool, err error) ([]exported, error) {
		if err != nil {
			return nil, err
		}
		return []exported{{name: name, cf: cf, rank: len(out) + 1}}, nil
	}
	x := in[0]
	switch l := l.(type) {
	case *keras.Dense:
		return one(e.dense(l, x, shapes[0]))
	case *keras.Conv2D:
		return one(e.conv(l, x, shapes[0], l.Filters, l.KernelSize, l.Strides, l.DilationRate, l.Padding, l.Activation, 1))
	case *keras.Conv1D:
		return one(e.conv(l, x, shapes[0], l.Filters, []int{l.KernelSize}, []int{max(l.Strides, 1)}, []int{max(l.DilationRate, 1)}, l.Padding, l.Activation, 1))
	case *keras.DepthwiseConv2D:
		mult := max(l.DepthMultiplier, 1)
		return one(e.conv(l, x, shapes[0], shapes[0][2]*mult, l.KernelSize, l.Strides, l.DilationRate, l.Padding, l.Activation, shapes[0][2]))
	case *keras.MaxPooling2D:
		return one(e.pool("MaxPool", x, shapes[0], l.PoolSize, l.Strides, l.Padding))
	case *keras.AveragePooling2D:
		return one(e.pool("AveragePool", x, shapes[0], l.PoolSize, l.Strides, l.Padding))
	case *keras.MaxPooling1D:
		return one(e.pool("MaxPool", x, shapes[0], intList(l.PoolSize), intList(l.Strides), l.Padding))
	case *keras.AveragePooling1D:
		return one(e.pool("AveragePool", x, shapes[0], intList(l.PoolSize), intList(l.Strides), l.Padding))
	case *keras.GlobalAveragePooling2D, *keras.GlobalAveragePooling1D:
		p := e.op("GlobalAveragePool", []string{e.channelsFirst(x)})
		return one(e.op("Flatten", []string{p}, "axis", 1), false, nil)
	case *keras.GlobalMaxPooling2D, *keras.GlobalMaxPooling1D:
		p := e.op("GlobalMaxPool", []string{e.channelsFirst(x)})
		return one(e.op("Flatten", []string{p}, "axis", 1), false, nil)
	case *keras.BatchNormalization:
		return one(e.batchNorm(l, x, shapes[0]))
	case *keras.LayerNormalization:
		return one(e.layerNorm(l, x, shapes[0]))
	case *keras.Embedding:
		if l.MaskZero {
			return nil, errors.New("MaskZero has no ONNX export (masks are Keragon's)")
		}
		table := e.floats(e.layer+"/embeddings", []int{l.InputDim, l.OutputDim}, weight(l, "embeddings"))
		ids := e.op("Cast", []string{e.keras(x)}, "to", dtInt64)
		return one(e.op("Gather", []string{table, ids}, "axis", 0), false, nil)
	case *keras.Activation:
		return one(e.activation(l.Activation, x))
	case *keras.LeakyReLU:
		a := 0.3 // Keras' layer default
		if l.NegativeSlope != nil {
			a = *l.NegativeSlope
		}
		return one(e.op("LeakyRelu", []string{x.name}, "alpha", a), x.cf, nil)
	case *keras.Dropout:
		if l.Rate == 0 {
			return []exported{x}, nil
		}
		ratio := e.floats(e.layer+"/ratio", nil, []float32{float32(l.Rate)})
		return one(e.op("Dropout", []string{x.name, ratio}), x.cf, nil)
	case *keras.Flatten:
		return one(e.op("Flatten", []string{e.keras(x)}, "axis", 1), false, nil)
	case *keras.Reshape:
		target := []int64{0}
		for _, d := range out {
			target = append(target, int64(d))
		}
		return one(e.op("Reshape", []string{e.keras(x), e.ints(e.layer+"/shape", target...)}), false, nil)
	case *keras.ZeroPadding2D:
		p := []int64{0, 0, 0, 0, 0, 0, 0, 0}
		h, w := out[0]-shapes[0][0], out[1]-shapes[0][1]
		top, left := l.Padding, l.Padding
		switch len(l.Padding) {
		case 0:
			top, left = []int{1}, []int{1}
		case 2:
			top, left = l.Padding[:1], l.Padding[1:]
		case 4:
			top, left = l.Padding[:1], l.Padding[2:3]
		}
		p[2], p[3] = int64(top[0]), int64(left[0])
		p[6], p[7] = int64(h-top[0]), int64(w-left[0])
		pads := e.ints(e.layer+"/pads", p...)
		return one(e.op("Pad", []string{e.channelsFirst(x), pads}, "mode", "constant"), true, nil)
	case *keras.Add:
		return e.merge("Add", in, shapes, out)
	case *keras.Subtract:
		return e.merge("Sub", in, shapes, out)
	case *keras.Multiply:
		return e.merge("Mul", in, shapes, out)
	case *keras.Average:
		return e.merge("Mean", in, shapes, out)
	case *keras.Maximum:
		return e.merge("Max", in, shapes, out)
	case *keras.Minimum:
		return e.merge("Min", in, shapes, out)
	case *keras.Concatenate:
		return e.concatenate(l, in, out)
	case *keras.LSTM, *keras.GRU, *keras.SimpleRNN:
		return e.recurrent(l, in, shapes[0])
	case *keras.Bidirectional:
		return e.bidirectional(l, in, shapes[0])
	}
	return nil, errors.Errorf("layer class %s has no ONNX export (exported: Dense, Conv1D, Conv2D, DepthwiseConv2D, the pooling layers, BatchNormalization, LayerNormalization, Embedding, Activation, LeakyReLU, Dropout, Flatten, Reshape, ZeroPadding2D, SimpleRNN, LSTM, GRU, Bidirectional, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate)", keras.ClassName(l))
}

func intList(x int) []int {
	if x == 0 {
		return nil
	}
	return []int{x}
}

// activation applies a Keragon activation by name to x, in x's layout.
func (e *exporter) activation(name string, x exported) (string, bool, error) {
	axis := -1
	if x.cf {
		axis = 1
	}
	v := x.name
	scalar := func(s string, f float32) string { return e.floats(e.layer+"/"+s, nil, []float32{f}) }
	switch strings.ToLower(name) {
	case "", "linear":
		return v, x.cf, nil
	case "relu":
		return e.op("Relu", []string{v}), x.cf, nil
	case "sigmoid":
		return e.op("Sigmoid", []string{v}), x.cf, nil
	case "tanh":
		return e.op("Tanh", []string{v}), x.cf, nil
	case "softplus":
		return e.op("Softplus", []string{v}), x.cf, nil
	case "softsign":
		return e.op("Softsign", []string{v}), x.cf, nil
	case "exponential":
		return e.op("Exp", []string{v}), x.cf, nil
	case "elu":
		return e.op("Elu", []string{v}, "alpha", float32(1)), x.cf, nil
	case "selu":
		return e.op("Selu", []string{v}), x.cf, nil
	case "leaky_relu":
		return e.op("LeakyRelu", []string{v}, "alpha", float32(0.2)), x.cf, nil
	case "hard_sigmoid":
		return e.op("HardSigmoid", []string{v}, "alpha", float32(1.0/6), "beta", float32(0.5)), x.cf, nil
	case "relu6":
		return e.op("Clip", []string{v, scalar("min", 0), scalar("max", 6)}), x.cf, nil
	case "softmax":
		return e.op("Softmax", []string{v}, "axis", axis), x.cf, nil
	case "log_softmax":
		return e.op("LogSoftmax", []string{v}, "axis", axis), x.cf, nil
	case "gelu":
		// Opset 13 has no Gelu: 0.5·x·(1 + erf(x/√2)), as PyTorch writes
		// it (Import fuses it back into one activation).
		d := e.op("Div", []string{v, scalar("sqrt2", float32(math.Sqrt2))})
		a := e.op("Add", []string{e.op("Erf", []string{d}), scalar("one", 1)})
		return e.op("Mul", []string{e.op("Mul", []string{v, a}), scalar("half", 0.5)}), x.cf, nil
	}
	return "", false, errors.Errorf("activation %q has no ONNX export", name)
}

func (e *exporter) dense(l *keras.Dense, x exported, in keras.Shape) (string, bool, error) {
	K, M := in[len(in)-1], l.Units
	kernel := weight(l, "kernel")
	if len(kernel) != K*M {
		return "", false, errors.Errorf("kernel has %d values, want %d", len(kernel), K*M)
	}
	k := e.floats(e.layer+"/kernel", []int{K, M}, kernel)
	var b string
	if !l.NoBias {
		b = e.floats(e.layer+"/bias", []int{M}, weight(l, "bias"))
	}
	v := e.keras(x)
	var y string
	switch {
	case len(in) == 1 && b != "":
		y = e.op("Gemm", []string{v, k, b})
	case len(in) == 1:
		y = e.op("Gemm", []string{v, k})
	default:
		y = e.op("MatMul", []string{v, k})
		if b != "" {
			y = e.op("Add", []string{y, b})
		}
	}
	return e.activation(l.Activation, exported{name: y, rank: len(in) + 1})
}

// pads returns ONNX pads (begins, then ends) for a Keragon padding mode.
func pads(padding string, in, k, s, d []int) ([]int, error) {
	n := len(in)
	p := make([]int, 2*n)
	switch strings.ToLower(padding) {
	case "", "valid":
	case "same":
		for i := range in {
			p[i], p[n+i] = samePads(in[i], k[i], s[i], d[i])
		}
	case "causal":
		if n != 1 {
			return nil, errors.New("causal padding is 1-D only")
		}
		p[0] = (k[0] - 1) * d[0]
	default:
		return nil, errors.Errorf("unknown padding %q", padding)
	}
	return p, nil
}

// fill2 expands a Keras int-or-pair argument.
func fill2(v []int, n, def int) []int {
	out := make([]int, n)
	for i := range out {
		switch {
		case len(v) == 0:
			out[i] = def
		case len(v) == 1:
			out[i] = v[0]
		default:
			out[i] = v[i]
		}
	}
	return out
}

// conv exports Conv2D, Conv1D and DepthwiseConv2D (group = channels).
func (e *exporter) conv(l keras.Layer, x exported, in keras.Shape, filters int, ksize, strides, dil []int, padding, act string, group int) (string, bool, error) {
	n := len(in) - 1 // spatial axes
	C := in[n]
	k := fill2(ksize, n, 1)
	s, d := fill2(strides, n, 1), fill2(dil, n, 1)
	p, err := pads(padding, in[:n], k, s, d)
	if err != nil {
		return "", false, err
	}
	kernel := weight(l, "kernel")
	taps := 1
	for _, v := range k {
		taps *= v
	}
	cin := C / group
	if len(kernel) != taps*C*filters/group {
		return "", false, errors.Errorf("kernel has %d values, want %d", len(kernel), taps*C*filters/group)
	}
	// Keragon (k…, C, M) or depthwise (k…, C, mult) → ONNX (M, C/group, k…).
	w := make([]float32, len(kernel))
	for t := 0; t < taps; t++ {
		for c := 0; c < C; c++ {
			for m := 0; m < filters/group; m++ {
				src := (t*C+c)*(filters/group) + m
				var o, ci int
				if group == 1 {
					o, ci = m, c
				} else {
					o, ci = c*(filters/group)+m, 0
				}
				w[(o*cin+ci)*taps+t] = kernel[src]
			}
		}
	}
	dims := append([]int{filters, cin}, k...)
	inputs := []string{e.channelsFirst(x), e.floats(e.layer+"/kernel", dims, w)}
	if b := weight(l, "bias"); b != nil {
		inputs = append(inputs, e.floats(e.layer+"/bias", []int{filters}, b))
	}
	y := e.op("Conv", inputs, "dilations", d, "group", group, "kernel_shape", k, "pads", p, "strides", s)
	return e.activation(act, exported{name: y, cf: true, rank: n + 2})
}

func (e *exporter) pool(op string, x exported, in keras.Shape, size, strides []int, padding string) (string, bool, error) {
	n := len(in) - 1
	k := fill2(size, n, 2)
	s := k
	if len(strides) > 0 {
		s = fill2(strides, n, 1)
	}
	p, err := pads(padding, in[:n], k, s, fill2(nil, n, 1))
	if err != nil {
		return "", false, err
	}
	attrs := []any{"kernel_shape", k, "pads", p, "strides", s}
	if op == "AveragePool" {
		attrs = append(attrs, "count_include_pad", 0)
	}
	return e.op(op, []string{e.channelsFirst(x)}, attrs...), true, nil
}

func (e *exporter) batchNorm(l *keras.BatchNormalization, x exported, in keras.Shape) (string, bool, error) {
	C := in[len(in)-1]
	get := func(short string, def float32) string {
		v := weight(l, short)
		if v == nil {
			v = make([]float32, C)
			for i := range v {
				v[i] = def
			}
		}
		return e.floats(e.layer+"/"+short, []int{C}, v)
	}
	eps, mom := l.Epsilon, 0.99 // Keras' defaults
	if eps == 0 {
		eps = 1e-3
	}
	if l.Momentum != nil {
		mom = *l.Momentum
	}
	v := x.name
	cf := x.cf
	if len(in) > 1 && !cf {
		v, cf = e.channelsFirst(x), true
	}
	inputs := []string{v, get("gamma", 1), get("beta", 0), get("moving_mean", 0), get("moving_variance", 1)}
	return e.op("BatchNormalization", inputs, "epsilon", eps, "momentum", mom), cf, nil
}

// layerNorm exports LayerNormalization (opset 17) over the last axis.
func (e *exporter) layerNorm(l *keras.LayerNormalization, x exported, in keras.Shape) (string, bool, error) {
	C := in[len(in)-1]
	scale := weight(l, "gamma")
	if scale == nil {
		scale = make([]float32, C)
		for i := range scale {
			scale[i] = 1
		}
	}
	inputs := []string{e.keras(x), e.floats(e.layer+"/gamma", []int{C}, scale)}
	if b := weight(l, "beta"); b != nil {
		inputs = append(inputs, e.floats(e.layer+"/beta", []int{C}, b))
	}
	eps := l.Epsilon
	if eps == 0 {
		eps = 1e-3
	}
	return e.op("LayerNormalization", inputs, "axis", -1, "epsilon", eps), false, nil
}
