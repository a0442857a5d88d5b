package onnx

import (
	"encoding/binary"
	"math"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/encoding/protowire"
)

// decodeTensor parses a TensorProto and checks that its data holds
// exactly the elements its dims call for.
func decodeTensor(b []byte) (*tensorProto, error) {
	t := &tensorProto{}
	var raw []byte
	var hasRaw bool
	var int32s []int64
	err := fields(b, "a tensor", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch num {
		case 1: // dims
			t.dims, err = varints(t.dims, typ, v, x, MaxRank, "a tensor's dims")
		case 2: // data_type
			if err = want("a tensor", num, typ, protowire.VarintType); err == nil {
				t.dataType = int32(x)
			}
		case 3: // segment
			t.segment = true
		case 4: // float_data
			t.floats, err = float32s(t.floats, typ, v, x, "float_data")
		case 5: // int32_data
			int32s, err = varints(int32s, typ, v, x, MaxInts, "int32_data")
		case 7: // int64_data
			t.ints, err = varints(t.ints, typ, v, x, MaxInts, "int64_data")
		case 8: // name
			if err = want("a tensor", num, typ, protowire.BytesType); err == nil {
				t.name, err = text("a tensor name", v)
			}
		case 9: // raw_data
			if err = want("a tensor", num, typ, protowire.BytesType); err == nil {
				raw, hasRaw = v, true
			}
		case 10: // double_data
			t.doubles, err = float64s(t.doubles, typ, v, x, "double_data")
		case 13: // external_data
			t.external = true
		case 14: // data_location
			if err = want("a tensor", num, typ, protowire.VarintType); err == nil && x == 1 {
				t.external = true
			}
		case 6, 11:
			return errors.Errorf("tensor data of field %d (strings or uint64) is not supported", num)
		}
		return err
	})
	if err != nil {
		if t.name != "" {
			return nil, errors.WithMessagef(err, "tensor %q", t.name)
		}
		return nil, err
	}
	if t.external {
		return nil, errors.Errorf("tensor %q keeps its data in an external file, which Keragon does not read (save the model with its data inside)", t.name)
	}
	if t.segment {
		return nil, errors.Errorf("tensor %q is split in segments, which Keragon does not read", t.name)
	}
	n := int64(1)
	for _, d := range t.dims {
		if d < 0 || d > MaxDim {
			return nil, errors.Errorf("tensor %q has dims %v: each must be in [0, %d]", t.name, t.dims, MaxDim)
		}
		n *= d
		if n > math.MaxInt32 {
			return nil, errors.Errorf("tensor %q has dims %v: too many elements", t.name, t.dims)
		}
	}
	size := map[int32]int64{dtFloat: 4, dtDouble: 8, dtInt64: 8, dtInt32: 4, dtBool: 1}[t.dataType]
	if size == 0 {
		return nil, errors.Errorf("tensor %q has data type %d; Keragon reads float, double, int64, int32 and bool", t.name, t.dataType)
	}
	if hasRaw {
		if t.floats != nil || t.doubles != nil || t.ints != nil || int32s != nil {
			return nil, errors.Errorf("tensor %q has both raw_data and typed data", t.name)
		}
		if int64(len(raw)) != n*size {
			return nil, errors.Errorf("tensor %q of dims %v needs %d bytes of raw_data, has %d", t.name, t.dims, n*size, len(raw))
		}
		switch t.dataType {
		case dtFloat:
			t.floats, _ = float32s(nil, protowire.BytesType, raw, 0, "raw_data")
		case dtDouble:
			t.doubles, _ = float64s(nil, protowire.BytesType, raw, 0, "raw_data")
		case dtInt64:
			if n > MaxInts {
				return nil, errors.Errorf("integer tensor %q has %d elements, more than %d", t.name, n, MaxInts)
			}
			t.ints = make([]int64, n)
			for i := range t.ints {
				t.ints[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		case dtInt32:
			if n > MaxInts {
				return nil, errors.Errorf("integer tensor %q has %d elements, more than %d", t.name, n, MaxInts)
			}
			t.ints = make([]int64, n)
			for i := range t.ints {
				t.ints[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		case dtBool:
			if n > MaxInts {
				return nil, errors.Errorf("boolean tensor %q has %d elements, more than %d", t.name, n, MaxInts)
			}
			t.ints = make([]int64, n)
			for i := range t.ints {
				if raw[i] != 0 {
					t.ints[i] = 1
				}
			}
		}
		return t, nil
	}
	var got int
	switch t.dataType {
	case dtFloat:
		got = len(t.floats)
	case dtDouble:
		got = len(t.doubles)
	case dtInt64:
		got = len(t.ints)
	case dtInt32, dtBool:
		for i, x := range int32s {
			int32s[i] = int64(int32(x))
		}
		t.ints, got = int32s, len(int32s)
	}
	if int64(got) != n {
		return nil, errors.Errorf("tensor %q of dims %v needs %d elements, has %d", t.name, t.dims, n, got)
	}
	if t.dataType != dtFloat && t.dataType != dtDouble && n > MaxInts {
		return nil, errors.Errorf("integer tensor %q has %d elements, more than %d", t.name, n, MaxInts)
	}
	return t, nil
}

// decodeValueInfo parses a ValueInfoProto: a name and, for a tensor, its
// element type and shape.
func decodeValueInfo(b []byte) (*valueInfo, error) {
	vi := &valueInfo{}
	err := fields(b, "a value info", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			if err := want("a value info", num, typ, protowire.BytesType); err != nil {
				return err
			}
			var err error
			vi.name, err = text("a value name", v)
			return err
		case 2: // TypeProto
			if err := want("a value info", num, typ, protowire.BytesType); err != nil {
				return err
			}
			return fields(v, "a type", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if num != 1 { // only tensor_type
					return nil
				}
				if err := want("a type", num, typ, protowire.BytesType); err != nil {
					return err
				}
				vi.tensor = true
				return fields(v, "a tensor type", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch num {
					case 1:
						if err := want("a tensor type", num, typ, protowire.VarintType); err != nil {
							return err
						}
						vi.elemType = int32(x)
					case 2:
						if err := want("a tensor type", num, typ, protowire.BytesType); err != nil {
							return err
						}
						vi.shaped = true
						return fields(v, "a shape", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
							if num != 1 {
								return nil
							}
							if err := want("a shape", num, typ, protowire.BytesType); err != nil {
								return err
							}
							if len(vi.dims) >= MaxRank {
								return errors.Errorf("value %q has more than %d dimensions", vi.name, MaxRank)
							}
							var d dimension
							err := fields(v, "a dimension", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
								switch num {
								case 1:
									if err := want("a dimension", num, typ, protowire.VarintType); err != nil {
										return err
									}
									d.value, d.known, d.param = int64(x), true, ""
								case 2:
									if err := want("a dimension", num, typ, protowire.BytesType); err != nil {
										return err
									}
									var err error
									d.param, err = text("a dimension name", v)
									d.known = false
									return err
								}
								return nil
							})
							vi.dims = append(vi.dims, d)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return nil, errors.WithMessagef(err, "value %q", vi.name)
	}
	return vi, nil
}
