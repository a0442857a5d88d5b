// Package keras is Keragon's Keras-style API: models made of layers,
// compiled with an optimizer, a loss and metrics, trained with Fit and used
// with Evaluate and Predict.
//
// # Overview
//
// A Sequential model stacks layers:
//
//	model := keras.NewSequential(
//		&keras.Input{Shape: []int{784}},
//		&keras.Dense{Units: 512, Activation: "relu"},
//		&keras.Dropout{Rate: 0.2},
//		&keras.Dense{Units: 10, Activation: "softmax"},
//	)
//	model.SetSeed(1)
//	err := model.Compile(keras.CompileConfig{Optimizer: "rmsprop",
//		Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}})
//	history, err := model.Fit(x, y, keras.FitConfig{Epochs: 5, BatchSize: 128, Verbose: 1})
//	loss, metrics, err := model.Evaluate(xTest, yTest)
//	probs, err := model.Predict(xTest)
//
// The functional form wires Tensors together and can have several inputs
// and outputs:
//
//	x := keras.NewInput(784)
//	h := keras.Apply(&keras.Dense{Units: 64, Activation: "relu"}, x)
//	y := keras.Apply(&keras.Dense{Units: 10, Activation: "softmax"}, h)
//	model, err := keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{y})
//
// A layer is a struct whose exported fields are its configuration, in Keras'
// names; the zero value of a field means Keras' default. Images are NHWC
// (batch, height, width, channels), as in Keras. Data goes in and out as
// *tensor.Dense (gorgonia.org/tensor) with the batch axis first; sparse
// labels are float tensors holding class indices.
//
// # Layers
//
//   - core: Input, Dense, Activation, LeakyReLU, Dropout, Flatten, Reshape,
//     Embedding, Masking;
//   - merging: Concatenate, Add, Subtract, Multiply, Average, Maximum,
//     Minimum, Dot, with Keras 3's merging of masks;
//   - normalisation: BatchNormalization, LayerNormalization;
//   - convolution and pooling (NHWC): Conv1D, Conv2D, DepthwiseConv2D,
//     SeparableConv2D, Conv1DTranspose, Conv2DTranspose, MaxPooling1D/2D,
//     AveragePooling1D/2D, GlobalMax/AveragePooling1D/2D, ZeroPadding2D,
//     UpSampling2D;
//   - recurrent: SimpleRNN, LSTM, GRU (both of Keras' formulations),
//     Bidirectional, TimeDistributed, with Keras' masking of padded steps;
//   - attention: MultiHeadAttention, and keras-hub's PositionEmbedding,
//     SinePositionEncoding and TokenAndPositionEmbedding;
//   - preprocessing, saved with the model: Normalization (Adapt),
//     Rescaling, CategoryEncoding, Discretization, IntegerLookup,
//     StringLookup (strings enter through an Input of Dtype "string": see
//     Strings);
//   - image augmentation, active in training only and drawn from the
//     model's seed: RandomFlip, RandomRotation, RandomTranslation,
//     RandomZoom, RandomContrast;
//   - recursive: TreeRNN and TreeLSTM (child-sum and N-ary) over batches of
//     trees encoded by package keras/tree.
//
// Ready models: NewPerceptron and NewLinearSVM. Package ensemble bags and
// boosts any model.
//
// # Zero values
//
// The zero value of a configuration field means Keras' default, in layers
// as in optimizers and callbacks (package training): &keras.Dense{Units: 8}
// is Dense(8), &training.Adam{} is Adam(). Where Keras accepts 0 as a
// setting of its own and its default is not 0, the field is a pointer: nil
// means the default and Float (Int for integers) gives any value, 0
// included:
//
//	&keras.BatchNormalization{Momentum: keras.Float(0)}
//	&keras.LeakyReLU{NegativeSlope: keras.Float(0)}
//	&training.Adam{Beta1: training.Float(0)}
//
// These fields are BatchNormalization.Momentum, LeakyReLU.NegativeSlope,
// and in package training Adam's and AdamW's Beta1 and Beta2, AdamW's
// WeightDecay, RMSprop's and Adadelta's Rho, Adagrad's
// InitialAccumulatorValue, Precision's and Recall's Threshold and
// ReduceLROnPlateauConfig.MinDelta. Fields whose 0 would defeat their
// purpose (learning rates, epsilons, sizes, a Rescaling scale) stay plain
// numbers, 0 meaning the default or being an error.
//
// Underneath, every model is a static Gorgonia graph, one per mode (fit,
// evaluate, predict) and batch size, differentiated symbolically and run by
// Gorgonia's TapeMachine; see package graph.
package keras
