package ops

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/keragon/keragon/internal/vmath"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// maskedLogit is what Keras' Softmax layer puts in place of masked scores
// (its _large_negative_number for float32 and float64).
const maskedLogit = -1e9

// AttentionSoftmax is the softmax over the last axis of attention scores
// (batch, heads, T, S), where a mask (batch or 1, T, S) of 1s and 0s says
// which keys each query may attend to: masked scores are replaced by −1e9
// before the softmax, as Keras' Softmax layer does with a mask (so a
// query that may attend to nothing gets uniform weights, not NaNs). mask
// may be nil. The gradient flows to the scores that are not masked.
func AttentionSoftmax(scores, mask *gorgonia.Node) (*gorgonia.Node, error) {
	ss := scores.Shape()
	if ss.Dims() != 4 {
		return nil, errors.Errorf("ops: AttentionSoftmax needs scores (batch, heads, T, S), got %v", ss)
	}
	in := []*gorgonia.Node{scores}
	if mask != nil {
		if err := checkAttentionMask(mask, ss); err != nil {
			return nil, err
		}
		in = append(in, mask)
	}
	dims := []int{4, 3, 4}[:len(in)]
	op := &customOp{
		id:     fmt.Sprintf("AttentionSoftmax(mask=%v)", mask != nil),
		arity:  len(in),
		typ:    fnType(append(append([]int(nil), dims...), 4)...),
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			mb := 0
			if len(in) > 1 {
				mb = in[1].Shape()[0]
			}
			return dispatch(out, in,
				func(o []float32, x [][]float32) { attentionSoftmax(o, x[0], optional(x, 1), ss, mb) },
				func(o []float64, x [][]float64) { attentionSoftmax(o, x[0], optional(x, 1), ss, mb) })
		},
	}
	op.diff = func(in gorgonia.Nodes, out, g *gorgonia.Node) (gorgonia.Nodes, error) {
		var m *gorgonia.Node
		if len(in) > 1 {
			m = in[1]
		}
		ds, err := attentionSoftmaxGrad(out, g, m)
		if len(in) > 1 {
			return gorgonia.Nodes{ds, nil}, err
		}
		return gorgonia.Nodes{ds}, err
	}
	return apply(op, in...)
}

func checkAttentionMask(mask *gorgonia.Node, ss tensor.Shape) error {
	ms := mask.Shape()
	if ms.Dims() != 3 || (ms[0] != ss[0] && ms[0] != 1) || ms[1] != ss[2] || ms[2] != ss[3] {
		return errors.Errorf("ops: an attention mask for scores %v must be (%d or 1, %d, %d), got %v", ss, ss[0], ss[2], ss[3], ms)
	}
	return nil
}

// maskRow returns the mask row of query t of batch b (nil without mask).
func maskRow[T float](mask []T, mb, b, t, T_, S int) []T {
	if mask == nil {
		return nil
	}
	if mb == 1 {
		b = 0
	}
	return mask[(b*T_+t)*S : (b*T_+t+1)*S]
}

func attentionSoftmax[T float](out, scores, mask []T, ss tensor.Shape, mb int) {
	B, H, T_, S := ss[0], ss[1], ss[2], ss[3]
	parallelFor(B*H*T_, S, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, t := r/(H*T_), r%T_
			m := maskRow(mask, mb, b, t, T_, S)
			x, o := scores[r*S:(r+1)*S], out[r*S:(r+1)*S]
			top := math.Inf(-1)
			for j, v := range x {
				f := float64(v)
				if m != nil && m[j] == 0 {
					f = maskedLogit
				}
				top = max(top, f)
			}
			var sum float64
			for j, v := range x {
				f := float64(v)
				if m != nil && m[j] == 0 {
					f = maskedLogit
				}
				e := expOf[T](f - top)
				o[j] = T(e)
				sum += e
			}
			for j := range o {
				o[j] = T(float64(o[j]) / sum)
			}
		}
	})
}

// expOf is eˣ, in float32 (internal/vmath's Exp32, a sixth of the cost
// of math.Exp) for float32 kernels.
func expOf[T float](x float64) float64 {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return float64(vmath.Exp32(float32(x)))
	}
	return math.Exp(x)
}

// attentionSoftmaxGrad is ds = p ⊙ (g − Σ g⊙p), zero where masked.
func attentionSoftmaxGrad(p, g, mask *gorgonia.Node) (*gorgonia.Node, error) {
	ss := p.Shape()
	in := []*gorgonia.Node{p, g}
	if mask != nil {
		in = append(in, mask)
	}
	op := &customOp{
		id:    fmt.Sprintf("AttentionSoftmaxGrad(mask=%v)", mask != nil),
		arity: len(in),
		typ:   fnType(append([]int{4, 4, 3}[:len(in)], 4)...),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			mb := 0
			if len(in) > 2 {
				mb = in[2].Shape()[0]
			}
			return dispatch(out, in,
				func(o []float32, x [][]float32) { attentionSoftmaxBack(o, x[0], x[1], optional(x, 2), ss, mb) },
				func(o []float64, x [][]float64) { attentionSoftmaxBack(o, x[0], x[1], optional(x, 2), ss, mb) })
		},
	}
	return apply(op, in...)
}

