package onnx

import (
	"encoding/binary"
	"math"
	"unicode/utf8"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/encoding/protowire"
)

// The subset of onnx.proto (ONNX IR version 8, proto2) that Keragon reads
// and writes, decoded by hand on protowire so that every length is checked
// against the bytes that remain and every count against the limits below
// before anything is allocated. Field numbers are onnx.proto's.

// Limits of the decoder. A file within them still allocates no more than
// a small multiple of its own size: every element of every array is read
// from bytes the file holds.
const (
	// MaxNodes bounds the nodes of the graph.
	MaxNodes = 1 << 16
	// MaxInitializers bounds the graph's initializers.
	MaxInitializers = 1 << 16
	// MaxAttributes bounds the attributes of all nodes together.
	MaxAttributes = 1 << 18
	// MaxNodeIO bounds the inputs and the outputs of one node.
	MaxNodeIO = 1 << 12
	// MaxRank bounds the rank of a tensor or of a graph input.
	MaxRank = 8
	// MaxDim bounds one dimension of a graph input or a tensor.
	MaxDim = 1 << 24
	// MaxInts bounds the integers of one attribute or int64 tensor.
	MaxInts = 1 << 16
)

// ONNX TensorProto.DataType values used here.
const (
	dtFloat  = 1
	dtInt32  = 6
	dtInt64  = 7
	dtBool   = 9
	dtDouble = 11
)

// ONNX AttributeProto.AttributeType values.
const (
	typFloat   = 1
	typInt     = 2
	typString  = 3
	typTensor  = 4
	typGraph   = 5
	typFloats  = 6
	typInts    = 7
	typStrings = 8
)

type modelProto struct {
	irVersion       int64
	opsets          []opsetID
	producerName    string
	producerVersion string
	docString       string
	graph           *graphProto
	functions       bool // the model defines local functions
	training        bool // the model has training_info
}

type opsetID struct {
	domain  string
	version int64
}

type graphProto struct {
	name         string
	nodes        []*nodeProto
	initializers []*tensorProto
	inputs       []*valueInfo
	outputs      []*valueInfo
	sparse       bool // sparse initializers, which Keragon does not read
}

type nodeProto struct {
	inputs, outputs []string
	name, opType    string
	domain          string
	attrs           []*attribute
}

type attribute struct {
	name    string
	typ     int32
	f       float32
	i       int64
	s       []byte
	t       *tensorProto
	floats  []float32
	ints    []int64
	strings [][]byte
	graph   bool   // holds a subgraph (g or graphs), not decoded
	refAttr string // a reference to a function's attribute
}

// tensorProto is a decoded tensor: its data is in exactly one of the
// slices, according to dataType, with numel(dims) elements (checked).
type tensorProto struct {
	name     string
	dims     []int64
	dataType int32
	floats   []float32
	doubles  []float64
	ints     []int64 // INT64, INT32 and BOOL data
	external bool
	segment  bool
}

type valueInfo struct {
	name     string
	elemType int32
	tensor   bool // the type is a tensor type
	shaped   bool // it has a shape
	dims     []dimension
}

type dimension struct {
	value int64
	param string
	known bool // value is set
}

// decoder counts what has been decoded against the limits.
type decoder struct {
	nodes, inits, attrs int
}

