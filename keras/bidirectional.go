package keras

import (
	"encoding/json"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Bidirectional runs a recurrent layer over the sequence in both
// directions and merges the two outputs, as keras.layers.Bidirectional.
// It makes two copies of Layer's configuration: "forward_<name>" and
// "backward_<name>" (the latter with GoBackwards); their weights are named
// "<bidirectional>/forward_lstm/kernel" and so on. With ReturnSequences the
// backward output is put back in the input's order before merging, and
// both directions output zeros at padded steps (Keras forces
// zero_output_for_mask there).
//
// Input shape: (batch, steps, features); applied to [x, forward states…,
// backward states…] the two directions start from those states.
// Output shape: that of Layer, with twice the units for "concat"; with
// ReturnState the outputs are [output, forward states…, backward
// states…]. With MergeMode "none" (Keras' merge_mode=None) the two
// directions are not merged: the outputs are [forward output, backward
// output (in the input's order with ReturnSequences), states…].
type Bidirectional struct {
	Name string `json:"name,omitempty"`
	// Layer is a SimpleRNN, LSTM or GRU without GoBackwards; required.
	Layer Layer `json:"-"`
	// MergeMode combines the two outputs: "concat" (the default, ""),
	// "sum", "mul", "ave", or "none" for Keras' None: two outputs.
	MergeMode string `json:"merge_mode,omitempty"`

	Base
	forward, backward recurrentLayer
}

var (
	_ MaskedLayer      = (*Bidirectional)(nil)
	_ MultiOutputLayer = (*Bidirectional)(nil)
)

func init() { Register("Bidirectional", func() Layer { return &Bidirectional{} }) }

// bidirectionalJSON is Bidirectional's saved form.
type bidirectionalJSON struct {
	Name      string       `json:"name,omitempty"`
	Layer     *nestedLayer `json:"layer"`
	MergeMode string       `json:"merge_mode,omitempty"`
}

// MarshalJSON writes the wrapped layer as {"class_name", "config"}.
func (l *Bidirectional) MarshalJSON() ([]byte, error) {
	n, err := encodeNested(l.Layer)
	if err != nil {
		return nil, err
	}
	return json.Marshal(bidirectionalJSON{Name: l.Name, Layer: n, MergeMode: l.MergeMode})
}

// UnmarshalJSON reads what MarshalJSON wrote, rejecting unknown fields.
func (l *Bidirectional) UnmarshalJSON(b []byte) error {
	var j bidirectionalJSON
	if err := strictUnmarshal(b, &j); err != nil {
		return err
	}
	inner, err := decodeNested(j.Layer)
	if err != nil {
		return err
	}
	l.Name, l.Layer, l.MergeMode = j.Name, inner, j.MergeMode
	return nil
}

// halves makes the forward and backward copies of Layer, once.
func (l *Bidirectional) halves() error {
	if l.forward != nil {
		return nil
	}
	if l.Layer == nil {
		return errors.New("keras: Bidirectional needs a Layer (SimpleRNN, LSTM or GRU)")
	}
	if _, ok := l.Layer.(recurrentLayer); !ok {
		return errors.Errorf("keras: Bidirectional wraps SimpleRNN, LSTM or GRU, got %s", ClassName(l.Layer))
	}
	switch l.MergeMode {
	case "", "concat", "sum", "mul", "ave", "none":
	default:
		return errors.Errorf(`keras: Bidirectional MergeMode must be "concat", "sum", "mul", "ave" or "none", got %q`, l.MergeMode)
	}
	s := l.Layer.(recurrentLayer).spec()
	if s.goBackwards {
		return errors.New("keras: Bidirectional's Layer must not set GoBackwards (the backward copy does)")
	}
	f, err := cloneLayer(l.Layer)
	if err != nil {
		return err
	}
	b, err := cloneLayer(l.Layer)
	if err != nil {
		return err
	}
	l.forward, l.backward = f.(recurrentLayer), b.(recurrentLayer)
	l.forward.setDirection(false, s.returnSequences, false)
	l.backward.setDirection(true, s.returnSequences, s.returnSequences)
	return nil
}

// split divides the inputs into each direction's [x, states…].
func (l *Bidirectional) split(n int) (fwd, bwd []int, err error) {
	states := l.forward.spec().states()
	switch n - 1 {
	case 0:
		return []int{0}, []int{0}, nil
	case 2 * states:
		fwd, bwd = []int{0}, []int{0}
		for i := 0; i < states; i++ {
			fwd, bwd = append(fwd, 1+i), append(bwd, 1+states+i)
		}
		return fwd, bwd, nil
	}
	return nil, nil, errors.Errorf("keras: Bidirectional takes the sequence and %d initial states (forward, then backward), got %d inputs", 2*states, n)
}

func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, k := range idx {
		out[i] = xs[k]
	}
	return out
}

