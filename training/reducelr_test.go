package training

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestReduceLROnPlateau(t *testing.T) {
	flat := make([]float64, 15)
	for i := range flat {
		flat[i] = 1
	}
	for i, tc := range []struct {
		name   string
		cfg    ReduceLROnPlateauConfig
		key    string
		lr     float64
		values []float64
		// wantLogged is "learning_rate" in each epoch's logs (the rate the
		// epoch ran with); wantSets the rates set, in order.
		wantLogged, wantSets []float64
	}{
		// Patience 2, cooldown 2 on a flat loss: e0 sets the best; e1, e2
		// wait → reduce at e2; e3 is in cooldown; e4 ends the cooldown (wait
		// reset, then counted: 1); e5 waits 2 → reduce; and so on every
		// third epoch. At e11 0.125·0.5 is below MinLR: 0.1. At e14 the rate
		// is MinLR: no more reductions.
		{"cooldown and min_lr", ReduceLROnPlateauConfig{Factor: 0.5, Patience: 2, Cooldown: 2, MinLR: 0.1}, "val_loss", 1, flat,
			[]float64{1, 1, 1, .5, .5, .5, .25, .25, .25, .125, .125, .125, .1, .1, .1}, []float64{.5, .25, .125, .1}},
		// Cooldown 1 only resets the wait: the epoch after a reduction is
		// counted again (Keras decrements the cooldown first). Reductions
		// at e2, e4, e6.
		{"cooldown 1", ReduceLROnPlateauConfig{Factor: 0.5, Patience: 2, Cooldown: 1}, "val_loss", 1, flat[:8],
			[]float64{1, 1, 1, .5, .5, .25, .25, .125}, []float64{.5, .25, .125}},
		// Defaults: factor 0.1, patience 10: e1..e10 wait, reduce at e10.
		{"defaults", ReduceLROnPlateauConfig{}, "val_loss", 1, flat[:12],
			[]float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.1}, []float64{0.1}},
		// Default MinDelta 1e-4: a decrease of 5e-5 is no improvement.
		{"min delta", ReduceLROnPlateauConfig{Patience: 1}, "val_loss", 1, []float64{1, 0.99995, 0.9, 0.8998},
			[]float64{1, 1, 0.1, 0.1}, []float64{0.1}},
		// Auto mode maximises accuracy; MinDelta 0.01: 0.505 is not above
		// 0.51, 0.52 is, 0.52 again is not.
		{"auto max", ReduceLROnPlateauConfig{Monitor: "val_accuracy", Patience: 1, MinDelta: Float(0.01)}, "val_accuracy", 1,
			[]float64{0.5, 0.505, 0.52, 0.52}, []float64{1, 1, 0.1, 0.1}, []float64{0.1, 0.1 * 0.1}},
		{"mode max on loss", ReduceLROnPlateauConfig{Monitor: "loss", Mode: "max", Patience: 1}, "loss", 1,
			[]float64{0.5, 0.6, 0.4}, []float64{1, 1, 1}, []float64{0.1}},
		// A rate already at MinLR is not reduced.
		{"at min_lr", ReduceLROnPlateauConfig{Patience: 1, MinLR: 0.01}, "val_loss", 0.01, flat[:3],
			[]float64{0.01, 0.01, 0.01}, nil},
	} {
		opt := &cbOptimizer{lr: tc.lr}
		r := &Run{Optimizer: opt}
		seq := seqOf(tc.key, tc.values...)
		if _, err := cbDrive(ReduceLROnPlateau(tc.cfg), r, nil, seq); err != nil {
			t.Errorf("%d %s: %v", i, tc.name, err)
			continue
		}
		var logged []float64
		for _, l := range seq {
			logged = append(logged, l["learning_rate"])
		}
		if !closeAll(logged, tc.wantLogged) {
			t.Errorf("%d %s: logged rates %v, want %v", i, tc.name, logged, tc.wantLogged)
		}
		if !closeAll(opt.sets, tc.wantSets) {
			t.Errorf("%d %s: set rates %v, want %v", i, tc.name, opt.sets, tc.wantSets)
		}
	}
}

// closeAll compares two slices to 1e-12 relative.
func closeAll(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12*math.Abs(want[i]) {
			return false
		}
	}
	return true
}

func TestReduceLROnPlateauVerbose(t *testing.T) {
	var out bytes.Buffer
	cb := ReduceLROnPlateau(ReduceLROnPlateauConfig{Patience: 1, Factor: 0.5, Verbose: 1, Output: &out})
	if _, err := cbDrive(cb, &Run{Optimizer: &cbOptimizer{lr: 0.001}}, nil, seqOf("val_loss", 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	want := "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.0005.\n" +
		"Epoch 3: ReduceLROnPlateau reducing learning rate to 0.00025.\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestReduceLROnPlateauErrors(t *testing.T) {
	opt := &cbOptimizer{lr: 1}
	for i, tc := range []struct {
		cfg  ReduceLROnPlateauConfig
		run  *Run
		logs Logs
		want string
	}{
		{ReduceLROnPlateauConfig{Factor: 1}, &Run{Optimizer: opt}, Logs{"val_loss": 1}, "Factor must be in (0, 1), got 1"},
		{ReduceLROnPlateauConfig{Factor: -0.5}, &Run{Optimizer: opt}, Logs{"val_loss": 1}, "got -0.5"},
		{ReduceLROnPlateauConfig{Patience: -1}, &Run{Optimizer: opt}, Logs{"val_loss": 1}, "Patience (-1)"},
		{ReduceLROnPlateauConfig{Cooldown: -1}, &Run{Optimizer: opt}, Logs{"val_loss": 1}, "Cooldown (-1)"},
		{ReduceLROnPlateauConfig{MinDelta: Float(-1)}, &Run{Optimizer: opt}, Logs{"val_loss": 1}, "MinDelta must not be negative"},
		{ReduceLROnPlateauConfig{MinLR: -1}, &Run{Optimizer: opt}, Logs{"val_loss": 1}, "MinLR must be finite and not negative, got -1"},
		{ReduceLROnPlateauConfig{Mode: "Min"}, &Run{Optimizer: opt}, Logs{"val_loss": 1}, `got "Min"`},
		{ReduceLROnPlateauConfig{}, &Run{}, Logs{"val_loss": 1}, "Run.Optimizer is nil"},
		{ReduceLROnPlateauConfig{}, &Run{Optimizer: opt}, Logs{"loss": 1},
			`ReduceLROnPlateau monitors "val_loss", which is not in the logs; available: learning_rate, loss`},
		{ReduceLROnPlateauConfig{}, &Run{Optimizer: opt, StopTraining: true}, Logs{"loss": 1}, ""},
	} {
		cb := ReduceLROnPlateau(tc.cfg)
		err := cb.OnTrainBegin(tc.run)
		if err == nil {
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
