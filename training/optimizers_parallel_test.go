package training

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

// TestParallelUpdateIsSerialUpdate runs every optimizer (with its
// momentum, centering, AMSGrad and decay variants) for three steps on
// weights cut into 7-element pieces, with 1 to 4 cores: the weights must
// equal, bit for bit, those of the serial loop.
func TestParallelUpdateIsSerialUpdate(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(g int) { updateGrain = g }(updateGrain)
	configs := map[string]func() Optimizer{
		"sgd":              func() Optimizer { return &SGD{Momentum: 0.9, Nesterov: true} },
		"rmsprop":          func() Optimizer { return &RMSprop{Momentum: 0.5, Centered: true} },
		"adam":             func() Optimizer { return &Adam{AMSGrad: true} },
		"adamw":            func() Optimizer { return &AdamW{} },
		"adagrad":          func() Optimizer { return &Adagrad{} },
		"adadelta":         func() Optimizer { return &Adadelta{} },
		"adam clipped":     func() Optimizer { return &Adam{GlobalClipNorm: 0.5} },
		"rmsprop plain":    func() Optimizer { return &RMSprop{} },
		"sgd no momentum":  func() Optimizer { return &SGD{} },
		"adamw decay 0.01": func() Optimizer { return &AdamW{WeightDecay: Float(0.01)} },
	}
	for name, mk := range configs {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			var ref [][]float64
			for _, mode := range []struct{ procs, grain int }{{1, 1 << 30}, {1, 7}, {2, 7}, {4, 7}, {3, 100}} {
				runtime.GOMAXPROCS(mode.procs)
				updateGrain = mode.grain
				got := runSteps(t, mk(), dt)
				if ref == nil {
					ref = got
					continue
				}
				for i := range ref {
					for k := range ref[i] {
						if math.Float64bits(got[i][k]) != math.Float64bits(ref[i][k]) {
							t.Fatalf("%s %v, GOMAXPROCS=%d grain=%d: weight %d value %d is %v, serial %v",
								name, dt, mode.procs, mode.grain, i, k, got[i][k], ref[i][k])
						}
					}
				}
			}
		}
	}
}

// runSteps takes three steps of opt on two weights (100 and 3 values)
// with fixed random gradients and returns the weights.
func runSteps(t *testing.T, opt Optimizer, dt tensor.Dtype) [][]float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][]int{{10, 10}, {3}}
	var ws []*graph.Weight
	for i, s := range shapes {
		w := graph.NewWeight(string(rune('a'+i)), dt, s, nil, true)
		v := make([]float64, s[0]*len(s))
		if len(s) == 2 {
			v = make([]float64, s[0]*s[1])
		}
		for k := range v {
			v[k] = rng.NormFloat64()
		}
		if err := w.Set(denseOf(dt, s, v)); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	for range 3 {
		var gs []graph.Gradient
		for i, w := range ws {
			v := make([]float64, w.Size())
			for k := range v {
				v[k] = rng.NormFloat64()
			}
			gs = append(gs, graph.Gradient{Weight: w, Value: denseOf(dt, shapes[i], v)})
		}
		if err := opt.Step(gs); err != nil {
			t.Fatal(err)
		}
	}
	out := make([][]float64, len(ws))
	for i, w := range ws {
		out[i] = valuesOf(w.Value)
	}
	return out
}
