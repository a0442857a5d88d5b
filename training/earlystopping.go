package training

import (
	"fmt"
	"io"

	"github.com/pkg/errors"
)

// EarlyStoppingConfig configures EarlyStopping. The zero value of a field
// is Keras' default.
type EarlyStoppingConfig struct {
	// Monitor is the log key watched; "" means "val_loss".
	Monitor string
	// MinDelta is the smallest change that counts as an improvement (its
	// absolute value is used); 0 counts any change.
	MinDelta float64
	// Patience is the number of epochs without improvement after which
	// training stops; 0 stops at the first epoch that does not improve.
	Patience int
	// Mode is "min", "max" or "auto" (""): in auto mode a key whose name
	// contains "acc", "auc", "precision" or "recall" is maximised and any
	// other (losses, errors) minimised.
	Mode string
	// Baseline, when not nil, is a value to beat: an epoch that improves on
	// the best so far but not on Baseline does not reset the patience, so
	// training stops after Patience epochs unless the baseline is beaten.
	Baseline *float64
	// RestoreBestWeights puts back, when training ends, the values every
	// weight (trainable or not) had at the end of the best epoch.
	RestoreBestWeights bool
	// StartFromEpoch is the number of epochs (counted from 0) to let pass
	// before watching: a warm-up in which nothing counts.
	StartFromEpoch int
	// Verbose 1 prints when training stops and when weights are restored.
	Verbose int
	// Output receives those messages; nil means os.Stdout.
	Output io.Writer
}

// EarlyStopping returns a callback that stops training when the monitored
// figure has stopped improving, as Keras 3's EarlyStopping.
//
// At the end of every epoch from StartFromEpoch on, it compares the
// figure with the best so far. An improvement (by more than MinDelta)
// becomes the best and, if it also beats Baseline, resets the count of
// epochs waited; otherwise once Patience epochs have passed since the
// last reset (and it is not the first epoch) it sets Run.StopTraining, so
// the loop ends after this epoch.
//
// With RestoreBestWeights, it copies all weight values at the first
// watched epoch and at every improvement, and writes the best back at the
// end of training. As in Keras 3 that happens whenever training ends
// normally, whether this callback stopped it or the last epoch was reached
// (Keras 2 restored only when it stopped training); it does not happen
// when Fit fails with an error, as OnTrainEnd is not called then.
//
// A monitored key missing from the epoch logs is an error naming the keys
// there are (Keras warns and skips), except at the end of an epoch cut
// short by a stop request (ErrStopTraining or Run.StopTraining). Fit still
// validates such an epoch when at least one of its batches ran, and the
// figure then counts as usual; when the stop came before the first batch,
// there was no validation, the val_ keys are legitimately absent and the
// epoch is not counted. A bad Mode, a negative Patience or StartFromEpoch
// are reported when training begins.
func EarlyStopping(cfg EarlyStoppingConfig) Callback {
	s := &earlyStopping{cfg: cfg}
	return Callback{
		Name:         "EarlyStopping",
		OnTrainBegin: s.trainBegin,
		OnEpochBegin: s.batches.epochBegin,
		OnBatchEnd:   s.batches.batchEnd,
		OnEpochEnd:   s.epochEnd,
		OnTrainEnd:   s.trainEnd,
	}
}

type earlyStopping struct {
	cfg     EarlyStoppingConfig
	mon     monitor
	ready   bool
	batches batchCounter

	wait         int
	best         float64
	bestEpoch    int
	stopped      bool
	stoppedEpoch int
	weights      weightSnapshot
}

// trainBegin checks the configuration and resets the state, so a callback
// can serve several Fit calls.
func (s *earlyStopping) trainBegin(*Run) error {
	c := s.cfg
	if c.Patience < 0 || c.StartFromEpoch < 0 {
		return errors.Errorf("training: EarlyStopping: Patience (%d) and StartFromEpoch (%d) must not be negative",
			c.Patience, c.StartFromEpoch)
	}
	m, err := newMonitor("EarlyStopping", c.Monitor, c.Mode, c.MinDelta)
	if err != nil {
		return err
	}
	*s = earlyStopping{cfg: c, mon: m, ready: true, best: m.worst()}
	return nil
}

func (s *earlyStopping) epochEnd(r *Run, epoch int, logs Logs) error {
	if err := needRun("EarlyStopping", r); err != nil {
		return err
	}
	if !s.ready {
		if err := s.trainBegin(r); err != nil {
			return err
		}
	}
	cur, ok, err := s.mon.value(logs, s.batches.short(r))
	if err != nil || !ok || epoch < s.cfg.StartFromEpoch {
		return err
	}
	if s.cfg.RestoreBestWeights && !s.weights.has() {
		// The first watched epoch is the best until one improves on it.
		if err := s.snapshot(r); err != nil {
			return err
		}
		s.bestEpoch = epoch
	}
	s.wait++
	if s.mon.improves(cur, s.best) {
		s.best, s.bestEpoch = cur, epoch
		if s.cfg.RestoreBestWeights {
			if err := s.snapshot(r); err != nil {
				return err
			}
		}
		// Only restart the wait when both the baseline and the previous
		// best are beaten.
		if s.cfg.Baseline == nil || s.mon.improves(cur, *s.cfg.Baseline) {
			s.wait = 0
		}
		return nil
	}
	if s.wait >= s.cfg.Patience && epoch > 0 {
		s.stopped, s.stoppedEpoch = true, epoch
		r.StopTraining = true
	}
	return nil
}

func (s *earlyStopping) snapshot(r *Run) error {
	if r.Model == nil {
		return errors.New("training: EarlyStopping: RestoreBestWeights needs Run.Model")
	}
	return errors.WithMessage(s.weights.take(r.Model.Weights()), "training: EarlyStopping")
}

func (s *earlyStopping) trainEnd(r *Run, _ Logs) error {
	w := writerOr(s.cfg.Output)
	if s.stopped && s.cfg.Verbose > 0 {
		fmt.Fprintf(w, "Epoch %d: early stopping\n", s.stoppedEpoch+1)
	}
	if !s.cfg.RestoreBestWeights || !s.weights.has() {
		return nil
	}
	if s.cfg.Verbose > 0 {
		fmt.Fprintf(w, "Restoring model weights from the end of the best epoch: %d.\n", s.bestEpoch+1)
	}
	if r == nil || r.Model == nil {
		return errors.New("training: EarlyStopping: RestoreBestWeights needs Run.Model")
	}
	return errors.WithMessage(r.UpdateWeights(func() error { return s.weights.restore(r.Model.Weights()) }), "training: EarlyStopping")
}
