// Package training drives graph programs: the epoch and batch loop,
// optimizers and learning-rate schedules, metrics, callbacks, History and
// the Keras-style progress output, and in-memory datasets and batching.
//
// # Overview
//
// training never imports keras: it sees a model through the small Model
// interface (programs per mode and batch size, and its weights). keras.Model
// implements it, so Fit in keras is a thin layer over Fit here.
//
// Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta) follow Keras 3's
// update rules and defaults; they are written here rather than taken from
// Gorgonia, whose solvers allocate on every step and mishandle some options.
// They update weights in place without allocating after the first step.
// Learning-rate schedules (ExponentialDecay, PiecewiseConstantDecay,
// CosineDecay) and gradient clipping (ClipNorm, ClipValue, GlobalClipNorm)
// are fields of every optimizer; OptimizerFromConfig rebuilds one from what
// Save wrote. RegisterOptimizer and RegisterSchedule add custom ones, so
// that a model trained with them loads back.
//
// Callbacks are structs of hooks (func fields): EarlyStopping,
// ModelCheckpoint, ReduceLROnPlateau, CSVLogger, TerminateOnNaN,
// LearningRateScheduler and Lambda build the usual ones. A hook returning
// ErrStopTraining ends training after the current batch.
//
// The zero value of a configuration field means Keras' default. Where
// Keras accepts 0 as a setting of its own and its default is not 0 (Adam's
// Beta1, AdamW's WeightDecay, a Precision threshold), the field is a
// *float64: nil is the default, and Float gives any value, 0 included:
// &Adam{Beta1: Float(0)}.
//
// Metrics (NewMetric by Keras name; RegisterMetric adds a custom one)
// accumulate over batches; every metric scores a sample as the mean over
// its entries and weights samples by their sample weight.
//
// Progress (Config.Verbose): 1 draws Keras' bar, redrawn in place when
// Config.Output is a terminal (an *os.File on a character device) and
// written once at the end of each epoch otherwise (a file, a pipe, a
// notebook), so logs hold one line per epoch and no "\r"; 2 writes one
// shorter line per epoch.
package training
