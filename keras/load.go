package keras

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/keragon/keragon/graph"
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
// names the file and the problem. Load is safe on files from untrusted
// sources: it checks the whole architecture against the tensors the file
// lists and against the default LoadOptions before it allocates a weight
// or reads any data, so no file makes it allocate much more than the file
// holds or run for long (a file over a limit gives an error that
// errors.Is reports as ErrLoadLimit; LoadOptions.Load raises limits).
// Load compiles no program (Predict, Evaluate and Fit compile the ones
// they need); for a model saved compiled, Compile traces the forward graph
// once, which the limits bound.
func Load(path string) (*Model, error) { return LoadOptions{}.Load(path) }

// LoadFrom reads a model that Save or SaveTo wrote from r, as Load does.
// It reads exactly the model's bytes, so r may hold more after them, and
// it allocates no more than r delivers: a reader that claims a huge header
// or never ends is refused once the limits are reached.
func LoadFrom(r io.Reader) (*Model, error) { return LoadOptions{}.LoadFrom(r) }

// Load is keras.Load with these limits.
func (o LoadOptions) Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "keras: Load")
	}
	defer f.Close()
	size := int64(-1) // a stream: a pipe, a device
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	m, err := o.decode(f, size)
	if err != nil {
		return nil, errors.WithMessagef(err, "keras: Load %s", path)
	}
	return m, nil
}

// LoadFrom is keras.LoadFrom with these limits.
func (o LoadOptions) LoadFrom(r io.Reader) (*Model, error) {
	if r == nil {
		return nil, errors.New("keras: LoadFrom: nil reader")
	}
	m, err := o.decode(r, -1)
	if err != nil {
		return nil, errors.WithMessage(err, "keras: LoadFrom")
	}
	return m, nil
}

// panicMessage starts the error of a recovered panic.
const panicMessage = "internal error rebuilding the model (a panic)"

