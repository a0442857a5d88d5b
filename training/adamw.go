package training

import (
	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
)

// AdamW is Keras' AdamW: Adam with decoupled weight decay. Each step first
// shrinks every weight, w -= lr*WeightDecay*w (lr: this step's rate), then
// takes Adam's step (see Adam) with the gradient, which the decay does not
// touch. The zero value is Keras' default AdamW. An AdamW must not be
// shared by goroutines or models.
type AdamW struct {
	// LearningRate is the step size; 0 means Keras' default 0.001. Written to
	// JSON as "learning_rate".
	LearningRate float64 `json:"-"`
	// WeightDecay is the decay per unit of learning rate, >= 0; nil means
	// Keras' default 0.004. Set it with Float.
	WeightDecay *float64 `json:"weight_decay"`
	// Beta1 is the decay of the first-moment average, in [0, 1); nil means
	// 0.9.
	Beta1 *float64 `json:"beta_1"`
	// Beta2 is the decay of the second-moment average, in [0, 1); nil means
	// 0.999.
	Beta2 *float64 `json:"beta_2"`
	// Epsilon keeps the division finite; 0 means 1e-7.
	Epsilon float64 `json:"epsilon"`
	// AMSGrad divides by the largest second moment seen so far.
	AMSGrad bool `json:"amsgrad"`
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
	k    adamStep
}

var _ Optimizer = (*AdamW)(nil)

// Name returns "adamw".
func (o *AdamW) Name() string { return "adamw" }

// Step applies one update to every weight in grads.
func (o *AdamW) Step(grads []graph.Gradient) error { return o.core.step(o, grads) }

// Iterations is the number of steps taken.
func (o *AdamW) Iterations() int { return o.core.iterations }

// CurrentLearningRate is the rate the next step will use.
func (o *AdamW) CurrentLearningRate() float64 { return o.core.rate(o.common()) }

// SetLearningRate sets LearningRate to lr and clears Schedule. A rate of 0
// set this way is 0 (a zero field alone means the default).
func (o *AdamW) SetLearningRate(lr float64) { o.core.setRate(&o.LearningRate, &o.Schedule, lr) }

// State returns the moments ("<weight>/m", "/v", "/vhat" with AMSGrad) and
// "iterations".
func (o *AdamW) State(weights []*graph.Weight) []NamedTensor { return o.core.stateOf(o, weights) }

// SetState restores what State returned.
func (o *AdamW) SetState(weights []*graph.Weight, state []NamedTensor) error {
	return o.core.setStateOf(o, weights, state)
}

// MarshalJSON writes the configuration, defaults resolved, as Keras'
// get_config names it.
func (o *AdamW) MarshalJSON() ([]byte, error) {
	type config AdamW
	c := AdamW{WeightDecay: Float(o.weightDecay()), Beta1: Float(o.beta1()), Beta2: Float(o.beta2()), Epsilon: o.epsilon(), AMSGrad: o.AMSGrad,
		ClipNorm: o.ClipNorm, ClipValue: o.ClipValue, GlobalClipNorm: o.GlobalClipNorm}
	return marshalConfig(o.CurrentLearningRate(), o.Schedule, (*config)(&c))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (o *AdamW) UnmarshalJSON(data []byte) error {
	type config AdamW
	return unmarshalConfig(data, (*config)(o), &o.LearningRate, &o.Schedule, &o.core.zeroLR)
}

func (o *AdamW) weightDecay() float64 { return floatOr(o.WeightDecay, 0.004) }
func (o *AdamW) beta1() float64       { return floatOr(o.Beta1, 0.9) }
func (o *AdamW) beta2() float64       { return floatOr(o.Beta2, 0.999) }
func (o *AdamW) epsilon() float64     { return orDefault(o.Epsilon, 1e-7) }

func (o *AdamW) common() common {
	return common{lr: o.LearningRate, defaultLR: 0.001, schedule: o.Schedule,
		clipNorm: o.ClipNorm, clipValue: o.ClipValue, globalClipNorm: o.GlobalClipNorm}
}

func (o *AdamW) check() error {
	if wd := o.weightDecay(); !(wd >= 0) {
		return errors.Errorf("training: adamw WeightDecay is %v; want >= 0", wd)
	}
	return checkAdam("adamw", o.beta1(), o.beta2(), o.epsilon())
}

func (o *AdamW) slotNames() []string  { return adamSlots }
func (o *AdamW) slotUsed(i int) bool  { return i < 2 || o.AMSGrad }
func (o *AdamW) slotInit(int) float64 { return 0 }

func (o *AdamW) prepare(lr float64, iterations int) {
	o.k = newAdamStep(lr, iterations, o.beta1(), o.beta2(), o.epsilon(), o.AMSGrad, lr*o.weightDecay())
}

func (o *AdamW) update32(w, g []float32, s [][]float32) { adamUpdate(w, g, s, &o.k) }
func (o *AdamW) update64(w, g []float64, s [][]float64) { adamUpdate(w, g, s, &o.k) }
