package onnx

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Opset is the version of the ONNX operator set Export writes, unless
// the model has a LayerNormalization: that needs opset 17.
const Opset = 13

// opsetLayerNorm is the first opset with LayerNormalization.
const opsetLayerNorm = 17

// irVersion is the ONNX IR version that goes with Opset 13; opset 17
// needs IR version 8.
const irVersion = 7

// Export writes a Keragon model to path as an ONNX model (opset 13, or 17
// for a model with LayerNormalization) with
// the model's inputs and outputs and Keragon's layouts: images are NHWC at
// the inputs and outputs, transposed to NCHW around convolutions and
// pooling inside. Import reads it back into the same layers. The model
// must be float32; weights not initialised yet are initialised first (as
// Predict would). The file is written to a temporary file beside path and
// renamed over it.
func Export(m *keras.Model, path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return errors.Wrap(err, "onnx: Export")
	}
	tmp := f.Name()
	err = errors.Wrap(f.Chmod(0o644), "onnx: Export")
	w := bufio.NewWriter(f)
	if err == nil {
		err = Encode(m, w)
	}
	if err == nil {
		err = errors.Wrap(w.Flush(), "onnx: Export")
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = errors.Wrap(cerr, "onnx: Export")
	}
	if err == nil {
		err = errors.Wrap(os.Rename(tmp, path), "onnx: Export")
	}
	if err != nil {
		os.Remove(tmp)
		return errors.WithMessagef(err, "onnx: Export %s", path)
	}
	return nil
}

// Encode writes a Keragon model to w as an ONNX model, as Export does.
func Encode(m *keras.Model, w io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("onnx: internal error exporting the model (a panic): %v", r)
		}
	}()
	mp, err := exportModel(m)
	if err != nil {
		return err
	}
	_, err = w.Write(mp.encode())
	return errors.Wrap(err, "onnx: writing the model")
}

// exported is the ONNX value of a Keragon tensor: its name and whether it
// is held channels-first (NCHW, NCW) rather than in Keragon's layout.
type exported struct {
	name string
	cf   bool
	rank int // with the batch axis
}

type exporter struct {
	g       *graphProto
	used    map[string]bool
	vals    map[*keras.Tensor]exported
	apps    map[string][]exported
	layouts map[string]string // cached layout conversions
	inits   map[string]string // initializers by base name and content
	layer   string            // name of the layer being exported
}

func exportModel(m *keras.Model) (*modelProto, error) {
	if m == nil {
		return nil, errors.New("onnx: Export of a nil model")
	}
	if err := m.Err(); err != nil {
		return nil, err
	}
	if m.Dtype() != tensor.Float32 {
		return nil, errors.Errorf("onnx: Export writes float32 models; this one is %v", m.Dtype())
	}
	for _, w := range m.Weights() {
		if w.Value == nil {
			// Initialise from the model's seed, as Predict would.
			if _, err := m.Program(graph.Key{Mode: graph.Predict, Batch: 1}); err != nil {
				return nil, errors.WithMessage(err, "onnx: initialising the weights")
			}
			break
		}
	}
	e := &exporter{
		g:       &graphProto{name: m.Name()},
		used:    map[string]bool{},
		vals:    map[*keras.Tensor]exported{},
		apps:    map[string][]exported{},
		layouts: map[string]string{},
		inits:   map[string]string{},
	}
	for _, t := range m.Inputs() {
		l := t.Layer().(*keras.Input)
		name := e.unique(l.LayerName())
		vi := &valueInfo{name: name, elemType: dtFloat, tensor: true, shaped: true,
			dims: []dimension{{param: "batch"}}}
		for _, d := range t.Shape() {
			vi.dims = append(vi.dims, dimension{value: int64(d), known: true})
		}
		e.g.inputs = append(e.g.inputs, vi)
		e.vals[t] = exported{name: name, rank: len(t.Shape()) + 1}
	}
	for i, t := range m.Outputs() {
		v, err := e.tensor(t)
		if err != nil {
			return nil, err
		}
		name := e.keras(v)
		// Name the outputs "output_0"…, with an Identity when the value
		// already has a name (an input, or an output listed twice).
		out := e.unique(fmt.Sprintf("output_%d", i))
		e.node("Identity", []string{name}, []string{out})
		vi := &valueInfo{name: out, elemType: dtFloat, tensor: true, shaped: true,
			dims: []dimension{{param: "batch"}}}
		for _, d := range t.Shape() {
			vi.dims = append(vi.dims, dimension{value: int64(d), known: true})
		}
		e.g.outputs = append(e.g.outputs, vi)
	}
	opset, ir := int64(Opset), int64(irVersion)
	for _, l := range m.Layers() {
		if _, ok := l.(*keras.LayerNormalization); ok {
			opset, ir = opsetLayerNorm, 8
		}
	}
	return &modelProto{
		irVersion:    ir,
		opsets:       []opsetID{{version: opset}},
		producerName: "keragon",
		graph:        e.g,
	}, nil
}

// tensor returns the ONNX value of t, exporting what it depends on first.
func (e *exporter) tensor(t *keras.Tensor) (exported, error) {
	if v, ok := e.vals[t]; ok {
		return v, nil
	}
	// Iterative depth-first order: deep models must not exhaust the stack.
	type frame struct {
		t    *keras.Tensor
		next int
	}
	stack := []frame{{t: t}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if _, ok := e.vals[f.t]; ok {
			stack = stack[:len(stack)-1]
			continue
		}
		ins := f.t.Inputs()
		if f.next < len(ins) {
			in := ins[f.next]
			f.next++
			if _, ok := e.vals[in]; !ok {
				stack = append(stack, frame{t: in})
			}
			continue
		}
		if err := e.apply(f.t, ins); err != nil {
			return exported{}, err
		}
		stack = stack[:len(stack)-1]
	}
	return e.vals[t], nil
}