// OutputShapes implements MultiOutputLayer.
func (l *Bidirectional) OutputShapes(in []Shape) ([]Shape, error) {
	if err := l.halves(); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, errors.New("keras: Bidirectional takes a sequence, got no input")
	}
	fi, bi, err := l.split(len(in))
	if err != nil {
		return nil, err
	}
	fs, err := l.forward.OutputShapes(pick(in, fi))
	if err != nil {
		return nil, err
	}
	bs, err := l.backward.OutputShapes(pick(in, bi))
	if err != nil {
		return nil, err
	}
	outs := []Shape{append(Shape(nil), fs[0]...)}
	switch l.MergeMode {
	case "", "concat":
		outs[0][len(outs[0])-1] *= 2
	case "none":
		outs = append(outs, bs[0])
	}
	return append(append(outs, fs[1:]...), bs[1:]...), nil
}

// OutputShape implements Layer.
func (l *Bidirectional) OutputShape(in []Shape) (Shape, error) { return firstShape(l.OutputShapes(in)) }

// Build implements Layer.
func (l *Bidirectional) Build(in []Shape) error {
	if err := l.halves(); err != nil {
		return err
	}
	fi, bi, err := l.split(len(in))
	if err != nil {
		return err
	}
	name := innerName(l.Layer)
	if err := buildInner(&l.Base, l.forward, "forward_"+name, pick(in, fi)); err != nil {
		return err
	}
	return buildInner(&l.Base, l.backward, "backward_"+name, pick(in, bi))
}

// CallMasked implements MaskedLayer.
func (l *Bidirectional) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	fi, bi, err := l.split(len(in))
	if err != nil {
		return nil, nil, err
	}
	if masks == nil {
		masks = make([]*gorgonia.Node, len(in))
	}
	fo, _, err := l.forward.CallMasked(ctx, pick(in, fi), pick(masks, fi))
	if err != nil {
		return nil, nil, err
	}
	bo, _, err := l.backward.CallMasked(ctx, pick(in, bi), pick(masks, bi))
	if err != nil {
		return nil, nil, err
	}
	ys := []*gorgonia.Node{fo[0], bo[0]}
	if l.MergeMode != "none" {
		y, err := mergeDirections(l.MergeMode, fo[0], bo[0])
		if err != nil {
			return nil, nil, err
		}
		ys = ys[:1]
		ys[0] = y
	}
	outs := append(append(ys, fo[1:]...), bo[1:]...)
	outMasks := make([]*gorgonia.Node, len(outs))
	if l.forward.spec().returnSequences {
		for i := range ys {
			outMasks[i] = masks[0]
		}
	}
	return outs, outMasks, nil
}

// mergeDirections combines the forward and backward outputs.
func mergeDirections(mode string, f, b *gorgonia.Node) (*gorgonia.Node, error) {
	var y *gorgonia.Node
	var err error
	switch mode {
	case "", "concat":
		y, err = gorgonia.Concat(f.Dims()-1, f, b)
	case "sum":
		y, err = gorgonia.Add(f, b)
	case "mul":
		y, err = gorgonia.HadamardProd(f, b)
	case "ave":
		if y, err = gorgonia.Add(f, b); err == nil {
			y, err = gorgonia.Mul(y, gorgonia.NewConstant(castLike(f, 0.5)))
		}
	default:
		err = errors.Errorf("unknown merge mode %q", mode)
	}
	return y, errors.Wrap(err, "keras: Bidirectional merging the two directions")
}

// CallMulti implements MultiOutputLayer.
func (l *Bidirectional) CallMulti(ctx *graph.Context, in []*gorgonia.Node) ([]*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	return outs, err
}

// Call implements Layer.
func (l *Bidirectional) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return firstNode(l.CallMulti(ctx, in))
}
