package onnx

import (
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// handler imports one node: it gets the node's input values (nil for an
// absent optional input) and returns its output values (nil for outputs
// Keragon does not compute, which must then be unused).
type handler func(im *importer, n *nodeProto, in []*value) ([]*value, error)

var handlers = map[string]handler{
	"Identity":           identityOp,
	"Constant":           constantOp,
	"Shape":              shapeOp,
	"Gather":             gatherOp,
	"Unsqueeze":          unsqueezeOp,
	"Squeeze":            squeezeOp,
	"Concat":             concatOp,
	"ConstantOfShape":    constantOfShapeOp,
	"Cast":               castOp,
	"Reshape":            reshapeOp,
	"Flatten":            flattenOp,
	"Transpose":          transposeOp,
	"Add":                arithmeticOp,
	"Sub":                arithmeticOp,
	"Mul":                arithmeticOp,
	"Div":                arithmeticOp,
	"Max":                extremumOp,
	"Min":                extremumOp,
	"Mean":               extremumOp,
	"Gemm":               gemmOp,
	"MatMul":             matMulOp,
	"BatchNormalization": batchNormOp,
	"LayerNormalization": layerNormOp,
	"Dropout":            dropoutOp,
	"Conv":               convOp,
	"MaxPool":            poolOp,
	"AveragePool":        poolOp,
	"GlobalAveragePool":  globalPoolOp,
	"GlobalMaxPool":      globalPoolOp,
	"Pad":                padOp,
	"LSTM":               recurrentOp,
	"GRU":                recurrentOp,
	"RNN":                recurrentOp,
	"Relu":               activationOp,
	"Sigmoid":            activationOp,
	"Tanh":               activationOp,
	"Softplus":           activationOp,
	"Softsign":           activationOp,
	"Elu":                activationOp,
	"Selu":               activationOp,
	"LeakyRelu":          activationOp,
	"HardSigmoid":        activationOp,
	"Gelu":               activationOp,
	"Exp":                activationOp,
	"Mish":               activationOp,
	"Clip":               activationOp,
	"Softmax":            activationOp,
	"LogSoftmax":         activationOp,
}

// SupportedOps lists the ONNX operators Import reads.
func SupportedOps() []string {
	ops := make([]string, 0, len(handlers))
	for k := range handlers {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	return ops
}

// apply imports one node.
func (im *importer) apply(n *nodeProto) error {
	if n.domain != "" && n.domain != "ai.onnx" {
		return errors.Errorf("operator domain %q is not supported", n.domain)
	}
	for _, a := range n.attrs {
		if a.graph {
			return errors.Errorf("attribute %q holds a subgraph; control flow is not supported", a.name)
		}
	}
	h, ok := handlers[n.opType]
	if !ok {
		return errors.Errorf("op %s is not supported (supported: %s)", n.opType, strings.Join(SupportedOps(), ", "))
	}
	ins := make([]*value, len(n.inputs))
	for i, name := range n.inputs {
		if name == "" {
			continue
		}
		v, ok := im.vals[name]
		if !ok {
			return errors.Errorf("input %q is computed by no earlier node (the graph must be sorted)", name)
		}
		ins[i] = v
	}
	outs, err := h(im, n, ins)
	if err != nil {
		return err
	}
	for i, name := range n.outputs {
		if name == "" {
			continue
		}
		if i >= len(outs) || outs[i] == nil {
			if im.uses[name] > 0 {
				return errors.Errorf("output %d (%q) is used, but Keragon does not compute it", i, name)
			}
			continue
		}
		if _, dup := im.vals[name]; dup {
			return errors.Errorf("value %q is computed twice", name)
		}
		v := *outs[i]
		v.name = name
		im.vals[name] = &v
	}
	return nil
}

// arg returns input i, or an error naming what it is for.
func arg(n *nodeProto, in []*value, i int, what string) (*value, error) {
	if i >= len(in) || in[i] == nil {
		return nil, errors.Errorf("needs input %d (%s)", i, what)
	}
	return in[i], nil
}

// constArg returns input i as a constant.
func constArg(n *nodeProto, in []*value, i int, what string) (*constant, error) {
	v, err := arg(n, in, i, what)
	if err != nil {
		return nil, err
	}
	if v.c == nil {
		return nil, errors.Errorf("input %d (%s, %q) must be a constant (an initializer or a Constant node)", i, what, v.name)
	}
	return v.c, nil
}
