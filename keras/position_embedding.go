package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PositionEmbedding is a learnt embedding of positions, as keras-hub's
// keras_hub.layers.PositionEmbedding (BERT's): for inputs (batch, T,
// features) it outputs the embeddings of positions 0…T−1, (batch, T,
// features), whatever the input's values; add it to token embeddings:
//
//	tokens := keras.Apply(&keras.Embedding{InputDim: vocab, OutputDim: 64}, ids)
//	h := keras.Apply(&keras.Add{}, tokens, keras.Apply(&keras.PositionEmbedding{SequenceLength: 128}, tokens))
//
// TokenAndPositionEmbedding does both and keeps the padding mask. T must
// not exceed SequenceLength (keras-hub's hierarchical extension beyond it
// is not supported). As keras-hub's, the layer does not pass a mask on.
// Weight: embeddings (SequenceLength, features).
type PositionEmbedding struct {
	Name string `json:"name,omitempty"`
	// SequenceLength is the longest sequence; required.
	SequenceLength int `json:"sequence_length"`
	// Initializer defaults to "glorot_uniform".
	Initializer string `json:"initializer,omitempty"`

	Base
	table *graph.Weight
}

func init() { Register("PositionEmbedding", func() Layer { return &PositionEmbedding{} }) }

// positionShape checks the (steps, features) input of a position layer.
func positionShape(class string, in []Shape, maxLen int) (Shape, error) {
	s, err := single(class, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 2 {
		return nil, errors.Errorf("keras: %s takes (steps, features) sequences, got %v", class, s)
	}
	if maxLen > 0 && s[0] > maxLen {
		return nil, errors.Errorf("keras: %s: sequences of %d steps are longer than SequenceLength %d", class, s[0], maxLen)
	}
	return s, nil
}

// OutputShape implements Layer.
func (l *PositionEmbedding) OutputShape(in []Shape) (Shape, error) {
	if l.SequenceLength <= 0 {
		return nil, errors.Errorf("keras: PositionEmbedding needs a positive SequenceLength, got %d", l.SequenceLength)
	}
	s, err := positionShape("PositionEmbedding", in, l.SequenceLength)
	if err != nil {
		return nil, err
	}
	if err := checkBuilt("PositionEmbedding", l.table, 1, s[1]); err != nil {
		return nil, err
	}
	return s, nil
}

// Build implements Layer.
func (l *PositionEmbedding) Build(in []Shape) error {
	init, err := initializer(l.Initializer, "glorot_uniform")
	if err != nil {
		return err
	}
	l.table = l.AddWeight("embeddings", []int{l.SequenceLength, in[0][1]}, init, true)
	return nil
}

// Call implements Layer.
func (l *PositionEmbedding) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	t, err := ctx.Param(l.table)
	if err != nil {
		return nil, err
	}
	return positions(t, in[0].Shape())
}

// positions returns the first T rows of table (L, D) repeated over the
// batch of shape (batch, T, D).
func positions(table *gorgonia.Node, shape tensor.Shape) (*gorgonia.Node, error) {
	T, D := shape[1], shape[2]
	rows := table
	if L := table.Shape()[0]; T < L {
		flat, err := reshapeNode(table, tensor.Shape{1, L * D})
		if err != nil {
			return nil, err
		}
		if rows, err = ops.Columns(flat, 0, T*D); err != nil {
			return nil, err
		}
	}
	r, err := reshapeNode(rows, tensor.Shape{1, T, D})
	if err != nil {
		return nil, err
	}
	return ops.BroadcastTo(r, shape)
}
