package training

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/pkg/errors"
)

// A Schedule gives the learning rate for each optimizer step, like a Keras
// LearningRateSchedule. Set it as an optimizer's Schedule; it then replaces
// the optimizer's LearningRate. A schedule with a Validate() error method,
// as the built-in ones have, is checked before every step. To be saved and
// loaded with an optimizer's config, a schedule must marshal to JSON and be
// built in or registered with RegisterSchedule.
type Schedule interface {
	// Name is the schedule's registered (Keras class) name, such as
	// "ExponentialDecay"; MarshalSchedule writes it.
	Name() string
	// Rate is the learning rate of the step taken after step earlier ones
	// (the optimizer's Iterations): the first step uses Rate(0).
	Rate(step int) float64
}

var (
	schedulesMu sync.RWMutex
	schedules   = map[string]func() Schedule{
		"ExponentialDecay":       func() Schedule { return &ExponentialDecay{} },
		"PiecewiseConstantDecay": func() Schedule { return &PiecewiseConstantDecay{} },
		"CosineDecay":            func() Schedule { return &CosineDecay{} },
	}
)

// RegisterSchedule makes a schedule type known to UnmarshalSchedule (and so
// to optimizer configs) under name, which its Name method must return.
// newSchedule returns a pointer that JSON can fill. As keras.Register,
// RegisterOptimizer and RegisterMetric, it returns an error for a name
// already registered.
func RegisterSchedule(name string, newSchedule func() Schedule) error {
	if name == "" || newSchedule == nil {
		return errors.Errorf("training: RegisterSchedule(%q) needs a name and a constructor", name)
	}
	schedulesMu.Lock()
	defer schedulesMu.Unlock()
	if _, dup := schedules[name]; dup {
		return errors.Errorf("training: schedule %q is already registered", name)
	}
	schedules[name] = newSchedule
	return nil
}

// scheduleJSON is a serialised schedule, in Keras' form.
type scheduleJSON struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// MarshalSchedule writes s as Keras serialises a schedule:
// {"class_name": "ExponentialDecay", "config": {...}}.
func MarshalSchedule(s Schedule) ([]byte, error) {
	cfg, err := json.Marshal(s)
	if err != nil {
		return nil, errors.Wrapf(err, "training: writing schedule %s", s.Name())
	}
	return json.Marshal(scheduleJSON{ClassName: s.Name(), Config: cfg})
}

// UnmarshalSchedule reads what MarshalSchedule wrote; the class must be
// built in or registered with RegisterSchedule.
func UnmarshalSchedule(data []byte) (Schedule, error) {
	var sj scheduleJSON
	if err := json.Unmarshal(data, &sj); err != nil {
		return nil, errors.Wrapf(err, "training: reading schedule %s", data)
	}
	schedulesMu.RLock()
	f, ok := schedules[sj.ClassName]
	var known []string
	if !ok {
		for n := range schedules {
			known = append(known, n)
		}
	}
	schedulesMu.RUnlock()
	if !ok {
		sort.Strings(known)
		return nil, errors.Errorf("training: unknown schedule %q; known: %s", sj.ClassName, strings.Join(known, ", "))
	}
	s := f()
	if len(sj.Config) > 0 {
		if err := json.Unmarshal(sj.Config, s); err != nil {
			return nil, errors.Wrapf(err, "training: reading %s config %s", sj.ClassName, sj.Config)
		}
	}
	return s, nil
}

// ExponentialDecay is Keras' ExponentialDecay:
//
//	rate(step) = InitialLearningRate * DecayRate^(step / DecaySteps)
//
// with step / DecaySteps rounded down when Staircase is set.
type ExponentialDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	// DecaySteps must be > 0.
	DecaySteps int     `json:"decay_steps"`
	DecayRate  float64 `json:"decay_rate"`
	// Staircase decays at whole multiples of DecaySteps only.
	Staircase bool `json:"staircase"`
}

// Name returns "ExponentialDecay".
func (ExponentialDecay) Name() string { return "ExponentialDecay" }

// Validate reports a DecaySteps that is not positive.
func (s ExponentialDecay) Validate() error {
	if s.DecaySteps <= 0 {
		return errors.Errorf("training: ExponentialDecay.DecaySteps is %d; want > 0", s.DecaySteps)
	}
	return nil
}

// Rate returns the rate of the step after step earlier ones (NaN when the
// schedule is invalid).
func (s ExponentialDecay) Rate(step int) float64 {
	if s.DecaySteps <= 0 {
		return math.NaN()
	}
	p := float64(step) / float64(s.DecaySteps)
	if s.Staircase {
		p = math.Floor(p)
	}
	return s.InitialLearningRate * math.Pow(s.DecayRate, p)
}

