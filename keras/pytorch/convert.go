package pytorch

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// getter reads a tensor of the state dict by its full name.
type getter func(name string) (*tensor.Dense, error)

// array is a tensor's values as float64 with its shape.
type array struct {
	shape []int
	v     []float64
}

func arrayOf(t *tensor.Dense) array {
	a := array{shape: []int(t.Shape())}
	switch d := t.Data().(type) {
	case []float32:
		a.v = make([]float64, len(d))
		for i, x := range d {
			a.v[i] = float64(x)
		}
	case []float64:
		a.v = d
	}
	return a
}

// want checks an array's shape.
func (a array) want(name string, shape ...int) error {
	if len(a.shape) != len(shape) {
		return errors.Errorf("%s has shape %v, want %v", name, a.shape, shape)
	}
	for i := range shape {
		if shape[i] >= 0 && a.shape[i] != shape[i] {
			return errors.Errorf("%s has shape %v, want %v", name, a.shape, shape)
		}
	}
	return nil
}

// dense makes a tensor of the model's dtype (that of like).
func dense(like *tensor.Dense, shape []int, v []float64) *tensor.Dense {
	if like.Dtype() == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// load reads the module's parameters and returns the layer's weights by
// short name ("kernel"), in Keragon's layouts.
func (mod *module) load(get getter) (map[string]*tensor.Dense, error) {
	out := map[string]*tensor.Dense{}
	p := mod.torch + "."
	read := func(name string) (array, *tensor.Dense, error) {
		t, err := get(p + name)
		if err != nil {
			return array{}, nil, err
		}
		return arrayOf(t), t, nil
	}
	if mod.index != 0 {
		switch mod.layer.(type) {
		case *keras.LSTM, *keras.GRU, *keras.SimpleRNN, *keras.Bidirectional:
		default:
			return nil, errors.Errorf("a layer index (%q:%d) applies to recurrent modules only", mod.torch, mod.index)
		}
	}
	switch l := mod.layer.(type) {
	case *keras.Dense:
		w, like, err := read("weight")
		if err != nil {
			return nil, err
		}
		if err := w.want(p+"weight", -1, -1); err != nil {
			return nil, err
		}
		M, K := w.shape[0], w.shape[1]
		if mod.inputPerm != nil && len(mod.inputPerm) != K {
			return nil, errors.Errorf("%sweight has %d inputs; the layer reads a flattened image of %d values", p, K, len(mod.inputPerm))
		}
		k := make([]float64, K*M)
		for i := 0; i < K; i++ {
			row := i
			if mod.inputPerm != nil {
				row = mod.inputPerm[i]
			}
			for m := 0; m < M; m++ {
				k[row*M+m] = w.v[m*K+i]
			}
		}
		out["kernel"] = dense(like, []int{K, M}, k)
		if !l.NoBias {
			if err := copyParam(out, "bias", p+"bias", get); err != nil {
				return nil, err
			}
		}
	case *keras.Conv2D, *keras.Conv1D, *keras.DepthwiseConv2D:
		w, like, err := read("weight")
		if err != nil {
			return nil, err
		}
		if len(w.shape) < 3 {
			return nil, errors.Errorf("%sweight has shape %v, not a convolution's", p, w.shape)
		}
		M, C := w.shape[0], w.shape[1]
		taps := 1
		for _, d := range w.shape[2:] {
			taps *= d
		}
		depthwise := false
		if _, ok := l.(*keras.DepthwiseConv2D); ok {
			depthwise = true
			if C != 1 {
				return nil, errors.Errorf("%sweight has shape %v; a depthwise convolution (groups = channels) has 1 input channel per group", p, w.shape)
			}
		}
		k := make([]float64, len(w.v))
		for m := 0; m < M; m++ {
			for c := 0; c < C; c++ {
				for t := 0; t < taps; t++ {
					k[(t*C+c)*M+m] = w.v[(m*C+c)*taps+t]
				}
			}
		}
		// (taps, C, M); a depthwise kernel is (taps, channels, mult) with
		// PyTorch's out channel m = channel·mult + q: the same values.
		shape := append(append([]int(nil), w.shape[2:]...), C, M)
		if depthwise {
			mult := 1
			if dw := l.(*keras.DepthwiseConv2D); dw.DepthMultiplier > 0 {
				mult = dw.DepthMultiplier
			}
			if M%mult != 0 {
				return nil, errors.Errorf("%sweight has %d filters, not a multiple of the depth multiplier %d", p, M, mult)
			}
			shape = append(append([]int(nil), w.shape[2:]...), M/mult, mult)
		}
		out["kernel"] = dense(like, shape, k)
		if !hasNoBias(l) {
			if err := copyParam(out, "bias", p+"bias", get); err != nil {
				return nil, err
			}
		}
	case *keras.BatchNormalization:
		for short, torch := range map[string]string{"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"} {
			if (short == "gamma" && l.NoScale) || (short == "beta" && l.NoCenter) {
				continue
			}
			if err := copyParam(out, short, p+torch, get); err != nil {
				return nil, err
			}
			if perm := mod.inputPerm; perm != nil {
				a := arrayOf(out[short])
				if len(a.v) != len(perm) {
					return nil, errors.Errorf("%s%s has %d values; the layer normalises a flattened image of %d", p, torch, len(a.v), len(perm))
				}
				v := make([]float64, len(perm))
				for j, k := range perm {
					v[k] = a.v[j]
				}
				out[short] = dense(out[short], a.shape, v)
			}
		}
	case *keras.LayerNormalization:
		for short, torch := range map[string]string{"gamma": "weight", "beta": "bias"} {
			if (short == "gamma" && l.NoScale) || (short == "beta" && l.NoCenter) {
				continue
			}
			if err := copyParam(out, short, p+torch, get); err != nil {
				return nil, err
			}
		}
	case *keras.Embedding:
		if err := copyParam(out, "embeddings", p+"weight", get); err != nil {
			return nil, err
		}
	case *keras.LSTM, *keras.GRU, *keras.SimpleRNN:
		if err := loadRNN(out, "", l, p, fmt.Sprintf("_l%d", mod.index), get); err != nil {
			return nil, err
		}
	case *keras.Bidirectional:
		inner := innerName(l.Layer)
		for _, d := range []struct{ prefix, suffix string }{{"forward_", ""}, {"backward_", "_reverse"}} {
			if err := loadRNN(out, d.prefix+inner+"/", l.Layer, p, fmt.Sprintf("_l%d%s", mod.index, d.suffix), get); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errors.Errorf("layer class %s has no PyTorch counterpart here", keras.ClassName(l))
	}
	return out, nil
}

func hasNoBias(l keras.Layer) bool {
	switch l := l.(type) {
	case *keras.Conv2D:
		return l.NoBias
	case *keras.Conv1D:
		return l.NoBias
	case *keras.DepthwiseConv2D:
		return l.NoBias
	}
	return false
}

// copyParam reads a parameter whose layout PyTorch and Keragon share.
func copyParam(out map[string]*tensor.Dense, short, name string, get getter) error {
	t, err := get(name)
	if err != nil {
		return err
	}
	out[short] = t
	return nil
}

// innerName is the name Bidirectional gives its wrapped layer.
func innerName(l keras.Layer) string {
	switch l := l.(type) {
	case *keras.LSTM:
		if l.Name != "" {
			return l.Name
		}
		return "lstm"
	case *keras.GRU:
		if l.Name != "" {
			return l.Name
		}
		return "gru"
	case *keras.SimpleRNN:
		if l.Name != "" {
			return l.Name
		}
		return "simple_rnn"
	}
	return ""
}

// rnnShape returns a recurrent layer's gate count, units and bias use.
func rnnShape(l keras.Layer) (op string, gates, units int, noBias bool) {
	switch l := l.(type) {
	case *keras.LSTM:
		return "LSTM", 4, l.Units, l.NoBias
	case *keras.GRU:
		return "GRU", 3, l.Units, l.NoBias
	case *keras.SimpleRNN:
		return "RNN", 1, l.Units, l.NoBias
	}
	return "", 0, 0, false
}

// torchBlock maps Keragon's gate g to PyTorch's block: GRU's z and r are
// swapped (PyTorch r, z, n; Keragon z, r, h); LSTM and RNN agree.
func torchBlock(op string, g int) int {
	if op == "GRU" && g < 2 {
		return 1 - g
	}
	return g
}

func loadRNN(out map[string]*tensor.Dense, prefix string, l keras.Layer, p, suffix string, get getter) error {
	op, G, H, noBias := rnnShape(l)
	wt, err := get(p + "weight_ih" + suffix)
	if err != nil {
		return err
	}
	w := arrayOf(wt)
	if err := w.want(p+"weight_ih"+suffix, G*H, -1); err != nil {
		return err
	}
	F := w.shape[1]
	rt, err := get(p + "weight_hh" + suffix)
	if err != nil {
		return err
	}
	r := arrayOf(rt)
	if err := r.want(p+"weight_hh"+suffix, G*H, H); err != nil {
		return err
	}
	k, rk := make([]float64, F*G*H), make([]float64, H*G*H)
	for g := 0; g < G; g++ {
		tb := torchBlock(op, g)
		for j := 0; j < H; j++ {
			row, col := tb*H+j, g*H+j
			for f := 0; f < F; f++ {
				k[f*G*H+col] = w.v[row*F+f]
			}
			for i := 0; i < H; i++ {
				rk[i*G*H+col] = r.v[row*H+i]
			}
		}
	}
	out[prefix+"kernel"] = dense(wt, []int{F, G * H}, k)
	out[prefix+"recurrent_kernel"] = dense(wt, []int{H, G * H}, rk)
	if noBias {
		return nil
	}
	var bs [2]array
	for i, name := range []string{"bias_ih", "bias_hh"} {
		t, err := get(p + name + suffix)
		if err != nil {
			return err
		}
		bs[i] = arrayOf(t)
		if err := bs[i].want(p+name+suffix, G*H); err != nil {
			return err
		}
	}
	reorder := func(v []float64) []float64 {
		o := make([]float64, G*H)
		for g := 0; g < G; g++ {
			copy(o[g*H:(g+1)*H], v[torchBlock(op, g)*H:])
		}
		return o
	}
	ih, hh := reorder(bs[0].v), reorder(bs[1].v)
	if op == "GRU" {
		out[prefix+"bias"] = dense(wt, []int{2, G * H}, append(ih, hh...))
		return nil
	}
	for i := range ih {
		ih[i] += hh[i]
	}
	out[prefix+"bias"] = dense(wt, []int{G * H}, ih)
	return nil
}

// save converts the layer's weights (by short name) to the module's
// parameters.
func (mod *module) save(vals map[string][]float32) ([]safetensors.Tensor, error) {
	p := mod.torch + "."
	var out []safetensors.Tensor
	put := func(name string, shape []int, v []float32) {
		out = append(out, safetensors.Float32s(p+name, shape, v))
	}
	shapeOf := func(short string) []int {
		for _, w := range weightsOf(mod.layer) {
			if w.Name == mod.layerName+"/"+short {
				return w.Shape
			}
		}
		return nil
	}
	switch l := mod.layer.(type) {
	case *keras.Dense:
		ks := shapeOf("kernel")
		K, M := ks[0], ks[1]
		k := vals["kernel"]
		w := make([]float32, M*K)
		for i := 0; i < K; i++ {
			row := i
			if mod.inputPerm != nil {
				row = mod.inputPerm[i]
			}
			for m := 0; m < M; m++ {
				w[m*K+i] = k[row*M+m]
			}
		}
		put("weight", []int{M, K}, w)
		if b, ok := vals["bias"]; ok {
			put("bias", []int{M}, b)
		}
	case *keras.Conv2D, *keras.Conv1D, *keras.DepthwiseConv2D:
		ks := shapeOf("kernel")
		n := len(ks)
		C, M := ks[n-2], ks[n-1]
		spatial := ks[:n-2]
		taps := 1
		for _, d := range spatial {
			taps *= d
		}
		k := vals["kernel"]
		w := make([]float32, len(k))
		shape := append([]int{M, C}, spatial...)
		if _, ok := l.(*keras.DepthwiseConv2D); ok {
			// (taps, channels, mult) → (channels·mult, 1, k…): filter
			// c·mult + q convolves channel c.
			C, M = 1, C*M
			shape = append([]int{M, 1}, spatial...)
		}
		for m := 0; m < M; m++ {
			for c := 0; c < C; c++ {
				for t := 0; t < taps; t++ {
					w[(m*C+c)*taps+t] = k[(t*C+c)*M+m]
				}
			}
		}
		put("weight", shape, w)
		if b, ok := vals["bias"]; ok {
			put("bias", []int{len(b)}, b)
		}
	case *keras.BatchNormalization:
		for short, torch := range map[string]string{"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"} {
			v, ok := vals[short]
			if !ok {
				continue
			}
			if perm := mod.inputPerm; perm != nil && len(perm) == len(v) {
				w := make([]float32, len(v))
				for j, k := range perm {
					w[j] = v[k]
				}
				v = w
			}
			put(torch, []int{len(v)}, v)
		}
		var zero [8]byte
		binary.LittleEndian.PutUint64(zero[:], 0)
		out = append(out, safetensors.Tensor{Name: p + "num_batches_tracked", Dtype: "I64", Shape: []int{}, Data: zero[:]})
	case *keras.LayerNormalization:
		for short, torch := range map[string]string{"gamma": "weight", "beta": "bias"} {
			if v, ok := vals[short]; ok {
				put(torch, []int{len(v)}, v)
			}
		}
	case *keras.Embedding:
		put("weight", shapeOf("embeddings"), vals["embeddings"])
	case *keras.LSTM, *keras.GRU, *keras.SimpleRNN:
		ts, err := saveRNN(vals, "", l, p, fmt.Sprintf("_l%d", mod.index), shapeOf("kernel"))
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	case *keras.Bidirectional:
		inner := innerName(l.Layer)
		for _, d := range []struct{ prefix, suffix string }{{"forward_", ""}, {"backward_", "_reverse"}} {
			ts, err := saveRNN(vals, d.prefix+inner+"/", l.Layer, p, fmt.Sprintf("_l%d%s", mod.index, d.suffix), shapeOf(d.prefix+inner+"/kernel"))
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
		}
	default:
		return nil, errors.Errorf("layer class %s has no PyTorch counterpart here", keras.ClassName(l))
	}
	return out, nil
}

func saveRNN(vals map[string][]float32, prefix string, l keras.Layer, p, suffix string, kshape []int) ([]safetensors.Tensor, error) {
	op, G, H, noBias := rnnShape(l)
	if len(kshape) != 2 {
		return nil, errors.Errorf("no kernel for %s", strings.TrimSuffix(prefix, "/"))
	}
	F := kshape[0]
	k, rk := vals[prefix+"kernel"], vals[prefix+"recurrent_kernel"]
	w, r := make([]float32, G*H*F), make([]float32, G*H*H)
	for g := 0; g < G; g++ {
		tb := torchBlock(op, g)
		for j := 0; j < H; j++ {
			row, col := tb*H+j, g*H+j
			for f := 0; f < F; f++ {
				w[row*F+f] = k[f*G*H+col]
			}
			for i := 0; i < H; i++ {
				r[row*H+i] = rk[i*G*H+col]
			}
		}
	}
	out := []safetensors.Tensor{
		safetensors.Float32s(p+"weight_ih"+suffix, []int{G * H, F}, w),
		safetensors.Float32s(p+"weight_hh"+suffix, []int{G * H, H}, r),
	}
	if noBias {
		return out, nil
	}
	b := vals[prefix+"bias"]
	ih, hh := make([]float32, G*H), make([]float32, G*H)
	for g := 0; g < G; g++ {
		tb := torchBlock(op, g)
		copy(ih[tb*H:(tb+1)*H], b[g*H:(g+1)*H])
		if op == "GRU" {
			copy(hh[tb*H:(tb+1)*H], b[G*H+g*H:G*H+(g+1)*H])
		}
	}
	return append(out,
		safetensors.Float32s(p+"bias_ih"+suffix, []int{G * H}, ih),
		safetensors.Float32s(p+"bias_hh"+suffix, []int{G * H}, hh)), nil
}
