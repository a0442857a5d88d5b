package onnx

import (
	"strings"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// rnnRef marks a tensor as output out (0 the sequence Y, 1 the state
// Y_h, 2 the cell state Y_c, 3 the states Y_h of both directions read
// together) of recurrent node number node.
type rnnRef struct{ node, out int }

// rnnUsage is what the probe pass saw the graph read of a recurrent node.
type rnnUsage struct{ seq, h, c, merged bool }

func (im *importer) use(r *rnnRef) {
	u := im.usage[r.node]
	if u == nil {
		u = &rnnUsage{}
		im.usage[r.node] = u
	}
	switch r.out {
	case 0:
		u.seq = true
	case 1:
		u.h = true
	case 2:
		u.c = true
	default:
		u.merged = true
	}
}

// rnnKind describes LSTM, GRU and RNN: gates, activations per direction,
// the default activations and Keragon's layer.
type rnnKind struct {
	gates, acts int
	defaults    []string
	states      int
}

var rnnKinds = map[string]rnnKind{
	"LSTM": {gates: 4, acts: 3, defaults: []string{"Sigmoid", "Tanh", "Tanh"}, states: 2},
	"GRU":  {gates: 3, acts: 2, defaults: []string{"Sigmoid", "Tanh"}, states: 1},
	"RNN":  {gates: 1, acts: 1, defaults: []string{"Tanh"}, states: 1},
}

var rnnActivations = map[string]string{"Sigmoid": "sigmoid", "Tanh": "tanh", "Relu": "relu", "Softsign": "softsign"}

// recurrentOp imports LSTM, GRU and RNN as Keragon's LSTM, GRU and
// SimpleRNN (Bidirectional for direction "bidirectional"). ONNX's gate
// orders are LSTM i, o, f, c (Keragon: i, f, c, o), GRU z, r, h (the same)
// and the biases come as [input bias, recurrent bias].
func recurrentOp(im *importer, n *nodeProto, in []*value) ([]*value, error) {
	if err := only(n, "activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "input_forget", "layout", "linear_before_reset"); err != nil {
		return nil, err
	}
	kind := rnnKinds[n.opType]
	H64, err := attrInt(n, "hidden_size", 0)
	if err != nil {
		return nil, err
	}
	if H64 < 1 || H64 > MaxDim {
		return nil, errors.Errorf("hidden_size %d must be positive", H64)
	}
	H := int(H64)
	direction, err := attrString(n, "direction", "forward")
	if err != nil {
		return nil, err
	}
	dirs := 1
	switch direction {
	case "forward", "reverse":
	case "bidirectional":
		dirs = 2
	default:
		return nil, errors.Errorf("direction %q is not supported", direction)
	}
	layout, err := attrInt(n, "layout", 0)
	if err != nil || (layout != 0 && layout != 1) {
		return nil, errors.Errorf("layout %d is not supported", layout)
	}
	if attrOf(n, "clip") != nil {
		return nil, errors.New("clip is not supported")
	}
	if attrOf(n, "activation_alpha") != nil || attrOf(n, "activation_beta") != nil {
		return nil, errors.New("activation_alpha and activation_beta are not supported")
	}
	if f, err := attrInt(n, "input_forget", 0); err != nil || f != 0 {
		return nil, errors.New("input_forget is not supported")
	}
	if lbr, err := attrInt(n, "linear_before_reset", 0); err != nil || (n.opType == "GRU" && lbr != 1) {
		return nil, errors.New("GRU needs linear_before_reset 1 (PyTorch's and Keras' reset_after); Keragon's GRU has no other variant")
	}
	acts, err := attrStrings(n, "activations")
	if err != nil {
		return nil, err
	}
	if acts == nil {
		for d := 0; d < dirs; d++ {
			acts = append(acts, kind.defaults...)
		}
	}
	if len(acts) != kind.acts*dirs {
		return nil, errors.Errorf("activations %v: want %d", acts, kind.acts*dirs)
	}
	for i, a := range acts {
		if acts[i%kind.acts] != a {
			return nil, errors.Errorf("activations %v differ between directions", acts)
		}
		if _, ok := rnnActivations[a]; !ok {
			return nil, errors.Errorf("activation %q is not supported", a)
		}
	}
	activation, recurrentActivation := rnnActivations[acts[0]], ""
	if kind.acts > 1 {
		recurrentActivation, activation = rnnActivations[acts[0]], rnnActivations[acts[1]]
	}
	if kind.acts == 3 && acts[2] != acts[1] {
		return nil, errors.Errorf("activations %v: Keragon's LSTM uses one activation for the candidate and the output", acts)
	}

	x, err := arg(n, in, 0, "X")
	if err != nil {
		return nil, err
	}
	if !x.tensorLike() || len(x.axes) != 3 {
		return nil, errors.Errorf("X %v must be a computed rank-3 tensor", x)
	}
	xAxes := []int{1, 0, 2}
	if layout == 1 {
		xAxes = []int{0, 1, 2}
	}
	xt, err := im.need(x, xAxes, "a recurrent node")
	if err != nil {
		return nil, err
	}
	xs := xt.Shape()
	steps, F := xs[0], xs[1]
	G := kind.gates
	W, err := constArg(n, in, 1, "W")
	if err != nil {
		return nil, err
	}
	R, err := constArg(n, in, 2, "R")
	if err != nil {
		return nil, err
	}
	if !sameShape(W.shape, dirs, G*H, F) || W.isInt {
		return nil, errors.Errorf("W has shape %v, want (%d, %d, %d)", W.shape, dirs, G*H, F)
	}
	if !sameShape(R.shape, dirs, G*H, H) || R.isInt {
		return nil, errors.Errorf("R has shape %v, want (%d, %d, %d)", R.shape, dirs, G*H, H)
	}
	var B *constant
	if len(in) > 3 && in[3] != nil {
		if B, err = constArg(n, in, 3, "B"); err != nil {
			return nil, err
		}
		if !sameShape(B.shape, dirs, 2*G*H) || B.isInt {
			return nil, errors.Errorf("B has shape %v, want (%d, %d)", B.shape, dirs, 2*G*H)
		}
	}
	if len(in) > 4 && in[4] != nil {
		return nil, errors.New("sequence_lens is not supported (pad with a mask in Keragon instead)")
	}
	if len(in) > 7 && in[7] != nil && !zeroValue(in[7]) {
		return nil, errors.New("peephole weights P are not supported")
	}
	// Initial states: absent or zeros, or tensors of shape (dirs, batch, H).
	var states []*keras.Tensor
	for i := 5; i < 5+kind.states; i++ {
		if i >= len(in) || in[i] == nil || zeroValue(in[i]) {
			continue
		}
		if dirs != 1 {
			return nil, errors.New("initial states of a bidirectional node are not supported")
		}
		want := []int{-1, 0, 1}
		if layout == 1 {
			want = []int{0, -1, 1}
		}
		st, err := im.need(in[i], want, "an initial state")
		if err != nil {
			return nil, err
		}
		if !st.Shape().Equal(keras.Shape{H}) {
			return nil, errors.Errorf("initial state %q has shape %v, want (batch, %d)", in[i].name, st.Shape(), H)
		}
		states = append(states, st)
	}
	if len(states) != 0 && len(states) != kind.states {
		return nil, errors.New("gives some initial states and not others; give all or none")
	}

	// Which outputs the graph reads (all of them in the probe pass).
	u := &rnnUsage{seq: true, h: true, c: true}
	if !im.probe {
		if u = im.usage[im.node]; u == nil {
			u = &rnnUsage{}
		}
	}
	if direction == "reverse" && u.seq && !im.probe {
		return nil, errors.New("reads the output sequence Y of a reverse node, which Keragon returns in processing order; read Y_h instead")
	}
	if u.merged && u.seq && !im.probe {
		return nil, errors.New("reads both the output sequence and both final states together (Y_h transposed or reshaped); Keragon's Bidirectional returns one or the other")
	}
	returnSeq := u.seq
	returnState := (u.seq && (u.h || u.c)) || (!u.seq && kind.states == 2 && u.c) || (dirs == 2 && (u.h || u.c))

	ws := map[string]*tensor.Dense{}
	inner := func(d int, prefix string) (keras.Layer, error) {
		k, rk, b := convertRNN(n.opType, W, R, B, d, F, H)
		ws[prefix+"kernel"] = k
		ws[prefix+"recurrent_kernel"] = rk
		if b != nil {
			ws[prefix+"bias"] = b
		}
		name := ""
		if dirs == 1 {
			name = im.name(n.name)
		}
		back := direction == "reverse"
		switch n.opType {
		case "LSTM":
			return &keras.LSTM{Name: name, Units: H, Activation: activation, RecurrentActivation: recurrentActivation,
				NoBias: B == nil, ReturnSequences: returnSeq, ReturnState: returnState, GoBackwards: back}, nil
		case "GRU":
			return &keras.GRU{Name: name, Units: H, Activation: activation, RecurrentActivation: recurrentActivation,
				NoBias: B == nil, ReturnSequences: returnSeq, ReturnState: returnState, GoBackwards: back}, nil
		}
		return &keras.SimpleRNN{Name: name, Units: H, Activation: activation, NoBias: B == nil,
			ReturnSequences: returnSeq, ReturnState: returnState, GoBackwards: back}, nil
	}
	var l keras.Layer
	if dirs == 1 {
		if l, err = inner(0, ""); err != nil {
			return nil, err
		}
	} else {
		cls := strings.ToLower(n.opType)
		if cls == "rnn" {
			cls = "simple_rnn"
		}
		f, err := inner(0, "forward_"+cls+"/")
		if err != nil {
			return nil, err
		}
		if _, err := inner(1, "backward_"+cls+"/"); err != nil {
			return nil, err
		}
		switch f := f.(type) {
		case *keras.LSTM:
			f.Name = cls
		case *keras.GRU:
			f.Name = cls
		case *keras.SimpleRNN:
			f.Name = cls
		}
		l = &keras.Bidirectional{Name: im.name(n.name), Layer: f}
	}
	outs := keras.ApplyMulti(l, append([]*keras.Tensor{xt}, states...)...)
	if err := outs[0].Err(); err != nil {
		return nil, err
	}
	im.setLayer(l, ws)
	// The two final states side by side: Bidirectional's output without
	// ReturnSequences. The probe pass builds a copy for it.
	var merged *keras.Tensor
	switch {
	case dirs == 2 && im.probe:
		inner, _ := inner(0, "forward_probe/")
		ml := &keras.Bidirectional{Name: im.name(n.name + "_probe"), Layer: inner}
		setSequences(inner, false, false)
		if merged, err = im.apply1(ml, ws, xt); err != nil {
			return nil, err
		}
	case dirs == 2 && u.merged:
		merged = outs[0]
	}

	// Map Keragon's outputs to Y, Y_h, Y_c.
	ref := func(out int) *rnnRef { return &rnnRef{node: im.node, out: out} }
	stateAxes := []int{-1, 0, 1}
	dirAxis := 0
	if layout == 1 {
		stateAxes, dirAxis = []int{0, -1, 1}, 1
	}
	var seq, h, c *keras.Tensor
	var hs, cs []*keras.Tensor // per direction, bidirectional
	rest := outs[1:]
	if returnSeq {
		seq = outs[0]
	} else if dirs == 1 {
		h = outs[0]
	}
	if returnState {
		if dirs == 1 {
			h = rest[0]
			if kind.states == 2 {
				c = rest[1]
			}
		} else {
			for d := 0; d < 2; d++ {
				hs = append(hs, rest[d*kind.states])
				if kind.states == 2 {
					cs = append(cs, rest[d*kind.states+1])
				}
			}
		}
	}
	result := make([]*value, 3)
	var final *value
	if h != nil {
		final = &value{t: h, src: ref(1)}
		result[1] = &value{t: h, axes: stateAxes, src: ref(1)}
	}
	if c != nil {
		result[2] = &value{t: c, axes: stateAxes, src: ref(2)}
	}
	if merged != nil {
		// (batch, 2H) held as (batch, 2, H).
		mt, err := im.reshape(merged, []int{2, H}, n.name+"_states")
		if err != nil {
			return nil, err
		}
		axes := []int{1, 0, 2}
		if layout == 1 {
			axes = []int{0, 1, 2}
		}
		result[1] = &value{t: mt, axes: axes, src: ref(3)}
	}
	if dirs == 2 {
		for i, list := range [][]*keras.Tensor{hs, cs} {
			if len(list) == 0 {
				continue
			}
			v := &value{dirAxis: dirAxis}
			if i == 0 && result[1] != nil {
				v = result[1]
				v.dirAxis = dirAxis
			}
			for _, t := range list {
				v.dirs = append(v.dirs, &value{t: t, axes: []int{0, 1}, src: ref(i + 1)})
			}
			result[i+1] = v
		}
	}
	// Y: (steps, dirs, batch, H), or (batch, steps, dirs, H) with layout 1.
	yAxes, timeAxis := []int{1, -1, 0, 2}, 0
	if layout == 1 {
		yAxes, timeAxis = []int{0, 1, -1, 2}, 1
	}
	lastIdx := steps - 1
	if direction == "reverse" {
		lastIdx = 0
	}
	y := &value{axes: yAxes, src: ref(0), seq: &seqInfo{timeAxis: timeAxis, steps: steps, lastIdx: lastIdx, final: final}}
	switch {
	case seq != nil && dirs == 2:
		// (batch, steps, 2H) held as (batch, steps, 2, H).
		if y.t, err = im.reshape(seq, []int{steps, 2, H}, n.name); err != nil {
			return nil, err
		}
		y.axes = []int{1, 2, 0, 3}
		if layout == 1 {
			y.axes = []int{0, 1, 2, 3}
		}
		y.seq.final = nil
	case seq != nil:
		y.t = seq
	default:
		y.vshape = keras.Shape{steps, H}
	}
	result[0] = y
	return result, nil
}

func sameShape(s []int, want ...int) bool {
	if len(s) != len(want) {
		return false
	}
	for i := range s {
		if s[i] != want[i] {
			return false
		}
	}
	return true
}

// zeroValue reports whether a value is a constant or fill of zeros.
func zeroValue(v *value) bool {
	switch {
	case v.fill != nil:
		return v.fill.v == 0
	case v.c != nil:
		for _, x := range v.c.floats {
			if x != 0 {
				return false
			}
		}
		for _, x := range v.c.ints {
			if x != 0 {
				return false
			}
		}
		return true
	}
	return false
}

// lstmGate maps Keragon's LSTM gate (i, f, c, o) to ONNX's block (i, o,
// f, c).
var lstmGate = [4]int{0, 2, 3, 1}

// convertRNN converts direction d of ONNX W (dirs, G·H, F), R (dirs, G·H,
// H) and B (dirs, 2·G·H) to Keragon's kernel (F, G·H), recurrent_kernel
// (H, G·H) and bias.
func convertRNN(op string, W, R, B *constant, d, F, H int) (kernel, recurrent, bias *tensor.Dense) {
	G := rnnKinds[op].gates
	block := func(g int) int {
		if op == "LSTM" {
			return lstmGate[g]
		}
		return g
	}
	k := make([]float32, F*G*H)
	rk := make([]float32, H*G*H)
	w, r := W.floats[d*G*H*F:], R.floats[d*G*H*H:]
	for g := 0; g < G; g++ {
		ob := block(g)
		for j := 0; j < H; j++ {
			row := ob*H + j
			col := g*H + j
			for f := 0; f < F; f++ {
				k[f*G*H+col] = w[row*F+f]
			}
			for i := 0; i < H; i++ {
				rk[i*G*H+col] = r[row*H+i]
			}
		}
	}
	kernel, recurrent = dense([]int{F, G * H}, k), dense([]int{H, G * H}, rk)
	if B == nil {
		return kernel, recurrent, nil
	}
	b := B.floats[d*2*G*H:]
	if op == "GRU" {
		// Keragon's GRU bias is (2, 3H): input bias, recurrent bias.
		bb := make([]float32, 2*G*H)
		copy(bb, b[:2*G*H])
		return kernel, recurrent, dense([]int{2, G * H}, bb)
	}
	bb := make([]float32, G*H)
	for g := 0; g < G; g++ {
		ob := block(g)
		for j := 0; j < H; j++ {
			bb[g*H+j] = b[ob*H+j] + b[G*H+ob*H+j]
		}
	}
	return kernel, recurrent, dense([]int{G * H}, bb)
}

// setSequences sets ReturnSequences and ReturnState of a recurrent layer.
func setSequences(l keras.Layer, seq, state bool) {
	switch l := l.(type) {
	case *keras.LSTM:
		l.ReturnSequences, l.ReturnState = seq, state
	case *keras.GRU:
		l.ReturnSequences, l.ReturnState = seq, state
	case *keras.SimpleRNN:
		l.ReturnSequences, l.ReturnState = seq, state
	}
}
