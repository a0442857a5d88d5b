package onnx

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// MaxSampleSize bounds the number of values in one sample of any graph
// input or intermediate tensor, so that no file can declare shapes that
// make building or running the model allocate without bound.
const MaxSampleSize = 1 << 24

// Import reads an ONNX model file and builds a Keragon model of ordinary
// layers from it (see the package documentation for the mapping). The
// model is not compiled; compile it to fine-tune it.
func Import(path string) (*keras.Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "onnx: Import")
	}
	m, err := Decode(data)
	if err != nil {
		return nil, errors.WithMessagef(err, "onnx: Import %s", path)
	}
	return m, nil
}

// Decode builds a Keragon model from the bytes of an ONNX model, as
// Import does. A truncated or corrupt file, an operator outside the
// supported set or a layout Keragon cannot express gives an error naming
// the problem (and the node); nothing panics.
func Decode(data []byte) (m *keras.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, errors.Errorf("onnx: internal error importing the model (a panic): %v", r)
		}
	}()
	mp, err := decodeModel(data)
	if err != nil {
		return nil, errors.WithMessage(err, "onnx: reading the file")
	}
	opset, err := defaultOpset(mp)
	if err != nil {
		return nil, err
	}
	g := mp.graph
	if g.sparse {
		return nil, errors.New("onnx: the graph has sparse initializers, which Keragon does not read")
	}
	if mp.functions {
		return nil, errors.New("onnx: the model defines local functions, which Keragon does not import")
	}
	nodes, err := fuseGelu(g)
	if err != nil {
		return nil, err
	}
	// Pass 1 probes which outputs of recurrent nodes the graph uses; pass
	// 2 builds the model with exactly those.
	probe := &importer{g: g, nodes: nodes, opset: opset, probe: true, usage: map[int]*rnnUsage{}}
	if _, err := probe.run(); err != nil {
		return nil, err
	}
	im := &importer{g: g, nodes: nodes, opset: opset, usage: probe.usage}
	return im.run()
}

// defaultOpset returns the version of the default ("" or "ai.onnx")
// operator set.
func defaultOpset(mp *modelProto) (int64, error) {
	var v int64
	for _, o := range mp.opsets {
		if o.domain == "" || o.domain == "ai.onnx" {
			v = o.version
		}
	}
	if v == 0 {
		return 0, errors.New("onnx: the model imports no version of the default operator set")
	}
	if v < 7 || v > 21 {
		return 0, errors.Errorf("onnx: the model uses opset %d; Keragon imports opsets 7 to 21", v)
	}
	return v, nil
}

// importer turns one graph into Keragon layers.
type importer struct {
	g     *graphProto
	nodes []*nodeProto
	opset int64
	probe bool

	vals      map[string]*value
	uses      map[string]int // how many node inputs and graph outputs read a value
	consumers map[string][]*nodeProto
	outputs   map[string]bool
	names     map[string]bool
	weights   map[keras.Layer]map[string]*tensor.Dense
	reshaped  map[*keras.Tensor]*keras.Tensor // output of an added Reshape → its input
	// weightReaders counts the Gemm, MatMul and Conv nodes that read each
	// weight; shared holds the layers of weights read more than once.
	weightReaders map[string]int
	shared        map[string]keras.Layer
	inputs        []*keras.Tensor
	fixedBatch    int64 // the batch size written in the inputs' shapes, 0 if symbolic
	usage         map[int]*rnnUsage
	node          int // index of the node being imported
}

