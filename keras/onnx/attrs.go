package onnx

import (
	"github.com/pkg/errors"
)

// attrOf returns a node's attribute, nil when absent.
func attrOf(n *nodeProto, name string) *attribute {
	for _, a := range n.attrs {
		if a.name == name {
			return a
		}
	}
	return nil
}

// checkType checks an attribute's declared type (0, undeclared, passes).
func checkType(a *attribute, typ int32) error {
	if a.refAttr != "" {
		return errors.Errorf("attribute %q refers to a function attribute, which Keragon does not resolve", a.name)
	}
	if a.typ != 0 && a.typ != typ {
		return errors.Errorf("attribute %q has type %d, want %d", a.name, a.typ, typ)
	}
	return nil
}

func attrInt(n *nodeProto, name string, def int64) (int64, error) {
	a := attrOf(n, name)
	if a == nil {
		return def, nil
	}
	return a.i, checkType(a, typInt)
}

func attrFloat(n *nodeProto, name string, def float64) (float64, error) {
	a := attrOf(n, name)
	if a == nil {
		return def, nil
	}
	return float64(a.f), checkType(a, typFloat)
}

func attrInts(n *nodeProto, name string) ([]int64, error) {
	a := attrOf(n, name)
	if a == nil {
		return nil, nil
	}
	return a.ints, checkType(a, typInts)
}

func attrString(n *nodeProto, name, def string) (string, error) {
	a := attrOf(n, name)
	if a == nil {
		return def, nil
	}
	if err := checkType(a, typString); err != nil {
		return "", err
	}
	s, err := text("attribute "+name, a.s)
	return s, err
}

func attrStrings(n *nodeProto, name string) ([]string, error) {
	a := attrOf(n, name)
	if a == nil {
		return nil, nil
	}
	if err := checkType(a, typStrings); err != nil {
		return nil, err
	}
	out := make([]string, len(a.strings))
	for i, b := range a.strings {
		s, err := text("attribute "+name, b)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// only rejects attributes a handler does not read, so that an attribute
// that changes the meaning of a node is never ignored silently.
func only(n *nodeProto, names ...string) error {
	for _, a := range n.attrs {
		ok := false
		for _, s := range names {
			ok = ok || a.name == s
		}
		if !ok {
			return errors.Errorf("attribute %q is not supported", a.name)
		}
	}
	return nil
}

// normAxis resolves a possibly negative axis of a rank-r tensor.
func normAxis(axis int64, r int) (int, error) {
	if axis < 0 {
		axis += int64(r)
	}
	if axis < 0 || axis >= int64(r) {
		return 0, errors.Errorf("axis %d is out of range for rank %d", axis, r)
	}
	return int(axis), nil
}
