package training

import (
	"math"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// cbModel is a Model with weights and no programs, for driving callbacks
// by hand.
type cbModel struct{ ws []*graph.Weight }

func (m *cbModel) Program(k graph.Key) (*graph.Program, error) {
	return nil, errors.Errorf("cbModel has no program %v", k)
}
func (m *cbModel) Weights() []*graph.Weight { return m.ws }

// newCBModel has a trainable float64 weight "dense/kernel" (2 values) and a
// non-trainable float32 "bn/moving_mean" (1 value).
func newCBModel() *cbModel {
	return &cbModel{ws: []*graph.Weight{
		graph.NewWeight("dense/kernel", tensor.Float64, []int{2}, nil, true),
		graph.NewWeight("bn/moving_mean", tensor.Float32, []int{1}, nil, false),
	}}
}

// setEpoch writes values that identify epoch e into every weight:
// kernel (e+1, -(e+1)), moving mean 10(e+1).
func (m *cbModel) setEpoch(e int) {
	k := m.ws[0].Value.Data().([]float64)
	k[0], k[1] = float64(e+1), -float64(e+1)
	m.ws[1].Value.Data().([]float32)[0] = float32(10 * (e + 1))
}

// epochOf reads back the epoch setEpoch wrote, or -1 if the weights do not
// agree with each other.
func (m *cbModel) epochOf() int {
	k := m.ws[0].Value.Data().([]float64)
	mm := m.ws[1].Value.Data().([]float32)[0]
	e := int(k[0]) - 1
	if k[1] != -k[0] || mm != float32(10*(e+1)) {
		return -1
	}
	return e
}

// cbOptimizer is plain gradient descent with a settable rate.
type cbOptimizer struct {
	lr    float64
	iters int
	sets  []float64 // every SetLearningRate
}

func (o *cbOptimizer) Name() string { return "cb_sgd" }
func (o *cbOptimizer) Step(grads []graph.Gradient) error {
	for _, g := range grads {
		switch w := g.Weight.Value.Data().(type) {
		case []float64:
			for i, d := range g.Value.Data().([]float64) {
				w[i] -= o.lr * d
			}
		case []float32:
			for i, d := range g.Value.Data().([]float32) {
				w[i] -= float32(o.lr) * d
			}
		}
	}
	o.iters++
	return nil
}
func (o *cbOptimizer) Iterations() int                               { return o.iters }
func (o *cbOptimizer) CurrentLearningRate() float64                  { return o.lr }
func (o *cbOptimizer) SetLearningRate(lr float64)                    { o.lr = lr; o.sets = append(o.sets, lr) }
func (o *cbOptimizer) State([]*graph.Weight) []NamedTensor           { return nil }
func (o *cbOptimizer) SetState([]*graph.Weight, []NamedTensor) error { return nil }

var _ Optimizer = (*cbOptimizer)(nil)

// cbDrive runs cb over one epoch per logs entry the way Fit calls hooks
// (train begin; per epoch: epoch begin, steps batch ends, epoch end; train
// end), with the model's weights set to the epoch's values during the
// epoch. It stops after an epoch that sets StopTraining and returns the
// number of epochs run and the first error.
func cbDrive(cb Callback, r *Run, m *cbModel, seq []Logs) (int, error) {
	if cb.OnTrainBegin != nil {
		if err := cb.OnTrainBegin(r); err != nil {
			return 0, err
		}
	}
	n := 0
	for e, l := range seq {
		if m != nil {
			m.setEpoch(e)
		}
		if cb.OnEpochBegin != nil {
			if err := cb.OnEpochBegin(r, e); err != nil {
				return n, err
			}
		}
		for b := 0; b < r.Steps; b++ {
			if cb.OnBatchEnd != nil {
				if err := cb.OnBatchEnd(r, b, Logs{"loss": 1}); err != nil {
					return n, err
				}
			}
		}
		if cb.OnEpochEnd != nil {
			if err := cb.OnEpochEnd(r, e, l); err != nil {
				return n, err
			}
		}
		n++
		if r.StopTraining {
			break
		}
	}
	if cb.OnTrainEnd != nil {
		if err := cb.OnTrainEnd(r, nil); err != nil {
			return n, err
		}
	}
	return n, nil
}

// seqOf makes one Logs{key: v} per value.
func seqOf(key string, vs ...float64) []Logs {
	out := make([]Logs, len(vs))
	for i, v := range vs {
		out[i] = Logs{key: v, "loss": 1}
	}
	return out
}

func TestCallbackTerminateOnNaN(t *testing.T) {
	for i, tc := range []struct {
		logs     Logs
		wantStop bool
	}{
		{Logs{"loss": 0.5}, false},
		{Logs{"accuracy": math.NaN()}, false}, // only "loss" is watched, as in Keras
		{Logs{"loss": math.NaN()}, true},
		{Logs{"loss": math.Inf(1)}, true},
		{Logs{"loss": math.Inf(-1)}, true},
	} {
		r := &Run{}
		err := TerminateOnNaN().OnBatchEnd(r, 3, tc.logs)
		if got := errors.Is(err, ErrStopTraining); got != tc.wantStop || r.StopTraining != tc.wantStop {
			t.Errorf("%d: %v: err %v, StopTraining %v; want stop %v", i, tc.logs, err, r.StopTraining, tc.wantStop)
		}
		if err != nil && !errors.Is(err, ErrStopTraining) {
			t.Errorf("%d: unexpected error %v", i, err)
		}
	}
}

func TestLambdaCallback(t *testing.T) {
	var gotEpoch []int
	var gotLoss []float64
	cb := Lambda("record", func(epoch int, logs Logs) error {
		gotEpoch = append(gotEpoch, epoch)
		gotLoss = append(gotLoss, logs["loss"])
		if epoch == 1 {
			return ErrStopTraining
		}
		return nil
	})
	if cb.Name != "record" || cb.OnTrainBegin != nil || cb.OnBatchEnd != nil {
		t.Fatalf("Lambda set more than Name and OnEpochEnd: %+v", cb)
	}
	if err := cb.OnEpochEnd(&Run{}, 0, Logs{"loss": 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := cb.OnEpochEnd(&Run{}, 1, Logs{"loss": 0.25}); !errors.Is(err, ErrStopTraining) {
		t.Errorf("epoch 1: got %v, want ErrStopTraining passed through", err)
	}
	if len(gotEpoch) != 2 || gotEpoch[0] != 0 || gotEpoch[1] != 1 || gotLoss[0] != 0.5 || gotLoss[1] != 0.25 {
		t.Errorf("got epochs %v losses %v, want [0 1] [0.5 0.25]", gotEpoch, gotLoss)
	}
	if cb := Lambda("", nil); cb.Name != "Lambda" || cb.OnEpochEnd != nil {
		t.Errorf("Lambda(\"\", nil) = %+v, want name Lambda and no hook", cb)
	}
}

func TestLearningRateScheduler(t *testing.T) {
	opt := &cbOptimizer{lr: 0.1}
	r := &Run{Optimizer: opt}
	// Keep the rate for two epochs, then halve it each epoch.
	cb := LearningRateScheduler(func(epoch int, lr float64) float64 {
		if epoch < 2 {
			return lr
		}
		return lr / 2
	})
	want := []float64{0.1, 0.1, 0.05, 0.025}
	for e, w := range want {
		if err := cb.OnEpochBegin(r, e); err != nil {
			t.Fatal(err)
		}
		logs := Logs{"loss": 1}
		if err := cb.OnEpochEnd(r, e, logs); err != nil {
			t.Fatal(err)
		}
		if opt.lr != w || logs["learning_rate"] != w {
			t.Errorf("epoch %d: rate %v, logged %v; want %v", e, opt.lr, logs["learning_rate"], w)
		}
	}
	for i, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		cb := LearningRateScheduler(func(int, float64) float64 { return bad })
		if err := cb.OnEpochBegin(&Run{Optimizer: &cbOptimizer{lr: 1}}, 4); err == nil {
			t.Errorf("%d: a schedule giving %v: no error", i, bad)
		}
	}
	if err := LearningRateScheduler(nil).OnEpochBegin(r, 0); err == nil {
		t.Error("nil schedule: no error")
	}
	if err := cb.OnEpochBegin(&Run{}, 0); err == nil {
		t.Error("no optimizer: no error")
	}
}

// TestCallbacksNilRun calls every hook with a nil *Run: errors are fine,
// panics are not.
func TestCallbacksNilRun(t *testing.T) {
	dir := t.TempDir()
	nop := func(string) error { return nil }
	for _, cb := range []Callback{
		EarlyStopping(EarlyStoppingConfig{RestoreBestWeights: true}),
		ModelCheckpoint(ModelCheckpointConfig{Path: dir + "/m"}, nil),
		ModelCheckpoint(ModelCheckpointConfig{Path: dir + "/m", SaveFreq: 1}, nop),
		ReduceLROnPlateau(ReduceLROnPlateauConfig{}),
		CSVLogger(dir+"/log.csv", "", false),
		TerminateOnNaN(),
		Lambda("l", func(int, Logs) error { return nil }),
		LearningRateScheduler(func(int, float64) float64 { return 1 }),
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s panicked: %v", cb.Name, p)
				}
			}()
			logs := Logs{"loss": math.NaN(), "val_loss": 1}
			if cb.OnTrainBegin != nil {
				_ = cb.OnTrainBegin(nil)
			}
			if cb.OnEpochBegin != nil {
				_ = cb.OnEpochBegin(nil, 0)
			}
			if cb.OnBatchBegin != nil {
				_ = cb.OnBatchBegin(nil, 0)
			}
			if cb.OnBatchEnd != nil {
				_ = cb.OnBatchEnd(nil, 0, logs)
			}
			if cb.OnEpochEnd != nil {
				_ = cb.OnEpochEnd(nil, 0, logs)
			}
			if cb.OnTrainEnd != nil {
				_ = cb.OnTrainEnd(nil, logs)
			}
		}()
	}
}
