package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// IntegerLookup maps integer tokens (floats holding integers, such as
// codes or ids with gaps) to vocabulary indices, as
// keras.layers.IntegerLookup: with the default one OOV index and no mask
// token, an unknown token is 0 and the vocabulary's tokens are 1, 2, ….
// The vocabulary is given or learnt by Adapt (by decreasing frequency).
// With more than one OOV index an unknown token t goes to OOV index
// t mod NumOOVIndices, as Keras' default oov_method.
//
// OutputMode "int" (the default) gives indices, of the input's shape;
// "one_hot", "multi_hot" and "count" encode them as CategoryEncoding does.
// With Invert ("int" mode only) it maps indices back to tokens (the mask
// token for index 0 when there is one, OOVToken for OOV indices). Keras'
// tf_idf and sparse output are not supported. No weights, no gradient.
type IntegerLookup struct {
	Name string `json:"name,omitempty"`
	// MaxTokens bounds the vocabulary, special indices included; 0 means
	// no bound.
	MaxTokens int `json:"max_tokens,omitempty"`
	// NumOOVIndices, >= 0; nil means Keras' 1. With Int(0) an unknown
	// token is an error.
	NumOOVIndices *int `json:"num_oov_indices,omitempty"`
	// MaskToken, when set (often Int(0)), is padding: index 0 in "int"
	// mode, nothing in the encoded modes. nil means none.
	MaskToken *int `json:"mask_token,omitempty"`
	// OOVToken stands for unknown tokens; nil means Keras' −1.
	OOVToken *int `json:"oov_token,omitempty"`
	// Vocabulary lists the tokens (without special tokens); Adapt sets it.
	Vocabulary []int `json:"vocabulary,omitempty"`
	// Invert maps indices to tokens.
	Invert bool `json:"invert,omitempty"`
	// OutputMode is "int" (""), "one_hot", "multi_hot" or "count".
	OutputMode string `json:"output_mode,omitempty"`
	// PadToMaxTokens makes encoded outputs MaxTokens long.
	PadToMaxTokens bool `json:"pad_to_max_tokens,omitempty"`

	Base
	built bool
}

func init() { Register("IntegerLookup", func() Layer { return &IntegerLookup{} }) }

func (l *IntegerLookup) spec() (*lookup[int], error) {
	oov := -1
	if l.OOVToken != nil {
		oov = *l.OOVToken
	}
	s, err := newLookup("IntegerLookup", l.MaxTokens, l.NumOOVIndices, l.MaskToken, oov, l.Vocabulary, l.OutputMode, l.PadToMaxTokens)
	if err == nil && l.Invert && s.mode != "int" {
		err = errors.New("keras: IntegerLookup with Invert needs the \"int\" output mode")
	}
	return s, err
}

// VocabularySize is Keras' vocabulary_size(): special indices and tokens.
func (l *IntegerLookup) VocabularySize() (int, error) {
	s, err := l.spec()
	if err != nil {
		return 0, err
	}
	return s.size(), nil
}

// GetVocabulary is Keras' get_vocabulary(): the token of every index,
// special tokens first.
func (l *IntegerLookup) GetVocabulary() ([]int, error) {
	s, err := l.spec()
	if err != nil {
		return nil, err
	}
	return s.vocabulary(), nil
}

// Adapt sets Vocabulary from data (any shape; every value is a token), as
// StringLookup.Adapt does.
func (l *IntegerLookup) Adapt(data *tensor.Dense) error {
	if data == nil {
		return errors.New("keras: IntegerLookup.Adapt needs data")
	}
	if l.built && l.OutputMode != "" && l.OutputMode != "int" {
		return errors.New("keras: IntegerLookup with an encoded output must be adapted before it is in a model")
	}
	s, err := l.spec()
	if err != nil {
		return err
	}
	limit, err := s.adaptLimit()
	if err != nil {
		return err
	}
	v := Values(data)
	tokens := make([]int, len(v))
	for i, x := range v {
		if tokens[i], err = intToken("IntegerLookup.Adapt", x); err != nil {
			return errors.WithMessagef(err, "value %d", i)
		}
	}
	l.Vocabulary = adaptVocabulary(tokens, s.mask, s.oov, limit)
	return nil
}

// OutputShape implements Layer.
func (l *IntegerLookup) OutputShape(in []Shape) (Shape, error) {
	s, err := single("IntegerLookup", in)
	if err != nil {
		return nil, err
	}
	spec, err := l.spec()
	if err != nil {
		return nil, err
	}
	return spec.outputShape(s)
}

// Build implements Layer.
func (l *IntegerLookup) Build([]Shape) error { l.built = true; return nil }

// Call implements Layer.
func (l *IntegerLookup) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	s, err := l.spec()
	if err != nil {
		return nil, err
	}
	if l.Invert {
		vocab := s.vocabulary()
		return ops.MapValues(in[0], "invert "+s.id(), func(v float64) (float64, error) {
			i, err := intToken("IntegerLookup", v)
			if err != nil {
				return 0, err
			}
			if i < 0 || i >= len(vocab) {
				return float64(s.oov), nil
			}
			return float64(vocab[i]), nil
		})
	}
	n := s.numOOV
	y, err := ops.MapValues(in[0], s.id(), func(v float64) (float64, error) {
		t, err := intToken("IntegerLookup", v)
		if err != nil {
			return 0, err
		}
		return s.lookupIndex(t, func(t int) int { return ((t % n) + n) % n })
	})
	if err != nil || s.mode == "int" {
		return y, err
	}
	return ops.CategoryEncode(y, s.depth(), s.mode, true)
}
