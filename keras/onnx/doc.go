// Package onnx imports ONNX models (https://onnx.ai) as Keragon models
// made of ordinary layers, and exports Keragon models to ONNX.
//
// # Overview
//
// Import turns an ONNX graph — typically one PyTorch's torch.onnx.export
// wrote — into a keras.Model of Dense, Conv2D, BatchNormalization, LSTM,
// … layers with the file's weights, so that it can be fine-tuned with
// Fit, saved with Save, loaded with keras.Load and served like any model
// built in Go:
//
//	m, err := onnx.Import("model.onnx")
//	err = m.Compile(keras.CompileConfig{Optimizer: &training.Adam{LearningRate: 1e-4},
//		Loss: keras.Loss{Name: "sparse_categorical_crossentropy", FromLogits: true}})
//	history, err := m.Fit(x, y, keras.FitConfig{Epochs: 1})
//	err = m.Save("model.keragon")
//
// Export writes a Keragon model back to ONNX (opset 13; 17 when the model
// has a LayerNormalization), which
// python3-onnx's checker accepts and Import reads into the same layers.
//
// # Layouts
//
// ONNX images are NCHW (channels first), Keragon's NHWC. Import keeps
// Keragon's layout and converts the weights instead: a 4-D graph input
// becomes an NHWC Input (a 3-D one read by a convolution an NWC one),
// convolution kernels are transposed, and a Gemm or MatMul that reads a
// flattened NCHW image has its rows reordered so that it sees the
// features of Keragon's (height, width, channel) Flatten. A 4-D graph
// input that every reader first transposes from NHWC (as Export writes)
// stays NHWC. Graph outputs keep ONNX's layout, except that NCHW and NCW
// outputs come out channels last. Transposes, squeezes and reshapes that
// only move data Keragon holds in another order are followed
// symbolically; one that would need the data moved (Keragon has no
// transpose layer) is an error naming the node.
//
// # Operators
//
// Import reads (see SupportedOps):
//
//	Gemm, MatMul (+ Add)   Dense (bias and scale constants fold into it)
//	Conv                   Conv2D, Conv1D, DepthwiseConv2D (group = channels);
//	                       explicit padding other than "same" becomes ZeroPadding2D
//	MaxPool, AveragePool   MaxPooling2D/1D, AveragePooling2D/1D
//	GlobalAveragePool,     GlobalAveragePooling2D/1D, GlobalMaxPooling2D/1D
//	GlobalMaxPool
//	BatchNormalization     BatchNormalization (momentum and epsilon kept)
//	LayerNormalization     LayerNormalization (last axis; opset 17)
//	Relu, Sigmoid, Tanh, LeakyRelu, Elu, Selu, Softplus, Softsign,
//	HardSigmoid, Exp, Mish, Clip (relu, relu6), Gelu (and PyTorch's
//	Erf spelling of it), Softmax, LogSoftmax
//	                       the layer before's activation, else Activation
//	                       (LeakyReLU for other slopes)
//	Dropout                Dropout (active in Fit only)
//	LSTM, GRU, RNN         LSTM, GRU (linear_before_reset 1), SimpleRNN;
//	                       direction "reverse" as GoBackwards, "bidirectional"
//	                       as Bidirectional; the final step of the output
//	                       sequence or the final state becomes a layer
//	                       without ReturnSequences
//	Add, Sub, Mul of two   Add, Subtract, Multiply (with ONNX broadcasting
//	computed tensors       where Keragon's layout holds it: an SE gate)
//	Concat                 Concatenate on the Keragon axis holding the ONNX axis
//	Max, Min, Mean         Maximum, Minimum, Average
//	Pad                    ZeroPadding2D
//	Gather (rows of a      Embedding; int64 and int32 graph inputs are token
//	constant table)        ids, which the Keragon model takes as floats
//	Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Identity
//	                       layouts, or Flatten and Reshape layers
//	Shape, Gather, Concat, Constant, ConstantOfShape, Cast, Add, Sub,
//	Mul, Div on constants  folded (the batch size stays symbolic)
//
// An operator outside this set, or
// an attribute that changes an operator's meaning in a way Keragon cannot
// follow, is an error that names the operator and the node. Graphs with
// control flow, functions, sparse or external tensors are refused, and so
// are models whose inputs are neither float32 nor integer token ids.
//
// Export writes Gemm or MatMul+Add for Dense; Conv (with Transpose nodes
// to NCHW and back where needed); MaxPool, AveragePool, GlobalAveragePool
// and GlobalMaxPool with Flatten; BatchNormalization; LayerNormalization;
// the activations
// above (GELU as Div, Erf, Add, Mul); Dropout; Flatten; Reshape; Pad;
// Embedding as Cast and Gather; the merge layers (Add, Subtract,
// Multiply, Average, Maximum, Minimum, Concatenate) as Add, Sub, Mul,
// Mean, Max, Min, Concat;
// LSTM, GRU and RNN with the Transpose and Squeeze nodes around them
// (Bidirectional with merge mode "concat" as one bidirectional node).
// Layers without an ONNX counterpart here (the tree layers,
// TimeDistributed, …) are an error.
//
// # Hostile files
//
// The decoder is written on protowire rather than generated: every length
// is checked against the bytes that remain before anything is read, every
// array is counted before it is allocated, and the counts are bounded
// (MaxNodes, MaxInitializers, MaxAttributes, MaxNodeIO, MaxRank, MaxDim,
// MaxInts; samples of at most MaxSampleSize values), so that a file
// cannot make Import allocate more than a small multiple of its size.
// Truncated and corrupt files give errors; FuzzDecode and
// FuzzImportNumbers fuzz the importer.
//
// PyTorch's state dicts (weights without a graph) are read and written by
// package keras/pytorch.
package onnx
