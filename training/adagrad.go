package training

import (
	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
)

// Adagrad is Keras' Adagrad. Per element, with the accumulator starting at
// InitialAccumulatorValue:
//
//	accumulator += g²
//	w -= lr*g / sqrt(accumulator + Epsilon)
//
// Epsilon is inside the square root (PyTorch adds it outside, and starts
// its accumulator at 0 by default). The zero value is Keras' default
// Adagrad. An Adagrad must not be shared by goroutines or models.
type Adagrad struct {
	// LearningRate is the step size; 0 means Keras' default 0.001. Written to
	// JSON as "learning_rate".
	LearningRate float64 `json:"-"`
	// InitialAccumulatorValue starts every accumulator, >= 0; nil means
	// Keras' default 0.1. Set it with Float (Float(0) starts at 0, as
	// PyTorch's Adagrad).
	InitialAccumulatorValue *float64 `json:"initial_accumulator_value"`
	// Epsilon keeps the division finite; 0 means 1e-7.
	Epsilon float64 `json:"epsilon"`
	// Schedule, when not nil, gives the learning rate of every step instead
	// of LearningRate.
	Schedule Schedule `json:"-"`
	// Gradient clipping, before the update, as in Keras; 0 means off and at
	// most one may be set. ClipNorm scales each weight's gradient g to
	// g*ClipNorm/max(‖g‖, ClipNorm); GlobalClipNorm scales all gradients
	// by one factor so their joint norm is at most GlobalClipNorm;
	// ClipValue clips every element to [-ClipValue, ClipValue].
	ClipNorm       float64 `json:"clipnorm"`
	ClipValue      float64 `json:"clipvalue"`
	GlobalClipNorm float64 `json:"global_clipnorm"`

	core core
	lr   float64 // this step's rate
}

var _ Optimizer = (*Adagrad)(nil)

var adagradSlots = []string{"accumulator"}

// Name returns "adagrad".
func (o *Adagrad) Name() string { return "adagrad" }

// Step applies one update to every weight in grads.
func (o *Adagrad) Step(grads []graph.Gradient) error { return o.core.step(o, grads) }

// Iterations is the number of steps taken.
func (o *Adagrad) Iterations() int { return o.core.iterations }

// CurrentLearningRate is the rate the next step will use.
func (o *Adagrad) CurrentLearningRate() float64 { return o.core.rate(o.common()) }

// SetLearningRate sets LearningRate to lr and clears Schedule. A rate of 0
// set this way is 0 (a zero field alone means the default).
func (o *Adagrad) SetLearningRate(lr float64) { o.core.setRate(&o.LearningRate, &o.Schedule, lr) }

// State returns "<weight>/accumulator" and "iterations".
func (o *Adagrad) State(weights []*graph.Weight) []NamedTensor { return o.core.stateOf(o, weights) }

// SetState restores what State returned.
func (o *Adagrad) SetState(weights []*graph.Weight, state []NamedTensor) error {
	return o.core.setStateOf(o, weights, state)
}

// MarshalJSON writes the configuration, defaults resolved, as Keras'
// get_config names it.
func (o *Adagrad) MarshalJSON() ([]byte, error) {
	type config Adagrad
	c := Adagrad{InitialAccumulatorValue: Float(o.initial()), Epsilon: o.epsilon(),
		ClipNorm: o.ClipNorm, ClipValue: o.ClipValue, GlobalClipNorm: o.GlobalClipNorm}
	return marshalConfig(o.CurrentLearningRate(), o.Schedule, (*config)(&c))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (o *Adagrad) UnmarshalJSON(data []byte) error {
	type config Adagrad
	return unmarshalConfig(data, (*config)(o), &o.LearningRate, &o.Schedule, &o.core.zeroLR)
}

func (o *Adagrad) initial() float64 { return floatOr(o.InitialAccumulatorValue, 0.1) }
func (o *Adagrad) epsilon() float64 { return orDefault(o.Epsilon, 1e-7) }

func (o *Adagrad) common() common {
	return common{lr: o.LearningRate, defaultLR: 0.001, schedule: o.Schedule,
		clipNorm: o.ClipNorm, clipValue: o.ClipValue, globalClipNorm: o.GlobalClipNorm}
}

func (o *Adagrad) check() error {
	if v := o.initial(); !(v >= 0) {
		return errors.Errorf("training: adagrad InitialAccumulatorValue is %v; want >= 0", v)
	}
	if eps := o.epsilon(); !(eps >= 0) {
		return errors.Errorf("training: adagrad Epsilon is %v; want >= 0", eps)
	}
	return nil
}

func (o *Adagrad) slotNames() []string  { return adagradSlots }
func (o *Adagrad) slotUsed(int) bool    { return true }
func (o *Adagrad) slotInit(int) float64 { return o.initial() }

func (o *Adagrad) prepare(lr float64, _ int) { o.lr = lr }

func (o *Adagrad) update32(w, g []float32, s [][]float32) { adagradUpdate(w, g, s[0], o) }
func (o *Adagrad) update64(w, g []float64, s [][]float64) { adagradUpdate(w, g, s[0], o) }

func adagradUpdate[T float](w, g, acc []T, o *Adagrad) {
	lr, eps := T(o.lr), T(o.epsilon())
	for i := range w {
		gi := g[i]
		acc[i] += gi * gi
		w[i] -= lr * gi / sqrt(acc[i]+eps)
	}
}