// PiecewiseConstantDecay is Keras' PiecewiseConstantDecay (a step decay):
// the rate is Values[0] while step <= Boundaries[0], Values[i] while
// Boundaries[i-1] < step <= Boundaries[i], and the last value after the
// last boundary. Boundaries increase strictly; Values has one more entry.
type PiecewiseConstantDecay struct {
	Boundaries []int     `json:"boundaries"`
	Values     []float64 `json:"values"`
}

// Name returns "PiecewiseConstantDecay".
func (PiecewiseConstantDecay) Name() string { return "PiecewiseConstantDecay" }

// Validate checks the lengths and the order of the boundaries.
func (s PiecewiseConstantDecay) Validate() error {
	if len(s.Values) != len(s.Boundaries)+1 {
		return errors.Errorf("training: PiecewiseConstantDecay needs one more value than boundaries; got boundaries=%v, values=%v", s.Boundaries, s.Values)
	}
	for i := 1; i < len(s.Boundaries); i++ {
		if s.Boundaries[i] <= s.Boundaries[i-1] {
			return errors.Errorf("training: PiecewiseConstantDecay boundaries must increase strictly; got %v", s.Boundaries)
		}
	}
	return nil
}

// Rate returns the rate of the step after step earlier ones (NaN when the
// schedule is invalid).
func (s PiecewiseConstantDecay) Rate(step int) float64 {
	if len(s.Values) != len(s.Boundaries)+1 {
		return math.NaN()
	}
	for i, b := range s.Boundaries {
		if step <= b {
			return s.Values[i]
		}
	}
	return s.Values[len(s.Values)-1]
}

// CosineDecay is Keras' CosineDecay with its optional linear warmup.
//
// Without warmup (WarmupTarget 0) the rate falls from InitialLearningRate
// to InitialLearningRate*Alpha over DecaySteps steps and stays there:
//
//	rate(step) = InitialLearningRate * ((1-Alpha)*0.5*(1+cos(π*min(step, DecaySteps)/DecaySteps)) + Alpha)
//
// With a WarmupTarget the rate first rises linearly from
// InitialLearningRate to WarmupTarget over WarmupSteps steps, then decays
// from WarmupTarget as above.
type CosineDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	// DecaySteps must be > 0.
	DecaySteps int `json:"decay_steps"`
	// Alpha is the final rate as a fraction of the rate decay starts from;
	// 0 (Keras' default) decays to zero.
	Alpha float64 `json:"alpha"`
	// WarmupTarget is the rate warmup reaches; 0 means no warmup (Keras'
	// warmup_target=None).
	WarmupTarget float64 `json:"warmup_target"`
	// WarmupSteps is the length of the warmup; 0 (Keras' default) starts
	// decaying from WarmupTarget at once.
	WarmupSteps int `json:"warmup_steps"`
}

// Name returns "CosineDecay".
func (CosineDecay) Name() string { return "CosineDecay" }

// Validate reports a DecaySteps that is not positive or a negative
// WarmupSteps.
func (s CosineDecay) Validate() error {
	if s.DecaySteps <= 0 {
		return errors.Errorf("training: CosineDecay.DecaySteps is %d; want > 0", s.DecaySteps)
	}
	if s.WarmupSteps < 0 {
		return errors.Errorf("training: CosineDecay.WarmupSteps is %d; want >= 0", s.WarmupSteps)
	}
	return nil
}

// Rate returns the rate of the step after step earlier ones (NaN when the
// schedule is invalid).
func (s CosineDecay) Rate(step int) float64 {
	if s.Validate() != nil {
		return math.NaN()
	}
	decay := float64(s.DecaySteps)
	t := float64(step)
	if s.WarmupTarget == 0 {
		return s.decayed(math.Min(t, decay), decay, s.InitialLearningRate)
	}
	warm := float64(s.WarmupSteps)
	t = math.Min(t, decay+warm)
	if t < warm {
		return (s.WarmupTarget-s.InitialLearningRate)*(t/warm) + s.InitialLearningRate
	}
	return s.decayed(t-warm, decay, s.WarmupTarget)
}

func (s CosineDecay) decayed(t, decay, from float64) float64 {
	cosine := 0.5 * (1 + math.Cos(math.Pi*(t/decay)))
	return from * ((1-s.Alpha)*cosine + s.Alpha)
}
