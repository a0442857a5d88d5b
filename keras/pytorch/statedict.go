// Package pytorch moves weights between Keragon models and PyTorch state
// dicts saved in the safetensors format
// (safetensors.torch.save_file(model.state_dict(), path)).
//
// # Overview
//
// A state dict names parameters by module: "fc1.weight", "fc1.bias",
// "lstm.weight_ih_l0". LoadStateDict copies them into the Keragon layers
// an explicit map names, converting PyTorch's layouts to Keragon's;
// SaveStateDict writes Keragon's weights back in PyTorch's naming and
// layouts, so that model.load_state_dict reads them:
//
//	err := pytorch.LoadStateDict(model, "mnist.safetensors", map[string]string{
//		"conv1": "conv2d", "bn1": "batch_normalization", "fc": "dense",
//	})
//
// The conversions, PyTorch module → Keragon layer:
//
//	Linear       → Dense: weight (out, in) is kernelᵀ; after a Flatten of
//	               an image the input features are reordered from
//	               PyTorch's (C, H, W) to Keragon's (H, W, C) (and so are
//	               a BatchNorm1d's parameters there)
//	Conv2d       → Conv2D: weight (out, in, kh, kw) → kernel (kh, kw, in, out);
//	               with groups = in channels → DepthwiseConv2D
//	Conv1d       → Conv1D: weight (out, in, k) → kernel (k, in, out)
//	BatchNorm1d/2d → BatchNormalization: weight, bias, running_mean,
//	               running_var → gamma, beta, moving_mean, moving_variance
//	               (num_batches_tracked is ignored; Save writes 0)
//	LayerNorm    → LayerNormalization: weight, bias → gamma, beta
//	Embedding    → Embedding: weight → embeddings
//	LSTM         → LSTM: same gate order (i, f, g, o); weight_ih_l0 is
//	               kernelᵀ, weight_hh_l0 recurrent_kernelᵀ, bias_ih_l0 +
//	               bias_hh_l0 the bias (Save writes the bias as bias_ih
//	               and zeros as bias_hh)
//	GRU          → GRU: PyTorch's gates r, z, n are Keragon's z, r, h with
//	               the first two blocks swapped; bias_ih and bias_hh are
//	               the rows of Keragon's (2, 3·units) bias
//	RNN          → SimpleRNN: as LSTM with one gate
//	bidirectional LSTM/GRU/RNN → Bidirectional: the "_reverse"
//	               parameters are the backward layer's
//
// Stacked PyTorch RNNs (num_layers > 1) map layer by layer: the key
// "lstm:1" names the parameters "lstm.*_l1" of the module "lstm".
//
// Hyperparameters are not in a state dict: build the Keragon model to
// match (BatchNormalization's Epsilon is 1e-3 in Keras, 1e-5 in PyTorch;
// PyTorch's momentum 0.1 is Keras' 0.9).
package pytorch

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/internal/safetensors"
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// LoadStateDict reads a PyTorch state dict saved as safetensors into m's
// weights. names maps each PyTorch module ("fc1", the prefix of
// "fc1.weight") to the Keragon layer that takes its parameters ("dense");
// nil maps every layer of m to the module of the same name. Every tensor
// of the file must belong to a mapped module, and every mapped layer must
// find all its parameters with the right shapes; on any error no weight
// is changed.
func LoadStateDict(m *keras.Model, path string, names map[string]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return errors.Wrap(err, "pytorch: LoadStateDict")
	}
	return errors.WithMessagef(DecodeStateDict(m, data, names), "pytorch: LoadStateDict %s", path)
}

