package training

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

var (
	optimizersMu sync.RWMutex
	// newOptimizers maps optimizer names, lower case, to their
	// constructors; each returns an optimizer with its defaults.
	newOptimizers = map[string]func() Optimizer{
		"sgd":      func() Optimizer { return &SGD{} },
		"adam":     func() Optimizer { return &Adam{} },
		"adamw":    func() Optimizer { return &AdamW{} },
		"rmsprop":  func() Optimizer { return &RMSprop{} },
		"adagrad":  func() Optimizer { return &Adagrad{} },
		"adadelta": func() Optimizer { return &Adadelta{} },
	}
)

// optimizerKey is the registry's form of an optimizer name.
func optimizerKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// RegisterOptimizer makes a custom optimizer known to NewOptimizer and
// OptimizerFromConfig, and so to keras.Compile (by name) and keras.Load,
// which rebuilds a saved model's optimizer from its Name and its JSON.
// name (case is ignored) must be what the optimizer's Name returns;
// newOptimizer returns one with its defaults, a pointer that encoding/json
// can fill from what the optimizer marshals to. Its state round-trips
// through State and SetState. As keras.Register and RegisterSchedule, it
// returns an error for a name already registered (built-in ones included).
func RegisterOptimizer(name string, newOptimizer func() Optimizer) error {
	key := optimizerKey(name)
	if key == "" || newOptimizer == nil {
		return errors.Errorf("training: RegisterOptimizer(%q) needs a name and a constructor", name)
	}
	optimizersMu.Lock()
	defer optimizersMu.Unlock()
	if _, dup := newOptimizers[key]; dup {
		return errors.Errorf("training: optimizer %q is already registered", name)
	}
	newOptimizers[key] = newOptimizer
	return nil
}

// OptimizerNames lists the names NewOptimizer knows, sorted.
func OptimizerNames() []string {
	optimizersMu.RLock()
	defer optimizersMu.RUnlock()
	names := make([]string, 0, len(newOptimizers))
	for n := range newOptimizers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewOptimizer returns the optimizer Keras knows by name ("sgd", "adam",
// "adamw", "rmsprop", "adagrad", "adadelta"; case is ignored) with Keras'
// defaults, or one registered with RegisterOptimizer.
func NewOptimizer(name string) (Optimizer, error) {
	optimizersMu.RLock()
	f, ok := newOptimizers[optimizerKey(name)]
	optimizersMu.RUnlock()
	if !ok {
		return nil, errors.Errorf("training: unknown optimizer %q; known: %s", name, strings.Join(OptimizerNames(), ", "))
	}
	return f(), nil
}

// OptimizerFromConfig rebuilds an optimizer from its name and the JSON its
// MarshalJSON wrote (Keras' get_config/from_config). An empty config gives
// the defaults. The optimizer's state comes back separately, with SetState.
func OptimizerFromConfig(name string, config []byte) (Optimizer, error) {
	o, err := NewOptimizer(name)
	if err != nil {
		return nil, err
	}
	if len(config) == 0 {
		return o, nil
	}
	if err := json.Unmarshal(config, o); err != nil {
		return nil, errors.WithMessagef(err, "training: %s config %s", o.Name(), config)
	}
	return o, nil
}

// float is the element type of a weight.
type float interface{ ~float32 | ~float64 }

func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }

// orDefault resolves a zero configuration value to Keras' default.
func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// common is the configuration every optimizer shares: the learning rate
// and gradient clipping.
type common struct {
	lr, defaultLR                       float64
	schedule                            Schedule
	clipNorm, clipValue, globalClipNorm float64
}

// rule is what an optimizer adds to the shared machinery: its
// hyperparameters and its update.
type rule interface {
	Name() string
	common() common
	// check validates the hyperparameters (defaults resolved).
	check() error
	// slotNames names every slot the optimizer may keep per weight, in a
	// fixed order; slotUsed says which the current configuration needs and
	// slotInit gives a new slot's value.
	slotNames() []string
	slotUsed(i int) bool
	slotInit(i int) float64
	// prepare computes this step's coefficients from the learning rate and
	// the number of steps taken before it.
	prepare(lr float64, iterations int)
	// update applies this step to one weight; s holds its slots (nil where
	// unused).
	update32(w, g []float32, s [][]float32)
	update64(w, g []float64, s [][]float64)
}

// slotState is one weight's optimizer state.
type slotState struct {
	f32    [][]float32
	f64    [][]float64
	clip32 []float32 // clipped gradient, when clipping is on
	clip64 []float64
}

// job is one gradient of the step under way, resolved to raw slices.
type job struct {
	st       *slotState
	is64     bool
	w32, g32 []float32
	w64, g64 []float64
}

// core is the run-time state every optimizer shares.
type core struct {
	iterations int
	// zeroLR records SetLearningRate(0): a zero LearningRate field means
	// Keras' default otherwise.
	zeroLR bool
	state  map[*graph.Weight]*slotState
	jobs   []job
	pieces []piece
}

// rate is the learning rate of the next step.
func (c *core) rate(h common) float64 {
	switch {
	case h.schedule != nil:
		return h.schedule.Rate(c.iterations)
	case h.lr != 0:
		return h.lr
	case c.zeroLR:
		return 0
	}
	return h.defaultLR
}

// setRate implements SetLearningRate for an optimizer whose fields are lr
// and sched.
func (c *core) setRate(lr *float64, sched *Schedule, v float64) {
	*lr, *sched = v, nil
	c.zeroLR = v == 0
}

// step runs one Keras apply(): clip the gradients, then update every
// weight with the rule (AdamW's decay included), then count the iteration.
// Nothing is updated unless every gradient is valid.
func (c *core) step(r rule, grads []graph.Gradient) error {
	if len(grads) == 0 {
		return nil // Keras: applying no gradients is a no-op
	}
	h := r.common()
	if err := h.check(r.Name()); err != nil {
		return err
	}
	if err := r.check(); err != nil {
		return err
	}
	if v, ok := h.schedule.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return errors.WithMessagef(err, "training: %s schedule", r.Name())
		}
	}
	lr := c.rate(h)
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return errors.Errorf("training: %s learning rate at step %d is %v; want a finite number >= 0", r.Name(), c.iterations, lr)
	}
	c.jobs = c.jobs[:0]
	for i, g := range grads {
		j, err := c.resolve(r, i, g)
		if err != nil {
			return err
		}
		c.jobs = append(c.jobs, j)
	}
	clipGradients(h, c.jobs)
	r.prepare(lr, c.iterations)
	c.updateAll(r)
	c.iterations++
	return nil
}

