package training

import (
	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
)

// Adadelta is Keras' Adadelta. Per element:
//
//	accumulated_grad = Rho*accumulated_grad + (1 - Rho)*g²
//	delta = -sqrt(accumulated_delta_var + Epsilon)*g / sqrt(accumulated_grad + Epsilon)
//	accumulated_delta_var = Rho*accumulated_delta_var + (1 - Rho)*delta²
//	w += lr*delta
//
// (PyTorch's Adadelta is the same rule.) The zero value is Keras' default
// Adadelta. An Adadelta must not be shared by goroutines or models.
type Adadelta struct {
	// LearningRate scales the step; 0 means Keras' default 0.001 (the
	// original paper's rule is 1.0). Written to JSON as "learning_rate".
	LearningRate float64 `json:"-"`
	// Rho is the decay of both averages, in [0, 1]; nil means 0.95. Set it
	// with Float.
	Rho *float64 `json:"rho"`
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

var _ Optimizer = (*Adadelta)(nil)

var adadeltaSlots = []string{"accumulated_grad", "accumulated_delta_var"}

// Name returns "adadelta".
func (o *Adadelta) Name() string { return "adadelta" }

// Step applies one update to every weight in grads.
func (o *Adadelta) Step(grads []graph.Gradient) error { return o.core.step(o, grads) }

// Iterations is the number of steps taken.
func (o *Adadelta) Iterations() int { return o.core.iterations }

// CurrentLearningRate is the rate the next step will use.
func (o *Adadelta) CurrentLearningRate() float64 { return o.core.rate(o.common()) }

// SetLearningRate sets LearningRate to lr and clears Schedule. A rate of 0
// set this way is 0 (a zero field alone means the default).
func (o *Adadelta) SetLearningRate(lr float64) { o.core.setRate(&o.LearningRate, &o.Schedule, lr) }

// State returns "<weight>/accumulated_grad", "<weight>/accumulated_delta_var"
// and "iterations".
func (o *Adadelta) State(weights []*graph.Weight) []NamedTensor { return o.core.stateOf(o, weights) }

// SetState restores what State returned.
func (o *Adadelta) SetState(weights []*graph.Weight, state []NamedTensor) error {
	return o.core.setStateOf(o, weights, state)
}

// MarshalJSON writes the configuration, defaults resolved, as Keras'
// get_config names it.
func (o *Adadelta) MarshalJSON() ([]byte, error) {
	type config Adadelta
	c := Adadelta{Rho: Float(o.rho()), Epsilon: o.epsilon(),
		ClipNorm: o.ClipNorm, ClipValue: o.ClipValue, GlobalClipNorm: o.GlobalClipNorm}
	return marshalConfig(o.CurrentLearningRate(), o.Schedule, (*config)(&c))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (o *Adadelta) UnmarshalJSON(data []byte) error {
	type config Adadelta
	return unmarshalConfig(data, (*config)(o), &o.LearningRate, &o.Schedule, &o.core.zeroLR)
}

func (o *Adadelta) rho() float64     { return floatOr(o.Rho, 0.95) }
func (o *Adadelta) epsilon() float64 { return orDefault(o.Epsilon, 1e-7) }

func (o *Adadelta) common() common {
	return common{lr: o.LearningRate, defaultLR: 0.001, schedule: o.Schedule,
		clipNorm: o.ClipNorm, clipValue: o.ClipValue, globalClipNorm: o.GlobalClipNorm}
}

func (o *Adadelta) check() error {
	if rho := o.rho(); !(rho >= 0 && rho <= 1) {
		return errors.Errorf("training: adadelta Rho is %v; want a number in [0, 1]", rho)
	}
	if eps := o.epsilon(); !(eps >= 0) {
		return errors.Errorf("training: adadelta Epsilon is %v; want >= 0", eps)
	}
	return nil
}

func (o *Adadelta) slotNames() []string  { return adadeltaSlots }
func (o *Adadelta) slotUsed(int) bool    { return true }
func (o *Adadelta) slotInit(int) float64 { return 0 }

func (o *Adadelta) prepare(lr float64, _ int) { o.lr = lr }

func (o *Adadelta) update32(w, g []float32, s [][]float32) { adadeltaUpdate(w, g, s[0], s[1], o) }
func (o *Adadelta) update64(w, g []float64, s [][]float64) { adadeltaUpdate(w, g, s[0], s[1], o) }

func adadeltaUpdate[T float](w, g, accGrad, accDelta []T, o *Adadelta) {
	lr, rho, eps := T(o.lr), T(o.rho()), T(o.epsilon())
	rho1 := 1 - rho
	for i := range w {
		gi := g[i]
		accGrad[i] = rho*accGrad[i] + rho1*(gi*gi)
		delta := -(sqrt(accDelta[i]+eps) * gi / sqrt(accGrad[i]+eps))
		accDelta[i] = rho*accDelta[i] + rho1*(delta*delta)
		w[i] += lr * delta
	}
}
