package training

import (
	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
)

// SGD is gradient descent with optional momentum, Keras' SGD. Per element,
// with learning rate lr and gradient g:
//
//	Momentum 0:  w -= lr*g
//	otherwise:   velocity = Momentum*velocity - lr*g
//	             w += velocity                       (Nesterov: w += Momentum*velocity - lr*g)
//
// The zero value is Keras' default SGD. An SGD must not be shared by
// goroutines or models.
type SGD struct {
	// LearningRate is the step size; 0 means Keras' default 0.01. Written to
	// JSON as "learning_rate".
	LearningRate float64 `json:"-"`
	// Momentum, in [0, 1], accelerates descent; 0 (the default) is plain
	// gradient descent.
	Momentum float64 `json:"momentum"`
	// Nesterov uses Nesterov momentum.
	Nesterov bool `json:"nesterov"`
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

var _ Optimizer = (*SGD)(nil)

var sgdSlots = []string{"momentum"}

// Name returns "sgd".
func (o *SGD) Name() string { return "sgd" }

// Step applies one update to every weight in grads.
func (o *SGD) Step(grads []graph.Gradient) error { return o.core.step(o, grads) }

// Iterations is the number of steps taken.
func (o *SGD) Iterations() int { return o.core.iterations }

// CurrentLearningRate is the rate the next step will use.
func (o *SGD) CurrentLearningRate() float64 { return o.core.rate(o.common()) }

// SetLearningRate sets LearningRate to lr and clears Schedule. A rate of 0
// set this way is 0 (a zero field alone means the default).
func (o *SGD) SetLearningRate(lr float64) { o.core.setRate(&o.LearningRate, &o.Schedule, lr) }

// State returns the velocities ("<weight>/momentum") and "iterations".
func (o *SGD) State(weights []*graph.Weight) []NamedTensor { return o.core.stateOf(o, weights) }

// SetState restores what State returned.
func (o *SGD) SetState(weights []*graph.Weight, state []NamedTensor) error {
	return o.core.setStateOf(o, weights, state)
}

// MarshalJSON writes the configuration, defaults resolved, as Keras'
// get_config names it.
func (o *SGD) MarshalJSON() ([]byte, error) {
	type config SGD
	c := *o
	c.core = core{}
	return marshalConfig(o.CurrentLearningRate(), o.Schedule, (*config)(&c))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (o *SGD) UnmarshalJSON(data []byte) error {
	type config SGD
	return unmarshalConfig(data, (*config)(o), &o.LearningRate, &o.Schedule, &o.core.zeroLR)
}

func (o *SGD) common() common {
	return common{lr: o.LearningRate, defaultLR: 0.01, schedule: o.Schedule,
		clipNorm: o.ClipNorm, clipValue: o.ClipValue, globalClipNorm: o.GlobalClipNorm}
}

func (o *SGD) check() error {
	if !(o.Momentum >= 0 && o.Momentum <= 1) {
		return errors.Errorf("training: sgd Momentum is %v; want a number in [0, 1]", o.Momentum)
	}
	return nil
}

func (o *SGD) slotNames() []string       { return sgdSlots }
func (o *SGD) slotUsed(int) bool         { return o.Momentum != 0 }
func (o *SGD) slotInit(int) float64      { return 0 }
func (o *SGD) prepare(lr float64, _ int) { o.lr = lr }

func (o *SGD) update32(w, g []float32, s [][]float32) { sgdUpdate(w, g, s[0], o) }
func (o *SGD) update64(w, g []float64, s [][]float64) { sgdUpdate(w, g, s[0], o) }

func sgdUpdate[T float](w, g, velocity []T, o *SGD) {
	lr := T(o.lr)
	if o.Momentum == 0 {
		for i := range w {
			w[i] -= g[i] * lr
		}
		return
	}
	mom := T(o.Momentum)
	for i := range w {
		velocity[i] = velocity[i]*mom - g[i]*lr
		if o.Nesterov {
			w[i] += velocity[i]*mom - g[i]*lr
		} else {
			w[i] += velocity[i]
		}
	}
}
