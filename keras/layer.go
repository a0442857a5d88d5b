package keras

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Shape is a tensor shape without the batch axis, as Keras prints it after
// "None,".
type Shape []int

// Size is the product of the dimensions.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether two shapes are the same.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	if len(s) == 0 {
		return "(None,)" // Python's one-element tuple, as Keras prints it
	}
	out := "(None"
	for _, d := range s {
		out += fmt.Sprintf(", %d", d)
	}
	return out + ")"
}

// A Layer is one step of a model. A layer type is a struct whose exported
// fields are its configuration (what Save writes); it embeds Base, which
// holds what Build creates.
//
// The model calls OutputShape to check inputs and infer shapes, Build once
// to create weights, then Call in every graph it compiles.
type Layer interface {
	base() *Base
	// OutputShape checks the input shapes (batch axis excluded) and returns
	// the output shape.
	OutputShape(in []Shape) (Shape, error)
	// Build creates the layer's weights with Base.AddWeight. Base provides
	// a no-op Build for layers without weights.
	Build(in []Shape) error
	// Call adds the layer's computation to a graph; inputs have the batch
	// axis first.
	Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error)
}

// Base is embedded in every layer. It holds the layer's resolved name,
// dtype and weights.
type Base struct {
	name    string
	dtype   tensor.Dtype
	weights []*graph.Weight
	built   bool
	frozen  bool
	state   map[*graph.Weight]bool // non-trainable by nature
}

func (b *Base) base() *Base { return b }

// Build does nothing; layers with weights override it.
func (b *Base) Build([]Shape) error { return nil }

// LayerName is the layer's unique name in its model ("dense_1"), known once
// the layer belongs to a model.
func (b *Base) LayerName() string { return b.name }

// Dtype is the layer's element type.
func (b *Base) Dtype() tensor.Dtype { return b.dtype }

// Weights returns the layer's weights, trainable and not.
func (b *Base) Weights() []*graph.Weight { return b.weights }

// Built reports whether Build has run.
func (b *Base) Built() bool { return b.built }

// SetTrainable freezes (false) or unfreezes (true) every weight the layer
// trains, like Keras' layer.trainable. Compile again after changing it.
func (b *Base) SetTrainable(on bool) {
	b.frozen = !on
	for _, w := range b.weights {
		if !b.state[w] {
			w.Trainable = on
		}
	}
}

// AddWeight creates a weight named "<layer>/<name>" of the layer's dtype.
// Non-trainable weights are state (moving averages) that no optimizer
// touches.
func (b *Base) AddWeight(name string, shape []int, init ops.Initializer, trainable bool) *graph.Weight {
	w := graph.DeclareWeight(b.name+"/"+name, b.dtype, shape, init, trainable && !b.frozen)
	if !trainable {
		if b.state == nil {
			b.state = map[*graph.Weight]bool{}
		}
		b.state[w] = true
	}
	b.weights = append(b.weights, w)
	return w
}

// configName reads the Name field every layer struct has.
func configName(l Layer) string {
	v := reflect.ValueOf(l)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName("Name")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// ClassName is a layer's Keras class name: its Go type name ("Dense").
func ClassName(l Layer) string {
	t := reflect.TypeOf(l)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

var (
	registryMu sync.RWMutex
	registry   = map[string]func() Layer{}
)

// Register makes a layer type loadable by its class name, as Keras'
// register_keras_serializable: Load calls make for every layer saved under
// className, then fills its exported fields from the saved config.
// Keragon's own layers register themselves. A class name is registered
// once: registering it again (a built-in name, or a notebook cell run
// twice) returns an error and keeps the first constructor, as Keras raises
// on a duplicate name; the other registries (training.RegisterOptimizer,
// RegisterMetric, RegisterSchedule) behave alike.
func Register(className string, make func() Layer) error {
	if className == "" || make == nil {
		return errors.Errorf("keras: Register(%q) needs a class name and a constructor", className)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[className]; dup {
		return errors.Errorf("keras: layer class %q is already registered", className)
	}
	registry[className] = make
	return nil
}

// newLayer returns a zero layer of the registered class.
func newLayer(className string) (Layer, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	f, ok := registry[className]
	if !ok {
		known := make([]string, 0, len(registry))
		for k := range registry {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, errors.Errorf("keras: unknown layer class %q (registered: %v)", className, known)
	}
	return f(), nil
}

// snake turns "BatchNormalization" into "batch_normalization" and
// "Conv2D" into "conv2d": Keras' to_snake_case, which names layers.
func snake(s string) string {
	s = snakeWords.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(snakeCase.ReplaceAllString(s, "${1}_${2}"))
}

var (
	snakeWords = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	snakeCase  = regexp.MustCompile(`([a-z])([A-Z])`)
)

// checkBuilt reports an input whose feature count differs from what the
// layer's weight w was built for (a shared layer applied to another shape).
func checkBuilt(layer string, w *graph.Weight, wantAxis int, got int) error {
	if w == nil || w.Shape[wantAxis] == got {
		return nil
	}
	return errors.Errorf("keras: %s was built for inputs with %d features on the last axis, got %d", layer, w.Shape[wantAxis], got)
}

// single checks that a layer got exactly one input.
func single(layer string, in []Shape) (Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("keras: %s takes one input, got %d", layer, len(in))
	}
	return in[0], nil
}

// A MultiOutputLayer has several outputs (an LSTM with ReturnState: the
// sequence output and its states). OutputShape and Call give the first;
// ApplyMulti gives them all.
type MultiOutputLayer interface {
	Layer
	// OutputShapes returns every output's shape.
	OutputShapes(in []Shape) ([]Shape, error)
	// CallMulti returns every output.
	CallMulti(ctx *graph.Context, in []*gorgonia.Node) ([]*gorgonia.Node, error)
}

// A MaskedLayer takes part in Keras' masking: it is given a mask for each
// input (nil when an input has none) and returns a mask for each output
// (nil for none). A mask is a (batch, steps) node of 1s (real time steps)
// and 0s (padding); Embedding with MaskZero and Masking make them,
// recurrent layers skip the padded steps, and a masked model output
// leaves padded steps out of the loss and the metrics. When a layer
// implements MaskedLayer, the model calls CallMasked instead of Call or
// CallMulti.
type MaskedLayer interface {
	Layer
	CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) (out, outMasks []*gorgonia.Node, err error)
}

// A MaskPasser is a layer whose output keeps its first input's mask
// (Keras' supports_masking): Dense, Dropout, Activation, the
// normalisations. Layers that neither pass nor implement MaskedLayer drop
// the mask.
type MaskPasser interface {
	Layer
	PassesMask() bool
}
