package main

import (
	"fmt"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"gorgonia.org/tensor"
)

// runLSTM trains Embedding → LSTM → Dense on the token sequences. The
// padding (id 0, first) is masked, so the LSTM reads each expression's
// tokens only.
func runLSTM(c config, train, test *set) map[string]any {
	steps := train.sequences.Shape()[1]
	fmt.Printf("\nLSTM: sequences of %d tokens, padding masked\n", steps)
	model := keras.NewSequential(
		&keras.Input{Shape: []int{steps}},
		&keras.Embedding{InputDim: datasets.ListOpsVocabSize, OutputDim: c.embed, MaskZero: true},
		&keras.LSTM{Units: c.units},
		&keras.Dense{Units: 10, Activation: "softmax"},
	)
	return fitAndEvaluate(c, model, c.lstmEpochs, []*tensor.Dense{train.sequences}, train.labels,
		[]*tensor.Dense{test.sequences}, test.labels, func(p *tensor.Dense) *tensor.Dense { return p }, test)
}
