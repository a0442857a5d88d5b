package onnx

import (
	"strings"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// rnnConfig is what the exporter reads of SimpleRNN, LSTM and GRU.
type rnnConfig struct {
	op                              string // LSTM, GRU, RNN
	units                           int
	activation, recurrentActivation string
	noBias                          bool
	returnSequences, returnState    bool
	goBackwards                     bool
}

func rnnConfigOf(l keras.Layer) (rnnConfig, error) {
	switch l := l.(type) {
	case *keras.LSTM:
		return rnnConfig{"LSTM", l.Units, l.Activation, l.RecurrentActivation, l.NoBias, l.ReturnSequences, l.ReturnState, l.GoBackwards}, nil
	case *keras.GRU:
		return rnnConfig{"GRU", l.Units, l.Activation, l.RecurrentActivation, l.NoBias, l.ReturnSequences, l.ReturnState, l.GoBackwards}, nil
	case *keras.SimpleRNN:
		return rnnConfig{"RNN", l.Units, l.Activation, "", l.NoBias, l.ReturnSequences, l.ReturnState, l.GoBackwards}, nil
	}
	return rnnConfig{}, errors.Errorf("%s is not a recurrent layer", keras.ClassName(l))
}

var onnxActivations = map[string]string{"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softsign": "Softsign"}

// activations is the node's activations attribute for one direction.
func (c rnnConfig) activations() ([]string, error) {
	act, rec := strings.ToLower(c.activation), strings.ToLower(c.recurrentActivation)
	if act == "" {
		act = "tanh"
	}
	if rec == "" {
		rec = "sigmoid"
	}
	a, ok := onnxActivations[act]
	if !ok {
		return nil, errors.Errorf("activation %q has no ONNX recurrent counterpart", c.activation)
	}
	r, ok := onnxActivations[rec]
	if !ok {
		return nil, errors.Errorf("recurrent activation %q has no ONNX recurrent counterpart", c.recurrentActivation)
	}
	switch c.op {
	case "LSTM":
		return []string{r, a, a}, nil
	case "GRU":
		return []string{r, a}, nil
	}
	return []string{a}, nil
}

// rnnWeights converts a Keragon recurrent layer's kernel (F, G·H),
// recurrent_kernel (H, G·H) and bias to ONNX's W (G·H, F), R (G·H, H) and
// B (2·G·H): the inverse of convertRNN. prefix names the weights inside a
// Bidirectional ("forward_lstm/").
func rnnWeights(l keras.Layer, prefix, op string, F, H int) (W, R, B []float32, err error) {
	G := rnnKinds[op].gates
	k, rk, b := weight(l, prefix+"kernel"), weight(l, prefix+"recurrent_kernel"), weight(l, prefix+"bias")
	if len(k) != F*G*H || len(rk) != H*G*H {
		return nil, nil, nil, errors.Errorf("weights of %d and %d values, want %d and %d", len(k), len(rk), F*G*H, H*G*H)
	}
	block := func(g int) int {
		if op == "LSTM" {
			return lstmGate[g]
		}
		return g
	}
	W, R = make([]float32, G*H*F), make([]float32, G*H*H)
	for g := 0; g < G; g++ {
		ob := block(g)
		for j := 0; j < H; j++ {
			row, col := ob*H+j, g*H+j
			for f := 0; f < F; f++ {
				W[row*F+f] = k[f*G*H+col]
			}
			for i := 0; i < H; i++ {
				R[row*H+i] = rk[i*G*H+col]
			}
		}
	}
	if b == nil {
		return W, R, nil, nil
	}
	B = make([]float32, 2*G*H)
	if op == "GRU" {
		if len(b) != 2*G*H {
			return nil, nil, nil, errors.Errorf("bias of %d values, want %d", len(b), 2*G*H)
		}
		copy(B, b)
		return W, R, B, nil
	}
	if len(b) != G*H {
		return nil, nil, nil, errors.Errorf("bias of %d values, want %d", len(b), G*H)
	}
	for g := 0; g < G; g++ {
		ob := block(g)
		copy(B[ob*H:(ob+1)*H], b[g*H:(g+1)*H]) // the recurrent half stays 0
	}
	return W, R, B, nil
}

// recurrent exports SimpleRNN, LSTM and GRU: the sequence is transposed
// to ONNX's (steps, batch, features); the outputs are squeezed and
// transposed back.
func (e *exporter) recurrent(l keras.Layer, in []exported, x keras.Shape) ([]exported, error) {
	c, err := rnnConfigOf(l)
	if err != nil {
		return nil, err
	}
	if c.goBackwards && c.returnSequences {
		return nil, errors.New("GoBackwards with ReturnSequences has no ONNX export (ONNX returns a reverse sequence in input order)")
	}
	acts, err := c.activations()
	if err != nil {
		return nil, err
	}
	F, H := x[1], c.units
	W, R, B, err := rnnWeights(l, "", c.op, F, H)
	if err != nil {
		return nil, err
	}
	G := rnnKinds[c.op].gates
	inputs := []string{
		e.op("Transpose", []string{e.keras(in[0])}, "perm", []int{1, 0, 2}),
		e.floats(e.layer+"/W", []int{1, G * H, F}, W),
		e.floats(e.layer+"/R", []int{1, G * H, H}, R),
	}
	if B != nil {
		inputs = append(inputs, e.floats(e.layer+"/B", []int{1, 2 * G * H}, B))
	} else if len(in) > 1 {
		inputs = append(inputs, "")
	}
	if len(in) > 1 {
		inputs = append(inputs, "") // sequence_lens
		axis0 := e.ints(e.layer+"/axes", 0)
		for _, s := range in[1:] {
			inputs = append(inputs, e.op("Unsqueeze", []string{e.keras(s), axis0}))
		}
	}
	states := rnnKinds[c.op].states
	outs := []string{e.unique(e.layer + "/Y"), e.unique(e.layer + "/Y_h")}
	if states == 2 {
		outs = append(outs, e.unique(e.layer+"/Y_c"))
	}
	direction := "forward"
	if c.goBackwards {
		direction = "reverse"
	}
	attrs := []any{"activations", acts, "direction", direction, "hidden_size", H}
	if c.op == "GRU" {
		attrs = append(attrs, "linear_before_reset", 1)
	}
	e.node(c.op, inputs, outs, attrs...)
	one := e.ints(e.layer+"/axis1", 1)
	zero := e.ints(e.layer+"/axis0", 0)
	var result []exported
	if c.returnSequences {
		y := e.op("Squeeze", []string{outs[0], one})
		result = append(result, exported{name: e.op("Transpose", []string{y}, "perm", []int{1, 0, 2}), rank: 3})
	} else {
		result = append(result, exported{name: e.op("Squeeze", []string{outs[1], zero}), rank: 2})
	}
	if c.returnState {
		for _, s := range outs[1:] {
			result = append(result, exported{name: e.op("Squeeze", []string{s, zero}), rank: 2})
		}
	}
	return result, nil
}

// bidirectional exports Bidirectional with merge mode "concat": one ONNX
// node with direction "bidirectional". The output sequence (steps, 2,
// batch, H) becomes (batch, steps, 2·H); the last output is the two
// final states side by side.
func (e *exporter) bidirectional(l *keras.Bidirectional, in []exported, x keras.Shape) ([]exported, error) {
	if l.MergeMode != "" && l.MergeMode != "concat" {
		return nil, errors.Errorf("merge mode %q has no ONNX export (concat has)", l.MergeMode)
	}
	if len(in) > 1 {
		return nil, errors.New("initial states of a Bidirectional layer have no ONNX export")
	}
	c, err := rnnConfigOf(l.Layer)
	if err != nil {
		return nil, err
	}
	acts, err := c.activations()
	if err != nil {
		return nil, err
	}
	F, H := x[1], c.units
	G := rnnKinds[c.op].gates
	cls := map[string]string{"LSTM": "lstm", "GRU": "gru", "RNN": "simple_rnn"}[c.op]
	if n := configNameOf(l.Layer); n != "" {
		cls = n
	}
	var Ws, Rs, Bs []float32
	for _, dir := range []string{"forward_", "backward_"} {
		W, R, B, err := rnnWeights(l, dir+cls+"/", c.op, F, H)
		if err != nil {
			return nil, err
		}
		Ws, Rs, Bs = append(Ws, W...), append(Rs, R...), append(Bs, B...)
	}
	inputs := []string{
		e.op("Transpose", []string{e.keras(in[0])}, "perm", []int{1, 0, 2}),
		e.floats(e.layer+"/W", []int{2, G * H, F}, Ws),
		e.floats(e.layer+"/R", []int{2, G * H, H}, Rs),
	}
	if !c.noBias {
		inputs = append(inputs, e.floats(e.layer+"/B", []int{2, 2 * G * H}, Bs))
	}
	states := rnnKinds[c.op].states
	outs := []string{e.unique(e.layer + "/Y"), e.unique(e.layer + "/Y_h")}
	if states == 2 {
		outs = append(outs, e.unique(e.layer+"/Y_c"))
	}
	attrs := []any{"activations", append(acts, acts...), "direction", "bidirectional", "hidden_size", H}
	if c.op == "GRU" {
		attrs = append(attrs, "linear_before_reset", 1)
	}
	e.node(c.op, inputs, outs, attrs...)
	var result []exported
	if c.returnSequences {
		// (T, 2, N, H) → (N, T, 2, H) → (N, T, 2H).
		y := e.op("Transpose", []string{outs[0]}, "perm", []int{2, 0, 1, 3})
		shape := e.ints(e.layer+"/shape", 0, 0, -1)
		result = append(result, exported{name: e.op("Reshape", []string{y, shape}), rank: 3})
	} else {
		// (2, N, H) → (N, 2, H) → (N, 2H).
		h := e.op("Transpose", []string{outs[1]}, "perm", []int{1, 0, 2})
		shape := e.ints(e.layer+"/shape", 0, -1)
		result = append(result, exported{name: e.op("Reshape", []string{h, shape}), rank: 2})
	}
	if c.returnState {
		// Keragon's order: forward states, then backward states.
		for d := int64(0); d < 2; d++ {
			k := e.scalarInt(e.layer+"/direction", d)
			for _, s := range outs[1:] {
				result = append(result, exported{name: e.op("Gather", []string{s, k}, "axis", 0), rank: 2})
			}
		}
	}
	return result, nil
}

// scalarInt adds a scalar int64 initializer.
func (e *exporter) scalarInt(name string, v int64) string {
	name = e.unique(name)
	e.g.initializers = append(e.g.initializers, &tensorProto{name: name, dataType: dtInt64, ints: []int64{v}})
	return name
}

// configNameOf reads a layer's Name field.
func configNameOf(l keras.Layer) string {
	switch l := l.(type) {
	case *keras.LSTM:
		return l.Name
	case *keras.GRU:
		return l.Name
	case *keras.SimpleRNN:
		return l.Name
	}
	return ""
}
