package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// TokenAndPositionEmbedding embeds token ids and adds a learnt embedding
// of their positions, as keras-hub's keras_hub.layers.
// TokenAndPositionEmbedding: ids (batch, T) give (batch, T,
// EmbeddingDim). With MaskZero, id 0 is padding and the output is masked
// there (as Embedding's), so that MultiHeadAttention ignores padded keys.
// Weights: token_embedding/embeddings (VocabularySize, EmbeddingDim),
// position_embedding/embeddings (SequenceLength, EmbeddingDim), both
// initialised by EmbeddingsInitializer. keras-hub's tie_weights (a
// reversible embedding) is not supported.
type TokenAndPositionEmbedding struct {
	Name string `json:"name,omitempty"`
	// VocabularySize, SequenceLength and EmbeddingDim are required.
	VocabularySize int `json:"vocabulary_size"`
	SequenceLength int `json:"sequence_length"`
	EmbeddingDim   int `json:"embedding_dim"`
	// EmbeddingsInitializer defaults to "uniform" (−0.05..0.05).
	EmbeddingsInitializer string `json:"embeddings_initializer,omitempty"`
	// MaskZero treats id 0 as padding.
	MaskZero bool `json:"mask_zero,omitempty"`

	Base
	tokens, positions *graph.Weight
}

var _ MaskedLayer = (*TokenAndPositionEmbedding)(nil)

func init() {
	Register("TokenAndPositionEmbedding", func() Layer { return &TokenAndPositionEmbedding{} })
}

// OutputShape implements Layer.
func (l *TokenAndPositionEmbedding) OutputShape(in []Shape) (Shape, error) {
	s, err := single("TokenAndPositionEmbedding", in)
	if err != nil {
		return nil, err
	}
	if l.VocabularySize <= 0 || l.SequenceLength <= 0 || l.EmbeddingDim <= 0 {
		return nil, errors.Errorf("keras: TokenAndPositionEmbedding needs positive VocabularySize, SequenceLength and EmbeddingDim, got %d, %d, %d", l.VocabularySize, l.SequenceLength, l.EmbeddingDim)
	}
	if len(s) != 1 || s[0] > l.SequenceLength {
		return nil, errors.Errorf("keras: TokenAndPositionEmbedding takes (steps) ids with at most SequenceLength %d steps, got %v", l.SequenceLength, s)
	}
	return Shape{s[0], l.EmbeddingDim}, nil
}

// Build implements Layer.
func (l *TokenAndPositionEmbedding) Build([]Shape) error {
	init, err := initializer(l.EmbeddingsInitializer, "uniform")
	if err != nil {
		return err
	}
	l.tokens = l.AddWeight("token_embedding/embeddings", []int{l.VocabularySize, l.EmbeddingDim}, init, true)
	l.positions = l.AddWeight("position_embedding/embeddings", []int{l.SequenceLength, l.EmbeddingDim}, init, true)
	return nil
}

// Call implements Layer.
func (l *TokenAndPositionEmbedding) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	t, err := ctx.Param(l.tokens)
	if err != nil {
		return nil, err
	}
	p, err := ctx.Param(l.positions)
	if err != nil {
		return nil, err
	}
	tok, err := ops.Gather(t, in[0])
	if err != nil {
		return nil, err
	}
	pos, err := positions(p, tok.Shape())
	if err != nil {
		return nil, err
	}
	y, err := gorgonia.Add(tok, pos)
	return y, errors.Wrap(err, "keras: TokenAndPositionEmbedding")
}

// CallMasked implements MaskedLayer: masked where the id is 0 with
// MaskZero.
func (l *TokenAndPositionEmbedding) CallMasked(ctx *graph.Context, in, _ []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	y, err := l.Call(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	var mask *gorgonia.Node
	if l.MaskZero {
		if mask, err = ops.NotEqualMask(in[0], 0); err != nil {
			return nil, nil, err
		}
	}
	return []*gorgonia.Node{y}, []*gorgonia.Node{mask}, nil
}