// fields calls f for each field of a message. v is the payload of a
// length-delimited field, x the value of a varint or fixed field.
func fields(b []byte, what string, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errors.Errorf("a field tag of %s is corrupt: %v", what, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.StartGroupType:
			n = protowire.ConsumeFieldValue(num, typ, b)
		default:
			return errors.Errorf("field %d of %s has the unknown wire type %d", num, what, typ)
		}
		if n < 0 {
			return errors.Errorf("field %d of %s is truncated or corrupt: %v", num, what, protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			continue // groups are not part of ONNX; skip them
		}
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// want checks a field's wire type.
func want(what string, num protowire.Number, got, wt protowire.Type) error {
	if got != wt {
		return errors.Errorf("field %d of %s has wire type %d, want %d", num, what, got, wt)
	}
	return nil
}

// text decodes a string field.
func text(what string, v []byte) (string, error) {
	if !utf8.Valid(v) {
		return "", errors.Errorf("%s is not valid UTF-8", what)
	}
	return string(v), nil
}

// varints decodes a repeated integer field: one varint, or a packed run.
// It counts the varints before allocating and fails past limit elements
// in all.
func varints(dst []int64, typ protowire.Type, v []byte, x uint64, limit int, what string) ([]int64, error) {
	if typ == protowire.VarintType {
		if len(dst) >= limit {
			return nil, errors.Errorf("%s has more than %d integers", what, limit)
		}
		return append(dst, int64(x)), nil
	}
	if typ != protowire.BytesType {
		return nil, errors.Errorf("%s has wire type %d, want a varint or a packed run", what, typ)
	}
	n := 0
	for _, c := range v {
		if c < 0x80 {
			n++
		}
	}
	if len(dst)+n > limit {
		return nil, errors.Errorf("%s has more than %d integers", what, limit)
	}
	if dst == nil {
		dst = make([]int64, 0, n)
	}
	for len(v) > 0 {
		u, k := protowire.ConsumeVarint(v)
		if k < 0 {
			return nil, errors.Errorf("%s: a packed integer is corrupt: %v", what, protowire.ParseError(k))
		}
		dst = append(dst, int64(u))
		v = v[k:]
	}
	return dst, nil
}

// float32s decodes a repeated float field: one fixed32, or a packed run.
func float32s(dst []float32, typ protowire.Type, v []byte, x uint64, what string) ([]float32, error) {
	if typ == protowire.Fixed32Type {
		return append(dst, math.Float32frombits(uint32(x))), nil
	}
	if typ != protowire.BytesType || len(v)%4 != 0 {
		return nil, errors.Errorf("%s: packed floats of %d bytes (wire type %d), want a multiple of 4", what, len(v), typ)
	}
	if dst == nil {
		dst = make([]float32, 0, len(v)/4)
	}
	for i := 0; i < len(v); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(v[i:])))
	}
	return dst, nil
}

// float64s decodes a repeated double field.
func float64s(dst []float64, typ protowire.Type, v []byte, x uint64, what string) ([]float64, error) {
	if typ == protowire.Fixed64Type {
		return append(dst, math.Float64frombits(x)), nil
	}
	if typ != protowire.BytesType || len(v)%8 != 0 {
		return nil, errors.Errorf("%s: packed doubles of %d bytes (wire type %d), want a multiple of 8", what, len(v), typ)
	}
	if dst == nil {
		dst = make([]float64, 0, len(v)/8)
	}
	for i := 0; i < len(v); i += 8 {
		dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(v[i:])))
	}
	return dst, nil
}

// decodeModel parses a ModelProto.
func decodeModel(b []byte) (*modelProto, error) {
	var d decoder
	m := &modelProto{}
	err := fields(b, "the model", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch num {
		case 1: // ir_version
			if err = want("the model", num, typ, protowire.VarintType); err == nil {
				m.irVersion = int64(x)
			}
		case 8: // opset_import
			if err = want("the model", num, typ, protowire.BytesType); err != nil {
				return err
			}
			if len(m.opsets) >= 64 {
				return errors.New("the model imports more than 64 operator sets")
			}
			var o opsetID
			err = fields(v, "an opset_import", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 1:
					if err := want("an opset_import", num, typ, protowire.BytesType); err != nil {
						return err
					}
					var err error
					o.domain, err = text("an opset domain", v)
					return err
				case 2:
					if err := want("an opset_import", num, typ, protowire.VarintType); err != nil {
						return err
					}
					o.version = int64(x)
				}
				return nil
			})
			m.opsets = append(m.opsets, o)
		case 2, 3, 6: // producer_name, producer_version, doc_string
			if err = want("the model", num, typ, protowire.BytesType); err != nil {
				return err
			}
			var s string
			if s, err = text("the model's producer or doc string", v); err != nil {
				return err
			}
			switch num {
			case 2:
				m.producerName = s
			case 3:
				m.producerVersion = s
			default:
				m.docString = s
			}
		case 7: // graph
			if err = want("the model", num, typ, protowire.BytesType); err != nil {
				return err
			}
			if m.graph != nil {
				return errors.New("the model has two graphs")
			}
			m.graph, err = d.graph(v)
		case 20:
			m.training = true
		case 25:
			m.functions = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if m.graph == nil {
		return nil, errors.New("the model has no graph (is this an ONNX file?)")
	}
	return m, nil
}

