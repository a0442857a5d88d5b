package ops

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A Regularizer adds a penalty on a weight to the loss.
type Regularizer interface {
	// Penalty returns a scalar node of w's dtype.
	Penalty(w *gorgonia.Node) (*gorgonia.Node, error)
}

// DefaultRegularization is Keras' default factor for the "l1", "l2" and
// "l1_l2" regularisers.
const DefaultRegularization = 0.01

// L1L2 is Keras' L1L2 regulariser: L1·Σ|w| + L2·Σw² (no ½ on the L2
// term). A zero factor drops its term. Factors must be non-negative and
// finite.
type L1L2 struct {
	L1 float64 `json:"l1"`
	L2 float64 `json:"l2"`
}

var _ Regularizer = L1L2{}

// L1 returns Keras' L1 regulariser, l1·Σ|w|.
func L1(l1 float64) L1L2 { return L1L2{L1: l1} }

// L2 returns Keras' L2 regulariser, l2·Σw².
func L2(l2 float64) L1L2 { return L1L2{L2: l2} }

// Penalty returns L1·Σ|w| + L2·Σw² as one fused op; its gradient is
// L1·sign(w) + 2·L2·w, with sign(0) = 0.
func (r L1L2) Penalty(w *gorgonia.Node) (*gorgonia.Node, error) {
	for _, f := range []struct {
		name string
		v    float64
	}{{"L1", r.L1}, {"L2", r.L2}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return nil, errors.Errorf("ops: L1L2: %s must be non-negative and finite, got %g", f.name, f.v)
		}
	}
	d := w.Dims()
	id := fmt.Sprintf("L1L2(%g,%g,%d)", r.L1, r.L2, d)
	op := &customOp{
		id:    id,
		arity: 1,
		typ:   fnType(d, 0),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { o[0] = float32(penalty(r, in[0])) },
				func(o []float64, in [][]float64) { o[0] = penalty(r, in[0]) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dw, err := apply(r.gradOp(id, d), in[0], grad)
			return gorgonia.Nodes{dw}, err
		},
	}
	return apply(op, w)
}

func penalty[T float](r L1L2, w []T) float64 {
	var a, s float64
	for _, v := range w {
		x := float64(v)
		a += math.Abs(x)
		s += x * x
	}
	return r.L1*a + r.L2*s
}

// gradOp computes g·(L1·sign(w) + 2·L2·w) from (w, g).
func (r L1L2) gradOp(id string, d int) *customOp {
	return &customOp{
		id:    id + "'",
		arity: 2,
		typ:   fnType(d, 0, d),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { penaltyGrad(r, o, in[0], in[1]) },
				func(o []float64, in [][]float64) { penaltyGrad(r, o, in[0], in[1]) })
		},
	}
}

func penaltyGrad[T float](r L1L2, dst, w, g []T) {
	gv := float64(g[0])
	for i, v := range w {
		x := float64(v)
		dst[i] = T(gv * (r.L1*sign(x) + 2*r.L2*x))
	}
}

var regularizers = map[string]L1L2{
	"l1":    {L1: DefaultRegularization},
	"l2":    {L2: DefaultRegularization},
	"l1_l2": {L1: DefaultRegularization, L2: DefaultRegularization},
	"l1l2":  {L1: DefaultRegularization, L2: DefaultRegularization},
}

// RegularizerByName returns the regulariser Keras calls name, with Keras'
// default factor 0.01: "l1", "l2", and "l1_l2" (also "l1l2") for both
// terms at 0.01 each, as Keras 2's l1_l2(). Names are case-insensitive. The
// empty name means no regulariser and returns nil, nil.
func RegularizerByName(name string) (Regularizer, error) {
	if name == "" {
		return nil, nil
	}
	r, ok := regularizers[strings.ToLower(name)]
	if !ok {
		return nil, errors.Errorf("ops: unknown regularizer %q (known: %s)", name, strings.Join(RegularizerNames(), ", "))
	}
	return r, nil
}

// RegularizerNames lists the names RegularizerByName accepts.
func RegularizerNames() []string {
	names := make([]string, 0, len(regularizers))
	for k := range regularizers {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
