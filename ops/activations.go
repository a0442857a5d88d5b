package ops

import (
	"math"
	"sort"
	"strings"

	"github.com/keragon/keragon/internal/vmath"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// ActivationFunc maps a node to a node of the same shape.
type ActivationFunc func(x *gorgonia.Node) (*gorgonia.Node, error)

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus is log(1+exp(x)) without overflow.
func softplus(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

var (
	sigmoidK = &unaryKernel{name: "sigmoid", f: sigmoid,
		df: func(_, y float64) float64 { return y * (1 - y) }}
	tanhK = &unaryKernel{name: "tanh", f: math.Tanh,
		df: func(_, y float64) float64 { return 1 - y*y }}
	reluK = &unaryKernel{name: "relu", f: func(x float64) float64 { return math.Max(x, 0) },
		df: func(x, _ float64) float64 { return step(x) }, f32: relu32, df32: reluGrad32}
	relu6K = &unaryKernel{name: "relu6", f: func(x float64) float64 { return math.Min(math.Max(x, 0), 6) },
		df: func(x, _ float64) float64 {
			if x > 0 && x < 6 {
				return 1
			}
			return 0
		}}
	softplusK = &unaryKernel{name: "softplus", f: softplus,
		df: func(x, _ float64) float64 { return sigmoid(x) }}
	softsignK = &unaryKernel{name: "softsign", f: func(x float64) float64 { return x / (1 + math.Abs(x)) },
		df: func(x, _ float64) float64 { d := 1 + math.Abs(x); return 1 / (d * d) }}
	swishK = &unaryKernel{name: "swish", f: func(x float64) float64 { return x * sigmoid(x) },
		df: func(x, _ float64) float64 { s := sigmoid(x); return s + x*s*(1-s) }}
	geluK = &unaryKernel{name: "gelu", f: func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) },
		df: func(x, _ float64) float64 {
			return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
		}}
	geluTanhK = &unaryKernel{name: "gelu_tanh", f: func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(geluC*(x+0.044715*x*x*x)))
	}, df: func(x, _ float64) float64 {
		u := geluC * (x + 0.044715*x*x*x)
		t := math.Tanh(u)
		return 0.5*(1+t) + 0.5*x*(1-t*t)*geluC*(1+3*0.044715*x*x)
	}}
	seluK = &unaryKernel{name: "selu", f: func(x float64) float64 {
		if x > 0 {
			return seluScale * x
		}
		return seluScale * seluAlpha * math.Expm1(x)
	}, df: func(x, y float64) float64 {
		if x > 0 {
			return seluScale
		}
		return y + seluScale*seluAlpha
	}}
	hardSigmoidK = &unaryKernel{name: "hard_sigmoid", f: func(x float64) float64 { return math.Min(math.Max(x/6+0.5, 0), 1) },
		df: func(x, _ float64) float64 {
			if x > -3 && x < 3 {
				return 1.0 / 6
			}
			return 0
		}}
	exponentialK = &unaryKernel{name: "exponential", f: math.Exp,
		df: func(_, y float64) float64 { return y }}
	mishK = &unaryKernel{name: "mish", f: func(x float64) float64 { return x * math.Tanh(softplus(x)) },
		df: func(x, _ float64) float64 {
			t := math.Tanh(softplus(x))
			return t + x*(1-t*t)*sigmoid(x)
		}}
	logSigmoidK = &unaryKernel{name: "log_sigmoid", f: func(x float64) float64 { return -softplus(-x) },
		df: func(x, _ float64) float64 { return sigmoid(-x) }}
)

var geluC = math.Sqrt(2 / math.Pi)

// relu32 and reluGrad32 are ReLU's float32 hot paths: a tenth of a convnet's
// step went to the generic per-element kernel.
func relu32(dst, x []float32) { vmath.ReLU(dst, x) }

func reluGrad32(dst, x, _, g []float32) { vmath.ReLUGrad(dst, x, g) }

func step(x float64) float64 {
	if x > 0 {
		return 1
	}
	return 0
}

// Sigmoid is 1/(1+exp(-x)).
func Sigmoid(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(sigmoidK, x) }

// Tanh is the hyperbolic tangent.
func Tanh(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(tanhK, x) }

// ReLU is max(x, 0); its derivative at 0 is taken as 0, as in TensorFlow and PyTorch.
func ReLU(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(reluK, x) }

// ReLU6 is min(max(x, 0), 6).
func ReLU6(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(relu6K, x) }

