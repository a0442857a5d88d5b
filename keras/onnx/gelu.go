package onnx

import (
	"math"

	"github.com/pkg/errors"
)

// fuseGelu finds the exact GELU that exporters before opset 20 spell out,
//
//	0.5 · x · (1 + erf(x / √2))
//
// (PyTorch: Div(x, √2) → Erf → Add(1) → Mul(x, ·) → Mul(0.5), or with the
// 0.5 applied to x first), and replaces each by one "Gelu" node. Other Erf
// nodes stay, and are reported as unsupported.
func fuseGelu(g *graphProto) ([]*nodeProto, error) {
	producer := map[string]*nodeProto{}
	consumers := map[string][]*nodeProto{}
	for _, n := range g.nodes {
		for _, o := range n.outputs {
			producer[o] = n
		}
		for _, in := range n.inputs {
			consumers[in] = append(consumers[in], n)
		}
	}
	for _, o := range g.outputs {
		consumers[o.name] = append(consumers[o.name], nil)
	}
	consts := map[string]float64{}
	for _, t := range g.initializers {
		if t.dataType == dtFloat && len(t.floats) == 1 {
			consts[t.name] = float64(t.floats[0])
		}
	}
	for _, n := range g.nodes {
		if n.opType == "Constant" && len(n.attrs) == 1 && len(n.outputs) == 1 {
			a := n.attrs[0]
			switch {
			case a.name == "value" && a.t != nil && len(a.t.floats) == 1:
				consts[n.outputs[0]] = float64(a.t.floats[0])
			case a.name == "value_float":
				consts[n.outputs[0]] = float64(a.f)
			}
		}
	}
	near := func(name string, want float64) bool {
		v, ok := consts[name]
		return ok && math.Abs(v-want) < 1e-6*math.Max(1, math.Abs(want))
	}
	// only returns the single reader of a value, nil if it has others.
	only := func(name string) *nodeProto {
		if cs := consumers[name]; len(cs) == 1 {
			return cs[0]
		}
		return nil
	}
	// other returns n's input other than name, if n has two inputs.
	other := func(n *nodeProto, name string) (string, bool) {
		if len(n.inputs) != 2 {
			return "", false
		}
		switch name {
		case n.inputs[0]:
			return n.inputs[1], true
		case n.inputs[1]:
			return n.inputs[0], true
		}
		return "", false
	}
	// single reports a node with exactly one output, as every node of
	// the pattern has (a corrupt file may have others).
	single := func(n *nodeProto) bool { return n != nil && len(n.outputs) == 1 }
	removed := map[*nodeProto]bool{}
	replace := map[*nodeProto]*nodeProto{}
	for _, erf := range g.nodes {
		if erf.opType != "Erf" || len(erf.inputs) != 1 || len(erf.outputs) != 1 {
			continue
		}
		scale := producer[erf.inputs[0]]
		if !single(scale) || only(erf.inputs[0]) != erf || len(scale.inputs) != 2 {
			continue
		}
		x := scale.inputs[0]
		switch {
		case scale.opType == "Div" && near(scale.inputs[1], math.Sqrt2):
		case scale.opType == "Mul" && near(scale.inputs[1], 1/math.Sqrt2):
		case scale.opType == "Mul" && near(scale.inputs[0], 1/math.Sqrt2):
			x = scale.inputs[1]
		default:
			continue
		}
		add := only(erf.outputs[0])
		if !single(add) || add.opType != "Add" {
			continue
		}
		if one, ok := other(add, erf.outputs[0]); !ok || !near(one, 1) {
			continue
		}
		m1 := only(add.outputs[0])
		if !single(m1) || m1.opType != "Mul" {
			continue
		}
		y, ok := other(m1, add.outputs[0])
		if !ok {
			continue
		}
		var last *nodeProto
		var half *nodeProto
		if y == x {
			// 0.5 applied after: Mul(Mul(x, 1+erf), 0.5).
			m2 := only(m1.outputs[0])
			if !single(m2) || m2.opType != "Mul" {
				continue
			}
			if c, ok := other(m2, m1.outputs[0]); !ok || !near(c, 0.5) {
				continue
			}
			last = m2
		} else {
			// 0.5 applied to x first: Mul(Mul(x, 0.5), 1+erf).
			half = producer[y]
			if !single(half) || half.opType != "Mul" || only(y) != m1 {
				continue
			}
			if c, ok := other(half, x); !ok || !near(c, 0.5) {
				continue
			}
			last = m1
		}
		fused := &nodeProto{inputs: []string{x}, outputs: []string{last.outputs[0]}, name: erf.name + "_gelu", opType: "Gelu"}
		for _, k := range []*nodeProto{scale, erf, add, m1, last, half} {
			if k != nil {
				removed[k] = true
			}
		}
		replace[last] = fused
	}
	if len(replace) == 0 {
		return g.nodes, nil
	}
	var out []*nodeProto
	for _, n := range g.nodes {
		if f, ok := replace[n]; ok {
			out = append(out, f)
			continue
		}
		if !removed[n] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("onnx: internal error fusing GELU")
	}
	return out, nil
}
