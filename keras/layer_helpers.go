package keras

import (
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Helpers shared by the layers: activations, weights and their penalties,
// and the window geometry of convolution and pooling layers.

// activate applies a named activation.
func activate(name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	f, err := ops.Activation(name)
	if err != nil {
		return nil, err
	}
	return f(x)
}

// regularize adds a weight penalty to the loss of training and evaluation
// graphs.
func regularize(ctx *graph.Context, r *ops.L1L2, w *gorgonia.Node) error {
	if r == nil || (r.L1 == 0 && r.L2 == 0) {
		return nil
	}
	p, err := r.Penalty(w)
	if err != nil {
		return err
	}
	return ctx.AddLoss(p)
}

// initializer resolves an initialiser name, with a default for "".
func initializer(name, def string) (ops.Initializer, error) {
	if name == "" {
		name = def
	}
	return ops.InitializerByName(name)
}

// pair reads a Keras int-or-tuple argument of n numbers; empty means def.
func pair(field string, v []int, n, def int) ([]int, error) {
	switch len(v) {
	case 0:
		out := make([]int, n)
		for i := range out {
			out[i] = def
		}
		return out, nil
	case 1:
		out := make([]int, n)
		for i := range out {
			out[i] = v[0]
		}
		v = out
	}
	if len(v) != n {
		return nil, errors.Errorf("keras: %s needs %d numbers, got %v", field, n, v)
	}
	for _, d := range v {
		if d <= 0 {
			return nil, errors.Errorf("keras: %s must be positive, got %v", field, v)
		}
	}
	return append([]int(nil), v...), nil
}

// convOut is the output length of a convolution or pooling along one axis.
func convOut(in, k, stride, dilation int, padding string) (int, error) {
	eff := (k-1)*dilation + 1
	switch strings.ToLower(padding) {
	case "", "valid":
		if in < eff {
			return 0, errors.Errorf("keras: a window of %d does not fit an input of %d with \"valid\" padding", eff, in)
		}
		return (in-eff)/stride + 1, nil
	case "same", "causal":
		return (in + stride - 1) / stride, nil
	}
	return 0, errors.Errorf("keras: unknown padding %q (want \"valid\" or \"same\")", padding)
}
