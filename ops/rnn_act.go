package ops

import (
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// recurrentActs are the activations the recurrent cells accept: the
// kernels of activations.go whose derivative follows from the output
// alone (unaryKernel.dfy), since the fused cells keep activations, not
// their inputs. nil is the identity.
var recurrentActs = map[string]*unaryKernel{
	"linear": nil, "tanh": tanhK, "sigmoid": sigmoidK, "hard_sigmoid": hardSigmoidK, "relu": reluK, "softsign": softsignK,
}

// rnnActivation resolves the activation of a recurrent cell; "" means
// def.
func rnnActivation(name, def string) (*unaryKernel, error) {
	if name == "" {
		name = def
	}
	k, ok := recurrentActs[strings.ToLower(name)]
	if !ok {
		return nil, errors.Errorf("ops: recurrent cells support the activations %s, got %q", strings.Join(RecurrentActivationNames(), ", "), name)
	}
	return k, nil
}

// RecurrentActivationNames lists the activations the recurrent cells
// accept (their derivatives follow from their outputs, which the fused
// cells keep).
func RecurrentActivationNames() []string {
	names := make([]string, 0, len(recurrentActs))
	for k := range recurrentActs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// actInPlace applies k to x in place (nil: the identity), float32 through
// the vector kernel when k has one.
func actInPlace[T float](k *unaryKernel, x []T) {
	if k == nil {
		return
	}
	if x32, ok := any(x).([]float32); ok {
		switch {
		case k.vec32 != nil:
			k.vec32(x32, x32)
			return
		case k.f32 != nil:
			k.f32(x32, x32)
			return
		}
	}
	f := k.f
	for i, v := range x {
		x[i] = T(f(float64(v)))
	}
}

// actGrad sets dst = g·k'(y) from the output y (nil k: dst = g); dst may
// be g.
func actGrad[T float](k *unaryKernel, dst, y, g []T) {
	if k == nil {
		copy(dst, g)
		return
	}
	if d32, ok := any(dst).([]float32); ok && k.dfy32 != nil {
		k.dfy32(d32, any(y).([]float32), any(g).([]float32))
		return
	}
	dfy := k.dfy
	g = g[:len(y)]
	dst = dst[:len(y)]
	for i, v := range y {
		dst[i] = g[i] * T(dfy(float64(v)))
	}
}
