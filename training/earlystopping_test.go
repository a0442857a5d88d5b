package training

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestEarlyStopping(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	nan := math.NaN()
	for i, tc := range []struct {
		name   string
		cfg    EarlyStoppingConfig
		key    string
		values []float64
		// wantEpochs is the number of epochs run; wantBest the epoch whose
		// weights RestoreBestWeights puts back.
		wantEpochs, wantBest int
	}{
		// e0 best 1.0; e1 improves; e2 does not: wait 1 ≥ patience 0.
		{"patience 0", EarlyStoppingConfig{}, "val_loss", []float64{1.0, 0.9, 0.95, 0.8}, 3, 1},
		// e2, e3 do not improve: wait 2 ≥ 2 at e3.
		{"patience 2", EarlyStoppingConfig{Patience: 2}, "val_loss", []float64{1.0, 0.9, 0.95, 0.92, 0.91, 0.5}, 4, 1},
		// An improvement resets the wait: e1 waits, e2 improves, e3 and e4 wait.
		{"wait resets", EarlyStoppingConfig{Patience: 2}, "val_loss", []float64{1.0, 1.1, 0.9, 0.95, 0.92, 0.5}, 5, 2},
		// MinDelta 0.05: 0.96 and 0.89 (from 0.9) are not improvements;
		// 0.9 (from 1.0) is. e1 waits 1, e2 resets, e3 waits 1, e4 waits 2.
		{"min delta", EarlyStoppingConfig{Patience: 2, MinDelta: 0.05}, "val_loss", []float64{1.0, 0.96, 0.9, 0.89, 0.88, 0.1}, 5, 2},
		// A negative MinDelta counts as its absolute value, as in Keras.
		{"negative min delta", EarlyStoppingConfig{Patience: 2, MinDelta: -0.05}, "val_loss", []float64{1.0, 0.96, 0.9, 0.89, 0.88, 0.1}, 5, 2},
		// Auto mode maximises accuracy: 0.6 does not beat 0.6.
		{"auto max", EarlyStoppingConfig{Monitor: "val_accuracy", Patience: 1}, "val_accuracy", []float64{0.5, 0.6, 0.6, 0.55}, 3, 1},
		{"auto max auc", EarlyStoppingConfig{Monitor: "auc"}, "auc", []float64{0.5, 0.7, 0.6}, 3, 1},
		// Auto mode minimises anything else ("mae").
		{"auto min", EarlyStoppingConfig{Monitor: "val_mae"}, "val_mae", []float64{0.5, 0.4, 0.45}, 3, 1},
		// An explicit mode wins over the name.
		{"mode min", EarlyStoppingConfig{Monitor: "val_accuracy", Mode: "min"}, "val_accuracy", []float64{0.5, 0.4, 0.6}, 3, 1},
		{"mode max", EarlyStoppingConfig{Monitor: "loss", Mode: "max"}, "loss", []float64{0.5, 0.6, 0.55}, 3, 1},
		// Baseline 0.5 never beaten: e0 improves on +Inf but not on the
		// baseline, so the wait stays 1; e1 does not improve: 2 ≥ 2.
		{"baseline not beaten", EarlyStoppingConfig{Patience: 2, Baseline: f(0.5)}, "val_loss", []float64{0.6, 0.7, 0.3, 0.35}, 2, 0},
		// Improvements that miss the baseline do not reset the wait, but
		// only a non-improving epoch can stop: e0..e2 improve, e3 stops
		// (wait 4).
		{"baseline, improving", EarlyStoppingConfig{Patience: 2, Baseline: f(0.5)}, "val_loss", []float64{1.0, 0.9, 0.8, 0.85, 0.1}, 4, 2},
		// Beating the baseline resets the wait as usual.
		{"baseline beaten", EarlyStoppingConfig{Patience: 2, Baseline: f(0.5)}, "val_loss", []float64{0.4, 0.45, 0.3, 0.35, 0.36, 0.1}, 5, 2},
		// Epochs 0 and 1 are warm-up: their values are ignored.
		{"start from epoch", EarlyStoppingConfig{StartFromEpoch: 2}, "val_loss", []float64{1.0, 2.0, 3.0, 2.5, 2.6, 0.1}, 5, 3},
		// The first epoch never stops: a NaN there does not improve (wait
		// 1 ≥ 0) but epoch 0 is exempt, as in Keras. Its weights are the
		// first snapshot, replaced at e1.
		{"first epoch exempt", EarlyStoppingConfig{}, "val_loss", []float64{nan, 1.0, 1.1}, 3, 1},
		// Never stopped: the best weights are still restored at the end
		// (Keras 3).
		{"no stop", EarlyStoppingConfig{Patience: 5}, "val_loss", []float64{1.0, 0.5, 0.7}, 3, 1},
	} {
		for _, restore := range []bool{false, true} {
			m := newCBModel()
			r := &Run{Model: m}
			cfg := tc.cfg
			cfg.RestoreBestWeights = restore
			n, err := cbDrive(EarlyStopping(cfg), r, m, seqOf(tc.key, tc.values...))
			if err != nil {
				t.Errorf("%d %s: %v", i, tc.name, err)
				continue
			}
			if n != tc.wantEpochs {
				t.Errorf("%d %s: ran %d epochs, want %d", i, tc.name, n, tc.wantEpochs)
			}
			wantWeights := n - 1 // the last epoch's
			if restore {
				wantWeights = tc.wantBest
			}
			if got := m.epochOf(); got != wantWeights {
				t.Errorf("%d %s (restore %v): weights of epoch %d, want %d", i, tc.name, restore, got, wantWeights)
			}
		}
	}
}

