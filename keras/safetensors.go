package keras

import (
	"encoding/json"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// The file format of Save and Load: one safetensors file
// (https://huggingface.co/docs/safetensors). Its tensors are the model's
// weights under their names ("dense/kernel") and the optimizer's state
// under "optimizer/<slot>" ("optimizer/dense/kernel/m",
// "optimizer/iterations"). Its "__metadata__" holds:
//
//	"format":  "keragon"
//	"version": "1"
//	"model":   the architecture, a modelConfig in JSON
//	"compile": the compile configuration, a compileConfig in JSON (only
//	           when the model is compiled)
const (
	fileFormat      = "keragon"
	fileVersion     = "1"
	optimizerPrefix = "optimizer/"
)

// modelConfig is the architecture, like Keras' functional config.
type modelConfig struct {
	Name       string        `json:"name"`
	Sequential bool          `json:"sequential"`
	Dtype      string        `json:"dtype"`
	Layers     []layerConfig `json:"layers"`
	Inputs     []nodeRef     `json:"inputs"`
	Outputs    []nodeRef     `json:"outputs"`
}

// layerConfig is one layer: its class, its name, its config (the JSON of
// the layer struct) and its applications, in topological order, each as
// the list of the tensors it was applied to.
type layerConfig struct {
	ClassName string `json:"class_name"`
	Name      string `json:"name"`
	// Trainable is false for a frozen layer (SetTrainable(false));
	// absent means true.
	Trainable *bool           `json:"trainable,omitempty"`
	Config    json.RawMessage `json:"config"`
	Inbound   [][]nodeRef     `json:"inbound"`
}

// nodeRef names a tensor as an output of a layer's application:
// ["dense", 1] is the output of the second application of "dense";
// ["lstm", 0, 2] is the third output (a state) of the first application
// of "lstm", as Keras' [layer, node index, tensor index].
type nodeRef struct {
	Layer  string
	Index  int
	Tensor int
}

// MarshalJSON writes [layer, index], or [layer, index, tensor] for an
// output other than the first.
func (r nodeRef) MarshalJSON() ([]byte, error) {
	if r.Tensor == 0 {
		return json.Marshal([]any{r.Layer, r.Index})
	}
	return json.Marshal([]any{r.Layer, r.Index, r.Tensor})
}

// UnmarshalJSON reads [layer, index] or [layer, index, tensor].
func (r *nodeRef) UnmarshalJSON(data []byte) error {
	bad := errors.Errorf("a tensor reference is [layer name, application index(, output index)], got %.80s", data)
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil || len(parts) < 2 || len(parts) > 3 {
		return bad
	}
	if err := json.Unmarshal(parts[0], &r.Layer); err != nil {
		return bad
	}
	if err := json.Unmarshal(parts[1], &r.Index); err != nil || r.Index < 0 {
		return bad
	}
	r.Tensor = 0
	if len(parts) == 3 {
		if err := json.Unmarshal(parts[2], &r.Tensor); err != nil || r.Tensor < 0 {
			return bad
		}
	}
	return nil
}

// compileConfig is what Compile was given, resolved: one Loss per output,
// one weight per output.
type compileConfig struct {
	Optimizer   optimizerConfig `json:"optimizer"`
	Loss        []Loss          `json:"loss"`
	LossWeights []float64       `json:"loss_weights"`
	// Metrics is a list of names for every output, or a list of lists,
	// one per output.
	Metrics any `json:"metrics"`
}

// optimizerConfig is an optimizer's Keras name and its JSON config, as
// training.OptimizerFromConfig reads them.
type optimizerConfig struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config"`
}

// dtypeName is the safetensors name of a model dtype.
func dtypeName(dt tensor.Dtype) (string, error) {
	switch dt {
	case tensor.Float32:
		return "F32", nil
	case tensor.Float64:
		return "F64", nil
	}
	return "", errors.Errorf("dtype %v cannot be saved (want float32 or float64)", dt)
}

// toSafetensor copies a tensor into the file's form.
func toSafetensor(name string, t *tensor.Dense) (safetensors.Tensor, error) {
	if t == nil {
		return safetensors.Tensor{}, errors.Errorf("%s has no value", name)
	}
	if t.RequiresIterator() {
		return safetensors.Tensor{}, errors.Errorf("%s is a strided view", name)
	}
	shape := []int(t.Shape())
	switch d := t.Data().(type) {
	case []float32:
		if len(d) != t.Shape().TotalSize() {
			break
		}
		return safetensors.Float32s(name, shape, d), nil
	case []float64:
		if len(d) != t.Shape().TotalSize() {
			break
		}
		return safetensors.Float64s(name, shape, d), nil
	case float32:
		return safetensors.Float32s(name, shape, []float32{d}), nil
	case float64:
		return safetensors.Float64s(name, shape, []float64{d}), nil
	default:
		return safetensors.Tensor{}, errors.Errorf("%s has dtype %v (want float32 or float64)", name, t.Dtype())
	}
	return safetensors.Tensor{}, errors.Errorf("%s has %v values for shape %v", name, t.Len(), t.Shape())
}

// fromSafetensor decodes an F32 or F64 tensor. A shape of () becomes (1).
func fromSafetensor(st safetensors.Tensor) (*tensor.Dense, error) {
	shape := append([]int(nil), st.Shape...)
	if len(shape) == 0 {
		shape = []int{1}
	}
	switch st.Dtype {
	case "F32":
		v, err := st.Float32s()
		if err != nil {
			return nil, err
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), nil
	case "F64":
		v, err := st.Float64s()
		if err != nil {
			return nil, err
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), nil
	}
	return nil, errors.Errorf("tensor %q has dtype %s; Keragon reads F32 and F64", st.Name, st.Dtype)
}
