package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The encoder of the same subset of onnx.proto: each message is appended
// to a byte slice, fields in field-number order.

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendVarint(b []byte, num protowire.Number, x int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(x))
}

func appendPackedInts(b []byte, num protowire.Number, xs []int64) []byte {
	if len(xs) == 0 {
		return b
	}
	var p []byte
	for _, x := range xs {
		p = protowire.AppendVarint(p, uint64(x))
	}
	return appendMessage(b, num, p)
}

func (m *modelProto) encode() []byte {
	var b []byte
	b = appendVarint(b, 1, m.irVersion)
	b = appendString(b, 2, m.producerName)
	b = appendString(b, 3, m.producerVersion)
	b = appendString(b, 6, m.docString)
	b = appendMessage(b, 7, m.graph.encode())
	for _, o := range m.opsets {
		var ob []byte
		ob = appendString(ob, 1, o.domain)
		ob = appendVarint(ob, 2, o.version)
		b = appendMessage(b, 8, ob)
	}
	return b
}

func (g *graphProto) encode() []byte {
	var b []byte
	for _, n := range g.nodes {
		b = appendMessage(b, 1, n.encode())
	}
	b = appendString(b, 2, g.name)
	for _, t := range g.initializers {
		b = appendMessage(b, 5, t.encode())
	}
	for _, v := range g.inputs {
		b = appendMessage(b, 11, v.encode())
	}
	for _, v := range g.outputs {
		b = appendMessage(b, 12, v.encode())
	}
	return b
}

func (n *nodeProto) encode() []byte {
	var b []byte
	for _, s := range n.inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range n.outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.opType)
	for _, a := range n.attrs {
		b = appendMessage(b, 5, a.encode())
	}
	b = appendString(b, 7, n.domain)
	return b
}

func (a *attribute) encode() []byte {
	var b []byte
	b = appendString(b, 1, a.name)
	switch a.typ {
	case typFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case typInt:
		b = appendVarint(b, 3, a.i)
	case typString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, a.s)
	case typTensor:
		b = appendMessage(b, 5, a.t.encode())
	case typFloats:
		p := make([]byte, 0, 4*len(a.floats))
		for _, f := range a.floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMessage(b, 7, p)
	case typInts:
		b = appendPackedInts(b, 8, a.ints)
	case typStrings:
		for _, s := range a.strings {
			b = protowire.AppendTag(b, 9, protowire.BytesType)
			b = protowire.AppendBytes(b, s)
		}
	}
	if a.graph {
		b = appendMessage(b, 6, nil) // an empty subgraph, for tests
	}
	b = appendVarint(b, 20, int64(a.typ))
	return b
}

// encode writes the tensor's data as raw_data (little-endian), as
// PyTorch's exporter does.
func (t *tensorProto) encode() []byte {
	var b []byte
	b = appendPackedInts(b, 1, t.dims)
	b = appendVarint(b, 2, int64(t.dataType))
	b = appendString(b, 8, t.name)
	var raw []byte
	switch t.dataType {
	case dtFloat:
		raw = make([]byte, 4*len(t.floats))
		for i, f := range t.floats {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
	case dtDouble:
		raw = make([]byte, 8*len(t.doubles))
		for i, f := range t.doubles {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(f))
		}
	case dtInt64:
		raw = make([]byte, 8*len(t.ints))
		for i, x := range t.ints {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
		}
	case dtBool:
		raw = make([]byte, len(t.ints))
		for i, x := range t.ints {
			if x != 0 {
				raw[i] = 1
			}
		}
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

func (v *valueInfo) encode() []byte {
	var b []byte
	b = appendString(b, 1, v.name)
	var shape []byte
	for _, d := range v.dims {
		var db []byte
		if d.known {
			db = appendVarint(db, 1, d.value)
		} else {
			db = appendString(db, 2, d.param)
		}
		shape = appendMessage(shape, 1, db)
	}
	var tt []byte
	tt = appendVarint(tt, 1, int64(v.elemType))
	tt = appendMessage(tt, 2, shape)
	var typ []byte
	typ = appendMessage(typ, 1, tt)
	return appendMessage(b, 2, typ)
}