// DecodeStateDict is LoadStateDict on the file's bytes.
func DecodeStateDict(m *keras.Model, data []byte, names map[string]string) error {
	f, err := safetensors.Decode(data)
	if err != nil {
		return errors.WithMessage(err, "pytorch")
	}
	mods, err := resolve(m, names)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	get := func(name string) (*tensor.Dense, error) {
		st, ok := f.Tensor(name)
		if !ok {
			return nil, errors.Errorf("the file has no tensor %q", name)
		}
		used[name] = true
		return floatTensor(st, m.Dtype())
	}
	// Convert everything first, then set: an error changes nothing.
	type assignment struct {
		w *graph.Weight
		v *tensor.Dense
	}
	var todo []assignment
	for _, mod := range mods {
		vals, err := mod.load(get)
		if err != nil {
			return errors.WithMessagef(err, "pytorch: module %q → layer %q (%s)", mod.torch, mod.layerName, keras.ClassName(mod.layer))
		}
		for _, w := range weightsOf(mod.layer) {
			short := strings.TrimPrefix(w.Name, mod.layerName+"/")
			v, ok := vals[short]
			if !ok {
				return errors.Errorf("pytorch: module %q gives layer %q no %s", mod.torch, mod.layerName, short)
			}
			if !v.Shape().Eq(tensor.Shape(w.Shape)) {
				return errors.Errorf("pytorch: module %q gives %s the shape %v, the layer has %v", mod.torch, w.Name, v.Shape(), w.Shape)
			}
			todo = append(todo, assignment{w, v})
		}
	}
	var extra []string
	for _, st := range f.Tensors {
		if !used[st.Name] && !strings.HasSuffix(st.Name, ".num_batches_tracked") {
			extra = append(extra, st.Name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return errors.Errorf("pytorch: the file has tensors no mapped module takes: %s", strings.Join(extra, ", "))
	}
	for _, a := range todo {
		if err := a.w.Set(a.v); err != nil {
			return errors.WithMessage(err, "pytorch")
		}
	}
	return nil
}

// SaveStateDict writes m's weights to path as a PyTorch state dict in
// safetensors, named by names (PyTorch module → Keragon layer, as for
// LoadStateDict; nil names each module after its layer). Layers left out
// of the map are not written. The model's weights are initialised first
// if they are not yet.
func SaveStateDict(m *keras.Model, path string, names map[string]string) error {
	var b bytes.Buffer
	if err := EncodeStateDict(m, &b, names); err != nil {
		return errors.WithMessagef(err, "pytorch: SaveStateDict %s", path)
	}
	return errors.Wrapf(os.WriteFile(path, b.Bytes(), 0o644), "pytorch: SaveStateDict %s", path)
}

// EncodeStateDict is SaveStateDict to a writer.
func EncodeStateDict(m *keras.Model, w io.Writer, names map[string]string) error {
	for _, wt := range m.Weights() {
		if wt.Value == nil {
			if _, err := m.Program(graph.Key{Mode: graph.Predict, Batch: 1}); err != nil {
				return errors.WithMessage(err, "pytorch: initialising the weights")
			}
			break
		}
	}
	mods, err := resolve(m, names)
	if err != nil {
		return err
	}
	var out []safetensors.Tensor
	for _, mod := range mods {
		vals := map[string][]float32{}
		for _, wt := range weightsOf(mod.layer) {
			v, err := float32s(wt.Value)
			if err != nil {
				return errors.WithMessagef(err, "pytorch: %s", wt.Name)
			}
			vals[strings.TrimPrefix(wt.Name, mod.layerName+"/")] = v
		}
		ts, err := mod.save(vals)
		if err != nil {
			return errors.WithMessagef(err, "pytorch: layer %q (%s) → module %q", mod.layerName, keras.ClassName(mod.layer), mod.torch)
		}
		out = append(out, ts...)
	}
	return errors.WithMessage(safetensors.Encode(w, out, nil), "pytorch")
}

// module is one entry of the name map, resolved.
type module struct {
	torch     string // PyTorch module name
	index     int    // layer of a stacked RNN
	layer     keras.Layer
	layerName string
	// inputPerm reorders a Dense layer's input features (after a Flatten
	// of an image): Keragon feature perm[j] is PyTorch feature j.
	inputPerm []int
}

// resolve checks the name map against the model.
func resolve(m *keras.Model, names map[string]string) ([]*module, error) {
	if m == nil {
		return nil, errors.New("pytorch: nil model")
	}
	if err := m.Err(); err != nil {
		return nil, err
	}
	if names == nil {
		names = map[string]string{}
		for _, l := range m.Layers() {
			if len(weightsOf(l)) > 0 {
				n := l.(named).LayerName()
				names[n] = n
			}
		}
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	perms, err := flattenedInputs(m)
	if err != nil {
		return nil, err
	}
	taken := map[string]string{}
	var mods []*module
	for _, k := range keys {
		ln := names[k]
		l, err := m.Layer(ln)
		if err != nil {
			return nil, errors.WithMessagef(err, "pytorch: module %q", k)
		}
		if prev, dup := taken[ln]; dup {
			return nil, errors.Errorf("pytorch: modules %q and %q both map to layer %q", prev, k, ln)
		}
		taken[ln] = k
		mod := &module{torch: k, layer: l, layerName: ln, inputPerm: perms[l]}
		if i := strings.LastIndexByte(k, ':'); i >= 0 {
			n, err := strconv.Atoi(k[i+1:])
			if err != nil || n < 0 {
				return nil, errors.Errorf("pytorch: module key %q: want name:layer-index", k)
			}
			mod.torch, mod.index = k[:i], n
		}
		mods = append(mods, mod)
	}
	return mods, nil
}

type named interface{ LayerName() string }

// weightsOf returns a layer's weights (every layer embeds keras.Base).
func weightsOf(l keras.Layer) []*graph.Weight {
	if wl, ok := l.(interface{ Weights() []*graph.Weight }); ok {
		return wl.Weights()
	}
	return nil
}

// flattenedInputs finds the Dense and BatchNormalization layers that read
// a flattened image (through Flatten, and any Dropout, activation or
// BatchNormalization in between) and returns for each the order of its
// input features: PyTorch flattens (C, H, W), Keragon (H, W, C).
func flattenedInputs(m *keras.Model) (map[keras.Layer][]int, error) {
	perms := map[keras.Layer][]int{}
	seen := map[*keras.Tensor]bool{}
	stack := m.Outputs()
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[t] {
			continue
		}
		seen[t] = true
		ins := t.Inputs()
		stack = append(stack, ins...)
		l := t.Layer()
		switch l.(type) {
		case *keras.Dense:
		case *keras.BatchNormalization:
			if len(t.Shape()) != 1 {
				continue // per channel, not per feature
			}
		default:
			continue
		}
		if len(ins) != 1 {
			continue
		}
		src := ins[0]
	walk:
		for {
			switch src.Layer().(type) {
			case *keras.Dropout, *keras.Activation, *keras.LeakyReLU, *keras.BatchNormalization:
				src = src.Inputs()[0]
			default:
				break walk
			}
		}
		var p []int
		if _, isFlatten := src.Layer().(*keras.Flatten); isFlatten && channelsFirstInTorch(src.Inputs()[0]) {
			p = chwToHWC(src.Inputs()[0].Shape())
		}
		if old, applied := perms[l]; applied && fmt.Sprint(old) != fmt.Sprint(p) {
			return nil, errors.Errorf("pytorch: layer %q reads inputs flattened in different orders", l.(named).LayerName())
		}
		perms[l] = p
	}
	return perms, nil
}

// channelsFirstInTorch reports whether PyTorch holds t channels first:
// images (height, width, channels) always, sequences (steps, channels)
// when a 1-D convolution or pooling made them (not a recurrent layer).
func channelsFirstInTorch(t *keras.Tensor) bool {
	switch len(t.Shape()) {
	case 3:
		return true
	case 2:
	default:
		return false
	}
	for {
		switch t.Layer().(type) {
		case *keras.Conv1D, *keras.MaxPooling1D, *keras.AveragePooling1D:
			return true
		case *keras.Dropout, *keras.Activation, *keras.LeakyReLU, *keras.BatchNormalization:
			t = t.Inputs()[0]
			continue
		}
		return false
	}
}

// chwToHWC maps PyTorch's flattened feature j (channels first) to
// Keragon's (channels last) for a sample of Keragon shape s (spatial…,
// channels).
func chwToHWC(s keras.Shape) []int {
	c := s[len(s)-1]
	spatial := s.Size() / c
	p := make([]int, s.Size())
	for ch := 0; ch < c; ch++ {
		for k := 0; k < spatial; k++ {
			p[ch*spatial+k] = k*c + ch
		}
	}
	return p
}

// floatTensor decodes an F32 or F64 safetensors tensor in the model's
// dtype.
func floatTensor(st safetensors.Tensor, dt tensor.Dtype) (*tensor.Dense, error) {
	shape := append([]int(nil), st.Shape...)
	var v64 []float64
	switch st.Dtype {
	case "F32":
		v, err := st.Float32s()
		if err != nil {
			return nil, err
		}
		if dt == tensor.Float32 {
			return tensor.New(tensor.WithShape(shapeOrScalar(shape)...), tensor.WithBacking(v)), nil
		}
		v64 = make([]float64, len(v))
		for i, x := range v {
			v64[i] = float64(x)
		}
	case "F64":
		v, err := st.Float64s()
		if err != nil {
			return nil, err
		}
		v64 = v
	default:
		return nil, errors.Errorf("tensor %q is %s; Keragon reads F32 and F64 (convert with .float())", st.Name, st.Dtype)
	}
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shapeOrScalar(shape)...), tensor.WithBacking(v64)), nil
	}
	v := make([]float32, len(v64))
	for i, x := range v64 {
		v[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shapeOrScalar(shape)...), tensor.WithBacking(v)), nil
}

func shapeOrScalar(s []int) []int {
	if len(s) == 0 {
		return []int{1}
	}
	return s
}

// float32s returns a weight's values as float32.
func float32s(t *tensor.Dense) ([]float32, error) {
	if t == nil {
		return nil, errors.New("has no value")
	}
	switch d := t.Data().(type) {
	case []float32:
		return d, nil
	case []float64:
		out := make([]float32, len(d))
		for i, x := range d {
			if math.Abs(x) > math.MaxFloat32 && !math.IsInf(x, 0) {
				return nil, errors.Errorf("value %v does not fit float32", x)
			}
			out[i] = float32(x)
		}
		return out, nil
	}
	return nil, errors.Errorf("has dtype %v", t.Dtype())
}