func (im *importer) run() (*keras.Model, error) {
	g := im.g
	im.vals = map[string]*value{}
	im.uses = map[string]int{}
	im.consumers = map[string][]*nodeProto{}
	im.outputs = map[string]bool{}
	im.names = map[string]bool{}
	im.weights = map[keras.Layer]map[string]*tensor.Dense{}
	im.reshaped = map[*keras.Tensor]*keras.Tensor{}
	im.weightReaders = map[string]int{}
	im.shared = map[string]keras.Layer{}
	for _, n := range im.nodes {
		if weightedOps[n.opType] && len(n.inputs) > 1 {
			im.weightReaders[n.inputs[1]]++
		}
		for _, in := range n.inputs {
			if in != "" {
				im.uses[in]++
				im.consumers[in] = append(im.consumers[in], n)
			}
		}
	}
	for _, o := range g.outputs {
		im.uses[o.name]++
		im.outputs[o.name] = true
	}
	for _, t := range g.initializers {
		if _, dup := im.vals[t.name]; dup {
			return nil, errors.Errorf("onnx: two initializers are named %q", t.name)
		}
		c, err := constantOf(t)
		if err != nil {
			return nil, errors.WithMessage(err, "onnx")
		}
		im.vals[t.name] = &value{name: t.name, c: c}
	}
	for _, in := range g.inputs {
		if _, isInit := im.vals[in.name]; isInit {
			continue // old exporters list initializers as inputs too
		}
		if err := im.input(in); err != nil {
			return nil, errors.WithMessagef(err, "onnx: graph input %q", in.name)
		}
	}
	if len(im.inputs) == 0 {
		return nil, errors.New("onnx: the graph has no inputs besides its initializers")
	}
	for i, n := range im.nodes {
		im.node = i
		if err := im.apply(n); err != nil {
			return nil, errors.WithMessagef(err, "onnx: node %q (%s)", n.name, n.opType)
		}
	}
	var outs []*keras.Tensor
	for _, o := range g.outputs {
		v, ok := im.vals[o.name]
		if !ok {
			return nil, errors.Errorf("onnx: graph output %q is computed by no node", o.name)
		}
		t, err := im.output(v)
		if err != nil {
			return nil, errors.WithMessagef(err, "onnx: graph output %q", o.name)
		}
		outs = append(outs, t)
	}
	if len(outs) == 0 {
		return nil, errors.New("onnx: the graph has no outputs")
	}
	if im.probe {
		return nil, nil
	}
	m, err := keras.NewModel(im.inputs, outs)
	if err != nil {
		return nil, errors.WithMessage(err, "onnx: building the Keragon model")
	}
	if g.name != "" {
		m.SetName(sanitize(g.name))
	}
	if err := im.setWeights(m); err != nil {
		return nil, err
	}
	return m, nil
}

// weighted is what every Keragon layer has through keras.Base.
type weighted interface {
	keras.Layer
	LayerName() string
}

// setWeights copies the converted ONNX weights into the built model.
func (im *importer) setWeights(m *keras.Model) error {
	for _, l := range m.Layers() {
		name := l.(weighted).LayerName()
		vals := im.weights[l]
		for _, w := range layerWeights(l) {
			key := strings.TrimPrefix(w.Name, name+"/")
			v, ok := vals[key]
			if !ok {
				return errors.Errorf("onnx: internal error: no value for weight %s", w.Name)
			}
			if err := w.Set(v); err != nil {
				return errors.WithMessage(err, "onnx")
			}
		}
	}
	return nil
}

// layerWeights returns a layer's weights (every layer embeds keras.Base).
func layerWeights(l keras.Layer) []*graph.Weight {
	if wl, ok := l.(interface{ Weights() []*graph.Weight }); ok {
		return wl.Weights()
	}
	return nil
}

