package training

import (
	"fmt"
	"io"
	"math"

	"github.com/pkg/errors"
)

// ReduceLROnPlateauConfig configures ReduceLROnPlateau. The zero value of a
// field is Keras' default (nil for the pointer field MinDelta; see Float).
type ReduceLROnPlateauConfig struct {
	// Monitor is the log key watched; "" means "val_loss".
	Monitor string
	// Factor multiplies the learning rate at each reduction; 0 means 0.1.
	// It must be in (0, 1).
	Factor float64
	// Patience is the number of epochs without improvement before a
	// reduction; 0 means 10. (Keras' patience 0 acts as 1, the count being
	// raised before it is compared: give 1.)
	Patience int
	// MinDelta is the smallest change that counts as an improvement, >= 0;
	// nil means 1e-4. Float(0) counts any change.
	MinDelta *float64
	// Cooldown is the number of epochs after a reduction during which
	// epochs without improvement are not counted.
	Cooldown int
	// MinLR is the lowest learning rate a reduction may give.
	MinLR float64
	// Mode is "min", "max" or "auto" (""), as in EarlyStoppingConfig.
	Mode string
	// Verbose 1 prints a line at each reduction.
	Verbose int
	// Output receives it; nil means os.Stdout.
	Output io.Writer
}

// ReduceLROnPlateau returns a callback that lowers the learning rate when
// the monitored figure stops improving, as Keras 3's ReduceLROnPlateau,
// through Run.Optimizer.SetLearningRate (which replaces any schedule).
//
// At the end of every epoch it first writes the learning rate of that
// epoch into the logs as "learning_rate", as Keras 3 does: Fit records
// the epoch logs in History after the epoch-end callbacks, so the rate
// lands in History (and in a CSVLogger placed after this callback). Then,
// unless the figure improved on the best by more than MinDelta, it counts
// the epoch; after Patience counted epochs it sets the rate to
// max(rate·Factor, MinLR), if the rate is above MinLR, and ignores the
// next Cooldown epochs.
//
// A monitored key missing from the logs is an error naming the keys there
// are (Keras warns), except at the end of an epoch cut short by a stop
// request before any of its batches ran (Fit then has not validated it):
// that epoch is not counted. Bad settings are reported when training
// begins.
func ReduceLROnPlateau(cfg ReduceLROnPlateauConfig) Callback {
	s := &reduceLR{cfg: cfg}
	return Callback{
		Name:         "ReduceLROnPlateau",
		OnTrainBegin: s.trainBegin,
		OnEpochBegin: s.batches.epochBegin,
		OnBatchEnd:   s.batches.batchEnd,
		OnEpochEnd:   s.epochEnd,
	}
}

type reduceLR struct {
	cfg     ReduceLROnPlateauConfig
	mon     monitor
	ready   bool
	batches batchCounter

	factor   float64
	patience int
	best     float64
	wait     int
	cooldown int // epochs of cooldown left
}

func (s *reduceLR) trainBegin(r *Run) error {
	c := s.cfg
	if c.Factor == 0 {
		c.Factor = 0.1
	}
	if c.Patience == 0 {
		c.Patience = 10
	}
	minDelta := floatOr(c.MinDelta, 1e-4)
	switch {
	case !(c.Factor > 0 && c.Factor < 1):
		return errors.Errorf("training: ReduceLROnPlateau: Factor must be in (0, 1), got %v", c.Factor)
	case c.Patience < 0 || c.Cooldown < 0:
		return errors.Errorf("training: ReduceLROnPlateau: Patience (%d) and Cooldown (%d) must not be negative", c.Patience, c.Cooldown)
	case !(minDelta >= 0):
		return errors.Errorf("training: ReduceLROnPlateau: MinDelta must not be negative, got %v", minDelta)
	case !(c.MinLR >= 0) || math.IsInf(c.MinLR, 0):
		return errors.Errorf("training: ReduceLROnPlateau: MinLR must be finite and not negative, got %v", c.MinLR)
	}
	if r == nil || r.Optimizer == nil {
		return errors.New("training: ReduceLROnPlateau: Run.Optimizer is nil")
	}
	m, err := newMonitor("ReduceLROnPlateau", c.Monitor, c.Mode, minDelta)
	if err != nil {
		return err
	}
	*s = reduceLR{cfg: s.cfg, mon: m, ready: true, factor: c.Factor, patience: c.Patience, best: m.worst()}
	return nil
}

func (s *reduceLR) epochEnd(r *Run, epoch int, logs Logs) error {
	if err := needRun("ReduceLROnPlateau", r); err != nil {
		return err
	}
	if !s.ready {
		if err := s.trainBegin(r); err != nil {
			return err
		}
	}
	if r.Optimizer == nil {
		return errors.New("training: ReduceLROnPlateau: Run.Optimizer is nil")
	}
	lr := r.Optimizer.CurrentLearningRate()
	if logs != nil {
		logs["learning_rate"] = lr
	}
	cur, ok, err := s.mon.value(logs, s.batches.short(r))
	if err != nil || !ok {
		return err
	}
	if s.cooldown > 0 {
		s.cooldown--
		s.wait = 0
	}
	if s.better(cur) {
		s.best, s.wait = cur, 0
		return nil
	}
	if s.cooldown > 0 {
		return nil
	}
	s.wait++
	// Keras compares with np.float32(min_lr) because its rate is a float32
	// variable; Keragon's optimizers keep the float64 they are given, so
	// a rate set to MinLR compares equal to it as it is.
	if s.wait < s.patience || !(lr > s.cfg.MinLR) {
		return nil
	}
	newLR := math.Max(lr*s.factor, s.cfg.MinLR)
	_ = r.UpdateWeights(func() error { r.Optimizer.SetLearningRate(newLR); return nil })
	if s.cfg.Verbose > 0 {
		fmt.Fprintf(writerOr(s.cfg.Output), "Epoch %d: ReduceLROnPlateau reducing learning rate to %s.\n", epoch+1, pyFloat(newLR))
	}
	s.cooldown, s.wait = s.cfg.Cooldown, 0
	return nil
}

// better is Keras' test for this callback: cur < best - MinDelta when
// minimising, cur > best + MinDelta when maximising.
func (s *reduceLR) better(cur float64) bool {
	if s.mon.max {
		return cur > s.best+s.mon.minDelta
	}
	return cur < s.best-s.mon.minDelta
}
