package keras

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Load reads a model that Save wrote: it rebuilds the layers from their
// configs, copies the weights (no initialisation happens), and, when the
// model was compiled, compiles it again with the same losses, metrics and
// optimizer, whose state is restored so that training resumes where it
// stopped. The model's random stream (shuffling, dropout masks) continues
// where the saved model's was.
//
// A truncated or corrupt file, an unknown layer class, or a weight that is
// missing, unexpected or of the wrong shape or dtype gives an error that
// names the file and the problem. Weights are allocated only after their
// shapes match the file's tensors, so a crafted layer config cannot make
// Load allocate more than the file holds.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "keras: Load")
	}
	m, err := decodeModel(data)
	if err != nil {
		return nil, errors.WithMessagef(err, "keras: Load %s", path)
	}
	return m, nil
}

// panicMessage starts the error of a recovered panic.
const panicMessage = "internal error rebuilding the model (a panic)"

// decodeModel rebuilds a model from a file's bytes. Panics in layer code
// fed a corrupt config become errors.
func decodeModel(data []byte) (m *Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, errors.Errorf("%s: %v", panicMessage, r)
		}
	}()
	f, err := safetensors.Decode(data)
	if err != nil {
		return nil, err
	}
	md := f.Metadata
	if md == nil {
		return nil, errors.New("the file has no __metadata__: it is a safetensors file but not a Keragon model")
	}
	if md["format"] != fileFormat {
		return nil, errors.Errorf("metadata format is %q, want %q: not a Keragon model", md["format"], fileFormat)
	}
	if md["version"] != fileVersion {
		return nil, errors.Errorf("metadata version is %q; this Keragon reads version %q", md["version"], fileVersion)
	}
	archJSON, ok := md["model"]
	if !ok {
		return nil, errors.New("the metadata has no \"model\" (architecture)")
	}
	var arch modelConfig
	if err := strictUnmarshal([]byte(archJSON), &arch); err != nil {
		return nil, errors.WithMessage(err, "reading the architecture (metadata \"model\")")
	}
	m, err = rebuild(&arch)
	if err != nil {
		return nil, errors.WithMessage(err, "rebuilding the architecture")
	}
	state, err := m.setWeights(f)
	if err != nil {
		return nil, err
	}
	if rs, ok := md["random_state"]; ok {
		b, err := base64.StdEncoding.DecodeString(rs)
		if err != nil {
			return nil, errors.Wrap(err, "reading the random state")
		}
		if err := m.setRandomState(b); err != nil {
			return nil, err
		}
	} else {
		m.SetSeed(uint64(time.Now().UnixNano()))
	}
	m.initialized = true
	ccJSON, compiled := md["compile"]
	if !compiled {
		if len(state) > 0 {
			return nil, errors.Errorf("the file has optimizer state (%q) but no compile config", optimizerPrefix+state[0].Name)
		}
		return m, nil
	}
	if err := m.restoreCompile([]byte(ccJSON), state); err != nil {
		return nil, err
	}
	return m, nil
}

// strictUnmarshal decodes one JSON value, rejecting unknown fields and
// trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.Wrap(err, "bad JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("bad JSON: data after the value")
	}
	return nil
}

// appKey is one application of a layer: index in modelConfig.Layers and
// application index.
type appKey struct{ layer, app int }

