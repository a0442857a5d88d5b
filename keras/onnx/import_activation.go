package onnx

import (
	"math"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// activationOf and setActivation read and set the activation of the
// layers an activation node can fold into.
func activationOf(l keras.Layer) string {
	switch l := l.(type) {
	case *keras.Dense:
		return l.Activation
	case *keras.Conv2D:
		return l.Activation
	case *keras.Conv1D:
		return l.Activation
	case *keras.DepthwiseConv2D:
		return l.Activation
	}
	return "?"
}

func setActivation(l keras.Layer, a string) {
	switch l := l.(type) {
	case *keras.Dense:
		l.Activation = a
	case *keras.Conv2D:
		l.Activation = a
	case *keras.Conv1D:
		l.Activation = a
	case *keras.DepthwiseConv2D:
		l.Activation = a
	}
}

func setNoBias(l keras.Layer, on bool) {
	switch l := l.(type) {
	case *keras.Dense:
		l.NoBias = on
	case *keras.Conv2D:
		l.NoBias = on
	case *keras.Conv1D:
		l.NoBias = on
	case *keras.DepthwiseConv2D:
		l.NoBias = on
	}
}

// activationName maps an activation node to Keragon's name for it.
func (im *importer) activationName(n *nodeProto, in []*value) (string, error) {
	switch n.opType {
	case "Relu":
		return "relu", only(n)
	case "Sigmoid":
		return "sigmoid", only(n)
	case "Tanh":
		return "tanh", only(n)
	case "Softplus":
		return "softplus", only(n)
	case "Softsign":
		return "softsign", only(n)
	case "Exp":
		return "exponential", only(n)
	case "Mish":
		return "mish", only(n)
	case "Elu":
		if err := only(n, "alpha"); err != nil {
			return "", err
		}
		a, err := attrFloat(n, "alpha", 1)
		if err != nil || a != 1 {
			return "", errors.Errorf("alpha %v is not supported (Keragon's elu has alpha 1)", a)
		}
		return "elu", nil
	case "Selu":
		if err := only(n, "alpha", "gamma"); err != nil {
			return "", err
		}
		a, err := attrFloat(n, "alpha", 1.67326319217681884765625)
		if err != nil {
			return "", err
		}
		g, err := attrFloat(n, "gamma", 1.05070102214813232421875)
		if err != nil {
			return "", err
		}
		if math.Abs(a-1.6732632) > 1e-6 || math.Abs(g-1.0507010) > 1e-6 {
			return "", errors.Errorf("alpha %v and gamma %v differ from selu's constants", a, g)
		}
		return "selu", nil
	case "HardSigmoid":
		if err := only(n, "alpha", "beta"); err != nil {
			return "", err
		}
		a, err := attrFloat(n, "alpha", 0.2)
		if err != nil {
			return "", err
		}
		b, err := attrFloat(n, "beta", 0.5)
		if err != nil {
			return "", err
		}
		if math.Abs(a-1.0/6) > 1e-6 || b != 0.5 {
			return "", errors.Errorf("alpha %v and beta %v are not supported (Keragon's hard_sigmoid is x/6 + 0.5)", a, b)
		}
		return "hard_sigmoid", nil
	case "Gelu":
		if err := only(n, "approximate"); err != nil {
			return "", err
		}
		s, err := attrString(n, "approximate", "none")
		if err != nil || s != "none" {
			return "", errors.Errorf("approximate %q is not supported (Keragon's gelu is exact)", s)
		}
		return "gelu", nil
	case "Clip":
		lo, hi := math.Inf(-1), math.Inf(1)
		if im.opset < 11 {
			if err := only(n, "min", "max"); err != nil {
				return "", err
			}
			var err error
			if lo, err = attrFloat(n, "min", lo); err != nil {
				return "", err
			}
			if hi, err = attrFloat(n, "max", hi); err != nil {
				return "", err
			}
		} else {
			if err := only(n); err != nil {
				return "", err
			}
			for i, p := range []*float64{&lo, &hi} {
				if len(in) > i+1 && in[i+1] != nil {
					if in[i+1].c == nil {
						return "", errors.New("min and max must be constants")
					}
					x, ok := in[i+1].c.scalar()
					if !ok {
						return "", errors.New("min and max must be one number each")
					}
					*p = x
				}
			}
		}
		switch {
		case lo == 0 && hi == 6:
			return "relu6", nil
		case lo == 0 && math.IsInf(hi, 1):
			return "relu", nil
		}
		return "", errors.Errorf("clips to [%v, %v]; Keragon has relu ([0, ∞)) and relu6 ([0, 6])", lo, hi)
	case "Softmax", "LogSoftmax":
		if err := only(n, "axis"); err != nil {
			return "", err
		}
		x := in[0]
		if x == nil || !x.tensorLike() {
			return "", errors.New("needs a computed tensor")
		}
		r := len(x.axes)
		def := int64(-1)
		if im.opset < 13 {
			def = 1
		}
		ax, err := attrInt(n, "axis", def)
		if err != nil {
			return "", err
		}
		a, err := normAxis(ax, r)
		if err != nil {
			return "", err
		}
		// Before opset 13 the input is flattened from axis on: the same
		// as one axis when the axes after it have size 1.
		d := x.dims()
		for i := a + 1; i < r && im.opset < 13; i++ {
			if d[i] != 1 {
				return "", errors.Errorf("normalises axes %d to %d of %q (shape %v) together; Keragon's %s is over one axis", a, r-1, x.name, d, n.opType)
			}
		}
		if x.axes[a] != len(x.kshape()) {
			return "", errors.Errorf("normalises axis %d of %q, which Keragon holds on axis %d, not its last", a, x.name, x.axes[a])
		}
		if n.opType == "Softmax" {
			return "softmax", nil
		}
		return "log_softmax", nil
	case "LeakyRelu":
		return "leaky_relu", only(n, "alpha")
	}
	return "", errors.Errorf("internal error: no activation for %s", n.opType)
}

var nonnegActivations = map[string]bool{
	"relu": true, "relu6": true, "sigmoid": true, "softplus": true, "exponential": true,
	"softmax": true, "hard_sigmoid": true,
}

// activationOp imports an elementwise activation: folded into the Dense
// or convolution before it when nothing else reads that layer's output,
// else an Activation (or LeakyReLU) layer.
func activationOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	x, err := arg(n, in, 0, "input")
	if err != nil {
		return nil, err
	}
	name, err := im.activationName(n, in)
	if err != nil {
		return nil, err
	}
	if !x.tensorLike() {
		return nil, errors.Errorf("input %v must be a computed tensor", x)
	}
	t, err := im.tensorOf(x)
	if err != nil {
		return nil, err
	}
	var y *keras.Tensor
	switch {
	case name == "leaky_relu":
		alpha, err := attrFloat(n, "alpha", 0.01)
		if err != nil {
			return nil, err
		}
		if alpha == 0 {
			name = "relu"
			break
		}
		if alpha == float64(float32(0.2)) {
			break // the slope of Keragon's "leaky_relu" activation
		}
		if !(alpha > 0) {
			return nil, errors.Errorf("alpha %v is not supported (Keragon's LeakyReLU slope is >= 0)", alpha)
		}
		if y, err = im.apply1(&keras.LeakyReLU{Name: im.name(n.name), NegativeSlope: keras.Float(alpha)}, nil, t); err != nil {
			return nil, err
		}
	}
	if y == nil {
		if x.prod != nil && im.uses[x.name] == 1 && !im.outputs[x.name] && activationOf(x.prod.layer) == "" {
			setActivation(x.prod.layer, name)
			y = t
		} else if y, err = im.apply1(&keras.Activation{Name: im.name(n.name), Activation: name}, nil, t); err != nil {
			return nil, err
		}
	}
	out := x.derive("", y)
	out.nonneg = nonnegActivations[name]
	return []*value{out}, nil
}