// apply exports the layer application that makes t.
func (e *exporter) apply(t *keras.Tensor, ins []*keras.Tensor) error {
	l := t.Layer()
	key := fmt.Sprintf("%p", l)
	for _, in := range ins {
		key += fmt.Sprintf(",%p", in)
	}
	outs, ok := e.apps[key]
	if !ok {
		if _, isInput := l.(*keras.Input); isInput {
			return errors.New("onnx: internal error: an Input that is not a model input")
		}
		vs := make([]exported, len(ins))
		shapes := make([]keras.Shape, len(ins))
		for i, in := range ins {
			vs[i] = e.vals[in]
			shapes[i] = in.Shape()
		}
		name := l.(weighted).LayerName()
		e.layer = name
		var err error
		if outs, err = e.layerOp(l, vs, shapes, t.Shape()); err != nil {
			return errors.WithMessagef(err, "onnx: exporting layer %q (%s)", name, keras.ClassName(l))
		}
		e.apps[key] = outs
	}
	if t.OutputIndex() >= len(outs) {
		return errors.Errorf("onnx: internal error: layer %s has no output %d", keras.ClassName(l), t.OutputIndex())
	}
	e.vals[t] = outs[t.OutputIndex()]
	return nil
}

// unique returns a value or node name not used yet.
func (e *exporter) unique(base string) string {
	name := base
	for i := 1; e.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	e.used[name] = true
	return name
}

// node adds a node; attrs are name, value pairs (int64, float32, string,
// []int64, []float32, []string).
func (e *exporter) node(op string, inputs, outputs []string, attrs ...any) {
	n := &nodeProto{opType: op, inputs: inputs, outputs: outputs, name: e.unique(e.layer + "/" + op)}
	for i := 0; i+1 < len(attrs); i += 2 {
		a := &attribute{name: attrs[i].(string)}
		switch v := attrs[i+1].(type) {
		case int:
			a.typ, a.i = typInt, int64(v)
		case int64:
			a.typ, a.i = typInt, v
		case float32:
			a.typ, a.f = typFloat, v
		case float64:
			a.typ, a.f = typFloat, float32(v)
		case string:
			a.typ, a.s = typString, []byte(v)
		case []int:
			a.typ = typInts
			for _, x := range v {
				a.ints = append(a.ints, int64(x))
			}
		case []int64:
			a.typ, a.ints = typInts, v
		case []string:
			a.typ = typStrings
			for _, s := range v {
				a.strings = append(a.strings, []byte(s))
			}
		default:
			panic(fmt.Sprintf("attribute %s of type %T", a.name, v))
		}
		n.attrs = append(n.attrs, a)
	}
	e.g.nodes = append(e.g.nodes, n)
}

// op adds a node with one output and returns the output's name.
func (e *exporter) op(op string, inputs []string, attrs ...any) string {
	out := e.unique(e.layer + "/" + op + "_output")
	e.node(op, inputs, []string{out}, attrs...)
	return out
}

// floats adds a float initializer, or returns the one already added
// with the same base name and values (the weights of a layer applied
// twice are written once).
func (e *exporter) floats(name string, dims []int, v []float32) string {
	h := fnv.New64a()
	fmt.Fprint(h, name, dims)
	var b [4]byte
	for _, x := range v {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		h.Write(b[:])
	}
	key := fmt.Sprintf("%s/%x", name, h.Sum64())
	if n, ok := e.inits[key]; ok {
		return n
	}
	name = e.unique(name)
	e.inits[key] = name
	t := &tensorProto{name: name, dataType: dtFloat, floats: v}
	for _, d := range dims {
		t.dims = append(t.dims, int64(d))
	}
	e.g.initializers = append(e.g.initializers, t)
	return name
}

// ints adds a 1-D int64 initializer.
func (e *exporter) ints(name string, v ...int64) string {
	name = e.unique(name)
	e.g.initializers = append(e.g.initializers, &tensorProto{name: name, dataType: dtInt64, dims: []int64{int64(len(v))}, ints: v})
	return name
}

// keras returns the value in Keragon's layout, transposing a
// channels-first one back.
func (e *exporter) keras(v exported) string {
	if !v.cf {
		return v.name
	}
	if n, ok := e.layouts[v.name+"/keras"]; ok {
		return n
	}
	perm := []int{0}
	for i := 2; i < v.rank; i++ {
		perm = append(perm, i)
	}
	perm = append(perm, 1)
	n := e.op("Transpose", []string{v.name}, "perm", perm)
	e.layouts[v.name+"/keras"] = n
	return n
}

// channelsFirst returns the value channels-first (NCHW, NCW).
func (e *exporter) channelsFirst(v exported) string {
	if v.cf {
		return v.name
	}
	if n, ok := e.layouts[v.name+"/cf"]; ok {
		return n
	}
	perm := []int{0, v.rank - 1}
	for i := 1; i < v.rank-1; i++ {
		perm = append(perm, i)
	}
	n := e.op("Transpose", []string{v.name}, "perm", perm)
	e.layouts[v.name+"/cf"] = n
	return n
}

// weight returns a layer's weight by its short name ("kernel"), nil if
// the layer has none of that name.
func weight(l keras.Layer, short string) []float32 {
	name := l.(weighted).LayerName() + "/" + short
	for _, w := range layerWeights(l) {
		if w.Name == name && w.Value != nil {
			if d, ok := w.Value.Data().([]float32); ok {
				return d
			}
		}
	}
	return nil
}
