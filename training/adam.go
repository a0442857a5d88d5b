package training

import (
	"math"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/internal/vmath"
	"github.com/pkg/errors"
)

// Adam is Keras' Adam. At step t (1 for the first), per element:
//
//	m += (g - m)*(1 - Beta1)
//	v += (g² - v)*(1 - Beta2)
//	v̂ = max(v̂, v) with AMSGrad, else v̂ = v
//	w -= lr*sqrt(1 - Beta2^t)/(1 - Beta1^t) * m/(sqrt(v̂) + Epsilon)
//
// Epsilon is Keras' "epsilon hat": it is added to the uncorrected sqrt(v̂),
// the bias corrections being folded into the step size (PyTorch adds it to
// the corrected sqrt(v̂/(1 - Beta2^t))). The zero value is Keras' default
// Adam. An Adam must not be shared by goroutines or models.
type Adam struct {
	// LearningRate is the step size; 0 means Keras' default 0.001. Written to
	// JSON as "learning_rate".
	LearningRate float64 `json:"-"`
	// Beta1 is the decay of the first-moment average, in [0, 1); nil means
	// 0.9. Set it with Float (Float(0) for no momentum).
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

var _ Optimizer = (*Adam)(nil)

// adamSlots are Adam's (and AdamW's) per-weight slots: first moment,
// second moment, and AMSGrad's largest second moment.
var adamSlots = []string{"m", "v", "vhat"}

// Name returns "adam".
func (o *Adam) Name() string { return "adam" }

// Step applies one update to every weight in grads.
func (o *Adam) Step(grads []graph.Gradient) error { return o.core.step(o, grads) }

// Iterations is the number of steps taken.
func (o *Adam) Iterations() int { return o.core.iterations }

// CurrentLearningRate is the rate the next step will use.
func (o *Adam) CurrentLearningRate() float64 { return o.core.rate(o.common()) }

// SetLearningRate sets LearningRate to lr and clears Schedule. A rate of 0
// set this way is 0 (a zero field alone means the default).
func (o *Adam) SetLearningRate(lr float64) { o.core.setRate(&o.LearningRate, &o.Schedule, lr) }

// State returns the moments ("<weight>/m", "/v", "/vhat" with AMSGrad) and
// "iterations".
func (o *Adam) State(weights []*graph.Weight) []NamedTensor { return o.core.stateOf(o, weights) }

// SetState restores what State returned.
func (o *Adam) SetState(weights []*graph.Weight, state []NamedTensor) error {
	return o.core.setStateOf(o, weights, state)
}

// MarshalJSON writes the configuration, defaults resolved, as Keras'
// get_config names it.
func (o *Adam) MarshalJSON() ([]byte, error) {
	type config Adam
	c := Adam{Beta1: Float(o.beta1()), Beta2: Float(o.beta2()), Epsilon: o.epsilon(), AMSGrad: o.AMSGrad,
		ClipNorm: o.ClipNorm, ClipValue: o.ClipValue, GlobalClipNorm: o.GlobalClipNorm}
	return marshalConfig(o.CurrentLearningRate(), o.Schedule, (*config)(&c))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (o *Adam) UnmarshalJSON(data []byte) error {
	type config Adam
	return unmarshalConfig(data, (*config)(o), &o.LearningRate, &o.Schedule, &o.core.zeroLR)
}

func (o *Adam) beta1() float64   { return floatOr(o.Beta1, 0.9) }
func (o *Adam) beta2() float64   { return floatOr(o.Beta2, 0.999) }
func (o *Adam) epsilon() float64 { return orDefault(o.Epsilon, 1e-7) }

func (o *Adam) common() common {
	return common{lr: o.LearningRate, defaultLR: 0.001, schedule: o.Schedule,
		clipNorm: o.ClipNorm, clipValue: o.ClipValue, globalClipNorm: o.GlobalClipNorm}
}

func (o *Adam) check() error { return checkAdam("adam", o.beta1(), o.beta2(), o.epsilon()) }

func (o *Adam) slotNames() []string  { return adamSlots }
func (o *Adam) slotUsed(i int) bool  { return i < 2 || o.AMSGrad }
func (o *Adam) slotInit(int) float64 { return 0 }

func (o *Adam) prepare(lr float64, iterations int) {
	o.k = newAdamStep(lr, iterations, o.beta1(), o.beta2(), o.epsilon(), o.AMSGrad, 0)
}

func (o *Adam) update32(w, g []float32, s [][]float32) { adamUpdate(w, g, s, &o.k) }
func (o *Adam) update64(w, g []float64, s [][]float64) { adamUpdate(w, g, s, &o.k) }

func checkAdam(name string, beta1, beta2, eps float64) error {
	if !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) {
		return errors.Errorf("training: %s Beta1=%v, Beta2=%v; want numbers in [0, 1)", name, beta1, beta2)
	}
	if !(eps >= 0) {
		return errors.Errorf("training: %s Epsilon is %v; want >= 0", name, eps)
	}
	return nil
}

// adamStep holds one step's coefficients for Adam and AdamW.
type adamStep struct {
	beta1, beta2, eps float64
	alpha             float64 // lr*sqrt(1-beta2^t)/(1-beta1^t)
	decay             float64 // AdamW: lr*WeightDecay
	amsgrad           bool
}

func newAdamStep(lr float64, iterations int, beta1, beta2, eps float64, amsgrad bool, decay float64) adamStep {
	t := float64(iterations + 1)
	return adamStep{beta1: beta1, beta2: beta2, eps: eps, amsgrad: amsgrad, decay: decay,
		alpha: lr * math.Sqrt(1-math.Pow(beta2, t)) / (1 - math.Pow(beta1, t))}
}

// adamUpdate applies AdamW's decoupled decay (when k.decay is not 0) and
// then Adam's step, as Keras' _apply_weight_decay and Adam.update_step.
func adamUpdate[T float](w, g []T, s [][]T, k *adamStep) {
	m, v := s[0], s[1]
	var vhat []T
	if k.amsgrad {
		vhat = s[2]
	}
	b1, b2 := T(1-k.beta1), T(1-k.beta2)
	alpha, eps, decay := T(k.alpha), T(k.eps), T(k.decay)
	if w32, ok := any(w).([]float32); ok && decay == 0 && vhat == nil {
		// The plain update in vector code, bitwise this loop's.
		vmath.Adam(w32, any(g).([]float32), any(m).([]float32), any(v).([]float32), float32(b1), float32(b2), float32(alpha), float32(eps))
		return
	}
	for i := range w {
		if decay != 0 {
			w[i] -= w[i] * decay
		}
		gi := g[i]
		m[i] += (gi - m[i]) * b1
		v[i] += (gi*gi - v[i]) * b2
		vi := v[i]
		if vhat != nil {
			vi = max(vhat[i], vi)
			vhat[i] = vi
		}
		w[i] -= m[i] * alpha / (sqrt(vi) + eps)
	}
}
