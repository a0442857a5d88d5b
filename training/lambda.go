package training

// Lambda returns a callback whose OnEpochEnd calls onEpochEnd, the way
// net/http's HandlerFunc turns a function into a Handler (Keras'
// LambdaCallback(on_epoch_end=...)). name ("" means "Lambda") appears in
// error messages; a nil onEpochEnd does nothing. Return ErrStopTraining
// from it to stop training. For other hooks, fill a Callback's fields
// directly.
func Lambda(name string, onEpochEnd func(epoch int, logs Logs) error) Callback {
	if name == "" {
		name = "Lambda"
	}
	c := Callback{Name: name}
	if onEpochEnd != nil {
		c.OnEpochEnd = func(_ *Run, epoch int, logs Logs) error { return onEpochEnd(epoch, logs) }
	}
	return c
}
