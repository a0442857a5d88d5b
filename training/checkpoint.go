package training

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// ModelCheckpointConfig configures ModelCheckpoint. The zero value of a
// field is Keras' default.
type ModelCheckpointConfig struct {
	// Path is where to save. It may hold Python-style placeholders, filled
	// at each save: {epoch} (counted from 1), {batch} (from 1, when saving
	// every SaveFreq batches) and any log key, such as {val_loss}, with an
	// optional format spec: "ckpt-{epoch:02d}-{val_loss:.4f}.keragon".
	// Specs take [sign][0][width][.precision][type], type one of
	// "dfFeEgG%"; a float without a spec prints as Python's str ("0.25").
	// Missing directories are created. Required.
	Path string
	// Monitor is the log key SaveBestOnly compares; "" means "val_loss".
	Monitor string
	// Mode is "min", "max" or "auto" (""), as in EarlyStoppingConfig.
	Mode string
	// SaveBestOnly saves only when the monitored figure improves on the best
	// seen (by this callback, across Fit calls, as in Keras). With a fixed
	// Path the file then always holds the best model.
	SaveBestOnly bool
	// SaveWeightsOnly saves the weights only: the default saver is then
	// the model's SaveWeights method (WeightsSaver; keras.Model's writes
	// the file keras.Model.LoadWeights reads) instead of Save (Saver). It
	// is not used when a save function is given.
	SaveWeightsOnly bool
	// SaveFreq is 0 to save at the end of every epoch (Keras' "epoch"), or
	// n > 0 to save every n batches, with the running batch logs.
	SaveFreq int
	// InitialValueThreshold, when not nil, is the best value to beat at
	// first (Keras' initial_value_threshold); nil means the worst.
	InitialValueThreshold *float64
	// Verbose 1 prints a line for every save or skipped save.
	Verbose int
	// Output receives those lines; nil means os.Stdout.
	Output io.Writer
}

// Saver is a model that saves itself to a file: keras.Model (Save writes
// the architecture, weights and optimizer state that keras.Load reads).
type Saver interface {
	Save(path string) error
}

// WeightsSaver is a model that saves its weights alone to a file:
// keras.Model (SaveWeights writes what keras.Model.LoadWeights reads).
type WeightsSaver interface {
	SaveWeights(path string) error
}

// ModelCheckpoint returns a callback that saves the model while it trains,
// as Keras 3's ModelCheckpoint.
//
// training does not import keras, so the caller may say how to save: save
// is called with the formatted path. When save is nil, Run.Model must be
// a Saver (a WeightsSaver with SaveWeightsOnly); keras.Model is both.
//
// A Path placeholder without a value is an error naming the keys there
// are, and so, with SaveBestOnly, is a monitored key missing from the
// logs (Keras warns and saves anyway). At the end of an epoch cut short by
// ErrStopTraining (Fit then skips validation, so val_ keys are absent)
// such a missing key skips the save instead. Save errors abort Fit.
// Configuration errors, and a model that cannot save itself, are reported
// when training begins.
func ModelCheckpoint(cfg ModelCheckpointConfig, save func(path string) error) Callback {
	s := &checkpoint{cfg: cfg, userSave: save}
	return Callback{
		Name:         "ModelCheckpoint",
		OnTrainBegin: s.trainBegin,
		OnEpochBegin: s.epochBegin,
		OnBatchEnd:   s.batchEnd,
		OnEpochEnd:   s.epochEnd,
	}
}

type checkpoint struct {
	cfg      ModelCheckpointConfig
	userSave func(string) error

	mon     monitor
	ready   bool
	best    float64
	save    func(string) error
	epoch   int
	since   int // batches since the last save, with SaveFreq > 0
	batches batchCounter
}

