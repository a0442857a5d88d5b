package main

import (
	"fmt"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"gorgonia.org/tensor"
)

// runTransformer trains a small transformer encoder on the token
// sequences: TokenAndPositionEmbedding (padding masked), then -tf-layers
// blocks of
//
//	a = MultiHeadAttention(h, h)             (padded keys masked)
//	h = LayerNormalization(h + Dropout(a))
//	f = Dense(-tf-ff, relu) → Dense(-tf-dim)
//	h = LayerNormalization(h + Dropout(f))
//
// (the post-norm block of Vaswani et al.), the mean over the real tokens,
// and Dense → softmax. Built from Keras layers only.
func runTransformer(c config, train, test *set) map[string]any {
	steps := train.sequences.Shape()[1]
	fmt.Printf("\nTransformer: %d encoder block(s) of width %d, %d heads, feed-forward %d, sequences of %d tokens, padding masked\n",
		c.tfLayers, c.tfDim, c.tfHeads, c.tfFF, steps)
	ids := keras.NewInput(steps)
	h := keras.Apply(&keras.TokenAndPositionEmbedding{VocabularySize: datasets.ListOpsVocabSize, SequenceLength: steps,
		EmbeddingDim: c.tfDim, MaskZero: true}, ids)
	for i := 0; i < c.tfLayers; i++ {
		a := keras.Apply(&keras.MultiHeadAttention{NumHeads: c.tfHeads, KeyDim: c.tfDim / c.tfHeads}, h, h)
		a = keras.Apply(&keras.Dropout{Rate: c.tfDropout}, a)
		h = keras.Apply(&keras.LayerNormalization{Epsilon: 1e-6}, keras.Apply(&keras.Add{}, h, a))
		f := keras.Apply(&keras.Dense{Units: c.tfFF, Activation: "relu"}, h)
		f = keras.Apply(&keras.Dense{Units: c.tfDim}, f)
		f = keras.Apply(&keras.Dropout{Rate: c.tfDropout}, f)
		h = keras.Apply(&keras.LayerNormalization{Epsilon: 1e-6}, keras.Apply(&keras.Add{}, h, f))
	}
	pooled := keras.Apply(&keras.GlobalAveragePooling1D{}, h)
	y := keras.Apply(&keras.Dense{Units: 10, Activation: "softmax"}, pooled)
	model, err := keras.NewModel(keras.Tensors(ids), keras.Tensors(y))
	check(err)
	cc := c
	cc.lr = c.tfLR
	return fitAndEvaluate(cc, model, c.tfEpochs, []*tensor.Dense{train.sequences}, train.labels,
		[]*tensor.Dense{test.sequences}, test.labels, func(p *tensor.Dense) *tensor.Dense { return p }, test)
}
