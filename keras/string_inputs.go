package keras

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// String inputs. A model input declared with Input{Dtype: "string"} takes
// a tensor of strings (see Strings) and must feed one StringLookup layer
// directly: Fit, Evaluate and Predict look the strings up on the host
// (encodeStrings) and feed the graph the indices, in the model's float
// dtype. Everything else about the model is as usual: its other inputs,
// its dtype and its saved file (the StringLookup's vocabulary is in its
// configuration).

// Strings wraps string values as a tensor of the given shape (the batch
// axis first), for a string model input or StringLookup.Adapt; with no
// shape it is a vector. The slice is used, not copied.
func Strings(values []string, shape ...int) (*tensor.Dense, error) {
	if len(shape) == 0 {
		shape = []int{len(values)}
	}
	if tensor.Shape(shape).TotalSize() != len(values) {
		return nil, errors.Errorf("keras: %d strings do not fill shape %v", len(values), shape)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(values)), nil
}

// stringsOf returns the strings of a tensor of strings.
func stringsOf(t *tensor.Dense) ([]string, bool) {
	if t == nil || t.Dtype() != tensor.String {
		return nil, false
	}
	if t.Shape().TotalSize() == 0 {
		return []string{}, true
	}
	if t.IsView() {
		t = t.Materialize().(*tensor.Dense)
	}
	s, ok := t.Data().([]string)
	return s, ok
}

// dtypeOf names a tensor's dtype for messages.
func dtypeOf(t *tensor.Dense) string {
	if t == nil {
		return "nil"
	}
	return t.Dtype().String()
}

// isStringInput reports whether an Input takes strings.
func isStringInput(l Layer) bool {
	in, ok := l.(*Input)
	return ok && in.Dtype == "string"
}

// encodeStrings is the model's input boundary for string data: it returns
// xs with every tensor of strings replaced by the indices of the
// StringLookup its input feeds (a tensor of the model's dtype and of the
// same shape); the other tensors are returned as they are. It reports a
// string tensor for an input that is not declared "string", a string
// input fed something else, and a string input or a StringLookup wired
// other than Input → StringLookup. Models without string inputs pass
// through untouched.
func (m *Model) encodeStrings(xs []*tensor.Dense) ([]*tensor.Dense, error) {
	hasStrings := false
	for _, x := range xs {
		if _, ok := stringsOf(x); ok {
			hasStrings = true
		}
	}
	for _, in := range m.inputs {
		hasStrings = hasStrings || isStringInput(in.layer)
	}
	if !hasStrings {
		return xs, nil
	}
	if len(xs) != len(m.inputs) {
		return xs, nil // checkInputs reports it
	}
	if err := m.checkStringWiring(); err != nil {
		return nil, err
	}
	out := append([]*tensor.Dense(nil), xs...)
	for i, in := range m.inputs {
		name := in.layer.base().name
		s, isStr := stringsOf(xs[i])
		switch {
		case !isStringInput(in.layer) && isStr:
			return nil, errors.Errorf("keras: input %d (%q) got strings but is declared %q; declare it Input{Dtype: \"string\"} and feed it to a StringLookup", i, name, in.layer.(*Input).Dtype)
		case !isStringInput(in.layer):
			continue
		case !isStr:
			return nil, errors.Errorf("keras: input %d (%q) takes strings (a tensor made by keras.Strings), got %s", i, name, dtypeOf(xs[i]))
		}
		lookup := m.stringLookupOf(in)
		ids, err := lookup.encode(s)
		if err != nil {
			return nil, errors.WithMessagef(err, "keras: input %d (%q)", i, name)
		}
		out[i] = denseLike(m.dtype, ids, xs[i].Shape().Clone()...)
	}
	return out, nil
}

// stringLookupOf returns the StringLookup a string input feeds (wiring
// checked by checkStringWiring).
func (m *Model) stringLookupOf(in *Tensor) *StringLookup {
	for _, t := range m.nodes {
		for _, x := range t.inputs {
			if x == in {
				return t.layer.(*StringLookup)
			}
		}
	}
	return nil
}

// checkStringWiring checks that every string input feeds exactly one
// application of one StringLookup, alone, and that every StringLookup is
// applied to a string input.
func (m *Model) checkStringWiring() error {
	uses := map[*Tensor][]*application{}
	for _, t := range m.nodes {
		if t.app == nil || t.index != 0 {
			continue
		}
		for _, x := range t.inputs {
			if isStringInput(x.layer) {
				uses[x] = append(uses[x], t.app)
			}
		}
		if _, ok := t.layer.(*StringLookup); ok {
			if len(t.inputs) != 1 || !isStringInput(t.inputs[0].layer) {
				return errors.Errorf("keras: StringLookup %q must be applied to a string model input (Input{Dtype: \"string\"}) alone", t.layer.base().name)
			}
		}
	}
	for _, in := range m.inputs {
		if !isStringInput(in.layer) {
			continue
		}
		apps := uses[in]
		if len(apps) != 1 {
			return errors.Errorf("keras: string input %q feeds %d layer applications; it must feed exactly one StringLookup", in.layer.base().name, len(apps))
		}
		if _, ok := apps[0].layer.(*StringLookup); !ok {
			return errors.Errorf("keras: string input %q feeds %s %q; strings can only go to a StringLookup", in.layer.base().name, ClassName(apps[0].layer), apps[0].layer.base().name)
		}
	}
	return nil
}
