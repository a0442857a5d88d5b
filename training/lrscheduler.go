package training

import (
	"math"

	"github.com/pkg/errors"
)

// LearningRateScheduler returns a callback that sets the learning rate at
// the start of every epoch to schedule(epoch, current rate), epoch
// counted from 0, as Keras 3's LearningRateScheduler. It goes through
// Run.Optimizer.SetLearningRate, which replaces any per-step Schedule of
// the optimizer. At the end of every epoch it writes the rate into the
// logs as "learning_rate", so History records it.
//
// A nil schedule, a missing Run.Optimizer and a rate that is negative, NaN
// or infinite are errors.
func LearningRateScheduler(schedule func(epoch int, lr float64) float64) Callback {
	return Callback{
		Name: "LearningRateScheduler",
		OnEpochBegin: func(r *Run, epoch int) error {
			if schedule == nil {
				return errors.New("training: LearningRateScheduler: the schedule is nil")
			}
			if r == nil || r.Optimizer == nil {
				return errors.New("training: LearningRateScheduler: Run.Optimizer is nil")
			}
			lr := schedule(epoch, r.Optimizer.CurrentLearningRate())
			if !(lr >= 0) || math.IsInf(lr, 0) {
				return errors.Errorf("training: LearningRateScheduler: the schedule gave the learning rate %v for epoch %d", lr, epoch)
			}
			_ = r.UpdateWeights(func() error { r.Optimizer.SetLearningRate(lr); return nil })
			return nil
		},
		OnEpochEnd: func(r *Run, _ int, logs Logs) error {
			if r != nil && r.Optimizer != nil && logs != nil {
				logs["learning_rate"] = r.Optimizer.CurrentLearningRate()
			}
			return nil
		},
	}
}
