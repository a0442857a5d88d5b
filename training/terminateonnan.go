package training

import "math"

// TerminateOnNaN returns a callback that stops training cleanly when the
// "loss" in the batch logs is NaN or ±Inf, as Keras 3's TerminateOnNaN:
// it sets Run.StopTraining and returns ErrStopTraining, so Fit ends after
// this batch and returns the History with no error.
//
// Under Fit it rarely fires: Fit checks every batch's loss itself and
// returns an error when one is NaN or ±Inf, before the batch-end
// callbacks run. What reaches this callback is the running mean of the
// epoch's losses, which is only non-finite if that sum overflows. It
// catches that, and serves loops that call the hooks without such a check.
func TerminateOnNaN() Callback {
	return Callback{
		Name: "TerminateOnNaN",
		OnBatchEnd: func(r *Run, _ int, logs Logs) error {
			loss, ok := logs["loss"]
			if !ok || !(math.IsNaN(loss) || math.IsInf(loss, 0)) {
				return nil
			}
			if r != nil {
				r.StopTraining = true
			}
			return ErrStopTraining
		},
	}
}