func (d *decoder) graph(b []byte) (*graphProto, error) {
	g := &graphProto{}
	err := fields(b, "the graph", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1, 2, 5, 11, 12:
			if err := want("the graph", num, typ, protowire.BytesType); err != nil {
				return err
			}
		}
		var err error
		switch num {
		case 1:
			if d.nodes++; d.nodes > MaxNodes {
				return errors.Errorf("the graph has more than %d nodes", MaxNodes)
			}
			var n *nodeProto
			if n, err = d.node(v); err == nil {
				g.nodes = append(g.nodes, n)
			}
		case 2:
			g.name, err = text("the graph name", v)
		case 5:
			if d.inits++; d.inits > MaxInitializers {
				return errors.Errorf("the graph has more than %d initializers", MaxInitializers)
			}
			var t *tensorProto
			if t, err = decodeTensor(v); err == nil {
				g.initializers = append(g.initializers, t)
			}
		case 11, 12:
			if len(g.inputs)+len(g.outputs) >= MaxNodeIO {
				return errors.Errorf("the graph has more than %d inputs and outputs", MaxNodeIO)
			}
			var vi *valueInfo
			if vi, err = decodeValueInfo(v); err != nil {
				return err
			}
			if num == 11 {
				g.inputs = append(g.inputs, vi)
			} else {
				g.outputs = append(g.outputs, vi)
			}
		case 15:
			g.sparse = true
		}
		return err
	})
	return g, err
}

func (d *decoder) node(b []byte) (*nodeProto, error) {
	n := &nodeProto{}
	err := fields(b, "a node", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1, 2, 3, 4, 5, 7:
			if err := want("a node", num, typ, protowire.BytesType); err != nil {
				return err
			}
		default:
			return nil
		}
		var err error
		switch num {
		case 1, 2:
			if len(n.inputs)+len(n.outputs) >= MaxNodeIO {
				return errors.Errorf("a node has more than %d inputs and outputs", MaxNodeIO)
			}
			var s string
			if s, err = text("a node input or output name", v); err != nil {
				return err
			}
			if num == 1 {
				n.inputs = append(n.inputs, s)
			} else {
				n.outputs = append(n.outputs, s)
			}
		case 3:
			n.name, err = text("a node name", v)
		case 4:
			n.opType, err = text("an op type", v)
		case 7:
			n.domain, err = text("a node domain", v)
		case 5:
			if d.attrs++; d.attrs > MaxAttributes {
				return errors.Errorf("the graph has more than %d attributes", MaxAttributes)
			}
			var a *attribute
			if a, err = decodeAttribute(v); err == nil {
				n.attrs = append(n.attrs, a)
			}
		}
		return err
	})
	if err != nil {
		if n.name != "" {
			return nil, errors.WithMessagef(err, "node %q", n.name)
		}
		return nil, err
	}
	return n, nil
}

func decodeAttribute(b []byte) (*attribute, error) {
	a := &attribute{}
	err := fields(b, "an attribute", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch num {
		case 1: // name
			if err = want("an attribute", num, typ, protowire.BytesType); err == nil {
				a.name, err = text("an attribute name", v)
			}
		case 21: // ref_attr_name
			if err = want("an attribute", num, typ, protowire.BytesType); err == nil {
				a.refAttr, err = text("an attribute reference", v)
			}
		case 20: // type
			if err = want("an attribute", num, typ, protowire.VarintType); err == nil {
				a.typ = int32(x)
			}
		case 2: // f
			if err = want("an attribute", num, typ, protowire.Fixed32Type); err == nil {
				a.f = math.Float32frombits(uint32(x))
			}
		case 3: // i
			if err = want("an attribute", num, typ, protowire.VarintType); err == nil {
				a.i = int64(x)
			}
		case 4: // s
			if err = want("an attribute", num, typ, protowire.BytesType); err == nil {
				a.s = v
			}
		case 5: // t
			if err = want("an attribute", num, typ, protowire.BytesType); err == nil {
				a.t, err = decodeTensor(v)
			}
		case 6, 11: // g, graphs
			a.graph = true
		case 7: // floats
			if len(a.floats)+len(v)/4 > MaxInts {
				return errors.Errorf("attribute %q has more than %d floats", a.name, MaxInts)
			}
			a.floats, err = float32s(a.floats, typ, v, x, "an attribute's floats")
		case 8: // ints
			a.ints, err = varints(a.ints, typ, v, x, MaxInts, "an attribute's ints")
		case 9: // strings
			if err = want("an attribute", num, typ, protowire.BytesType); err == nil {
				if len(a.strings) >= MaxNodeIO {
					return errors.Errorf("attribute %q has more than %d strings", a.name, MaxNodeIO)
				}
				a.strings = append(a.strings, v)
			}
		}
		return err
	})
	if err != nil {
		return nil, errors.WithMessagef(err, "attribute %q", a.name)
	}
	return a, nil
}
