package onnx

import (
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// window is the geometry of a Conv or pooling node.
type window struct {
	kernel, strides, dilations []int
	pads                       []int // begins, then ends, as ONNX orders them
	spatial                    []int // input sizes
}

// readWindow reads kernel_shape, strides, dilations, pads and auto_pad.
func readWindow(n *nodeProto, kernel []int, spatial []int) (window, error) {
	s := len(spatial)
	w := window{kernel: kernel, spatial: spatial}
	ints := func(name string, def int) ([]int, error) {
		v, err := attrInts(n, name)
		if err != nil {
			return nil, err
		}
		if v == nil {
			out := make([]int, s)
			for i := range out {
				out[i] = def
			}
			return out, nil
		}
		if len(v) != s {
			return nil, errors.Errorf("%s %v needs %d numbers", name, v, s)
		}
		out := make([]int, s)
		for i, x := range v {
			if x < 1 || x > MaxDim {
				return nil, errors.Errorf("%s %v must be positive", name, v)
			}
			out[i] = int(x)
		}
		return out, nil
	}
	var err error
	if w.strides, err = ints("strides", 1); err != nil {
		return w, err
	}
	if w.dilations, err = ints("dilations", 1); err != nil {
		return w, err
	}
	ks, err := attrInts(n, "kernel_shape")
	if err != nil {
		return w, err
	}
	if ks != nil {
		if len(ks) != s {
			return w, errors.Errorf("kernel_shape %v needs %d numbers", ks, s)
		}
		for i, k := range ks {
			if w.kernel != nil && int64(w.kernel[i]) != k {
				return w, errors.Errorf("kernel_shape %v differs from the weights' %v", ks, w.kernel)
			}
		}
		if w.kernel == nil {
			w.kernel = make([]int, s)
			for i, k := range ks {
				if k < 1 || k > MaxDim {
					return w, errors.Errorf("kernel_shape %v must be positive", ks)
				}
				w.kernel[i] = int(k)
			}
		}
	}
	if w.kernel == nil {
		return w, errors.New("needs kernel_shape")
	}
	autoPad, err := attrString(n, "auto_pad", "NOTSET")
	if err != nil {
		return w, err
	}
	pads, err := attrInts(n, "pads")
	if err != nil {
		return w, err
	}
	w.pads = make([]int, 2*s)
	switch autoPad {
	case "NOTSET", "":
		if pads != nil {
			if len(pads) != 2*s {
				return w, errors.Errorf("pads %v needs %d numbers", pads, 2*s)
			}
			for i, p := range pads {
				if p < 0 || p > MaxDim {
					return w, errors.Errorf("pads %v must not be negative", pads)
				}
				w.pads[i] = int(p)
			}
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i := range spatial {
			b, e := samePads(spatial[i], w.kernel[i], w.strides[i], w.dilations[i])
			if autoPad == "SAME_LOWER" {
				b, e = e, b
			}
			w.pads[i], w.pads[s+i] = b, e
		}
	default:
		return w, errors.Errorf("auto_pad %q is not supported", autoPad)
	}
	return w, nil
}

// samePads is TensorFlow's "same" padding of one axis: the odd one at
// the end.
func samePads(in, k, s, d int) (begin, end int) {
	out := (in + s - 1) / s
	total := max((out-1)*s+(k-1)*d+1-in, 0)
	return total / 2, total - total/2
}

// mode names the window's padding in Keragon's terms: "valid", "same", or
// "" when only explicit zero padding can give it.
func (w window) mode() string {
	zero, same := true, true
	s := len(w.spatial)
	for i := range w.spatial {
		b, e := samePads(w.spatial[i], w.kernel[i], w.strides[i], w.dilations[i])
		zero = zero && w.pads[i] == 0 && w.pads[s+i] == 0
		same = same && w.pads[i] == b && w.pads[s+i] == e
	}
	switch {
	case zero:
		return "valid"
	case same:
		return "same"
	}
	return ""
}

// zeroPad applies ZeroPadding2D with the window's explicit pads and
// returns the new spatial sizes.
func (im *importer) zeroPad(t *keras.Tensor, w window, name string) (*keras.Tensor, error) {
	if len(w.spatial) != 2 {
		return nil, errors.Errorf("pads %v a 1-D input, which Keragon can pad only as \"same\" or \"causal\"", w.pads)
	}
	return im.apply1(&keras.ZeroPadding2D{Name: im.name(name + "_pad"), Padding: []int{w.pads[0], w.pads[2], w.pads[1], w.pads[3]}}, nil, t)
}

func convOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "X")
	if err != nil {
		return nil, err
	}
	wc, err := constArg(n, in, 1, "W")
	if err != nil {
		return nil, err
	}
	var bc *constant
	if len(in) > 2 && in[2] != nil {
		if bc, err = constArg(n, in, 2, "B"); err != nil {
			return nil, err
		}
	}
	if !x.tensorLike() {
		return nil, errors.Errorf("input X %v must be a computed tensor", x)
	}
	r := len(x.axes)
	if r != 3 && r != 4 {
		return nil, errors.Errorf("convolves a rank-%d input; Keragon has 1-D and 2-D convolutions", r)
	}
	if len(wc.shape) != r || wc.isInt {
		return nil, errors.Errorf("W has shape %v, want rank %d", wc.shape, r)
	}
	t, err := im.need(x, nchw(r), "a convolution (NCHW)")
	if err != nil {
		return nil, err
	}
	d := x.dims()
	C, M := d[1], wc.shape[0]
	w, err := readWindow(n, wc.shape[2:], d[2:])
	if err != nil {
		return nil, err
	}
	group, err := attrInt(n, "group", 1)
	if err != nil {
		return nil, err
	}
	if group < 1 || int64(C)%group != 0 || int64(M)%group != 0 || int64(wc.shape[1]) != int64(C)/group {
		return nil, errors.Errorf("group %d does not fit %d input channels, W of shape %v", group, C, wc.shape)
	}
	if bc != nil && (bc.isInt || bc.size() != M) {
		return nil, errors.Errorf("B has shape %v, want (%d)", bc.shape, M)
	}
	depthwise := group > 1
	if depthwise && (group != int64(C) || r != 4) {
		return nil, errors.Errorf("group %d: Keragon has dense (group 1) and depthwise 2-D (group = channels) convolutions", group)
	}
	padding := w.mode()
	if padding == "" {
		if r == 3 && w.pads[1] == 0 && w.pads[0] == (w.kernel[0]-1)*w.dilations[0] {
			padding = "causal"
		} else if t, err = im.zeroPad(t, w, n.name); err != nil {
			return nil, err
		} else {
			padding = "valid"
		}
	}
	key := im.sharedKey(n, x, padding)
	if l := im.shared[key]; l != nil {
		y, err := im.apply1(l, nil, t)
		if err != nil {
			return nil, err
		}
		return []*value{{t: y, axes: nchw(r)}}, nil
	}
	ws := map[string]*tensor.Dense{}
	if bc != nil {
		ws["bias"] = dense([]int{M}, append([]float32(nil), bc.floats...))
	}
	var l keras.Layer
	W := wc.floats
	switch {
	case r == 3:
		k := w.kernel[0]
		kernel := make([]float32, k*C*M)
		for m := 0; m < M; m++ {
			for c := 0; c < C; c++ {
				for i := 0; i < k; i++ {
					kernel[(i*C+c)*M+m] = W[(m*C+c)*k+i]
				}
			}
		}
		ws["kernel"] = dense([]int{k, C, M}, kernel)
		l = &keras.Conv1D{Name: im.name(n.name), Filters: M, KernelSize: k, Strides: w.strides[0],
			DilationRate: w.dilations[0], Padding: padding, NoBias: bc == nil}
	case depthwise:
		kh, kw, mult := w.kernel[0], w.kernel[1], M/C
		kernel := make([]float32, kh*kw*C*mult)
		for c := 0; c < C; c++ {
			for q := 0; q < mult; q++ {
				for i := 0; i < kh; i++ {
					for j := 0; j < kw; j++ {
						kernel[((i*kw+j)*C+c)*mult+q] = W[((c*mult+q)*kh+i)*kw+j]
					}
				}
			}
		}
		ws["kernel"] = dense([]int{kh, kw, C, mult}, kernel)
		l = &keras.DepthwiseConv2D{Name: im.name(n.name), KernelSize: w.kernel, DepthMultiplier: mult,
			Strides: w.strides, DilationRate: w.dilations, Padding: padding, NoBias: bc == nil}
	default:
		kh, kw := w.kernel[0], w.kernel[1]
		kernel := make([]float32, kh*kw*C*M)
		for m := 0; m < M; m++ {
			for c := 0; c < C; c++ {
				for i := 0; i < kh; i++ {
					for j := 0; j < kw; j++ {
						kernel[((i*kw+j)*C+c)*M+m] = W[((m*C+c)*kh+i)*kw+j]
					}
				}
			}
		}
		ws["kernel"] = dense([]int{kh, kw, C, M}, kernel)
		l = &keras.Conv2D{Name: im.name(n.name), Filters: M, KernelSize: w.kernel, Strides: w.strides,
			DilationRate: w.dilations, Padding: padding, NoBias: bc == nil}
	}
	y, err := im.apply1(l, ws, t)
	if err != nil {
		return nil, err
	}
	out := &value{t: y, axes: nchw(r), prod: &produced{layer: l}}
	if key != "" {
		im.shared[key], out.prod = l, nil
	}
	return []*value{out}, nil
}

func poolOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	avg := n.opType == "AveragePool"
	allowed := []string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides", "storage_order"}
	if avg {
		allowed = append(allowed, "count_include_pad")
	}
	if err := only(n, allowed...); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "X")
	if err != nil {
		return nil, err
	}
	if !x.tensorLike() {
		return nil, errors.Errorf("input X %v must be a computed tensor", x)
	}
	r := len(x.axes)
	if r != 3 && r != 4 {
		return nil, errors.Errorf("pools a rank-%d input; Keragon has 1-D and 2-D pooling", r)
	}
	t, err := im.need(x, nchw(r), "pooling (NCHW)")
	if err != nil {
		return nil, err
	}
	d := x.dims()
	w, err := readWindow(n, nil, d[2:])
	if err != nil {
		return nil, err
	}
	for _, dl := range w.dilations {
		if dl != 1 {
			return nil, errors.Errorf("dilations %v are not supported in pooling", w.dilations)
		}
	}
	ceil, err := attrInt(n, "ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	s := len(w.spatial)
	if ceil != 0 {
		for i, in := range w.spatial {
			span := in + w.pads[i] + w.pads[s+i] - w.kernel[i]
			if span%w.strides[i] != 0 {
				return nil, errors.New("ceil_mode 1 changes the output size here; Keragon pools with floor")
			}
		}
	}
	countPad, err := attrInt(n, "count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	padding := w.mode()
	if padding == "same" && avg && countPad != 0 {
		padding = "" // Keragon's "same" average leaves the padding out
	}
	if padding == "" {
		switch {
		case avg && countPad != 0, !avg && x.nonneg:
			// Zeros are what ONNX averages in, and never win a max over
			// values >= 0.
			if t, err = im.zeroPad(t, w, n.name); err != nil {
				return nil, err
			}
			padding = "valid"
		default:
			return nil, errors.Errorf("pads %v, which Keragon's pooling cannot express (only \"valid\" and \"same\")", w.pads)
		}
	}
	var l keras.Layer
	name := im.name(n.name)
	switch {
	case r == 3 && avg:
		l = &keras.AveragePooling1D{Name: name, PoolSize: w.kernel[0], Strides: w.strides[0], Padding: padding}
	case r == 3:
		l = &keras.MaxPooling1D{Name: name, PoolSize: w.kernel[0], Strides: w.strides[0], Padding: padding}
	case avg:
		l = &keras.AveragePooling2D{Name: name, PoolSize: w.kernel, Strides: w.strides, Padding: padding}
	default:
		l = &keras.MaxPooling2D{Name: name, PoolSize: w.kernel, Strides: w.strides, Padding: padding}
	}
	y, err := im.apply1(l, nil, t)
	if err != nil {
		return nil, err
	}
	return []*value{{t: y, axes: nchw(r), nonneg: x.nonneg}}, nil
}

func globalPoolOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "X")
	if err != nil {
		return nil, err
	}
	if !x.tensorLike() {
		return nil, errors.Errorf("input X %v must be a computed tensor", x)
	}
	r := len(x.axes)
	if r != 3 && r != 4 {
		return nil, errors.Errorf("pools a rank-%d input; Keragon has 1-D and 2-D global pooling", r)
	}
	t, err := im.need(x, nchw(r), "global pooling (NCHW)")
	if err != nil {
		return nil, err
	}
	name := im.name(n.name)
	var l keras.Layer
	switch {
	case n.opType == "GlobalAveragePool" && r == 4:
		l = &keras.GlobalAveragePooling2D{Name: name}
	case n.opType == "GlobalAveragePool":
		l = &keras.GlobalAveragePooling1D{Name: name}
	case r == 4:
		l = &keras.GlobalMaxPooling2D{Name: name}
	default:
		l = &keras.GlobalMaxPooling1D{Name: name}
	}
	y, err := im.apply1(l, nil, t)
	if err != nil {
		return nil, err
	}
	axes := []int{0, 1, -1, -1}[:r]
	return []*value{{t: y, axes: axes, nonneg: x.nonneg}}, nil
}

