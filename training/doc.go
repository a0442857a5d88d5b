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
package training
