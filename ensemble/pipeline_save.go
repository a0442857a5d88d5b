package ensemble

import (
	"bytes"
	"encoding/json"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// Transformers as data: kinds "standard_scaler", "minmax_scaler" and
// "onehot_encoder", their parameters the JSON of their structs.

type persistentTransformer interface {
	Transformer
	transformerKind() string
	transformerState() (any, error)
	setTransformerState(raw json.RawMessage) error
}

var transformerProtos = map[string]func() persistentTransformer{
	"standard_scaler": func() persistentTransformer { return &StandardScaler{} },
	"minmax_scaler":   func() persistentTransformer { return &MinMaxScaler{} },
	"onehot_encoder":  func() persistentTransformer { return &OneHotEncoder{} },
}

func (s *StandardScaler) transformerKind() string { return "standard_scaler" }
func (s *MinMaxScaler) transformerKind() string   { return "minmax_scaler" }
func (e *OneHotEncoder) transformerKind() string  { return "onehot_encoder" }

type scalerState struct {
	A []float64 `json:"a"`
	B []float64 `json:"b"`
}

func (s *StandardScaler) transformerState() (any, error) {
	if s.mean == nil {
		return nil, nil
	}
	return scalerState{s.mean, s.scale}, nil
}

func (s *StandardScaler) setTransformerState(raw json.RawMessage) error {
	var st scalerState
	if err := decodeState(raw, &st); err != nil {
		return err
	}
	if err := checkVector("scale", st.B, len(st.A)); err != nil {
		return err
	}
	for _, v := range st.B {
		if v == 0 {
			return badState("a StandardScaler scale of 0")
		}
	}
	s.mean, s.scale = st.A, st.B
	return nil
}

func (s *MinMaxScaler) transformerState() (any, error) {
	if s.scale == nil {
		return nil, nil
	}
	return scalerState{s.scale, s.offset}, nil
}

func (s *MinMaxScaler) setTransformerState(raw json.RawMessage) error {
	var st scalerState
	if err := decodeState(raw, &st); err != nil {
		return err
	}
	if err := checkVector("offset", st.B, len(st.A)); err != nil {
		return err
	}
	s.scale, s.offset = st.A, st.B
	return nil
}

type onehotState struct {
	Categories [][]float64 `json:"categories"`
	Features   int         `json:"features"`
}

func (e *OneHotEncoder) transformerState() (any, error) {
	if e.categories == nil {
		return nil, nil
	}
	return onehotState{e.categories, e.features}, nil
}

func (e *OneHotEncoder) setTransformerState(raw json.RawMessage) error {
	var st onehotState
	if err := decodeState(raw, &st); err != nil {
		return err
	}
	if len(st.Categories) != len(e.Columns) {
		return badState("%d category lists for %d columns", len(st.Categories), len(e.Columns))
	}
	for j, c := range e.Columns {
		if c < 0 || c >= st.Features {
			return badState("column %d of %d features", c, st.Features)
		}
		if err := checkClasses(st.Categories[j], false); err != nil {
			return err
		}
	}
	e.categories, e.features = st.Categories, st.Features
	return nil
}

// savedStep is a transformer in a pipeline's saved form.
type savedStep struct {
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params,omitempty"`
	State  json.RawMessage `json:"state,omitempty"`
}

type pipelineJSON struct {
	Steps   []savedStep `json:"steps"`
	Learner *Spec       `json:"learner,omitempty"`
	Seed    uint64      `json:"seed,omitempty"`
}

func stepSpecs(steps []Transformer, withState bool) ([]savedStep, error) {
	out := make([]savedStep, len(steps))
	for i, t := range steps {
		p, ok := t.(persistentTransformer)
		if !ok {
			return nil, errors.Wrapf(ErrConfig, "ensemble: Pipeline step %d, a %T, is no built-in transformer and cannot be described as data", i, t)
		}
		raw, err := json.Marshal(p)
		if err != nil {
			return nil, errors.Wrapf(err, "ensemble: Pipeline step %d", i)
		}
		out[i] = savedStep{Kind: p.transformerKind(), Params: raw}
		if withState {
			st, err := p.transformerState()
			if err != nil {
				return nil, err
			}
			if st != nil {
				if out[i].State, err = json.Marshal(st); err != nil {
					return nil, errors.Wrapf(err, "ensemble: Pipeline step %d", i)
				}
			}
		}
	}
	return out, nil
}

// MarshalJSON writes the pipeline's configuration: its steps as kinds
// with parameters, and its learner's Spec.
func (p *Pipeline) MarshalJSON() ([]byte, error) {
	steps, err := stepSpecs(p.Steps, false)
	if err != nil {
		return nil, err
	}
	return json.Marshal(pipelineJSON{Steps: steps, Learner: p.Learner, Seed: p.Seed})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Pipeline) UnmarshalJSON(raw []byte) error {
	var j pipelineJSON
	if err := strictJSON(raw, &j); err != nil {
		return errors.Wrapf(ErrConfig, "ensemble: Pipeline: %v", err)
	}
	steps, err := buildSteps(j.Steps)
	if err != nil {
		return err
	}
	p.Steps, p.Learner, p.Seed, p.New, p.learner = steps, j.Learner, j.Seed, nil, nil
	return nil
}

func buildSteps(saved []savedStep) ([]Transformer, error) {
	out := make([]Transformer, len(saved))
	for i, s := range saved {
		proto, ok := transformerProtos[s.Kind]
		if !ok {
			return nil, errors.Wrapf(ErrConfig, "ensemble: Pipeline step %d: unknown transformer kind %q", i, s.Kind)
		}
		t := proto()
		if err := decodeParams(s.Params, t); err != nil {
			return nil, errors.WithMessagef(err, "ensemble: Pipeline step %d", i)
		}
		if len(s.State) > 0 && string(s.State) != "null" {
			if err := t.setTransformerState(s.State); err != nil {
				return nil, errors.WithMessagef(err, "ensemble: Pipeline step %d", i)
			}
		}
		out[i] = t
	}
	return out, nil
}

func (p *Pipeline) kind() string { return "pipeline" }
func (p *Pipeline) params() (any, error) {
	if _, err := specOf("Pipeline", "New", p.New, p.Learner); err != nil {
		return nil, err
	}
	return p, nil
}
func (p *Pipeline) saveParams() (any, error) { return p, nil }

type pipelineState struct {
	Steps   []savedStep     `json:"steps"`
	Learner json.RawMessage `json:"learner"`
}

func (p *Pipeline) state() (any, error) {
	if p.learner == nil {
		return nil, nil
	}
	steps, err := stepSpecs(p.Steps, true)
	if err != nil {
		return nil, err
	}
	l, err := marshalLearner(p.learner)
	if err != nil {
		return nil, errors.WithMessage(err, "the Pipeline's learner")
	}
	return pipelineState{steps, l}, nil
}

func (p *Pipeline) setState(raw json.RawMessage, depth int) error {
	var s pipelineState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	steps, err := buildSteps(s.Steps)
	if err != nil {
		return errors.Wrap(ErrFormat, err.Error())
	}
	l, err := unmarshalLearner(s.Learner, depth+1)
	if err != nil {
		return err
	}
	p.Steps, p.learner = steps, l
	return nil
}

// kerasBytes is a model's saved file.
func kerasBytes(m *keras.Model) ([]byte, error) {
	var buf bytes.Buffer
	if err := m.SaveTo(&buf); err != nil {
		return nil, errors.WithMessage(err, "ensemble: saving a Keras model")
	}
	return buf.Bytes(), nil
}

// kerasModel loads a model from its saved file's bytes.
func kerasModel(b []byte) (*keras.Model, error) {
	m, err := keras.LoadFrom(bytes.NewReader(b))
	if err != nil {
		return nil, errors.Wrap(ErrFormat, err.Error())
	}
	return m, nil
}
