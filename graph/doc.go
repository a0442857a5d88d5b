// Package graph turns a model's computation into runnable Gorgonia programs.
//
// # Overview
//
// A Weight is a named, shaped tensor shared by every program of a model:
// programs bind it by reference (gorgonia.WithValue), so an optimizer that
// updates it in place is seen by all of them at once.
//
// A Context is handed to the code that builds a graph (keras layers). It
// knows the phase (Train or Infer), the static batch size and the dtype, and
// offers Param (a weight's node in this graph), Input, RandomInput (a tensor
// refilled from the model's seeded source before every run: dropout masks),
// AddLoss (regularisation terms) and AddUpdate (non-trainable state such as
// BatchNormalization's moving averages).
//
// Compile turns a Context and a Spec (inputs, outputs, loss) into a Program:
// an expression graph, its symbolic gradient (gorgonia.Grad) and a
// TapeMachine. A Gorgonia graph has one static batch size, so a model keeps
// one Program per (Mode, batch size) in a Cache.
//
// A Program is not safe for use by several goroutines; separate programs
// (separate models) may run in parallel.
package graph