// name returns a unique layer name derived from an ONNX name.
func (im *importer) name(base string) string {
	base = sanitize(base)
	if base == "" {
		base = fmt.Sprintf("node_%d", im.node)
	}
	name := base
	for i := 2; im.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	im.names[name] = true
	return name
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// sanitize makes an ONNX name ("/fc1/Gemm") a Keragon layer name
// ("fc1_Gemm").
func sanitize(s string) string {
	s = unsafeChars.ReplaceAllString(s, "_")
	return strings.Trim(s, "_")
}

// input declares a graph input as a Keragon Input. A 4-D input is an NCHW
// image, which the Keragon model takes as NHWC, unless every node reading
// it first transposes it from NHWC (as Export writes); a 3-D input read by
// a Conv is NCW, taken as NWC.
func (im *importer) input(in *valueInfo) error {
	if !in.tensor || !in.shaped {
		return errors.New("has no tensor type with a shape")
	}
	ids := in.elemType == dtInt64 || in.elemType == dtInt32
	if in.elemType != dtFloat && !ids {
		return errors.Errorf("has element type %d; Keragon imports float32 inputs (type 1), and int64 or int32 token ids (types 7, 6) as floats", in.elemType)
	}
	r := len(in.dims)
	if r < 2 {
		return errors.Errorf("has rank %d; inputs need a batch axis and at least one more", r)
	}
	if d := in.dims[0]; d.known {
		if d.value < 1 || d.value > MaxDim {
			return errors.Errorf("has batch size %d", d.value)
		}
		if im.fixedBatch == 0 {
			im.fixedBatch = d.value
		}
	}
	dims := make([]int, r)
	size := 1
	for i, d := range in.dims[1:] {
		if !d.known || d.value < 1 || d.value > MaxDim {
			return errors.Errorf("axis %d must have a fixed positive size up to %d, got %v", i+1, MaxDim, dimString(d))
		}
		dims[i+1] = int(d.value)
		if size *= int(d.value); size > MaxSampleSize {
			return errors.Errorf("has samples of more than %d values", MaxSampleSize)
		}
	}
	axes := identity(r)
	switch {
	case r == 4 && !im.allTransposed(in.name, []int64{0, 3, 1, 2}):
		axes = []int{0, 3, 1, 2}
	case r == 3 && im.readByConv(in.name):
		axes = []int{0, 2, 1}
	}
	shape := make([]int, r-1)
	for i := 1; i < r; i++ {
		shape[axes[i]-1] = dims[i]
	}
	t := keras.Apply(&keras.Input{Name: im.name(in.name), Shape: shape})
	if err := t.Err(); err != nil {
		return err
	}
	im.inputs = append(im.inputs, t)
	im.vals[in.name] = &value{name: in.name, t: t, axes: axes, ids: ids}
	return nil
}

func dimString(d dimension) string {
	if d.known {
		return fmt.Sprint(d.value)
	}
	return fmt.Sprintf("%q", d.param)
}

// allTransposed reports whether every reader of a value is a Transpose
// with the given perm.
func (im *importer) allTransposed(name string, perm []int64) bool {
	cs := im.consumers[name]
	if len(cs) == 0 {
		return false
	}
	for _, n := range cs {
		if n.opType != "Transpose" {
			return false
		}
		p := attrOf(n, "perm")
		if p == nil || !equalInts(p.ints, perm) {
			return false
		}
	}
	return true
}

func (im *importer) readByConv(name string) bool {
	for _, n := range im.consumers[name] {
		switch n.opType {
		case "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool":
			return true
		}
	}
	return false
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// setLayer records a new layer's weights.
func (im *importer) setLayer(l keras.Layer, ws map[string]*tensor.Dense) {
	if _, ok := im.weights[l]; !ok {
		im.weights[l] = ws
	}
}

var weightedOps = map[string]bool{"Gemm": true, "MatMul": true, "Conv": true}

// sharedKey names the layer of a Gemm, MatMul or Conv node whose weight
// other such nodes read too (a layer applied several times), so that they
// share one Keragon layer; "" when the node is the weight's only reader.
// extra is what else the layer's configuration depends on (the padding
// mode a convolution resolved to for its input's size).
func (im *importer) sharedKey(n *nodeProto, x *value, extra string) string {
	if len(n.inputs) < 2 || im.weightReaders[n.inputs[1]] < 2 || x.flat != nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q %s", n.opType, n.inputs[1:], extra)
	for _, a := range n.attrs {
		if a.name == "pads" || a.name == "auto_pad" {
			continue // in extra, resolved
		}
		fmt.Fprintf(&b, " %s=%v,%v,%v,%q", a.name, a.i, a.f, a.ints, a.s)
	}
	return b.String()
}

// apply1 applies a layer to one input and checks the result.
func (im *importer) apply1(l keras.Layer, ws map[string]*tensor.Dense, in ...*keras.Tensor) (*keras.Tensor, error) {
	t := keras.Apply(l, in...)
	if err := t.Err(); err != nil {
		return nil, err
	}
	im.setLayer(l, ws)
	if n := t.Shape().Size(); n > MaxSampleSize {
		return nil, errors.Errorf("makes samples of %d values, more than %d", n, MaxSampleSize)
	}
	return t, nil
}

// dense makes a float32 tensor of a shape from values.
func dense(shape []int, v []float32) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// output returns the Keragon tensor of a graph output: in ONNX's layout,
// except that NCHW and NCW tensors come out channels-last (NHWC, NWC), as
// Keragon's images are.
func (im *importer) output(v *value) (*keras.Tensor, error) {
	if !v.tensorLike() {
		if v.c != nil {
			return nil, errors.New("is a constant; Keragon models output computed tensors")
		}
		_, err := im.tensorOf(v)
		return nil, err
	}
	if v.flat != nil {
		return nil, errors.New("is an NCHW image flattened in ONNX's (channel, height, width) order; Keragon flattens in (height, width, channel) order and has no layer to reorder features")
	}
	if r := len(v.axes); r >= 3 && equalAxes(v.axes, nchw(r)) {
		return im.tensorOf(v)
	}
	return im.need(v, plainAxes(len(v.axes)), "a graph output")
}