// decode reads a model from r, which holds size bytes (-1: unknown). It
// is the one path of Load and LoadFrom: header, architecture and limits
// first, data last. Panics in layer code fed a corrupt config become
// errors.
func (o LoadOptions) decode(r io.Reader, size int64) (m *Model, err error) {
	lim, err := o.resolve()
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, errors.Errorf("%s: %v", panicMessage, r)
		}
	}()
	h, err := safetensors.ReadHeader(r, size, lim.MaxHeaderBytes)
	if errors.Is(err, safetensors.ErrHeaderTooLarge) && lim.MaxHeaderBytes < safetensors.MaxHeaderSize {
		return nil, refused("%v (LoadOptions.MaxHeaderBytes)", err)
	}
	if err != nil {
		return nil, err
	}
	md := h.Metadata
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
	b := &budget{lim: lim}
	m, err = rebuild(&arch, b)
	if err != nil {
		return nil, errors.WithMessage(err, "rebuilding the architecture")
	}
	if err := b.checkWeights(m.Weights()); err != nil {
		return nil, err
	}
	stateNames, err := checkTensors(m.Weights(), m.dtype, h, true)
	if err != nil {
		return nil, err
	}
	ccJSON, compiled := md["compile"]
	if !compiled && len(stateNames) > 0 {
		return nil, errors.Errorf("the file has optimizer state (%q) but no compile config", stateNames[0])
	}
	var cc compileConfig
	if compiled {
		if err := strictUnmarshal([]byte(ccJSON), &cc); err != nil {
			return nil, errors.WithMessage(err, "reading the compile config (metadata \"compile\")")
		}
		if n := metricCount(cc.Metrics, len(m.outputs)); n > maxMetrics {
			return nil, refused("the compile config asks for %d metrics over the model's %d outputs; Load accepts at most %d", n, len(m.outputs), maxMetrics)
		}
	}
	// Everything the header says is checked: now read the data.
	f, err := h.ReadData(r)
	if err != nil {
		return nil, err
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
	if !compiled {
		return m, nil
	}
	if err := m.restoreCompile(cc, state); err != nil {
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
func rebuild(arch *modelConfig, b *budget) (*Model, error) {
	lim := b.lim
	if arch.Dtype != "float32" && arch.Dtype != "float64" {
		return nil, errors.Errorf("dtype %q (want float32 or float64)", arch.Dtype)
	}
	if len(arch.Layers) == 0 || len(arch.Inputs) == 0 || len(arch.Outputs) == 0 {
		return nil, errors.Errorf("%d layers, %d inputs, %d outputs: a model needs at least one of each", len(arch.Layers), len(arch.Inputs), len(arch.Outputs))
	}
	if n := len(arch.Layers); n > lim.MaxLayers {
		return nil, overLimit("MaxLayers", lim.MaxLayers, "the architecture has %d layers", n)
	}
	if n := len(arch.Inputs) + len(arch.Outputs); n > lim.MaxLayers {
		return nil, overLimit("MaxLayers", lim.MaxLayers, "the architecture has %d inputs and outputs", n)
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
		if apps += len(lc.Inbound); apps > lim.MaxLayers {
			return nil, overLimit("MaxLayers", lim.MaxLayers, "the architecture has %d layer applications or more", apps)
		}
		l, err := newLayer(lc.ClassName)
		if err != nil {
			return nil, errors.WithMessagef(err, "layer %q", lc.Name)
		}
		if cfg := bytes.TrimSpace(lc.Config); len(cfg) == 0 || cfg[0] != '{' {
			return nil, errors.Errorf("layer %q (%s): config must be a JSON object, got %.80s", lc.Name, lc.ClassName, lc.Config)
		}
		if d := jsonDepth(lc.Config); d > lim.MaxConfigDepth {
			return nil, overLimit("MaxConfigDepth", lim.MaxConfigDepth, "layer %q (%s): its config nests %d levels deep", lc.Name, lc.ClassName, d)
		}
		if err := strictUnmarshal(lc.Config, l); err != nil {
			return nil, errors.WithMessagef(err, "layer %q (%s) config", lc.Name, lc.ClassName)
		}
		if err := checkConfigInts(l, lim.MaxDim); err != nil {
			return nil, errors.WithMessagef(err, "layer %q (%s)", lc.Name, lc.ClassName)
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
			inShapes := make([]Shape, len(ins))
			for j, t := range ins {
				inShapes[j] = t.shape
			}
			outShapes := make([]Shape, len(ts))
			for j, t := range ts {
				outShapes[j] = t.shape
			}
			if err := b.application(lc.Name, k.app, layers[k.layer], inShapes, outShapes); err != nil {
				return nil, err
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

// checkTensors checks a file's header against a model's weights, before
// any data is read: every weight must be there with its shape and dtype.
// With state, the other tensors must be optimizer state ("optimizer/…",
// F32 or F64, not empty, at most maxStateRatio values per weight value),
// whose names it returns; without, there must be no other tensor.
func checkTensors(ws []*graph.Weight, dt tensor.Dtype, h *safetensors.Header, state bool) ([]string, error) {
	wantDtype, err := dtypeName(dt)
	if err != nil {
		return nil, err
	}
	used := make(map[string]bool, len(ws))
	var missing []string
	params := 0
	for _, w := range ws {
		st, ok := h.Tensor(w.Name)
		if !ok {
			missing = append(missing, w.Name)
			continue
		}
		used[w.Name] = true
		if st.Dtype != wantDtype {
			return nil, errors.Errorf("weight %q is %s in the file, the model is %v (%s)", w.Name, st.Dtype, dt, wantDtype)
		}
		if !Shape(st.Shape).Equal(w.Shape) {
			return nil, errors.Errorf("weight %q has shape %v in the file, the model's layer makes %v", w.Name, st.Shape, w.Shape)
		}
		params += w.Size()
	}
	if len(missing) > 0 {
		return nil, errors.Errorf("the file lacks %d weight(s) the model has: %s", len(missing), listNames(missing))
	}
	var names, unexpected []string
	values := 0
	for _, st := range h.Tensors {
		if used[st.Name] {
			continue
		}
		if !state || !strings.HasPrefix(st.Name, optimizerPrefix) {
			unexpected = append(unexpected, st.Name)
			continue
		}
		n, _ := shapeSize(st.Shape, math.MaxInt, math.MaxInt)
		if n == 0 {
			return nil, errors.Errorf("optimizer state %q has no elements (shape %v)", st.Name, st.Shape)
		}
		if st.Dtype != "F32" && st.Dtype != "F64" {
			return nil, errors.Errorf("optimizer state %q has dtype %s; Keragon reads F32 and F64", st.Name, st.Dtype)
		}
		if values += n; values > maxStateRatio*params+64 {
			return nil, refused("the optimizer state has more than %d values for %d weight values; Load accepts at most %d per weight value", values, params, maxStateRatio)
		}
		names = append(names, st.Name)
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		what := "neither weights of the model nor optimizer state"
		if !state {
			what = "not weights of the model"
		}
		return nil, errors.Errorf("the file has %d tensor(s) that are %s: %s", len(unexpected), what, listNames(unexpected))
	}
	return names, nil
}

// setWeights copies the file's tensors, which checkTensors has checked,
// into the model's weights and returns the optimizer state (names without
// the "optimizer/" prefix).
func (m *Model) setWeights(f *safetensors.File) ([]training.NamedTensor, error) {
	used := map[string]bool{}
	for _, w := range m.Weights() {
		st, ok := f.Tensor(w.Name)
		if !ok || !Shape(st.Shape).Equal(w.Shape) {
			return nil, errors.Errorf("weight %q: the file changed between its header and its data", w.Name)
		}
		used[w.Name] = true
		w.Alloc()
		if err := copyInto(w.Value, st); err != nil {
			return nil, errors.WithMessagef(err, "weight %q", w.Name)
		}
	}
	var state []training.NamedTensor
	for _, st := range f.Tensors {
		if used[st.Name] {
			continue
		}
		name, ok := strings.CutPrefix(st.Name, optimizerPrefix)
		if !ok {
			return nil, errors.Errorf("tensor %q: the file changed between its header and its data", st.Name)
		}
		t, err := fromSafetensor(st)
		if err != nil {
			return nil, errors.WithMessage(err, "optimizer state")
		}
		state = append(state, training.NamedTensor{Name: name, Value: t})
	}
	return state, nil
}

// copyInto decodes a file tensor into a weight's value.
func copyInto(dst *tensor.Dense, st safetensors.Tensor) error {
	switch d := dst.Data().(type) {
	case []float32:
		return st.CopyFloat32s(d)
	case []float64:
		return st.CopyFloat64s(d)
	}
	return errors.Errorf("the weight has dtype %v", dst.Dtype())
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
func (m *Model) restoreCompile(cc compileConfig, state []training.NamedTensor) error {
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
