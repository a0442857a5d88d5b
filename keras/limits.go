package keras

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
)

// LoadOptions bounds what Load and LoadFrom accept, so that a model file
// from an untrusted source cannot make them allocate much more memory than
// the file holds, nor run for long, nor give a model whose Predict needs
// more than MaxActivations values per sample or a graph of more than
// MaxLayers applications and MaxSteps unrolled steps. The architecture is
// checked against these limits, and against the tensors the file's header
// lists, before any weight is allocated, any data is read or any graph is
// built.
//
// The zero value of a field means its default (see DefaultLoadOptions);
// a negative value is an error. Raise a limit to load a larger model:
//
//	m, err := keras.LoadOptions{MaxSteps: 20000}.Load("long_sequences.safetensors")
//
// Besides these limits Load always refuses a pooling window larger than
// its input along some axis (it would read padding only), more than 4096
// metrics (summed over the outputs), and optimizer state of more than 4
// values per weight value (Keragon's optimizers keep at most 3). Layers
// registered by other packages get the checks that need no knowledge of
// the layer: config integers, output shapes, weights.
type LoadOptions struct {
	// MaxHeaderBytes bounds the file's header: the architecture, the
	// compile configuration and the index of the tensors (not their
	// data). Default 16 MiB; the format allows at most 100,000,000.
	MaxHeaderBytes int
	// MaxLayers bounds the number of layers, of layer applications (a
	// layer applied twice counts twice) and of model inputs and outputs.
	// Default 8192.
	MaxLayers int
	// MaxSteps bounds the time steps and tree levels the model's graph is
	// unrolled into, summed over every application of a recurrent layer
	// (SimpleRNN, LSTM, GRU: one per step; Bidirectional counts both
	// directions, TimeDistributed its wrapped layer's) and of a tree layer
	// (TreeRNN, TreeLSTM: one per level). Building a graph costs time
	// superlinear in them. Default 4096.
	MaxSteps int
	// MaxDim bounds every dimension of every layer output and weight, and
	// the absolute value of every integer in a layer's configuration
	// (units, kernel sizes, strides, padding, vocabulary sizes…). Default
	// 1<<24 (16,777,216).
	MaxDim int
	// MaxRank bounds the number of axes of every layer output (batch axis
	// excluded). Default 8.
	MaxRank int
	// MaxActivations bounds the values one sample makes in all layer
	// outputs together (the sum over layer applications of the product
	// of their output shapes): about what Predict allocates per sample.
	// Default 1<<27 (134,217,728: 512 MiB of float32 per sample).
	MaxActivations int
	// MaxParams bounds the model's weight values, trainable and not.
	// Default 1<<28 (268,435,456: 1 GiB of float32).
	MaxParams int
	// MaxConfigDepth bounds how deeply a layer's JSON configuration nests;
	// a wrapped layer (TimeDistributed, Bidirectional) adds two levels.
	// Default 16.
	MaxConfigDepth int
}

// ErrLoadLimit is returned, wrapped, when a file exceeds one of the
// LoadOptions limits or breaks one of the fixed rules listed there; test
// for it with errors.Is. The message names the limit, the file's value
// and the layer.
var ErrLoadLimit = errors.New("keras: the file exceeds a load limit")

// Maximum numbers Load accepts that LoadOptions does not configure.
const (
	// maxMetrics bounds the metrics Compile makes, summed over outputs.
	maxMetrics = 4096
	// maxStateRatio bounds optimizer state values per weight value.
	maxStateRatio = 4
)

// DefaultLoadOptions returns the limits Load uses, every field set.
func DefaultLoadOptions() LoadOptions {
	return LoadOptions{
		MaxHeaderBytes: 16 << 20,
		MaxLayers:      1 << 13,
		MaxSteps:       1 << 12,
		MaxDim:         1 << 24,
		MaxRank:        8,
		MaxActivations: 1 << 27,
		MaxParams:      1 << 28,
		MaxConfigDepth: 16,
	}
}