// padOp imports a constant zero Pad of the spatial axes of an NCHW image
// as ZeroPadding2D.
func padOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "mode", "pads", "value"); err != nil {
		return nil, err
	}
	x, err := arg(n, in, 0, "data")
	if err != nil {
		return nil, err
	}
	mode, err := attrString(n, "mode", "constant")
	if err != nil {
		return nil, err
	}
	if mode != "constant" {
		return nil, errors.Errorf("mode %q is not supported (only constant zeros)", mode)
	}
	var pads []int64
	fillValue := 0.0
	if im.opset < 11 {
		if pads, err = attrInts(n, "pads"); err != nil {
			return nil, err
		}
		if fillValue, err = attrFloat(n, "value", 0); err != nil {
			return nil, err
		}
	} else {
		c, err := constArg(n, in, 1, "pads")
		if err != nil {
			return nil, err
		}
		if pads, err = c.intList(); err != nil {
			return nil, err
		}
		if len(in) > 2 && in[2] != nil {
			if in[2].c == nil {
				return nil, errors.New("constant_value must be a constant")
			}
			var ok bool
			if fillValue, ok = in[2].c.scalar(); !ok {
				return nil, errors.New("constant_value must be one number")
			}
		}
		if len(in) > 3 && in[3] != nil {
			return nil, errors.New("the axes input is not supported")
		}
	}
	if fillValue != 0 {
		return nil, errors.Errorf("pads with %v; Keragon pads with zeros", fillValue)
	}
	if !x.tensorLike() || len(x.axes) != 4 || len(pads) != 8 {
		return nil, errors.Errorf("pads %v by %v; Keragon pads the height and width of NCHW images", x, pads)
	}
	for i, p := range pads {
		if p < 0 || p > MaxDim || ((i%4 == 0 || i%4 == 1) && p != 0) {
			return nil, errors.Errorf("pads %v: only non-negative padding of height and width is supported", pads)
		}
	}
	if pads[2] == 0 && pads[3] == 0 && pads[6] == 0 && pads[7] == 0 {
		return []*value{x}, nil
	}
	t, err := im.need(x, nchw(4), "padding (NCHW)")
	if err != nil {
		return nil, err
	}
	y, err := im.apply1(&keras.ZeroPadding2D{Name: im.name(n.name), Padding: []int{int(pads[2]), int(pads[6]), int(pads[3]), int(pads[7])}}, nil, t)
	if err != nil {
		return nil, err
	}
	return []*value{{t: y, axes: nchw(4), nonneg: x.nonneg}}, nil
}
