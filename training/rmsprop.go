package training

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/internal/vmath"
	"github.com/pkg/errors"
)

// RMSprop is Keras' RMSprop. Per element:
//
//	velocity = Rho*velocity + (1 - Rho)*g²
//	Centered:  average = Rho*average + (1 - Rho)*g
//	           increment = lr*g / sqrt(velocity - average² + Epsilon)
//	otherwise: increment = lr*g / sqrt(velocity + Epsilon)
//	Momentum > 0: momentum = Momentum*momentum + increment; w -= momentum
//	otherwise:    w -= increment
//
// Epsilon is inside the square root (PyTorch adds it outside). The zero
// value is Keras' default RMSprop. An RMSprop must not be shared by
// goroutines or models.
type RMSprop struct {
	// LearningRate is the step size; 0 means Keras' default 0.001. Written to
	// JSON as "learning_rate".
	LearningRate float64 `json:"-"`
	// Rho is the decay of the average of squared gradients, in [0, 1]; nil
	// means 0.9. Set it with Float.
	Rho *float64 `json:"rho"`
	// Momentum is the decay of the momentum of increments; 0 (the default)
	// uses no momentum.
	Momentum float64 `json:"momentum"`
	// Epsilon keeps the division finite; 0 means 1e-7.
	Epsilon float64 `json:"epsilon"`
	// Centered divides by the estimated variance of the gradient rather
	// than its second moment.
	Centered bool `json:"centered"`
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

var _ Optimizer = (*RMSprop)(nil)

var rmspropSlots = []string{"velocity", "momentum", "average_gradient"}

// Name returns "rmsprop".
func (o *RMSprop) Name() string { return "rmsprop" }

// Step applies one update to every weight in grads.
func (o *RMSprop) Step(grads []graph.Gradient) error { return o.core.step(o, grads) }

// Iterations is the number of steps taken.
func (o *RMSprop) Iterations() int { return o.core.iterations }

// CurrentLearningRate is the rate the next step will use.
func (o *RMSprop) CurrentLearningRate() float64 { return o.core.rate(o.common()) }

// SetLearningRate sets LearningRate to lr and clears Schedule. A rate of 0
// set this way is 0 (a zero field alone means the default).
func (o *RMSprop) SetLearningRate(lr float64) { o.core.setRate(&o.LearningRate, &o.Schedule, lr) }

// State returns "<weight>/velocity" (and "/momentum" with Momentum,
// "/average_gradient" when Centered) and "iterations".
func (o *RMSprop) State(weights []*graph.Weight) []NamedTensor { return o.core.stateOf(o, weights) }

// SetState restores what State returned.
func (o *RMSprop) SetState(weights []*graph.Weight, state []NamedTensor) error {
	return o.core.setStateOf(o, weights, state)
}

// MarshalJSON writes the configuration, defaults resolved, as Keras'
// get_config names it.
func (o *RMSprop) MarshalJSON() ([]byte, error) {
	type config RMSprop
	c := RMSprop{Rho: Float(o.rho()), Momentum: o.Momentum, Epsilon: o.epsilon(), Centered: o.Centered,
		ClipNorm: o.ClipNorm, ClipValue: o.ClipValue, GlobalClipNorm: o.GlobalClipNorm}
	return marshalConfig(o.CurrentLearningRate(), o.Schedule, (*config)(&c))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (o *RMSprop) UnmarshalJSON(data []byte) error {
	type config RMSprop
	return unmarshalConfig(data, (*config)(o), &o.LearningRate, &o.Schedule, &o.core.zeroLR)
}

func (o *RMSprop) rho() float64     { return floatOr(o.Rho, 0.9) }
func (o *RMSprop) epsilon() float64 { return orDefault(o.Epsilon, 1e-7) }

func (o *RMSprop) common() common {
	return common{lr: o.LearningRate, defaultLR: 0.001, schedule: o.Schedule,
		clipNorm: o.ClipNorm, clipValue: o.ClipValue, globalClipNorm: o.GlobalClipNorm}
}

func (o *RMSprop) check() error {
	if rho := o.rho(); !(rho >= 0 && rho <= 1) {
		return errors.Errorf("training: rmsprop Rho is %v; want a number in [0, 1]", rho)
	}
	if !(o.Momentum >= 0) {
		return errors.Errorf("training: rmsprop Momentum is %v; want >= 0", o.Momentum)
	}
	if eps := o.epsilon(); !(eps >= 0) {
		return errors.Errorf("training: rmsprop Epsilon is %v; want >= 0", eps)
	}
	return nil
}

func (o *RMSprop) slotNames() []string  { return rmspropSlots }
func (o *RMSprop) slotInit(int) float64 { return 0 }
func (o *RMSprop) slotUsed(i int) bool {
	switch i {
	case 1:
		return o.Momentum > 0
	case 2:
		return o.Centered
	}
	return true
}

func (o *RMSprop) prepare(lr float64, _ int) { o.lr = lr }

func (o *RMSprop) update32(w, g []float32, s [][]float32) { rmspropUpdate(w, g, s, o) }
func (o *RMSprop) update64(w, g []float64, s [][]float64) { rmspropUpdate(w, g, s, o) }

func rmspropUpdate[T float](w, g []T, s [][]T, o *RMSprop) {
	velocity := s[0]
	var momentum, average []T
	if o.Momentum > 0 {
		momentum = s[1]
	}
	if o.Centered {
		average = s[2]
	}
	lr, rho, eps, mom := T(o.lr), T(o.rho()), T(o.epsilon()), T(o.Momentum)
	rho1 := 1 - rho
	if w32, ok := any(w).([]float32); ok && momentum == nil && average == nil {
		// The plain update in vector code, bitwise this loop's.
		vmath.RMSprop(w32, any(g).([]float32), any(velocity).([]float32), float32(lr), float32(rho), float32(rho1), float32(eps))
		return
	}
	for i := range w {
		gi := g[i]
		velocity[i] = rho*velocity[i] + rho1*(gi*gi)
		var den T
		if average != nil {
			average[i] = rho*average[i] + rho1*gi
			den = velocity[i] - average[i]*average[i] + eps
		} else {
			den = velocity[i] + eps
		}
		inc := lr * gi / sqrt(den)
		if momentum != nil {
			momentum[i] = mom*momentum[i] + inc
			w[i] -= momentum[i]
		} else {
			w[i] -= inc
		}
	}
}