// resolve checks gradient i and finds (or allocates) its weight's state.
func (c *core) resolve(r rule, i int, g graph.Gradient) (job, error) {
	w := g.Weight
	switch {
	case w == nil:
		return job{}, errors.Errorf("training: %s: gradient %d has no weight", r.Name(), i)
	case w.Value == nil:
		return job{}, errors.Errorf("training: %s: weight %s has no value", r.Name(), w.Name)
	case g.Value == nil:
		return job{}, errors.Errorf("training: %s: gradient of %s is nil", r.Name(), w.Name)
	case g.Value.Dtype() != w.Value.Dtype():
		return job{}, errors.Errorf("training: %s: gradient of %s is %v, the weight %v", r.Name(), w.Name, g.Value.Dtype(), w.Value.Dtype())
	case g.Value.RequiresIterator() || w.Value.RequiresIterator():
		return job{}, errors.Errorf("training: %s: gradient or value of %s is a strided view", r.Name(), w.Name)
	}
	st, err := c.slots(r, w)
	if err != nil {
		return job{}, err
	}
	j := job{st: st}
	var nw, ng int
	switch w.Value.Dtype() {
	case tensor.Float32:
		j.w32, j.g32 = w.Value.Float32s(), g.Value.Float32s()
		nw, ng = len(j.w32), len(j.g32)
	case tensor.Float64:
		j.is64 = true
		j.w64, j.g64 = w.Value.Float64s(), g.Value.Float64s()
		nw, ng = len(j.w64), len(j.g64)
	}
	if nw != ng {
		return job{}, errors.Errorf("training: %s: gradient of %s has %d values (shape %v), the weight %d", r.Name(), w.Name, ng, g.Value.Shape(), nw)
	}
	return j, nil
}

// slots returns w's state, allocating what the configuration uses and the
// state does not have yet.
func (c *core) slots(r rule, w *graph.Weight) (*slotState, error) {
	if c.state == nil {
		c.state = make(map[*graph.Weight]*slotState)
	}
	st := c.state[w]
	if st == nil {
		st = &slotState{}
		c.state[w] = st
	}
	n := len(r.slotNames())
	dt := w.Value.Dtype()
	switch dt {
	case tensor.Float32:
		if st.f64 != nil {
			return nil, errors.Errorf("training: %s: %s is float32 but its state is float64", r.Name(), w.Name)
		}
		st.f32 = ensureSlots(r, st.f32, n, len(w.Value.Float32s()))
	case tensor.Float64:
		if st.f32 != nil {
			return nil, errors.Errorf("training: %s: %s is float64 but its state is float32", r.Name(), w.Name)
		}
		st.f64 = ensureSlots(r, st.f64, n, len(w.Value.Float64s()))
	default:
		return nil, errors.Errorf("training: %s: %s has dtype %v; want float32 or float64", r.Name(), w.Name, dt)
	}
	if !st.sized(w) {
		return nil, errors.Errorf("training: %s: %s changed size since its state was made", r.Name(), w.Name)
	}
	return st, nil
}