// rebuild makes the layers from their configs and applies them as the
// architecture says, then makes the model.
func rebuild(arch *modelConfig) (*Model, error) {
	if arch.Dtype != "float32" && arch.Dtype != "float64" {
		return nil, errors.Errorf("dtype %q (want float32 or float64)", arch.Dtype)
	}
	if len(arch.Layers) == 0 || len(arch.Inputs) == 0 || len(arch.Outputs) == 0 {
		return nil, errors.Errorf("%d layers, %d inputs, %d outputs: a model needs at least one of each", len(arch.Layers), len(arch.Inputs), len(arch.Outputs))
	}
	byName := make(map[string]int, len(arch.Layers))
	layers := make([]Layer, len(arch.Layers))
	configNames := make([]string, len(arch.Layers)) // Name fields as saved
	apps := 0
	for i, lc := range arch.Layers {
		if lc.Name == "" {
			return nil, errors.Errorf("layer %d (%s) has no name", i, lc.ClassName)
		}
		if _, dup := byName[lc.Name]; dup {
			return nil, errors.Errorf("two layers are named %q", lc.Name)
		}
		byName[lc.Name] = i
		if apps += len(lc.Inbound); apps > maxApplications {
			return nil, errors.Errorf("more than %d layer applications", maxApplications)
		}
		l, err := newLayer(lc.ClassName)
		if err != nil {
			return nil, errors.WithMessagef(err, "layer %q", lc.Name)
		}
		if cfg := bytes.TrimSpace(lc.Config); len(cfg) == 0 || cfg[0] != '{' {
			return nil, errors.Errorf("layer %q (%s): config must be a JSON object, got %.80s", lc.Name, lc.ClassName, lc.Config)
		}
		if err := strictUnmarshal(lc.Config, l); err != nil {
			return nil, errors.WithMessagef(err, "layer %q (%s) config", lc.Name, lc.ClassName)
		}
		configNames[i] = configName(l)
		setConfigName(l, lc.Name)
		layers[i] = l
	}
	resolve := func(r nodeRef) (appKey, error) {
		i, ok := byName[r.Layer]
		if !ok {
			return appKey{}, errors.Errorf("reference to unknown layer %q", r.Layer)
		}
		if r.Index >= len(arch.Layers[i].Inbound) {
			return appKey{}, errors.Errorf("reference to application %d of layer %q, which has %d", r.Index, r.Layer, len(arch.Layers[i].Inbound))
		}
		return appKey{i, r.Index}, nil
	}
	built := map[appKey][]*Tensor{}
	// Apply every layer application the outputs need, inputs first, with
	// an explicit stack (a corrupt file could nest deeply).
	type frame struct {
		key      appKey
		expanded bool
	}
	open := map[appKey]bool{}
	apply := func(out nodeRef) (*Tensor, error) {
		root, err := resolve(out)
		if err != nil {
			return nil, err
		}
		stack := []frame{{key: root}}
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			k := top.key
			if built[k] != nil {
				stack = stack[:len(stack)-1]
				continue
			}
			lc := &arch.Layers[k.layer]
			inbound := lc.Inbound[k.app]
			if !top.expanded {
				top.expanded = true
				open[k] = true
				for j := len(inbound) - 1; j >= 0; j-- {
					in, err := resolve(inbound[j])
					if err != nil {
						return nil, errors.WithMessagef(err, "layer %q application %d input %d", lc.Name, k.app, j)
					}
					if open[in] {
						return nil, errors.Errorf("layer %q application %d is in a cycle: it depends on its own output", lc.Name, k.app)
					}
					if built[in] == nil {
						stack = append(stack, frame{key: in})
					}
				}
				continue
			}
			ins := make([]*Tensor, len(inbound))
			for j, r := range inbound {
				in, _ := resolve(r)
				if ins[j], err = output(built[in], r); err != nil {
					return nil, errors.WithMessagef(err, "layer %q application %d input %d", lc.Name, k.app, j)
				}
			}
			ts := ApplyMulti(layers[k.layer], ins...)
			if ts[0].err != nil {
				return nil, errors.WithMessagef(ts[0].err, "applying layer %q (application %d)", lc.Name, k.app)
			}
			built[k] = ts
			delete(open, k)
			stack = stack[:len(stack)-1]
		}
		return output(built[root], out)
	}
	var inputs, outputs []*Tensor
	for i, r := range arch.Inputs {
		t, err := apply(r)
		if err != nil {
			return nil, errors.WithMessagef(err, "input %d", i)
		}
		inputs = append(inputs, t)
	}
	for i, r := range arch.Outputs {
		t, err := apply(r)
		if err != nil {
			return nil, errors.WithMessagef(err, "output %d", i)
		}
		outputs = append(outputs, t)
	}
	for i, lc := range arch.Layers {
		if len(lc.Inbound) == 0 {
			return nil, errors.Errorf("layer %q is never applied", lc.Name)
		}
		for a := range lc.Inbound {
			if built[appKey{i, a}] == nil {
				return nil, errors.Errorf("application %d of layer %q leads to no output", a, lc.Name)
			}
		}
	}
	m, err := NewModel(inputs, outputs)
	if err != nil {
		return nil, err
	}
	m.name = arch.Name
	for i, l := range layers {
		if got := l.base().name; got != arch.Layers[i].Name {
			return nil, errors.Errorf("layer %q (%s) came back named %q: its type has no Name field", arch.Layers[i].Name, arch.Layers[i].ClassName, got)
		}
		setConfigName(l, configNames[i]) // the layer keeps its resolved name
		if t := arch.Layers[i].Trainable; t != nil && !*t {
			l.base().SetTrainable(false)
		}
	}
	if want := map[string]tensor.Dtype{"float32": tensor.Float32, "float64": tensor.Float64}[arch.Dtype]; m.dtype != want {
		return nil, errors.Errorf("the architecture says dtype %s but its inputs make it %v", arch.Dtype, m.dtype)
	}
	if arch.Sequential {
		if err := m.makeSequential(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// setConfigName sets a layer's Name field: to its resolved name while the
// model is made, so that the rebuilt layer gets its saved name, then back
// to the config's value, so that saving again writes the same config.
func setConfigName(l Layer, name string) {
	v := reflect.ValueOf(l)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	f := v.Elem().FieldByName("Name")
	if f.IsValid() && f.Kind() == reflect.String && f.CanSet() {
		f.SetString(name)
	}
}

// makeSequential turns a rebuilt chain of layers into a Sequential model.
func (m *Model) makeSequential() error {
	if len(m.inputs) != 1 || len(m.outputs) != 1 {
		return errors.Errorf("a Sequential model has one input and one output, the architecture has %d and %d", len(m.inputs), len(m.outputs))
	}
	for i, t := range m.nodes {
		if i == 0 && len(t.inputs) == 0 {
			continue
		}
		if i == 0 || len(t.inputs) != 1 || t.inputs[0] != m.nodes[i-1] {
			return errors.Errorf("the architecture is marked Sequential but layer %q is not applied to the previous layer alone", t.layer.base().name)
		}
	}
	m.sequential = true
	m.pending = nil
	for _, t := range m.nodes {
		m.pending = append(m.pending, t.layer)
	}
	return nil
}

// setWeights copies the file's tensors into the model's weights and
// returns the optimizer state (names without the "optimizer/" prefix).
// Every weight must be present with its shape and dtype, and every other
// tensor must be optimizer state.
func (m *Model) setWeights(f *safetensors.File) ([]training.NamedTensor, error) {
	wantDtype, err := dtypeName(m.dtype)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var missing []string
	for _, w := range m.Weights() {
		st, ok := f.Tensor(w.Name)
		if !ok {
			missing = append(missing, w.Name)
			continue
		}
		used[w.Name] = true
		if st.Dtype != wantDtype {
			return nil, errors.Errorf("weight %q is %s in the file, the model is %v (%s)", w.Name, st.Dtype, m.dtype, wantDtype)
		}
		if !Shape(st.Shape).Equal(w.Shape) {
			return nil, errors.Errorf("weight %q has shape %v in the file, the model's layer makes %v", w.Name, st.Shape, w.Shape)
		}
		w.Alloc()
		if err := copyInto(w.Value, st); err != nil {
			return nil, errors.WithMessagef(err, "weight %q", w.Name)
		}
	}
	if len(missing) > 0 {
		return nil, errors.Errorf("the file lacks %d weight(s) the model has: %s", len(missing), listNames(missing))
	}
	var state []training.NamedTensor
	var unexpected []string
	for _, st := range f.Tensors {
		if used[st.Name] {
			continue
		}
		name, ok := strings.CutPrefix(st.Name, optimizerPrefix)
		if !ok {
			unexpected = append(unexpected, st.Name)
			continue
		}
		if len(st.Data) == 0 {
			return nil, errors.Errorf("optimizer state %q has no elements (shape %v)", st.Name, st.Shape)
		}
		t, err := fromSafetensor(st)
		if err != nil {
			return nil, errors.WithMessage(err, "optimizer state")
		}
		state = append(state, training.NamedTensor{Name: name, Value: t})
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		return nil, errors.Errorf("the file has %d tensor(s) that are neither weights of the model nor optimizer state: %s", len(unexpected), listNames(unexpected))
	}
	return state, nil
}

// copyInto copies a file tensor into a weight's value.
func copyInto(dst *tensor.Dense, st safetensors.Tensor) error {
	switch d := dst.Data().(type) {
	case []float32:
		v, err := st.Float32s()
		if err != nil {
			return err
		}
		if len(v) != len(d) {
			return errors.Errorf("%d values for %d", len(v), len(d))
		}
		copy(d, v)
	case []float64:
		v, err := st.Float64s()
		if err != nil {
			return err
		}
		if len(v) != len(d) {
			return errors.Errorf("%d values for %d", len(v), len(d))
		}
		copy(d, v)
	default:
		return errors.Errorf("the weight has dtype %v", dst.Dtype())
	}
	return nil
}

// listNames shows up to five names.
func listNames(names []string) string {
	if len(names) > 5 {
		return fmt.Sprintf("%q and %d more", names[:5], len(names)-5)
	}
	return fmt.Sprintf("%q", names)
}

// restoreCompile compiles the model as the file says and restores the
// optimizer's state.
func (m *Model) restoreCompile(ccJSON []byte, state []training.NamedTensor) error {
	var cc compileConfig
	if err := strictUnmarshal(ccJSON, &cc); err != nil {
		return errors.WithMessage(err, "reading the compile config (metadata \"compile\")")
	}
	opt, err := training.OptimizerFromConfig(cc.Optimizer.Name, cc.Optimizer.Config)
	if err != nil {
		return errors.WithMessage(err, "restoring the optimizer")
	}
	losses := make([]any, len(cc.Loss))
	for i, l := range cc.Loss {
		losses[i] = l
	}
	cfg := CompileConfig{Optimizer: opt, Loss: losses, LossWeights: cc.LossWeights, Metrics: cc.Metrics}
	if err := m.Compile(cfg); err != nil {
		return errors.WithMessage(err, "compiling as saved")
	}
	if len(state) > 0 {
		if err := opt.SetState(m.Weights(), state); err != nil {
			return errors.WithMessage(err, "restoring the optimizer state")
		}
	}
	return nil
}

// output picks the tensor a reference names among an application's outputs.
func output(ts []*Tensor, r nodeRef) (*Tensor, error) {
	if r.Tensor >= len(ts) {
		return nil, errors.Errorf("reference to output %d of layer %q, which has %d", r.Tensor, r.Layer, len(ts))
	}
	return ts[r.Tensor], nil
}