func attentionSoftmaxBack[T float](out, p, g, mask []T, ss tensor.Shape, mb int) {
	B, H, T_, S := ss[0], ss[1], ss[2], ss[3]
	parallelFor(B*H*T_, S, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, t := r/(H*T_), r%T_
			m := maskRow(mask, mb, b, t, T_, S)
			pr, gr, o := p[r*S:(r+1)*S], g[r*S:(r+1)*S], out[r*S:(r+1)*S]
			var dot float64
			for j := range pr {
				dot += float64(pr[j]) * float64(gr[j])
			}
			for j := range o {
				if m != nil && m[j] == 0 {
					o[j] = 0
					continue
				}
				o[j] = T(float64(pr[j]) * (float64(gr[j]) - dot))
			}
		}
	})
}

// AttentionMaskConfig describes the attention mask of Keras'
// MultiHeadAttention for queries of length T and keys of length S.
type AttentionMaskConfig struct {
	Batch, T, S int
	// Dtype is the element type of a mask made from nothing but Causal
	// (the graph's); 0 means float32.
	Dtype tensor.Dtype
	// Causal lets query t attend to keys s ≤ t only (use_causal_mask).
	Causal bool
	// QueryMask (batch, T), ValueMask and KeyMask (batch, S) are Keras
	// masks of the inputs; Explicit (batch, T, S) is an attention_mask.
	// Any may be nil.
	QueryMask, ValueMask, KeyMask, Explicit *gorgonia.Node
}

var causalMasks atomic.Int64

// AttentionMask combines the masks of cfg with a logical AND into one
// (batch, T, S) mask of 1s and 0s, as Keras' MultiHeadAttention does in
// _compute_attention_mask: the query mask masks rows, the value and key
// masks columns, the causal mask the keys after each query. Only a causal
// mask gives a constant (1, T, S). It returns nil when there is nothing
// to mask. No gradient.
func AttentionMask(g *gorgonia.ExprGraph, cfg AttentionMaskConfig) (*gorgonia.Node, error) {
	B, T_, S := cfg.Batch, cfg.T, cfg.S
	type part struct {
		n    *gorgonia.Node
		kind byte // 'q' rows, 'v' columns, 'e' explicit
	}
	var parts []part
	for _, p := range []struct {
		n     *gorgonia.Node
		kind  byte
		shape tensor.Shape
	}{{cfg.QueryMask, 'q', tensor.Shape{B, T_}}, {cfg.ValueMask, 'v', tensor.Shape{B, S}},
		{cfg.KeyMask, 'v', tensor.Shape{B, S}}, {cfg.Explicit, 'e', tensor.Shape{B, T_, S}}} {
		if p.n == nil {
			continue
		}
		if !p.n.Shape().Eq(p.shape) {
			return nil, errors.Errorf("ops: AttentionMask: a mask of shape %v where %v is wanted", p.n.Shape(), p.shape)
		}
		parts = append(parts, part{p.n, p.kind})
	}
	if len(parts) == 0 {
		if !cfg.Causal {
			return nil, nil
		}
		if g == nil {
			return nil, errors.New("ops: AttentionMask needs a graph for a causal mask alone")
		}
		d := make([]float64, T_*S)
		for t := 0; t < T_; t++ {
			for s := 0; s <= t && s < S; s++ {
				d[t*S+s] = 1
			}
		}
		c := tensor.New(tensor.WithShape(1, T_, S), tensor.WithBacking(d))
		if cfg.Dtype == tensor.Float32 || cfg.Dtype == (tensor.Dtype{}) {
			f := make([]float32, len(d))
			for i, v := range d {
				f[i] = float32(v)
			}
			c = tensor.New(tensor.WithShape(1, T_, S), tensor.WithBacking(f))
		}
		return gorgonia.NodeFromAny(g, c, gorgonia.WithName(fmt.Sprintf("causal_mask_%d", causalMasks.Add(1)))), nil
	}
	kinds := make([]byte, len(parts))
	nodes := make([]*gorgonia.Node, len(parts))
	dims := make([]int, len(parts)+1)
	for i, p := range parts {
		kinds[i], nodes[i], dims[i] = p.kind, p.n, p.n.Dims()
	}
	dims[len(parts)] = 3
	op := &customOp{
		id:    fmt.Sprintf("AttentionMask(%s,causal=%v,%d,%d,%d)", kinds, cfg.Causal, B, T_, S),
		arity: len(parts),
		typ:   fnType(dims...),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{B, T_, S}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, x [][]float32) { attentionMask(o, x, kinds, cfg.Causal, B, T_, S) },
				func(o []float64, x [][]float64) { attentionMask(o, x, kinds, cfg.Causal, B, T_, S) })
		},
	}
	return apply(op, nodes...)
}

func attentionMask[T float](out []T, masks [][]T, kinds []byte, causal bool, B, T_, S int) {
	for b := 0; b < B; b++ {
		for t := 0; t < T_; t++ {
			for s := 0; s < S; s++ {
				on := !causal || s <= t
				for i, m := range masks {
					switch kinds[i] {
					case 'q':
						on = on && m[b*T_+t] != 0
					case 'v':
						on = on && m[b*S+s] != 0
					default:
						on = on && m[(b*T_+t)*S+s] != 0
					}
				}
				out[(b*T_+t)*S+s] = 0
				if on {
					out[(b*T_+t)*S+s] = 1
				}
			}
		}
	}
}
