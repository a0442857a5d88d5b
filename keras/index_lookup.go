package keras

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/pkg/errors"
)

// What StringLookup and IntegerLookup share: Keras' IndexLookup. Indices
// are laid out as Keras does: in "int" mode the mask token (if any) is 0,
// then come NumOOVIndices indices for out-of-vocabulary tokens, then the
// vocabulary; in the encoded modes the mask token has no index (it encodes
// to nothing) and the OOV indices come first.

// lookup is an IndexLookup's resolved configuration.
type lookup[T cmp.Ordered] struct {
	class     string
	maxTokens int
	numOOV    int
	mask      *T
	oov       T
	vocab     []T
	mode      string // "int", ops.OneHot, ops.MultiHot or ops.Count
	pad       bool
	index     map[T]int
}

// lookupMode resolves an output mode ("" is "int").
func lookupMode(class, mode string) (string, error) {
	if mode == "" || mode == "int" {
		return "int", nil
	}
	return encodeMode(class, mode, "")
}

// newLookup checks a configuration and indexes its vocabulary.
func newLookup[T cmp.Ordered](class string, maxTokens int, numOOV *int, mask *T, oov T, vocab []T, mode string, pad bool) (*lookup[T], error) {
	l := &lookup[T]{class: class, maxTokens: maxTokens, numOOV: 1, mask: mask, oov: oov, pad: pad}
	if numOOV != nil {
		l.numOOV = *numOOV
	}
	var err error
	if l.mode, err = lookupMode(class, mode); err != nil {
		return nil, err
	}
	if l.numOOV < 0 || maxTokens < 0 {
		return nil, errors.Errorf("keras: %s needs NumOOVIndices >= 0 and MaxTokens >= 0, got %d and %d", class, l.numOOV, maxTokens)
	}
	if pad && (maxTokens == 0 || l.mode == "int") {
		return nil, errors.Errorf("keras: %s PadToMaxTokens needs MaxTokens and an encoded output mode", class)
	}
	// A vocabulary may start with the special tokens, as get_vocabulary
	// returns them; they are dropped.
	special := l.specialTokens()
	if len(vocab) >= len(special) && slices.Equal(vocab[:len(special)], special) && len(special) > 0 {
		vocab = vocab[len(special):]
	}
	l.vocab = vocab
	l.index = make(map[T]int, len(vocab))
	for i, t := range vocab {
		if _, dup := l.index[t]; dup {
			return nil, errors.Errorf("keras: %s vocabulary has %v twice", class, t)
		}
		if mask != nil && t == *mask {
			return nil, errors.Errorf("keras: %s vocabulary holds the mask token %v (at %d)", class, t, i)
		}
		l.index[t] = l.tokenStart() + i
	}
	if maxTokens > 0 && l.size() > maxTokens {
		return nil, errors.Errorf("keras: %s vocabulary of %d tokens (with %d special indices) exceeds MaxTokens %d", class, len(vocab), l.tokenStart(), maxTokens)
	}
	return l, nil
}

// oovStart is the first OOV index: 1 when the mask takes index 0.
func (l *lookup[T]) oovStart() int {
	if l.mask != nil && l.mode == "int" {
		return 1
	}
	return 0
}

func (l *lookup[T]) tokenStart() int { return l.oovStart() + l.numOOV }

// size is Keras' vocabulary_size(): special indices and tokens.
func (l *lookup[T]) size() int { return l.tokenStart() + len(l.vocab) }

// depth is the length of an encoded output.
func (l *lookup[T]) depth() int {
	if l.pad {
		return l.maxTokens
	}
	return l.size()
}

// specialTokens are the tokens before the vocabulary in get_vocabulary.
func (l *lookup[T]) specialTokens() []T {
	var s []T
	if l.mask != nil && l.mode == "int" {
		s = append(s, *l.mask)
	}
	for i := 0; i < l.numOOV; i++ {
		s = append(s, l.oov)
	}
	return s
}

// vocabulary is Keras' get_vocabulary(): special tokens, then the tokens.
func (l *lookup[T]) vocabulary() []T { return append(l.specialTokens(), l.vocab...) }

// lookupIndex maps a token to its index; oovIndex gives the OOV index of
// an unknown token when there are several.
func (l *lookup[T]) lookupIndex(t T, oovIndex func(T) int) (float64, error) {
	if l.mask != nil && t == *l.mask {
		if l.mode == "int" {
			return 0, nil
		}
		return -1, nil // encodes to nothing
	}
	if i, ok := l.index[t]; ok {
		return float64(i), nil
	}
	switch l.numOOV {
	case 0:
		return 0, errors.Errorf("keras: %s: %v is not in the vocabulary and NumOOVIndices is 0", l.class, t)
	case 1:
		return float64(l.oovStart()), nil
	}
	return float64(l.oovStart() + oovIndex(t)), nil
}

// adapt makes a vocabulary from tokens as Keras' finalize_state: the mask
// and OOV tokens left out, the others by decreasing count, ties by
// decreasing token, at most MaxTokens − special indices of them.
func adaptVocabulary[T cmp.Ordered](tokens []T, mask *T, oov T, limit int) []T {
	counts := map[T]int{}
	for _, t := range tokens {
		if (mask != nil && t == *mask) || t == oov {
			continue
		}
		counts[t]++
	}
	vocab := make([]T, 0, len(counts))
	for t := range counts {
		vocab = append(vocab, t)
	}
	slices.SortFunc(vocab, func(a, b T) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(b, a)
	})
	if limit > 0 && len(vocab) > limit {
		vocab = vocab[:limit]
	}
	return vocab
}

// adaptLimit is how many learned tokens MaxTokens leaves room for.
func (l *lookup[T]) adaptLimit() (int, error) {
	if l.maxTokens == 0 {
		return 0, nil
	}
	n := l.maxTokens - l.tokenStart()
	if n <= 0 {
		return 0, errors.Errorf("keras: %s MaxTokens %d leaves no room after %d special indices", l.class, l.maxTokens, l.tokenStart())
	}
	return n, nil
}

// lookupOutputShape is the sample shape of a lookup's output.
func (l *lookup[T]) outputShape(s Shape) (Shape, error) {
	if l.mode == "int" {
		return s, nil
	}
	return encodedShape(l.class, s, l.depth(), l.mode)
}

// intToken reads a float holding an integer token.
func intToken(class string, v float64) (int, error) {
	if v != math.Trunc(v) || math.IsInf(v, 0) || math.Abs(v) > 1<<53 {
		return 0, errors.Errorf("keras: %s: %v is not an integer", class, v)
	}
	return int(v), nil
}

// id names a lookup's configuration for op ids, the vocabulary by a hash.
func (l *lookup[T]) id() string {
	h := fnv.New64a()
	for _, t := range l.vocab {
		fmt.Fprintf(h, "%v\x00", t)
	}
	return fmt.Sprintf("%s(%s,oov=%d,mask=%s,vocab=%d:%x)", l.class, l.mode, l.numOOV, maskString(l.mask), len(l.vocab), h.Sum64())
}

func maskString[T any](m *T) string {
	if m == nil {
		return "none"
	}
	return fmt.Sprint(*m)
}