func TestEarlyStoppingReuse(t *testing.T) {
	// A second Fit with the same callback starts afresh: best, wait and
	// saved weights are reset when training begins.
	m := newCBModel()
	cb := EarlyStopping(EarlyStoppingConfig{Patience: 1, RestoreBestWeights: true})
	if n, err := cbDrive(cb, &Run{Model: m}, m, seqOf("val_loss", 0.1, 0.2, 0.3)); err != nil || n != 2 {
		t.Fatalf("first run: %d epochs, %v; want 2", n, err)
	}
	n, err := cbDrive(cb, &Run{Model: m}, m, seqOf("val_loss", 5, 4, 3))
	if err != nil || n != 3 || m.epochOf() != 2 {
		t.Errorf("second run: %d epochs, weights of epoch %d, %v; want 3 epochs, weights of 2", n, m.epochOf(), err)
	}
}

func TestEarlyStoppingVerbose(t *testing.T) {
	m := newCBModel()
	var out bytes.Buffer
	cb := EarlyStopping(EarlyStoppingConfig{Monitor: "loss", Verbose: 1, RestoreBestWeights: true, Output: &out})
	if _, err := cbDrive(cb, &Run{Model: m}, m, seqOf("loss", 1, 0.5, 0.7)); err != nil {
		t.Fatal(err)
	}
	want := "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestEarlyStoppingErrors(t *testing.T) {
	for i, tc := range []struct {
		cfg     EarlyStoppingConfig
		run     *Run
		logs    Logs
		batches int // batch ends seen in the epoch
		want    string
	}{
		{EarlyStoppingConfig{}, &Run{}, Logs{"loss": 1, "accuracy": 0.5}, 0,
			`EarlyStopping monitors "val_loss", which is not in the logs; available: accuracy, loss (val_ figures need validation data)`},
		{EarlyStoppingConfig{Monitor: "acc"}, &Run{}, Logs{"loss": 1, "accuracy": 0.5}, 0,
			`monitors "acc", which is not in the logs; available: accuracy, loss`},
		// An epoch cut short (2 of 3 batches): no validation, no error.
		{EarlyStoppingConfig{}, &Run{Steps: 3}, Logs{"loss": 1}, 2, ""},
		// A full epoch without the key is an error.
		{EarlyStoppingConfig{}, &Run{Steps: 3}, Logs{"loss": 1}, 3, `"val_loss", which is not in the logs`},
		// Another callback asked to stop at this epoch: not an error.
		{EarlyStoppingConfig{}, &Run{Steps: 3, StopTraining: true}, Logs{"loss": 1}, 3, ""},
		{EarlyStoppingConfig{Mode: "maximum"}, &Run{}, Logs{"val_loss": 1}, 0, `Mode must be "auto", "min" or "max", got "maximum"`},
		{EarlyStoppingConfig{Patience: -1}, &Run{}, Logs{"val_loss": 1}, 0, "Patience (-1) and StartFromEpoch (0) must not be negative"},
		{EarlyStoppingConfig{StartFromEpoch: -2}, &Run{}, Logs{"val_loss": 1}, 0, "StartFromEpoch (-2)"},
		{EarlyStoppingConfig{MinDelta: math.NaN()}, &Run{}, Logs{"val_loss": 1}, 0, "MinDelta must be finite, got NaN"},
		{EarlyStoppingConfig{RestoreBestWeights: true}, &Run{}, Logs{"val_loss": 1}, 0, "RestoreBestWeights needs Run.Model"},
	} {
		cb := EarlyStopping(tc.cfg)
		err := cb.OnTrainBegin(tc.run)
		if err == nil {
			_ = cb.OnEpochBegin(tc.run, 0)
			for b := 0; b < tc.batches; b++ {
				_ = cb.OnBatchEnd(tc.run, b, Logs{"loss": 1})
			}
			err = cb.OnEpochEnd(tc.run, 0, tc.logs)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%d: unexpected error %v", i, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%d: got error %v, want one containing %q", i, err, tc.want)
		}
	}
}

func TestEarlyStoppingRestoreChecksWeights(t *testing.T) {
	// The model's weights change between the snapshot and the restore:
	// an error, not a silent partial copy.
	m := newCBModel()
	r := &Run{Model: m}
	cb := EarlyStopping(EarlyStoppingConfig{RestoreBestWeights: true, Patience: 3})
	if err := cb.OnTrainBegin(r); err != nil {
		t.Fatal(err)
	}
	if err := cb.OnEpochEnd(r, 0, Logs{"val_loss": 1}); err != nil {
		t.Fatal(err)
	}
	m.ws = m.ws[:1]
	if err := cb.OnTrainEnd(r, nil); err == nil || !strings.Contains(err.Error(), "the model has 1 weights, the saved best 2") {
		t.Errorf("got %v, want a weight count mismatch", err)
	}
}
