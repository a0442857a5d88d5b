// Package ops holds Keragon's differentiable building blocks: functions that
// take *gorgonia.Node values and return new nodes, each with a symbolic
// gradient that Gorgonia's Grad can follow.
//
// # Overview
//
// ops knows nothing of layers or models. It offers
//
//   - activations (Sigmoid, Tanh, ReLU, LeakyReLU, ELU, SELU, Softplus,
//     Softsign, Swish, GELU, Softmax, LogSoftmax, Linear), also by name
//     through Activation;
//   - losses, each returning one value per sample (Keras' reduction is left
//     to the caller): MSE, MAE, Huber, binary, categorical and sparse
//     categorical cross-entropy from logits or probabilities, hinge and
//     squared hinge;
//   - dropout (the mask is an input the caller feeds, so it can be seeded)
//     and batch and layer normalisation;
//   - convolutions on channel-last data with kernels in Keras' layouts
//     (Conv1D with causal padding, Conv2D, DepthwiseConv2D and the
//     transposed convolutions), max and average pooling in one and two
//     dimensions and their global forms, zero padding and up-sampling;
//   - initialisers (InitializerByName) and regularisers (L1L2);
//   - label smoothing for the cross-entropies.
//
// Where Gorgonia v0.9.18's own op is wrong or slow (its dropout gradient, its
// softmax under the Log stabiliser, its broadcasting add, its NCHW
// convolution and average pooling), ops implements the
// operation itself as a Gorgonia Op with a forward kernel for float32 and
// float64 and a symbolic derivative. Every op is checked against central
// finite differences in float64.
package ops
