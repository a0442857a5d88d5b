package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CategoryEncoding turns integer ids in [0, NumTokens) into vectors, as
// keras.layers.CategoryEncoding:
//
//   - "multi_hot" (the default): one vector per sample with 1 at each id
//     the sample has: ids (batch, k) give (batch, NumTokens);
//   - "count": the same, counting each id's occurrences;
//   - "one_hot": one vector per id: (batch) or (batch, 1) gives (batch,
//     NumTokens), (batch, k) with k > 1 gives (batch, k, NumTokens).
//
// Ids are floats holding integers; one outside [0, NumTokens) is an error
// of the run. Ids of shape (batch) are one id per sample in every mode
// (Keras reads a rank-1 input of multi_hot or count as a single sample,
// which in a model would drop the batch axis). No weights, no gradient:
// it belongs right after an Input or a lookup layer. Keras' sparse output
// and count_weights are not supported.
type CategoryEncoding struct {
	Name string `json:"name,omitempty"`
	// NumTokens is the number of ids; required.
	NumTokens int `json:"num_tokens"`
	// OutputMode is "multi_hot" (the default, ""), "one_hot" or "count".
	OutputMode string `json:"output_mode,omitempty"`
	Base
}

func init() { Register("CategoryEncoding", func() Layer { return &CategoryEncoding{} }) }

// encodeMode resolves an output mode for layers whose default is def.
func encodeMode(class, mode, def string) (string, error) {
	if mode == "" {
		mode = def
	}
	switch mode {
	case ops.OneHot, ops.MultiHot, ops.Count:
		return mode, nil
	}
	return "", errors.Errorf("keras: %s output mode %q is not supported (want \"one_hot\", \"multi_hot\" or \"count\")", class, mode)
}

// encodedShape is the sample shape of encoded ids of sample shape s.
func encodedShape(class string, s Shape, depth int, mode string) (Shape, error) {
	out, err := ops.CategoryEncodeShape(append(tensor.Shape{1}, s...), depth, mode)
	if err != nil {
		return nil, errors.WithMessage(err, "keras: "+class)
	}
	return Shape(out[1:]), nil
}

// OutputShape implements Layer.
func (l *CategoryEncoding) OutputShape(in []Shape) (Shape, error) {
	s, err := single("CategoryEncoding", in)
	if err != nil {
		return nil, err
	}
	if l.NumTokens <= 0 {
		return nil, errors.Errorf("keras: CategoryEncoding needs a positive NumTokens, got %d", l.NumTokens)
	}
	mode, err := encodeMode("CategoryEncoding", l.OutputMode, ops.MultiHot)
	if err != nil {
		return nil, err
	}
	return encodedShape("CategoryEncoding", s, l.NumTokens, mode)
}

// Call implements Layer.
func (l *CategoryEncoding) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	mode, err := encodeMode("CategoryEncoding", l.OutputMode, ops.MultiHot)
	if err != nil {
		return nil, err
	}
	return ops.CategoryEncode(in[0], l.NumTokens, mode, false)
}
