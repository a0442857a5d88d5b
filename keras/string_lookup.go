package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// StringLookup maps strings to vocabulary indices, as
// keras.layers.StringLookup: with the default one OOV index and no mask
// token, an unknown string is 0 and the vocabulary's tokens are 1, 2, ….
// The vocabulary is given or learnt by Adapt (by decreasing frequency).
//
// Keragon's graphs compute on floats, so strings are looked up on the
// host: the layer takes a string model input, declared with
// Input{Dtype: "string"}, and Fit, Evaluate and Predict accept a tensor of
// strings for it (see Strings), which they turn into indices with this
// layer before feeding the graph. The layer is saved with the model, its
// vocabulary in its configuration, so a loaded model takes strings too.
//
//	city := keras.Apply(&keras.Input{Shape: []int{}, Dtype: "string"})
//	lookup := &keras.StringLookup{OutputMode: "one_hot"}
//	err := lookup.Adapt(trainCities) // a tensor of strings
//	h := keras.Apply(lookup, city)   // (batch, vocabulary size)
//
// OutputMode "int" (the default) gives indices, of the input's shape (for
// an Embedding); "one_hot", "multi_hot" and "count" encode them as
// CategoryEncoding does. Keras' invert, tf_idf, sparse output and more
// than one OOV index (hashed with FarmHash) are not supported. No weights.
type StringLookup struct {
	Name string `json:"name,omitempty"`
	// MaxTokens bounds the vocabulary, special indices included; 0 means
	// no bound.
	MaxTokens int `json:"max_tokens,omitempty"`
	// NumOOVIndices is 0 or 1; nil means Keras' 1. With Int(0) an unknown
	// string is an error.
	NumOOVIndices *int `json:"num_oov_indices,omitempty"`
	// MaskToken, when set, is padding: index 0 in "int" mode (for an
	// Embedding with MaskZero), nothing in the encoded modes. nil means
	// none, as Keras' default.
	MaskToken *string `json:"mask_token,omitempty"`
	// OOVToken stands for unknown strings in Vocabulary(); "" means
	// Keras' "[UNK]".
	OOVToken string `json:"oov_token,omitempty"`
	// Vocabulary lists the tokens (without special tokens); Adapt sets it.
	Vocabulary []string `json:"vocabulary,omitempty"`
	// OutputMode is "int" (""), "one_hot", "multi_hot" or "count".
	OutputMode string `json:"output_mode,omitempty"`
	// PadToMaxTokens makes encoded outputs MaxTokens long.
	PadToMaxTokens bool `json:"pad_to_max_tokens,omitempty"`

	Base
	built bool
}

func init() { Register("StringLookup", func() Layer { return &StringLookup{} }) }

func (l *StringLookup) spec() (*lookup[string], error) {
	oov := l.OOVToken
	if oov == "" {
		oov = "[UNK]"
	}
	if l.NumOOVIndices != nil && *l.NumOOVIndices > 1 {
		return nil, errors.Errorf("keras: StringLookup supports 0 or 1 OOV indices, got %d (Keras hashes unknown strings with FarmHash)", *l.NumOOVIndices)
	}
	return newLookup("StringLookup", l.MaxTokens, l.NumOOVIndices, l.MaskToken, oov, l.Vocabulary, l.OutputMode, l.PadToMaxTokens)
}

// VocabularySize is Keras' vocabulary_size(): special indices and tokens.
func (l *StringLookup) VocabularySize() (int, error) {
	s, err := l.spec()
	if err != nil {
		return 0, err
	}
	return s.size(), nil
}

// GetVocabulary is Keras' get_vocabulary(): the token of every index,
// special tokens first.
func (l *StringLookup) GetVocabulary() ([]string, error) {
	s, err := l.spec()
	if err != nil {
		return nil, err
	}
	return s.vocabulary(), nil
}

// Adapt sets Vocabulary from data, a tensor of strings (see Strings): its
// distinct strings by decreasing count, ties in decreasing order, the mask
// and OOV tokens left out, at most MaxTokens less the special indices.
// Adapt before the layer is in a model when the output is encoded (its
// size is the vocabulary's).
func (l *StringLookup) Adapt(data *tensor.Dense) error {
	tokens, ok := stringsOf(data)
	if !ok {
		return errors.Errorf("keras: StringLookup.Adapt needs a tensor of strings (see keras.Strings), got %v", dtypeOf(data))
	}
	if l.built && l.OutputMode != "" && l.OutputMode != "int" {
		return errors.New("keras: StringLookup with an encoded output must be adapted before it is in a model")
	}
	s, err := l.spec()
	if err != nil {
		return err
	}
	limit, err := s.adaptLimit()
	if err != nil {
		return err
	}
	l.Vocabulary = adaptVocabulary(tokens, s.mask, s.oov, limit)
	return nil
}

// OutputShape implements Layer.
func (l *StringLookup) OutputShape(in []Shape) (Shape, error) {
	s, err := single("StringLookup", in)
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
func (l *StringLookup) Build([]Shape) error { l.built = true; return nil }

// Call implements Layer. Its input holds the indices encodeStrings
// computed on the host.
func (l *StringLookup) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	s, err := l.spec()
	if err != nil {
		return nil, err
	}
	if s.mode == "int" {
		return in[0], nil
	}
	return ops.CategoryEncode(in[0], s.depth(), s.mode, true)
}

// encode looks strings up: their indices, or −1 for the mask token in the
// encoded modes.
func (l *StringLookup) encode(values []string) ([]float64, error) {
	s, err := l.spec()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(values))
	for i, v := range values {
		if out[i], err = s.lookupIndex(v, nil); err != nil {
			return nil, errors.WithMessagef(err, "string %d", i)
		}
	}
	return out, nil
}
