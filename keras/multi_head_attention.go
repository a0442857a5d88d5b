package keras

import (
	"math"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MultiHeadAttention is keras.layers.MultiHeadAttention (Vaswani et al.
// 2017) over sequences: query (batch, T, dq), value (batch, S, dv) and an
// optional key (batch, S, dk; the value when absent). Each of NumHeads
// heads projects the query and the key to KeyDim and the value to
// ValueDim, attends with softmax(q·kᵀ/sqrt(KeyDim)) over the S keys, and
// the heads' results are projected together to the output:
//
//	h := keras.Apply(&keras.MultiHeadAttention{NumHeads: 4, KeyDim: 16}, x, x) // self-attention
//
// Inputs: [query, value], [query, value, key], and with AttentionMask a
// last input (batch, T, S) of 1s (may attend) and 0s. Output: (batch, T,
// OutputDim, default dq); with ReturnAttentionScores a second output, the
// attention weights (batch, NumHeads, T, S) before dropout.
//
// Masks, as Keras: the Keras masks of the query (rows), value and key
// (columns), UseCausalMask (query t sees keys s ≤ t) and the attention
// mask are combined with AND; a masked score is replaced by −1e9 before
// the softmax. The output keeps the query's mask.
//
// Weights, in Keras' names and shapes: query/kernel (dq, NumHeads,
// KeyDim), query/bias (NumHeads, KeyDim), key/kernel, key/bias,
// value/kernel (dv, NumHeads, ValueDim), value/bias, attention_output/
// kernel (NumHeads, ValueDim, OutputDim), attention_output/bias
// (OutputDim). PyTorch's nn.MultiheadAttention with batch_first is the
// same computation when KeyDim = ValueDim = dq/NumHeads: its
// in_proj_weight stacks the three kernels reshaped to (dq, NumHeads·KeyDim)
// and transposed, out_proj.weight is the output kernel reshaped and
// transposed.
//
// Keragon attends over the sequence axis of rank-3 inputs: Keras'
// attention_axes, a multi-axis output_shape, use_gate and sliding_window
// are not supported.
type MultiHeadAttention struct {
	Name string `json:"name,omitempty"`
	// NumHeads and KeyDim are required.
	NumHeads int `json:"num_heads"`
	KeyDim   int `json:"key_dim"`
	// ValueDim is the size of each head for the value; 0 means KeyDim.
	ValueDim int `json:"value_dim,omitempty"`
	// Dropout drops attention weights while training, in [0, 1).
	Dropout float64 `json:"dropout,omitempty"`
	// NoBias drops the projections' biases (Keras' use_bias=False).
	NoBias bool `json:"no_bias,omitempty"`
	// OutputDim is the output's last axis (Keras' output_shape); 0 means
	// the query's.
	OutputDim int `json:"output_shape,omitempty"`
	// KernelInitializer defaults to "glorot_uniform", BiasInitializer to
	// "zeros".
	KernelInitializer string    `json:"kernel_initializer,omitempty"`
	BiasInitializer   string    `json:"bias_initializer,omitempty"`
	KernelRegularizer *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	BiasRegularizer   *ops.L1L2 `json:"bias_regularizer,omitempty"`
	// UseCausalMask lets each query attend only to keys at or before its
	// position (Keras' call argument use_causal_mask).
	UseCausalMask bool `json:"use_causal_mask,omitempty"`
	// AttentionMask says the last input is an attention mask (Keras' call
	// argument attention_mask).
	AttentionMask bool `json:"attention_mask,omitempty"`
	// ReturnAttentionScores adds the attention weights as a second output
	// (Keras' call argument return_attention_scores).
	ReturnAttentionScores bool `json:"return_attention_scores,omitempty"`

	Base
	q, k, v, o mhaProjection
}

// mhaProjection is one projection's weights.
type mhaProjection struct{ kernel, bias *graph.Weight }

var (
	_ MaskedLayer      = (*MultiHeadAttention)(nil)
	_ MultiOutputLayer = (*MultiHeadAttention)(nil)
)

func init() { Register("MultiHeadAttention", func() Layer { return &MultiHeadAttention{} }) }

func (l *MultiHeadAttention) valueDim() int {
	if l.ValueDim == 0 {
		return l.KeyDim
	}
	return l.ValueDim
}

// split names the inputs: query, value, key (value if absent) and the
// attention mask (-1 if none).
func (l *MultiHeadAttention) split(n int) (key, mask int, err error) {
	want := 2
	if l.AttentionMask {
		want = 3
	}
	switch n {
	case want:
		key = 1
	case want + 1:
		key = 2
	default:
		return 0, 0, errors.Errorf("keras: MultiHeadAttention takes [query, value], [query, value, key]%s, got %d inputs",
			map[bool]string{true: " and an attention mask last", false: ""}[l.AttentionMask], n)
	}
	mask = -1
	if l.AttentionMask {
		mask = n - 1
	}
	return key, mask, nil
}

// OutputShapes implements MultiOutputLayer.
func (l *MultiHeadAttention) OutputShapes(in []Shape) ([]Shape, error) {
	if l.NumHeads <= 0 || l.KeyDim <= 0 || l.ValueDim < 0 || l.OutputDim < 0 {
		return nil, errors.Errorf("keras: MultiHeadAttention needs positive NumHeads and KeyDim (and ValueDim, OutputDim >= 0), got %d, %d, %d, %d", l.NumHeads, l.KeyDim, l.ValueDim, l.OutputDim)
	}
	if !(l.Dropout >= 0 && l.Dropout < 1) {
		return nil, errors.Errorf("keras: MultiHeadAttention dropout must be in [0, 1), got %v", l.Dropout)
	}
	ki, mi, err := l.split(len(in))
	if err != nil {
		return nil, err
	}
	q, v, k := in[0], in[1], in[ki]
	for name, s := range map[string]Shape{"query": q, "value": v, "key": k} {
		if len(s) != 2 {
			return nil, errors.Errorf("keras: MultiHeadAttention takes (steps, features) sequences; the %s has shape %v", name, s)
		}
	}
	if k[0] != v[0] {
		return nil, errors.Errorf("keras: MultiHeadAttention: the key (%v) and the value (%v) need the same length", k, v)
	}
	if mi >= 0 && !in[mi].Equal(Shape{q[0], v[0]}) {
		return nil, errors.Errorf("keras: MultiHeadAttention attention mask must be (T, S) = %v, got %v", Shape{q[0], v[0]}, in[mi])
	}
	if w := l.q.kernel; w != nil && (w.Shape[0] != q[1] || l.k.kernel.Shape[0] != k[1] || l.v.kernel.Shape[0] != v[1]) {
		return nil, errors.Errorf("keras: MultiHeadAttention was built for features (%d, %d, %d), got query %v, value %v, key %v", w.Shape[0], l.v.kernel.Shape[0], l.k.kernel.Shape[0], q, v, k)
	}
	out := l.OutputDim
	if out == 0 {
		out = q[1]
	}
	shapes := []Shape{{q[0], out}}
	if l.ReturnAttentionScores {
		shapes = append(shapes, Shape{l.NumHeads, q[0], v[0]})
	}
	return shapes, nil
}

// OutputShape implements Layer.
func (l *MultiHeadAttention) OutputShape(in []Shape) (Shape, error) {
	return firstShape(l.OutputShapes(in))
}

// Build implements Layer.
func (l *MultiHeadAttention) Build(in []Shape) error {
	ki, _, err := l.split(len(in))
	if err != nil {
		return err
	}
	kinit, err := initializer(l.KernelInitializer, "glorot_uniform")
	if err != nil {
		return err
	}
	binit, err := initializer(l.BiasInitializer, "zeros")
	if err != nil {
		return err
	}
	h, kd, vd := l.NumHeads, l.KeyDim, l.valueDim()
	out := l.OutputDim
	if out == 0 {
		out = in[0][1]
	}
	add := func(p *mhaProjection, name string, kshape, bshape []int) {
		p.kernel = l.AddWeight(name+"/kernel", kshape, kinit, true)
		if !l.NoBias {
			p.bias = l.AddWeight(name+"/bias", bshape, binit, true)
		}
	}
	add(&l.q, "query", []int{in[0][1], h, kd}, []int{h, kd})
	add(&l.k, "key", []int{in[ki][1], h, kd}, []int{h, kd})
	add(&l.v, "value", []int{in[1][1], h, vd}, []int{h, vd})
	add(&l.o, "attention_output", []int{h, vd, out}, []int{out})
	return nil
}

// project computes x (batch, n, rows)·kernel + bias as (batch, n, width),
// the kernel seen as a (rows, width) matrix: (d, heads·dim) for the input
// projections, (heads·dim, out) for the output one. It regularises the
// weights.
func (l *MultiHeadAttention) project(ctx *graph.Context, p mhaProjection, x *gorgonia.Node) (*gorgonia.Node, error) {
	k, err := ctx.Param(p.kernel)
	if err != nil {
		return nil, err
	}
	if err := regularize(ctx, l.KernelRegularizer, k); err != nil {
		return nil, err
	}
	ks := p.kernel.Shape
	rows, width := ks[0], ks[1]*ks[2]
	if p.kernel == l.o.kernel {
		rows, width = ks[0]*ks[1], ks[2]
	}
	km, err := reshapeNode(k, tensor.Shape{rows, width})
	if err != nil {
		return nil, err
	}
	var b *gorgonia.Node
	if p.bias != nil {
		bn, err := ctx.Param(p.bias)
		if err != nil {
			return nil, err
		}
		if err := regularize(ctx, l.BiasRegularizer, bn); err != nil {
			return nil, err
		}
		if b, err = reshapeNode(bn, tensor.Shape{width}); err != nil {
			return nil, err
		}
	}
	xs := x.Shape()
	x2, err := reshapeNode(x, tensor.Shape{xs[0] * xs[1], xs[2]})
	if err != nil {
		return nil, err
	}
	y, err := ops.Dense(x2, km, b, "")
	if err != nil {
		return nil, err
	}
	return reshapeNode(y, tensor.Shape{xs[0], xs[1], width})
}

// heads turns (batch, n, heads·d) into (batch·heads, n, d).
func heads(x *gorgonia.Node, h int) (*gorgonia.Node, error) {
	s := x.Shape()
	y, err := reshapeNode(x, tensor.Shape{s[0], s[1], h, s[2] / h})
	if err != nil {
		return nil, err
	}
	if y, err = ops.Permute(y, 0, 2, 1, 3); err != nil {
		return nil, err
	}
	return reshapeNode(y, tensor.Shape{s[0] * h, s[1], s[2] / h})
}

// CallMasked implements MaskedLayer.
func (l *MultiHeadAttention) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	ki, mi, err := l.split(len(in))
	if err != nil {
		return nil, nil, err
	}
	if masks == nil {
		masks = make([]*gorgonia.Node, len(in))
	}
	query, value, key := in[0], in[1], in[ki]
	B, T, S, H := ctx.Batch, query.Shape()[1], value.Shape()[1], l.NumHeads
	kd, vd := l.KeyDim, l.valueDim()
	q, err := l.project(ctx, l.q, query)
	if err != nil {
		return nil, nil, err
	}
	// Keras scales the query by 1/sqrt(key_dim) before the product.
	if q, err = gorgonia.Mul(q, ctx.Constant(1/math.Sqrt(float64(kd)))); err != nil {
		return nil, nil, errors.Wrap(err, "keras: MultiHeadAttention")
	}
	k, err := l.project(ctx, l.k, key)
	if err != nil {
		return nil, nil, err
	}
	v, err := l.project(ctx, l.v, value)
	if err != nil {
		return nil, nil, err
	}
	if q, err = heads(q, H); err != nil {
		return nil, nil, err
	}
	if k, err = heads(k, H); err != nil {
		return nil, nil, err
	}
	if v, err = heads(v, H); err != nil {
		return nil, nil, err
	}
	scores, err := ops.BatchMatMul(q, k, false, true) // (B·H, T, S)
	if err != nil {
		return nil, nil, err
	}
	if scores, err = reshapeNode(scores, tensor.Shape{B, H, T, S}); err != nil {
		return nil, nil, err
	}
	cfg := ops.AttentionMaskConfig{Batch: B, T: T, S: S, Dtype: ctx.Dtype, Causal: l.UseCausalMask,
		QueryMask: masks[0], ValueMask: masks[1]}
	if ki == 2 {
		cfg.KeyMask = masks[2]
	}
	if mi >= 0 {
		cfg.Explicit = in[mi]
	}
	am, err := ops.AttentionMask(ctx.G, cfg)
	if err != nil {
		return nil, nil, err
	}
	probs, err := ops.AttentionSoftmax(scores, am)
	if err != nil {
		return nil, nil, err
	}
	weights := probs
	if ctx.Training() && l.Dropout > 0 {
		drop := ctx.RandomInput(l.name+"/dropout_mask", []int{B, H, T, S}, ops.DropoutMaskFiller(l.Dropout))
		if weights, err = ops.Dropout(probs, drop); err != nil {
			return nil, nil, err
		}
	}
	if weights, err = reshapeNode(weights, tensor.Shape{B * H, T, S}); err != nil {
		return nil, nil, err
	}
	att, err := ops.BatchMatMul(weights, v, false, false) // (B·H, T, vd)
	if err != nil {
		return nil, nil, err
	}
	if att, err = reshapeNode(att, tensor.Shape{B, H, T, vd}); err != nil {
		return nil, nil, err
	}
	if att, err = ops.Permute(att, 0, 2, 1, 3); err != nil {
		return nil, nil, err
	}
	if att, err = reshapeNode(att, tensor.Shape{B, T, H * vd}); err != nil {
		return nil, nil, err
	}
	out, err := l.project(ctx, l.o, att)
	if err != nil {
		return nil, nil, err
	}
	outs := []*gorgonia.Node{out}
	outMasks := []*gorgonia.Node{masks[0]}
	if l.ReturnAttentionScores {
		outs = append(outs, probs)
		outMasks = append(outMasks, nil)
	}
	return outs, outMasks, nil
}

// workValues is the number of values one sample makes inside the layer
// (checked by Load against LoadOptions.MaxActivations): the projections
// and their per-head copies, the scores, the attention weights and their
// dropout, and the attention mask. in has been checked by OutputShape.
func (l *MultiHeadAttention) workValues(in []Shape) int {
	if len(in) < 2 || len(in[0]) != 2 || len(in[1]) != 2 {
		return 0
	}
	h, kd, vd := float64(l.NumHeads), float64(l.KeyDim), float64(l.valueDim())
	t, s := float64(in[0][0]), float64(in[1][0])
	n := 8*h*max(t, s)*max(kd, vd) + 3*h*t*s + t*s
	if n > 1<<62 {
		return 1 << 62
	}
	return int(n)
}

// CallMulti implements MultiOutputLayer.
func (l *MultiHeadAttention) CallMulti(ctx *graph.Context, in []*gorgonia.Node) ([]*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	return outs, err
}

// Call implements Layer.
func (l *MultiHeadAttention) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return firstNode(l.CallMulti(ctx, in))
}