func (s *checkpoint) trainBegin(r *Run) error {
	c := s.cfg
	if c.Path == "" {
		return errors.New("training: ModelCheckpoint: Path is empty")
	}
	if c.SaveFreq < 0 {
		return errors.Errorf("training: ModelCheckpoint: SaveFreq must be 0 (every epoch) or positive (batches), got %d", c.SaveFreq)
	}
	m, err := newMonitor("ModelCheckpoint", c.Monitor, c.Mode, 0)
	if err != nil {
		return err
	}
	s.save = s.userSave
	if s.save == nil {
		if s.save, err = modelSaver(r, c.SaveWeightsOnly); err != nil {
			return err
		}
	}
	if !s.ready {
		// The best survives from one Fit to the next, as in Keras.
		s.best = m.worst()
		if c.InitialValueThreshold != nil {
			s.best = *c.InitialValueThreshold
		}
	}
	s.mon, s.ready, s.since = m, true, 0
	return nil
}

// modelSaver finds the model's own Save or SaveWeights method.
func modelSaver(r *Run, weightsOnly bool) (func(string) error, error) {
	if r == nil || r.Model == nil {
		return nil, errors.New("training: ModelCheckpoint: no save function and no Run.Model to save")
	}
	if weightsOnly {
		if m, ok := r.Model.(WeightsSaver); ok {
			return m.SaveWeights, nil
		}
		return nil, errors.Errorf("training: ModelCheckpoint: the model (%T) has no SaveWeights(path string) error method; pass a save function", r.Model)
	}
	if m, ok := r.Model.(Saver); ok {
		return m.Save, nil
	}
	return nil, errors.Errorf("training: ModelCheckpoint: the model (%T) has no Save(path string) error method; pass a save function", r.Model)
}

func (s *checkpoint) epochBegin(r *Run, epoch int) error {
	s.epoch = epoch
	return s.batches.epochBegin(r, epoch)
}

func (s *checkpoint) batchEnd(r *Run, batch int, logs Logs) error {
	_ = s.batches.batchEnd(r, batch, logs)
	if s.cfg.SaveFreq == 0 {
		return nil
	}
	s.since++
	if s.since < s.cfg.SaveFreq {
		return nil
	}
	s.since = 0
	return s.checkpoint(r, s.epoch, batch, logs, false)
}

func (s *checkpoint) epochEnd(r *Run, epoch int, logs Logs) error {
	if s.cfg.SaveFreq != 0 {
		return nil
	}
	return s.checkpoint(r, epoch, -1, logs, s.batches.short(r))
}

// checkpoint saves if it should; batch is -1 at the end of an epoch.
func (s *checkpoint) checkpoint(r *Run, epoch, batch int, logs Logs, short bool) error {
	if !s.ready {
		if err := s.trainBegin(r); err != nil {
			return err
		}
	}
	ints := map[string]int{"epoch": epoch + 1}
	if batch >= 0 {
		ints["batch"] = batch + 1
	}
	path, err := pyFormat(s.cfg.Path, ints, logs)
	if err != nil {
		if short {
			return nil
		}
		return errors.WithMessage(err, "training: ModelCheckpoint: Path")
	}
	w := writerOr(s.cfg.Output)
	if s.cfg.SaveBestOnly {
		cur, ok, err := s.mon.value(logs, short)
		if err != nil || !ok {
			return err
		}
		best, _ := pyFormatFloat(s.best, ".5f")
		if !s.mon.improves(cur, s.best) {
			if s.cfg.Verbose > 0 {
				fmt.Fprintf(w, "Epoch %d: %s did not improve from %s\n", epoch+1, s.mon.key, best)
			}
			return nil
		}
		if s.cfg.Verbose > 0 {
			now, _ := pyFormatFloat(cur, ".5f")
			fmt.Fprintf(w, "Epoch %d: %s improved from %s to %s, saving model to %s\n", epoch+1, s.mon.key, best, now, path)
		}
		s.best = cur
	} else if s.cfg.Verbose > 0 {
		fmt.Fprintf(w, "Epoch %d: saving model to %s\n", epoch+1, path)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return errors.Wrapf(err, "training: ModelCheckpoint: creating %s", dir)
		}
	}
	return errors.WithMessagef(s.save(path), "training: ModelCheckpoint: saving %s", path)
}
