package datasets

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// PadConfig configures PadSequences as Keras' pad_sequences arguments do.
// The zero value pads and truncates at the front to the longest sequence
// with 0, Keras' defaults.
type PadConfig struct {
	// MaxLen is the length of every row; 0 means the longest sequence.
	MaxLen int
	// Post pads at the end instead of the front (padding="post").
	Post bool
	// TruncatePost drops the end of a longer sequence instead of its
	// front (truncating="post").
	TruncatePost bool
	// Value fills the padding (0: the id Embedding's MaskZero skips).
	Value float64
}

// PadSequences turns sequences of token ids of different lengths into one
// float32 tensor (n, MaxLen), as Keras' keras.utils.pad_sequences: by
// default the padding goes first, so a recurrent layer ends on a
// sequence's last real step. Mask the padding out of the model with
// Embedding{MaskZero: true} (ids then start at 1) or Masking. It fails on
// no sequences, a negative MaxLen or an empty result.
func PadSequences(seqs [][]int, cfg PadConfig) (*tensor.Dense, error) {
	if len(seqs) == 0 {
		return nil, errors.New("datasets: PadSequences got no sequences")
	}
	if cfg.MaxLen < 0 {
		return nil, errors.Errorf("datasets: PadSequences MaxLen must be ≥ 0, got %d", cfg.MaxLen)
	}
	width := cfg.MaxLen
	if width == 0 {
		for _, s := range seqs {
			width = max(width, len(s))
		}
	}
	if width == 0 {
		return nil, errors.Errorf("datasets: PadSequences got %d sequences, all empty", len(seqs))
	}
	out := make([]float32, len(seqs)*width)
	for i, s := range seqs {
		row := out[i*width : (i+1)*width]
		for j := range row {
			row[j] = float32(cfg.Value)
		}
		if len(s) > width {
			if cfg.TruncatePost {
				s = s[:width]
			} else {
				s = s[len(s)-width:]
			}
		}
		at := width - len(s)
		if cfg.Post {
			at = 0
		}
		for j, id := range s {
			row[at+j] = float32(id)
		}
	}
	return tensor.New(tensor.WithShape(len(seqs), width), tensor.WithBacking(out)), nil
}

// Sequences turns sequences of token ids of one length into a float32
// tensor (n, steps). A ragged batch, sequences of different lengths, is
// an error naming the first two lengths that differ: pad it with
// PadSequences and mask the padding.
func Sequences(seqs [][]int) (*tensor.Dense, error) {
	if len(seqs) == 0 {
		return nil, errors.New("datasets: Sequences got no sequences")
	}
	steps := len(seqs[0])
	for i, s := range seqs {
		if len(s) != steps {
			return nil, errors.Errorf("datasets: the sequences are ragged: sequence %d has %d steps, sequence 0 has %d; pad them with PadSequences and mask the padding (Embedding MaskZero or Masking)", i, len(s), steps)
		}
	}
	if steps == 0 {
		return nil, errors.New("datasets: Sequences got empty sequences")
	}
	return PadSequences(seqs, PadConfig{})
}
