package ops

import (
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// rnnAct is an activation used inside the fused recurrent cells. The
// cells keep activations, not their inputs, so the derivative is taken
// from the output y alone.
type rnnAct struct {
	name string
	f    func(x float64) float64
	dy   func(y float64) float64
	// f32, when not nil, is a faster f for float32 (rnn_act_fast.go).
	f32 func(x float32) float32
}

var rnnActs = map[string]*rnnAct{
	"linear":  {name: "linear", f: func(x float64) float64 { return x }, dy: func(float64) float64 { return 1 }},
	"tanh":    {name: "tanh", f: math.Tanh, dy: func(y float64) float64 { return 1 - y*y }},
	"sigmoid": {name: "sigmoid", f: sigmoid, dy: func(y float64) float64 { return y * (1 - y) }},
	// Keras 3's hard_sigmoid: relu6(x+3)/6; its slope is 1/6 where
	// 0 < y < 1, i.e. where −3 < x < 3.
	"hard_sigmoid": {name: "hard_sigmoid", f: func(x float64) float64 { return math.Min(math.Max(x/6+0.5, 0), 1) },
		dy: func(y float64) float64 {
			if y > 0 && y < 1 {
				return 1.0 / 6
			}
			return 0
		}},
	"relu": {name: "relu", f: func(x float64) float64 { return math.Max(x, 0) }, dy: func(y float64) float64 {
		if y > 0 {
			return 1
		}
		return 0
	}},
	// softsign y = x/(1+|x|) has slope 1/(1+|x|)² = (1−|y|)².
	"softsign": {name: "softsign", f: func(x float64) float64 { return x / (1 + math.Abs(x)) },
		dy: func(y float64) float64 { d := 1 - math.Abs(y); return d * d }},
}

// rnnActivation resolves the activation of a recurrent cell; ""
// means def.
func rnnActivation(name, def string) (*rnnAct, error) {
	if name == "" {
		name = def
	}
	a, ok := rnnActs[strings.ToLower(name)]
	if !ok {
		return nil, errors.Errorf("ops: recurrent cells support the activations %s, got %q", strings.Join(RecurrentActivationNames(), ", "), name)
	}
	return a, nil
}

// RecurrentActivationNames lists the activations the recurrent cells
// accept (their derivatives follow from their outputs, which the fused
// cells keep).
func RecurrentActivationNames() []string {
	names := make([]string, 0, len(rnnActs))
	for k := range rnnActs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
