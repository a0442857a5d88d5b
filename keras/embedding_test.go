package keras

import (
	"testing"

	"github.com/keragon/keragon/ops"
)

// TestEmbeddingAndMaskingContract runs the layer contract on Embedding
// (integer ids in, not differentiated; the table's gradient is checked)
// and on Masking (random features, so no step is masked: a masked step is
// a discontinuity that finite differences cannot cross; masking_test.go
// checks the masking itself).
func TestEmbeddingAndMaskingContract(t *testing.T) {
	for _, c := range embeddingContractCases() {
		runLayerTest(t, c)
	}
}

// embeddingContractCases are TestEmbeddingAndMaskingContract's cases (also
// listed in allContractCases).
func embeddingContractCases() []layerCase {
	table := func(in, out int) []weightSpec { return []weightSpec{{"embeddings", []int{in, out}, true}} }
	return []layerCase{
		{name: "embedding", make: func() Layer { return &Embedding{InputDim: 7, OutputDim: 3} },
			input: []int{5}, output: []int{5, 3}, ids: 7, weights: table(7, 3)},
		{name: "embedding_rank2_ids", make: func() Layer { return &Embedding{InputDim: 4, OutputDim: 2, Name: "emb"} },
			input: []int{2, 3}, output: []int{2, 3, 2}, ids: 4, weights: table(4, 2)},
		{name: "embedding_mask_zero", make: func() Layer {
			return &Embedding{InputDim: 6, OutputDim: 2, MaskZero: true, EmbeddingsInitializer: "glorot_uniform",
				EmbeddingsRegularizer: &ops.L1L2{L2: 0.1}}
		}, input: []int{4}, output: []int{4, 2}, ids: 6, weights: table(6, 2)},
		{name: "masking", make: func() Layer { return &Masking{} }, input: []int{4, 3}, output: []int{4, 3}},
		{name: "masking_value", make: func() Layer { return &Masking{MaskValue: -2, Name: "pad"} }, input: []int{3, 2}, output: []int{3, 2}},
	}
}
