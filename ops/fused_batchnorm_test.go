package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBatchNormFusedEqualsComposed: Normalize(x, BatchMoments(x), …) is
// differentiated as a whole; computing the statistics from a copy of x
// (x·1, another node) keeps the composed gradients. Both must agree, and
// only the first may take the fused path.
func TestBatchNormFusedEqualsComposed(t *testing.T) {
	inSplitModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 1))
		for _, shape := range [][]int{{6, 3}, {2, 3, 4, 5}, {128, 17}} {
			for _, v := range affineVariants {
				for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
					all := normInputs(rng, shape)
					in := pick([]*tensor.Dense{castTo(all[0], dt), castTo(all[3], dt), castTo(all[4], dt)}, v.scale, v.shift)
					up := castTo(gradcheck.Random(rng, -1, 1, shape...), dt)
					var fused bool
					build := func(copyX bool) func(in []*gorgonia.Node) (*gorgonia.Node, error) {
						return func(in []*gorgonia.Node) (*gorgonia.Node, error) {
							gamma, beta := affineNodes(in, 1, v.scale, v.shift)
							xs := in[0]
							if copyX {
								xs = gorgonia.Must(gorgonia.Mul(xs, gorgonia.NewConstant(castScalar(1, dt))))
							}
							m, variance, err := BatchMoments(xs)
							if err != nil {
								return nil, err
							}
							y, err := Normalize(in[0], m, variance, gamma, beta, 1e-3)
							if err == nil {
								fused = y.Op().(*customOp).id != normalizeOp(normParams{d: len(shape), eps: 1e-3, gamma: v.scale, beta: v.shift}).id
							}
							return y, err
						}
					}
					got := forwardBackward(t, build(false), up, in...)
					if !fused {
						t.Fatalf("%v %s %v: Normalize(x, BatchMoments(x)) did not take the fused path", shape, v.name, dt)
					}
					want := forwardBackward(t, build(true), up, in...)
					if fused {
						t.Fatalf("%v %s %v: statistics of another node took the fused path", shape, v.name, dt)
					}
					tol := 1e-12
					if dt == tensor.Float32 {
						tol = 2e-5
					}
					for i := range want {
						compareTol(t, fmt.Sprintf("%v %s %v result %d", shape, v.name, dt, i), got[i], want[i], tol)
					}
				}
			}
		}
	})
}

func castScalar(x float64, dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(x)
	}
	return x
}