// resolve replaces zero fields by their defaults and refuses negative
// ones.
func (o LoadOptions) resolve() (LoadOptions, error) {
	def := DefaultLoadOptions()
	fields := []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxHeaderBytes", &o.MaxHeaderBytes, def.MaxHeaderBytes},
		{"MaxLayers", &o.MaxLayers, def.MaxLayers},
		{"MaxSteps", &o.MaxSteps, def.MaxSteps},
		{"MaxDim", &o.MaxDim, def.MaxDim},
		{"MaxRank", &o.MaxRank, def.MaxRank},
		{"MaxActivations", &o.MaxActivations, def.MaxActivations},
		{"MaxParams", &o.MaxParams, def.MaxParams},
		{"MaxConfigDepth", &o.MaxConfigDepth, def.MaxConfigDepth},
	}
	for _, f := range fields {
		switch {
		case *f.v < 0:
			return o, errors.Errorf("keras: LoadOptions.%s is %d; want 0 (the default, %d) or a positive limit", f.name, *f.v, f.def)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return o, nil
}

// limitError is an error that errors.Is reports as ErrLoadLimit.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrLoadLimit }

// overLimit reports a value over the limit named field (a LoadOptions
// field).
func overLimit(field string, limit int, format string, args ...any) error {
	return errors.WithStack(&limitError{msg: fmt.Sprintf(format, args...) +
		fmt.Sprintf(", more than LoadOptions.%s allows (%d)", field, limit)})
}

// refused reports a fixed rule broken.
func refused(format string, args ...any) error {
	return errors.WithStack(&limitError{msg: fmt.Sprintf(format, args...)})
}

// metricCount is the number of metrics Compile makes from a saved
// compile config's Metrics (as JSON decodes it) for a model of outputs
// outputs: names for every output, or lists per output.
func metricCount(ms any, outputs int) int {
	n := 0
	switch x := ms.(type) {
	case []any:
		for _, e := range x {
			switch e := e.(type) {
			case string:
				n += outputs
			case []any:
				n += len(e)
			}
		}
	case map[string]any:
		for _, e := range x {
			if e, ok := e.([]any); ok {
				n += len(e)
			}
		}
	}
	return n
}

// jsonDepth is the deepest nesting of objects and arrays in JSON text.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// checkConfigInts checks every integer in a layer's configuration (its
// exported fields, nested layers included): none may exceed max in
// absolute value. Shapes are checked later; this catches the numbers that
// do not show in a shape, or whose products overflow before they do
// (UpSampling2D's size, a pooling window, strides).
func checkConfigInts(l Layer, max int) error {
	return checkInts(reflect.ValueOf(l), "", max, 0)
}

func checkInts(v reflect.Value, path string, limit, depth int) error {
	if depth > 64 {
		return nil // configurations are shallow; Layer values cannot cycle through exported fields
	}
	bad := func(x any) error {
		return overLimit("MaxDim", limit, "config field %s is %v", strings.TrimPrefix(path, "."), x)
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x := v.Int(); x > int64(limit) || x < -int64(limit) {
			return bad(x)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if x := v.Uint(); x > uint64(limit) {
			return bad(x)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkInts(v.Elem(), path, limit, depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := checkInts(v.Index(i), fmt.Sprintf("%s[%d]", path, i), limit, depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if err := checkInts(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key()), limit, depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			switch tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag {
			case "":
			case "-": // saved by the type's own MarshalJSON, as a wrapped layer
				name = snake(f.Name)
			default:
				name = tag
			}
			if f.Anonymous {
				name = ""
			}
			sub := path
			if name != "" {
				sub = path + "." + name
			}
			if err := checkInts(v.Field(i), sub, limit, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// budget checks a rebuilt architecture against the limits, one layer
// application at a time, and adds up what the limits bound in total.
type budget struct {
	lim         LoadOptions
	steps       int
	activations int
}

// shapeSize is the product of a shape's dimensions, false when one is
// not in [1, maxDim] or the product exceeds maxSize.
func shapeSize(s []int, maxDim, maxSize int) (int, bool) {
	n := 1
	for _, d := range s {
		if d < 1 || d > maxDim || n > maxSize/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// application checks application app of layer l (named name) to inputs
// of shapes in, giving outputs of shapes out.
func (b *budget) application(name string, app int, l Layer, in, out []Shape) error {
	what := fmt.Sprintf("layer %q (%s)", name, ClassName(l))
	if app > 0 {
		what += fmt.Sprintf(" application %d", app)
	}
	lim := b.lim
	for i, s := range out {
		if len(s) > lim.MaxRank {
			return overLimit("MaxRank", lim.MaxRank, "%s output %d has %d axes", what, i, len(s))
		}
		for _, d := range s {
			if d > lim.MaxDim {
				return overLimit("MaxDim", lim.MaxDim, "%s output %d has shape %v", what, i, s)
			}
			if d < 1 {
				return refused("%s output %d has shape %v: dimensions must be positive", what, i, s)
			}
		}
		n, ok := shapeSize(s, lim.MaxDim, lim.MaxActivations-b.activations)
		if !ok {
			return overLimit("MaxActivations", lim.MaxActivations, "%s output %d has shape %v, which brings the values per sample of all layer outputs to more than %d", what, i, s, lim.MaxActivations)
		}
		b.activations += n
	}
	if w, ok := l.(interface{ workValues(in []Shape) int }); ok {
		// Values a layer makes per sample besides its outputs (the
		// attention weights of MultiHeadAttention).
		if n := w.workValues(in); n > lim.MaxActivations-b.activations {
			return overLimit("MaxActivations", lim.MaxActivations, "%s computes %d values per sample besides its outputs, which brings the values per sample to more than %d", what, n, lim.MaxActivations)
		} else {
			b.activations += n
		}
	}
	steps := unrolledSteps(l, in)
	if steps > lim.MaxSteps-b.steps {
		if b.steps == 0 {
			return overLimit("MaxSteps", lim.MaxSteps, "%s unrolls %d time steps or tree levels", what, steps)
		}
		return overLimit("MaxSteps", lim.MaxSteps, "%s unrolls %d time steps or tree levels, %d with the layers before it", what, steps, b.steps+steps)
	}
	b.steps += steps
	return checkWindows(what, l, in)
}

// unrolledSteps is the number of steps (recurrent layers) or levels (tree
// layers) an application unrolls into its graph; in are its input shapes,
// already checked by the layer's OutputShape.
func unrolledSteps(l Layer, in []Shape) int {
	switch l := l.(type) {
	case *Bidirectional:
		if len(in) > 0 && len(in[0]) > 0 {
			return 2 * in[0][0]
		}
	case recurrentLayer: // SimpleRNN, LSTM, GRU
		if len(in) > 0 && len(in[0]) > 0 {
			return in[0][0]
		}
	case *TreeRNN, *TreeLSTM: // structure (levels, width, 1+children)
		if len(in) > 1 && len(in[1]) > 0 {
			return in[1][0]
		}
	case *TimeDistributed:
		if len(in) > 0 && len(in[0]) > 0 && l.Layer != nil {
			return unrolledSteps(l.Layer, []Shape{in[0][1:]})
		}
	}
	return 0
}

// checkWindows refuses a pooling window larger than its input: the
// pooling kernels visit (and allocate for) every tap of a window, and the
// taps beyond the input read only padding.
func checkWindows(what string, l Layer, in []Shape) error {
	if len(in) == 0 {
		return nil
	}
	var size []int
	switch p := l.(type) {
	case interface{ pool() pool2D }:
		c, err := p.pool().config()
		if err != nil {
			return nil // OutputShape has refused it already
		}
		size = c.Size[:]
	case interface{ pool() pool1D }:
		c, err := p.pool().config()
		if err != nil {
			return nil
		}
		size = []int{c.Size}
	case *TimeDistributed:
		if len(in[0]) > 0 && p.Layer != nil {
			return checkWindows(what, p.Layer, []Shape{in[0][1:]})
		}
	}
	for axis, k := range size {
		if axis < len(in[0]) && k > in[0][axis] {
			return refused("%s has a pooling window of %v for inputs of shape %v: Load refuses windows larger than their input", what, size, in[0])
		}
	}
	return nil
}

// checkWeights checks the declared weights' shapes and their total size.
func (b *budget) checkWeights(ws []*graph.Weight) error {
	total := 0
	for _, w := range ws {
		for _, d := range w.Shape {
			if d > b.lim.MaxDim {
				return overLimit("MaxDim", b.lim.MaxDim, "weight %q has shape %v", w.Name, w.Shape)
			}
			if d < 1 {
				return refused("weight %q has shape %v: dimensions must be positive", w.Name, w.Shape)
			}
		}
		n, ok := shapeSize(w.Shape, b.lim.MaxDim, b.lim.MaxParams-total)
		if !ok {
			return overLimit("MaxParams", b.lim.MaxParams, "weight %q of shape %v brings the model's weight values to more than %d", w.Name, w.Shape, b.lim.MaxParams)
		}
		total += n
	}
	return nil
}