func ensureSlots[T float](r rule, s [][]T, n, size int) [][]T {
	if s == nil {
		s = make([][]T, n)
	}
	for i := range s {
		if s[i] == nil && r.slotUsed(i) {
			s[i] = make([]T, size)
			if v := r.slotInit(i); v != 0 {
				for k := range s[i] {
					s[i][k] = T(v)
				}
			}
		}
	}
	return s
}

// sized reports whether every slot has the weight's size.
func (st *slotState) sized(w *graph.Weight) bool {
	n := w.Value.Shape().TotalSize()
	for _, s := range st.f32 {
		if s != nil && len(s) != n {
			return false
		}
	}
	for _, s := range st.f64 {
		if s != nil && len(s) != n {
			return false
		}
	}
	return true
}

// iterationsName names the step count in State.
const iterationsName = "iterations"

// stateOf implements Optimizer.State: "iterations" first (a float64
// tensor of shape (1)), then a copy of every slot of every weight that has
// state, named "<weight>/<slot>", in the order of weights.
func (c *core) stateOf(r rule, weights []*graph.Weight) []NamedTensor {
	out := []NamedTensor{{Name: iterationsName, Value: tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(c.iterations)}))}}
	names := r.slotNames()
	for _, w := range weights {
		st := c.state[w]
		if st == nil || w.Value == nil {
			continue
		}
		for i, name := range names {
			var t *tensor.Dense
			switch {
			case i < len(st.f32) && st.f32[i] != nil:
				t = tensor.New(tensor.WithShape(w.Value.Shape().Clone()...), tensor.WithBacking(append([]float32(nil), st.f32[i]...)))
			case i < len(st.f64) && st.f64[i] != nil:
				t = tensor.New(tensor.WithShape(w.Value.Shape().Clone()...), tensor.WithBacking(append([]float64(nil), st.f64[i]...)))
			default:
				continue
			}
			out = append(out, NamedTensor{Name: w.Name + "/" + name, Value: t})
		}
	}
	return out
}

// setStateOf implements Optimizer.SetState. It checks everything before it
// changes anything.
func (c *core) setStateOf(r rule, weights []*graph.Weight, state []NamedTensor) error {
	byName := make(map[string]*graph.Weight, len(weights))
	for _, w := range weights {
		if w != nil {
			byName[w.Name] = w
		}
	}
	type restore struct {
		w    *graph.Weight
		slot int
		t    *tensor.Dense
	}
	var todo []restore
	iterations := -1
	names := r.slotNames()
	for _, nt := range state {
		if nt.Value == nil {
			return errors.Errorf("training: %s state %q has no value", r.Name(), nt.Name)
		}
		if nt.Name == iterationsName {
			it, err := countOf(nt.Value)
			if err != nil {
				return errors.WithMessagef(err, "training: %s state %q", r.Name(), nt.Name)
			}
			iterations = it
			continue
		}
		cut := strings.LastIndex(nt.Name, "/")
		if cut < 0 {
			return errors.Errorf("training: %s state %q is not <weight>/<slot>", r.Name(), nt.Name)
		}
		w := byName[nt.Name[:cut]]
		if w == nil || w.Value == nil {
			return errors.Errorf("training: %s state %q names no weight given", r.Name(), nt.Name)
		}
		slot := -1
		for i, s := range names {
			if s == nt.Name[cut+1:] {
				slot = i
			}
		}
		if slot < 0 {
			return errors.Errorf("training: %s state %q: %s keeps no slot %q (slots: %s)", r.Name(), nt.Name, r.Name(), nt.Name[cut+1:], strings.Join(names, ", "))
		}
		if nt.Value.Dtype() != w.Value.Dtype() {
			return errors.Errorf("training: %s state %q is %v, the weight %v", r.Name(), nt.Name, nt.Value.Dtype(), w.Value.Dtype())
		}
		if n := nt.Value.Shape().TotalSize(); n != w.Value.Shape().TotalSize() || nt.Value.RequiresIterator() {
			return errors.Errorf("training: %s state %q has shape %v, the weight %v", r.Name(), nt.Name, nt.Value.Shape(), w.Value.Shape())
		}
		todo = append(todo, restore{w, slot, nt.Value})
	}
	for _, x := range todo {
		st, err := c.slots(r, x.w)
		if err != nil {
			return err
		}
		if x.t.Dtype() == tensor.Float32 {
			if st.f32[x.slot] == nil {
				st.f32[x.slot] = make([]float32, len(x.t.Float32s()))
			}
			copy(st.f32[x.slot], x.t.Float32s())
		} else {
			if st.f64[x.slot] == nil {
				st.f64[x.slot] = make([]float64, len(x.t.Float64s()))
			}
			copy(st.f64[x.slot], x.t.Float64s())
		}
	}
	if iterations >= 0 {
		c.iterations = iterations
	}
	return nil
}