// LeakyReLU is x for x > 0 and alpha·x otherwise.
func LeakyReLU(x *gorgonia.Node, alpha float64) (*gorgonia.Node, error) {
	k := &unaryKernel{name: "leaky_relu", params: []float64{alpha},
		f: func(x float64) float64 {
			if x > 0 {
				return x
			}
			return alpha * x
		},
		df: func(x, _ float64) float64 {
			if x > 0 {
				return 1
			}
			return alpha
		}}
	return applyUnary(k, x)
}

// ELU is x for x > 0 and alpha·(exp(x)−1) otherwise.
func ELU(x *gorgonia.Node, alpha float64) (*gorgonia.Node, error) {
	k := &unaryKernel{name: "elu", params: []float64{alpha},
		f: func(x float64) float64 {
			if x > 0 {
				return x
			}
			return alpha * math.Expm1(x)
		},
		df: func(x, y float64) float64 {
			if x > 0 {
				return 1
			}
			return y + alpha
		}}
	return applyUnary(k, x)
}

// SELU is scale·ELU(x, alpha) with the constants of Klambauer et al. (2017).
func SELU(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(seluK, x) }

// Softplus is log(1+exp(x)).
func Softplus(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(softplusK, x) }

// Softsign is x/(1+|x|).
func Softsign(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(softsignK, x) }

// Swish (also called SiLU) is x·sigmoid(x).
func Swish(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(swishK, x) }

// GELU is the exact Gaussian error linear unit x·Φ(x), Keras' default
// (approximate=False).
func GELU(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(geluK, x) }

// GELUTanh is the tanh approximation of GELU (Keras' approximate=True).
func GELUTanh(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(geluTanhK, x) }

// HardSigmoid is Keras 3's relu6(x+3)/6.
func HardSigmoid(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(hardSigmoidK, x) }

// Exponential is exp(x).
func Exponential(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(exponentialK, x) }

// Mish is x·tanh(softplus(x)).
func Mish(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(mishK, x) }

// LogSigmoid is log(sigmoid(x)), computed without overflow.
func LogSigmoid(x *gorgonia.Node) (*gorgonia.Node, error) { return applyUnary(logSigmoidK, x) }

// Linear returns x unchanged.
func Linear(x *gorgonia.Node) (*gorgonia.Node, error) { return x, nil }

// Keras' default slopes: keras.activations.leaky_relu uses 0.2; the
// LeakyReLU layer uses 0.3 and takes its own value.
const defaultLeakySlope = 0.2

var activations = map[string]ActivationFunc{
	"":             Linear,
	"linear":       Linear,
	"sigmoid":      Sigmoid,
	"tanh":         Tanh,
	"relu":         ReLU,
	"relu6":        ReLU6,
	"leaky_relu":   func(x *gorgonia.Node) (*gorgonia.Node, error) { return LeakyReLU(x, defaultLeakySlope) },
	"elu":          func(x *gorgonia.Node) (*gorgonia.Node, error) { return ELU(x, 1) },
	"selu":         SELU,
	"softplus":     Softplus,
	"softsign":     Softsign,
	"swish":        Swish,
	"silu":         Swish,
	"gelu":         GELU,
	"hard_sigmoid": HardSigmoid,
	"exponential":  Exponential,
	"mish":         Mish,
	"log_sigmoid":  LogSigmoid,
	"softmax":      Softmax,
	"log_softmax":  LogSoftmax,
}

// Activation returns the activation Keras calls name ("relu", "softmax", …;
// "" and "linear" are the identity).
func Activation(name string) (ActivationFunc, error) {
	f, ok := activations[strings.ToLower(name)]
	if !ok {
		return nil, errors.Errorf("ops: unknown activation %q (known: %s)", name, strings.Join(ActivationNames(), ", "))
	}
	return f, nil
}

// ActivationNames lists the names Activation accepts.
func ActivationNames() []string {
	var names []string
	for k := range activations {
		if k != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// SigmoidLogitsOf returns the input of a Sigmoid node and true, or nil and
// false when p was not made by Sigmoid (see LogitsOf).
func SigmoidLogitsOf(p *gorgonia.Node) (*gorgonia.Node, bool) {
	op, ok := p.Op().(unaryOp)
	if !ok || op.k != sigmoidK {
		return nil, false
	}
	children := p.Graph().From(p.ID())
	if children.Len() != 1 || !children.Next() {
		return nil, false
	}
	n, ok := children.Node().(*gorgonia.Node)
	return n, ok
}
