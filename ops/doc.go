// Package ops holds Keragon's differentiable building blocks: functions that
// take *gorgonia.Node values and return new nodes, each with a symbolic
// gradient that Gorgonia's Grad can follow.
//
// # Overview
//
// ops knows nothing of layers or models. It offers
//
//   - activations (Sigmoid, HardSigmoid, LogSigmoid, Tanh, ReLU, ReLU6,
//     LeakyReLU, ELU, SELU, Softplus, Softsign, Swish, Mish, GELU,
//     GELUTanh, Exponential, Softmax, LogSoftmax, Linear), also by name
//     through Activation;
//   - losses, each returning one value per sample (Keras' reduction is left
//     to the caller): MSE, MAE, Huber, binary, categorical and sparse
//     categorical cross-entropy from logits or probabilities (with label
//     smoothing: SmoothedBinaryCrossentropy, SmoothedCategoricalCrossentropy),
//     hinge and squared hinge, and the linear models' Perceptron and
//     SVMHinge/SVMSquaredHinge (with sparse forms);
//   - products: MatMul (reusing its output buffer), BatchMatMul, BiasAdd, and the fused
//     Dense, BiasActivation, Conv1DBiasActivation and Conv2DBiasActivation,
//     one op each for x·W + b and the activation;
//   - dropout (the mask is an input the caller feeds, so it can be seeded),
//     batch and layer normalisation (BatchMoments, Normalize, LayerNorm);
//   - convolutions on channel-last data with kernels in Keras' layouts
//     (Conv1D with causal padding, Conv2D, DepthwiseConv2D and the
//     transposed convolutions), max and average pooling in one and two
//     dimensions and their global forms, zero padding and up-sampling;
//   - Gather (embedding lookup) and the sequence masks (NotEqualMask,
//     StepMask, ApplyStepMask, MaskedLossWeights, MaskSelect, MaskFill,
//     MaskAny, MaskedMean1D);
//   - merging: Maximum, Minimum, BroadcastTo and ReduceTo, L2Normalize;
//   - attention: AttentionSoftmax and AttentionMask (Keras'
//     MultiHeadAttention masking), Permute;
//   - images and preprocessing: ImageTransform (Keras' affine_transform),
//     AdjustContrast, Standardize (Keras' Normalization), Bucketize,
//     CategoryEncode and MapValues;
//   - Recurrent: SimpleRNN, LSTM and GRU (both of Keras' formulations)
//     cells unrolled over the time steps as one op per layer, with masks,
//     dropout, initial and final states;
//   - tree ops over a level schedule (CheckTreeSchedule, TreeNodes,
//     TreeChildren, TreeChildSum, TreeRoots, TreeUpdate, TreeMatMul,
//     TreeNodeMask, TreeMaskNodes) and the TreeLSTM cells (TreeLSTMLeaf,
//     ChildSumTreeLSTM, NaryTreeLSTM);
//   - reductions and reshaping helpers (Sum, SumLeading, SumGroups,
//     BroadcastLeading, Columns);
//   - initialisers (InitializerByName) and regularisers (L1L2).
//
// Where Gorgonia v0.9.18's own op is wrong or slow (its dropout gradient, its
// softmax under the Log stabiliser, its broadcasting add, its NCHW
// convolution and average pooling), ops implements the
// operation itself as a Gorgonia Op with a forward kernel for float32 and
// float64 and a symbolic derivative. Every op is checked against central
// finite differences in float64.
package ops
