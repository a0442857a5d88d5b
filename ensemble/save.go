package ensemble

import (
	"bytes"
	"encoding/json"
	"io"
	"math"

	"github.com/pkg/errors"
)

// The save format is one JSON object:
//
//	{"format": "keragon.ensemble", "version": 1, "kind": "tree",
//	 "params": {…the learner's configuration…}, "state": {…what Fit learned…}}
//
// params is what Describe gives (a Spec's parameters); state is absent for
// a learner that was never fitted. Ensembles hold their members' saved
// forms in their state, so a saved bagging of trees is one file. Load
// checks every index and size in the state against the rest before the
// learner is used, and nests at most maxSaveDepth levels.

const (
	saveFormat   = "keragon.ensemble"
	saveVersion  = 1
	maxSaveDepth = 32
)

// ErrFormat is returned (wrapped) by Load for input that is not a saved
// learner or whose contents do not fit together.
var ErrFormat = errors.New("ensemble: not a saved learner")

type envelope struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	Kind    string          `json:"kind"`
	Params  json.RawMessage `json:"params,omitempty"`
	State   json.RawMessage `json:"state,omitempty"`
}

// persistent is implemented by the built-in learners.
type persistent interface {
	describer
	// saveParams is the configuration to save: params without the check
	// that no Go func is set (a fitted ensemble saves its members).
	saveParams() (any, error)
	// state returns what Fit learned, nil before Fit.
	state() (any, error)
	// setState restores it (depth counts the nesting).
	setState(raw json.RawMessage, depth int) error
}

var protos = map[string]func() persistent{}

// Save writes l — its kind, configuration and fitted state — to w. Every
// built-in learner can be saved (an ensemble with its members, a Pipeline
// with its transformers); a learner configured with Go funcs saves its
// fitted state, but Load then gives it back without those funcs (it
// predicts, and needs them, or their Spec, to be fitted again).
func Save(w io.Writer, l Learner) error {
	raw, err := marshalLearner(l)
	if err != nil {
		return err
	}
	_, err = w.Write(append(raw, '\n'))
	return errors.Wrap(err, "ensemble: Save")
}

// Load reads a learner written by Save.
func Load(r io.Reader) (Learner, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, errors.Wrap(err, "ensemble: Load")
	}
	return unmarshalLearner(raw, 0)
}

func marshalLearner(l Learner) (json.RawMessage, error) {
	if l == nil {
		return nil, errors.Wrap(ErrConfig, "ensemble: cannot save a nil learner")
	}
	p, ok := l.(persistent)
	if !ok {
		return nil, errors.Wrapf(ErrConfig, "ensemble: cannot save a %T: only the built-in learners can be saved", l)
	}
	params, err := p.saveParams()
	if err != nil {
		return nil, err
	}
	env := envelope{Format: saveFormat, Version: saveVersion, Kind: p.kind()}
	if env.Params, err = json.Marshal(params); err != nil {
		return nil, errors.Wrapf(err, "ensemble: saving a %s", p.kind())
	}
	st, err := p.state()
	if err != nil {
		return nil, errors.WithMessagef(err, "ensemble: saving a %s", p.kind())
	}
	if st != nil {
		if env.State, err = json.Marshal(st); err != nil {
			return nil, errors.Wrapf(err, "ensemble: saving a %s", p.kind())
		}
	}
	return json.Marshal(env)
}

func unmarshalLearner(raw []byte, depth int) (Learner, error) {
	if depth > maxSaveDepth {
		return nil, errors.Wrapf(ErrFormat, "ensemble: learners nested more than %d deep", maxSaveDepth)
	}
	var env envelope
	if err := strictJSON(raw, &env); err != nil {
		return nil, errors.Wrapf(ErrFormat, "ensemble: %v", err)
	}
	if env.Format != saveFormat || env.Version != saveVersion {
		return nil, errors.Wrapf(ErrFormat, "ensemble: format %q version %d, want %q version %d", env.Format, env.Version, saveFormat, saveVersion)
	}
	proto, ok := protos[env.Kind]
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "ensemble: unknown saved kind %q", env.Kind)
	}
	p := proto()
	if err := decodeParams(env.Params, p); err != nil {
		return nil, errors.Wrapf(ErrFormat, "ensemble: %s: %v", env.Kind, err)
	}
	if len(env.State) > 0 && !bytes.Equal(bytes.TrimSpace(env.State), []byte("null")) {
		if err := p.setState(env.State, depth); err != nil {
			return nil, errors.WithMessagef(err, "ensemble: loading a %s", env.Kind)
		}
	}
	return p.(Learner), nil
}

// strictJSON decodes raw into v, refusing unknown fields and trailing data.
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// decodeState reads a state, wrapping errors in ErrFormat.
func decodeState(raw json.RawMessage, v any) error {
	if err := strictJSON(raw, v); err != nil {
		return errors.Wrapf(ErrFormat, "ensemble: state: %v", err)
	}
	return nil
}

func badState(format string, args ...any) error {
	return errors.Wrapf(ErrFormat, "ensemble: "+format, args...)
}

// checkClasses checks saved class labels: sorted, distinct, finite.
func checkClasses(c []float64, regression bool) error {
	if regression {
		if c != nil {
			return badState("a regressor with classes %v", shortList(c))
		}
		return nil
	}
	if len(c) == 0 {
		return badState("a classifier without classes")
	}
	for i, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) || (i > 0 && !(v > c[i-1])) {
			return badState("classes %v are not sorted distinct finite numbers", shortList(c))
		}
	}
	return nil
}

// checkMatrix checks that m has rows rows of cols finite numbers.
func checkMatrix(name string, m [][]float64, rows, cols int) error {
	if len(m) != rows {
		return badState("%s has %d rows, want %d", name, len(m), rows)
	}
	for _, r := range m {
		if err := checkVector(name, r, cols); err != nil {
			return err
		}
	}
	return nil
}

func checkVector(name string, v []float64, n int) error {
	if len(v) != n {
		return badState("%s has %d values, want %d", name, len(v), n)
	}
	for _, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return badState("%s holds %v", name, f)
		}
	}
	return nil
}

// members saves learners (nil stays null).
func members(ls []Learner) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(ls))
	for i, l := range ls {
		if l == nil {
			out[i] = json.RawMessage("null")
			continue
		}
		raw, err := marshalLearner(l)
		if err != nil {
			return nil, errors.WithMessagef(err, "member %d", i)
		}
		out[i] = raw
	}
	return out, nil
}

// loadMembers loads saved learners (null gives nil).
func loadMembers(raws []json.RawMessage, depth int) ([]Learner, error) {
	out := make([]Learner, len(raws))
	for i, raw := range raws {
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		l, err := unmarshalLearner(raw, depth+1)
		if err != nil {
			return nil, errors.WithMessagef(err, "member %d", i)
		}
		out[i] = l
	}
	return out, nil
}

// checkSpecs checks saved member specs against the ensemble's classes.
func checkSpecs(specs []MemberSpec, classes []float64, features int) error {
	for i, m := range specs {
		if len(m.Classes) != len(classes) {
			return badState("member %d has %d classes, the ensemble %d", i, len(m.Classes), len(classes))
		}
		for j, c := range m.Classes {
			if c != classes[j] {
				return badState("member %d has classes %v, the ensemble %v", i, shortList(m.Classes), shortList(classes))
			}
		}
		for _, f := range m.Features {
			if f < 0 || (features > 0 && f >= features) {
				return badState("member %d sees feature %d of %d", i, f, features)
			}
		}
	}
	return nil
}