// countOf reads a saved step count.
func countOf(t *tensor.Dense) (int, error) {
	if t.Shape().TotalSize() != 1 {
		return 0, errors.Errorf("want one value, got shape %v", t.Shape())
	}
	var v float64
	switch t.Dtype() {
	case tensor.Float64:
		v = t.Float64s()[0]
	case tensor.Float32:
		v = float64(t.Float32s()[0])
	case tensor.Int:
		v = float64(t.Ints()[0])
	case tensor.Int64:
		v = float64(t.Int64s()[0])
	default:
		return 0, errors.Errorf("unsupported dtype %v", t.Dtype())
	}
	if !(v >= 0) || v != math.Trunc(v) || v > 1<<53 {
		return 0, errors.Errorf("%v is not a step count", v)
	}
	return int(v), nil
}

// marshalConfig writes an optimizer's configuration as Keras' get_config
// does: "learning_rate" is a number or, with a schedule, the serialised
// schedule; fields (a struct with the other settings, defaults resolved)
// follow.
func marshalConfig(lr float64, s Schedule, fields any) ([]byte, error) {
	var head []byte
	var err error
	if s != nil {
		head, err = MarshalSchedule(s)
	} else {
		head, err = json.Marshal(lr)
	}
	if err != nil {
		return nil, errors.Wrap(err, "training: writing the learning rate")
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, errors.Wrap(err, "training: writing an optimizer config")
	}
	out := append([]byte(`{"learning_rate":`), head...)
	if len(body) > 2 {
		out = append(out, ',')
		out = append(out, body[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

// unmarshalConfig reads what marshalConfig wrote into fields and, when the
// config has a "learning_rate", into lr or sched. An explicit rate of 0
// sets zeroLR (a zero field alone would mean Keras' default).
func unmarshalConfig(data []byte, fields any, lr *float64, sched *Schedule, zeroLR *bool) error {
	var aux struct {
		LearningRate json.RawMessage `json:"learning_rate"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return errors.Wrap(err, "training: reading an optimizer config")
	}
	if err := json.Unmarshal(data, fields); err != nil {
		return errors.Wrap(err, "training: reading an optimizer config")
	}
	raw := strings.TrimSpace(string(aux.LearningRate))
	switch {
	case raw == "" || raw == "null":
	case raw[0] == '{':
		s, err := UnmarshalSchedule(aux.LearningRate)
		if err != nil {
			return err
		}
		*sched = s
	default:
		var v float64
		if err := json.Unmarshal(aux.LearningRate, &v); err != nil {
			return errors.Wrapf(err, "training: learning_rate %s", raw)
		}
		*lr, *sched, *zeroLR = v, nil, v == 0
	}
	return nil
}

// CheckOptimizer reports what is wrong with o's settings before it takes
// a step (Compile calls it): a NaN, infinite, negative or out-of-range
// hyperparameter, or two clipping settings at once. An optimizer defined
// outside this package is checked when it has a Check() error method.
func CheckOptimizer(o Optimizer) error {
	if o == nil {
		return errors.New("training: no optimizer")
	}
	r, ok := o.(rule)
	if !ok {
		if c, ok := o.(interface{ Check() error }); ok {
			return c.Check()
		}
		return nil
	}
	h := r.common()
	if err := h.check(r.Name()); err != nil {
		return err
	}
	if err := r.check(); err != nil {
		return err
	}
	if v, ok := h.schedule.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return errors.WithMessagef(err, "training: %s schedule", r.Name())
		}
	}
	if h.schedule == nil && (!(h.lr >= 0) || math.IsInf(h.lr, 0)) {
		return errors.Errorf("training: %s learning rate is %v; want a finite number >= 0", r.Name(), h.lr)
	}
	return nil
}
