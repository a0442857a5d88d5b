package ensemble

import (
	"bytes"
	"encoding/json"
	"sort"
	"sync"

	"github.com/pkg/errors"
)

// A Spec describes a learner as data: a registered kind and its
// parameters as JSON. A Go func cannot travel to another machine; a Spec
// can, so an ensemble described with Specs can have its members trained
// anywhere. Spec.New is a Factory.
//
// The built-in kinds are "tree", "logistic_regression", "ridge",
// "linear_svc", "hist_gradient_boosting", "mlp", "bagging", "adaboost",
// "gradient_boosting", "voting", "stacking" and "pipeline"; their
// parameters are the JSON of the learner's configuration struct (its
// exported fields, as Describe writes them). Register adds kinds.
//
//	tree := ensemble.Spec{Kind: "tree", Params: json.RawMessage(`{"max_depth": 3}`)}
//	bag := &ensemble.Bagging{Learner: &tree, Members: 50}
type Spec struct {
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params,omitempty"`
}

// A KindFunc makes an untrained learner of its kind from JSON parameters
// (empty for the defaults) and a seed.
type KindFunc func(params json.RawMessage, seed uint64) (Learner, error)

var kinds = struct {
	sync.RWMutex
	m map[string]KindFunc
}{m: map[string]KindFunc{}}

// Register adds a kind of learner. It is an error to register a kind
// twice or an empty kind.
func Register(kind string, f KindFunc) error {
	if kind == "" || f == nil {
		return errors.Wrapf(ErrConfig, "ensemble: Register(%q): want a kind name and a function", kind)
	}
	kinds.Lock()
	defer kinds.Unlock()
	if _, ok := kinds.m[kind]; ok {
		return errors.Wrapf(ErrConfig, "ensemble: kind %q is already registered", kind)
	}
	kinds.m[kind] = f
	return nil
}

// Kinds returns the registered kinds, sorted.
func Kinds() []string {
	kinds.RLock()
	defer kinds.RUnlock()
	out := make([]string, 0, len(kinds.m))
	for k := range kinds.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New makes an untrained learner from the spec and a seed (a Factory).
func (s Spec) New(seed uint64) (Learner, error) {
	kinds.RLock()
	f, ok := kinds.m[s.Kind]
	kinds.RUnlock()
	if !ok {
		return nil, errors.Wrapf(ErrConfig, "ensemble: unknown learner kind %q (registered: %v)", s.Kind, Kinds())
	}
	l, err := f(s.Params, seed)
	if err != nil {
		return nil, errors.WithMessagef(err, "ensemble: learner kind %q", s.Kind)
	}
	if l == nil {
		return nil, errors.Errorf("ensemble: learner kind %q made a nil learner", s.Kind)
	}
	return l, nil
}

// describer is implemented by the built-in learners: their kind and their
// configuration as JSON parameters.
type describer interface {
	kind() string
	params() (any, error)
}

// Describe returns the spec of a built-in learner (its kind and
// configuration), or of a learner whose type has a method
// Describe() (Spec, error). Fitted state is not part of a spec (see Save).
// A learner configured with Go funcs (New, Estimators) that have no Spec
// counterpart cannot be described.
func Describe(l Learner) (Spec, error) {
	if d, ok := l.(interface{ Describe() (Spec, error) }); ok {
		return d.Describe()
	}
	d, ok := l.(describer)
	if !ok {
		return Spec{}, errors.Wrapf(ErrConfig, "ensemble: cannot describe a %T as data (it is no built-in learner and has no Describe method)", l)
	}
	p, err := d.params()
	if err != nil {
		return Spec{}, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return Spec{}, errors.Wrapf(err, "ensemble: describing a %T", l)
	}
	return Spec{Kind: d.kind(), Params: raw}, nil
}

// decodeParams reads JSON parameters into v, refusing unknown fields.
func decodeParams(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.Wrapf(ErrConfig, "ensemble: parameters %s: %v", shorten(raw), err)
	}
	if dec.More() {
		return errors.Wrapf(ErrConfig, "ensemble: parameters %s: trailing data", shorten(raw))
	}
	return nil
}

func shorten(raw []byte) string {
	if len(raw) > 200 {
		return string(raw[:200]) + "…"
	}
	return string(raw)
}

// builtin registers a built-in kind whose parameters decode into the
// value proto returns and which Clone(seed) turns into the learner.
func builtin(kind string, proto func() Learner) {
	err := Register(kind, func(params json.RawMessage, seed uint64) (Learner, error) {
		l := proto()
		if err := decodeParams(params, l); err != nil {
			return nil, err
		}
		return l.(interface {
			Clone(uint64) (Learner, error)
		}).Clone(seed)
	})
	if err != nil {
		panic(err) // a programming error in this package's init
	}
}

// factoryOf picks an ensemble's learner factory: the Go func if set, else
// the spec's, else def (nil def: one of them is required).
func factoryOf(name string, f Factory, s *Spec, def Factory) (Factory, error) {
	switch {
	case f != nil:
		return f, nil
	case s != nil:
		return s.New, nil
	case def != nil:
		return def, nil
	}
	return nil, errors.Wrapf(ErrConfig, "ensemble: %s has no learner: set New (a Factory) or Learner (a Spec)", name)
}

// specOf describes an ensemble's learner: its Spec, or the description
// of the learner its Go factory makes is impossible.
func specOf(name, field string, f Factory, s *Spec) (*Spec, error) {
	if f != nil && s == nil {
		return nil, errors.Wrapf(ErrConfig, "ensemble: %s.%s is a Go func: set its Spec counterpart to describe the ensemble as data", name, field)
	}
	return s, nil
}
