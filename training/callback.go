package training

import (
	"sort"
	"sync"

	"github.com/pkg/errors"
)

// ErrStopTraining, returned by a callback, ends training cleanly after the
// current batch: the epoch's remaining batches are skipped, the epoch still
// ends normally (validation when a batch ran, OnEpochEnd, History, as in
// Keras 3), no other epoch starts, and Fit returns the History and no
// error.
var ErrStopTraining = errors.New("training: stop training")

// Logs maps a figure's Keras name ("loss", "accuracy", "val_loss", "lr") to
// its value.
type Logs map[string]float64

// Keys returns the names in logs, sorted.
func (l Logs) Keys() []string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// A Callback is a set of hooks the loop calls. Nil hooks do nothing. A hook
// that returns ErrStopTraining stops training; any other error aborts Fit
// with that error.
type Callback struct {
	// Name identifies the callback in error messages.
	Name         string
	OnTrainBegin func(r *Run) error
	OnTrainEnd   func(r *Run, logs Logs) error
	OnEpochBegin func(r *Run, epoch int) error
	OnEpochEnd   func(r *Run, epoch int, logs Logs) error
	OnBatchBegin func(r *Run, batch int) error
	OnBatchEnd   func(r *Run, batch int, logs Logs) error
}

// A Run is what callbacks see of the training under way.
type Run struct {
	// Model is the model being trained.
	Model Model
	// Optimizer updates Model's weights.
	Optimizer Optimizer
	// Epochs is the epoch count Fit was asked for.
	Epochs int
	// Steps is the number of batches per epoch.
	Steps int
	// History holds the logs of finished epochs.
	History *History
	// StopTraining, set by a callback, ends training as ErrStopTraining
	// does (Keras' model.stop_training): set during a batch, after that
	// batch, the epoch then ending normally; set in OnEpochEnd, after that
	// epoch.
	StopTraining bool

	lock sync.Locker // Config.Lock
}

// UpdateWeights runs f while no other goroutine reads the model (Predict,
// Evaluate or Save on a keras.Model): callbacks that write weights or
// change the optimizer do it inside f. Callbacks run on Fit's goroutine,
// without the lock, so they may Save or Evaluate the model themselves.
func (r *Run) UpdateWeights(f func() error) error {
	var err error
	withLock(r.lock, func() { err = f() })
	return err
}

// callbacks runs hooks in order.
type callbacks []Callback

func (cs callbacks) each(f func(c Callback) error) error {
	for _, c := range cs {
		if err := f(c); err != nil {
			if errors.Is(err, ErrStopTraining) {
				return err
			}
			return errors.WithMessagef(err, "training: callback %q", c.Name)
		}
	}
	return nil
}

func (cs callbacks) trainBegin(r *Run) error {
	return cs.each(func(c Callback) error {
		if c.OnTrainBegin == nil {
			return nil
		}
		return c.OnTrainBegin(r)
	})
}

func (cs callbacks) trainEnd(r *Run, l Logs) error {
	return cs.each(func(c Callback) error {
		if c.OnTrainEnd == nil {
			return nil
		}
		return c.OnTrainEnd(r, l)
	})
}

func (cs callbacks) epochBegin(r *Run, e int) error {
	return cs.each(func(c Callback) error {
		if c.OnEpochBegin == nil {
			return nil
		}
		return c.OnEpochBegin(r, e)
	})
}

func (cs callbacks) epochEnd(r *Run, e int, l Logs) error {
	return cs.each(func(c Callback) error {
		if c.OnEpochEnd == nil {
			return nil
		}
		return c.OnEpochEnd(r, e, l)
	})
}

func (cs callbacks) batchBegin(r *Run, b int) error {
	return cs.each(func(c Callback) error {
		if c.OnBatchBegin == nil {
			return nil
		}
		return c.OnBatchBegin(r, b)
	})
}

func (cs callbacks) batchEnd(r *Run, b int, l Logs) error {
	return cs.each(func(c Callback) error {
		if c.OnBatchEnd == nil {
			return nil
		}
		return c.OnBatchEnd(r, b, l)
	})
}
