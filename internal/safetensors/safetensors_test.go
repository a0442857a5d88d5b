package safetensors

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// file assembles a safetensors file from a header and data, with the
// header length set to len(header).
func file(header string, data []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// f32le is the little-endian bytes of 0, 1, 2, 3, 4, 5 as float32.
var f32le = []byte{0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64}

// TestEncodeReferenceBytes checks Encode against the byte-exact outputs in
// the reference implementation's tests (huggingface/safetensors,
// safetensors/src/tensor.rs: test_serialization,
// test_serialization_forced_alignement, test_empty).
func TestEncodeReferenceBytes(t *testing.T) {
	cases := []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
		want     []byte
	}{
		{"attn.0", []Tensor{{Name: "attn.0", Dtype: "F32", Shape: []int{1, 2, 3}, Data: f32le}}, nil,
			file(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, f32le)},
		{"padded", []Tensor{{Name: "attn0", Dtype: "F32", Shape: []int{1, 1, 2, 3}, Data: f32le}}, nil,
			file(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `, f32le)},
		{"empty", nil, nil, file(`{}      `, nil)},
		{"metadata only", nil, map[string]string{"framework": "pt"}, file(`{"__metadata__":{"framework":"pt"}}     `, nil)},
	}
	for i, c := range cases {
		var buf bytes.Buffer
		if err := Encode(&buf, c.tensors, c.metadata); err != nil {
			t.Fatalf("%d %s: Encode: %v", i, c.name, err)
		}
		if !bytes.Equal(buf.Bytes(), c.want) {
			t.Errorf("%d %s: got\n%q\nwant\n%q", i, c.name, buf.Bytes(), c.want)
		}
		f, err := Decode(c.want)
		if err != nil {
			t.Fatalf("%d %s: Decode: %v", i, c.name, err)
		}
		if len(f.Tensors) != len(c.tensors) || !reflect.DeepEqual(f.Metadata, c.metadata) {
			t.Errorf("%d %s: decoded %d tensors and metadata %v, want %d and %v", i, c.name, len(f.Tensors), f.Metadata, len(c.tensors), c.metadata)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	in := []Tensor{
		Float32s("dense/kernel", []int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25}),
		Float64s("optimizer/iterations", []int{1}, []float64{7}),
		Float32s("scalar", []int{}, []float32{42}),
		Float32s("empty", []int{0, 3}, nil),
		{Name: "bytes", Dtype: "U8", Shape: []int{3}, Data: []byte{1, 2, 3}},
		Float64s("x/y", []int{2}, []float64{math.Pi, -1e300}),
	}
	md := map[string]string{"format": "keragon", "model": `{"a": "b\n"}`}
	var buf bytes.Buffer
	if err := Encode(&buf, in, md); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if n := binary.LittleEndian.Uint64(data); (8+n)%8 != 0 {
		t.Errorf("header length %d: data does not start at a multiple of 8", n)
	}
	f, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, md) {
		t.Errorf("metadata: got %v, want %v", f.Metadata, md)
	}
	// 8-byte dtypes first, then the given order.
	var names []string
	for _, tt := range f.Tensors {
		names = append(names, tt.Name)
	}
	wantNames := []string{"optimizer/iterations", "x/y", "dense/kernel", "scalar", "empty", "bytes"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("data order: got %v, want %v", names, wantNames)
	}
	for i, want := range in {
		got, ok := f.Tensor(want.Name)
		if !ok {
			t.Fatalf("%d: no tensor %q", i, want.Name)
		}
		if got.Dtype != want.Dtype || !reflect.DeepEqual(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%d: got %+v, want %+v", i, got, want)
		}
	}
	k, _ := f.Tensor("dense/kernel")
	vals, err := k.Float32s()
	if err != nil || vals[2] != 3.5 || !math.IsInf(float64(vals[3]), 1) {
		t.Errorf("dense/kernel values: got %v, %v", vals, err)
	}
	x, _ := f.Tensor("x/y")
	if v, err := x.Float64s(); err != nil || v[0] != math.Pi || v[1] != -1e300 {
		t.Errorf("x/y values: got %v, %v", v, err)
	}
	if _, err := x.Float32s(); err == nil {
		t.Error("Float32s of an F64 tensor: no error")
	}
}

// TestDecodeAnyOrder: offsets, not the order of the JSON keys, give the
// data order, as in the reference.
func TestDecodeAnyOrder(t *testing.T) {
	h := `{"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"__metadata__":{"k":"v"},"a":{"shape":[2],"dtype":"F32","data_offsets":[0,8],"extra":1}}`
	f, err := Decode(file(h, f32le[:16]))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Tensor("a")
	b, _ := f.Tensor("b")
	av, _ := a.Float32s()
	bv, _ := b.Float32s()
	if !reflect.DeepEqual(av, []float32{0, 1}) || !reflect.DeepEqual(bv, []float32{2, 3}) || f.Metadata["k"] != "v" {
		t.Errorf("got a=%v b=%v metadata %v; want [0 1], [2 3], k=v", av, bv, f.Metadata)
	}
	if f.Tensors[0].Name != "a" {
		t.Errorf("first tensor by offset: got %q, want a", f.Tensors[0].Name)
	}
}

func TestDecodeErrors(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	past := file(ok, f32le[:8])
	binary.LittleEndian.PutUint64(past, uint64(len(ok)+100))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short for the 8-byte header length"},
		{"short", []byte{1, 2, 3}, "too short"},
		{"header too large", append(huge, '{', '}'), "exceeds the format's limit"},
		{"header past end", past, "runs past the end of the file"},
		{"not utf8", file("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"not an object", file(`[1, 2]`, nil), "does not start with '{'"},
		{"empty header", file(``, nil), "does not start with '{'"},
		{"not json", file(`{not json}`, nil), "not JSON"},
		{"unclosed", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`, f32le[:8]), "not JSON"},
		{"trailing", file(ok+` x`, f32le[:8]), "after its JSON object"},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), `names "a" twice`},
		{"metadata not strings", file(`{"__metadata__":{"k":1}}`, nil), "must be an object of strings"},
		{"unknown dtype", file(`{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}`, f32le[:8]), `unknown dtype "F17"`},
		{"no dtype", file(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, f32le[:8]), `has no "dtype"`},
		{"no offsets", file(`{"a":{"dtype":"F32","shape":[2]}}`, f32le[:8]), `has no "data_offsets"`},
		{"info not object", file(`{"a":[1]}`, nil), "want an object"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32le[:8]), "bad dtype, shape or data_offsets"},
		{"fractional offset", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}`, f32le[:8]), "bad dtype, shape or data_offsets"},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, f32le[:8]), "has 3 numbers"},
		{"end before begin", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32le[:8]), "end before they begin"},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32le[:8]), "needs 12 bytes"},
		{"shape overflow", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, f32le[:8]), "overflows"},
		{"offsets out of range", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}`, f32le[:8]), "run past the end of the data"},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32le[:8]), "leaves a gap"},
		{"truncated data", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32le[:8]), "the file is truncated"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32le[:12]), "overlaps the previous tensor"},
		{"extra data", file(ok, f32le[:12]), "cover 8 bytes of data, the file has 12"},
	}
	for i, c := range cases {
		f, err := Decode(c.data)
		if err == nil {
			t.Errorf("%d %s: no error (got %d tensors)", i, c.name, len(f.Tensors))
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "safetensors: ") {
			t.Errorf("%d %s: got %q, want it to contain %q", i, c.name, err, c.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	good := Float32s("a", []int{1}, []float32{1})
	cases := []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"duplicate", []Tensor{good, good}, `two tensors are named "a"`},
		{"reserved", []Tensor{{Name: MetadataKey, Dtype: "U8", Shape: []int{0}}}, "cannot be named"},
		{"short data", []Tensor{{Name: "a", Dtype: "F32", Shape: []int{2}, Data: good.Data}}, "has 4 bytes of data, want 8"},
		{"unknown dtype", []Tensor{{Name: "a", Dtype: "F12", Shape: []int{1}}}, `unknown dtype "F12"`},
		{"negative shape", []Tensor{{Name: "a", Dtype: "F32", Shape: []int{-1}}}, "overflows"},
	}
	for i, c := range cases {
		err := Encode(&bytes.Buffer{}, c.tensors, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %s: got %v, want an error containing %q", i, c.name, err, c.want)
		}
	}
}

// readStream reads a file from a stream (size unknown) with ReadHeader and
// ReadData.
func readStream(r io.Reader, maxHeader int) (*File, error) {
	h, err := ReadHeader(r, -1, maxHeader)
	if err != nil {
		return nil, err
	}
	return h.ReadData(r)
}

// endless delivers the same byte forever, counting what it delivered.
type endless struct {
	b byte
	n int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	e.n += int64(len(p))
	return len(p), nil
}

// failing delivers data, then fails with err.
type failing struct {
	data []byte
	err  error
}

func (f *failing) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestReadStream: a file read from a stream equals the decoded file, the
// reader stops at the file's end, and a stream that lies about its sizes
// or never ends is refused after reading only what the header allows.
func TestReadStream(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, []Tensor{
		Float32s("a", []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}),
		Float64s("b", []int{1}, []float64{7}),
	}, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	want, err := Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	after := []byte("next file")
	r := bytes.NewReader(append(append([]byte(nil), good...), after...))
	got, err := readStream(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Metadata, want.Metadata) || !reflect.DeepEqual(got.Tensors, want.Tensors) {
		t.Errorf("stream read %+v, want %+v", got, want)
	}
	if rest, _ := io.ReadAll(r); string(rest) != string(after) {
		t.Errorf("the reader was left at %q, want %q", rest, after)
	}
	// A regular file's size is checked like Decode checks a buffer.
	if _, err := ReadHeader(bytes.NewReader(good), int64(len(good))+4, 0); err == nil || !strings.Contains(err.Error(), "the tensors cover") {
		t.Errorf("size 4 bytes too large: got %v, want a 'tensors cover' error", err)
	}
	if h, err := ReadHeader(bytes.NewReader(good), int64(len(good)), 0); err != nil {
		t.Errorf("exact size: %v", err)
	} else if h.DataSize != 32 {
		t.Errorf("DataSize: got %d, want 32 (24 + 8 bytes)", h.DataSize)
	}

	claims := func(n uint64, rest []byte) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	injected := errors.New("injected read error")
	cases := []struct {
		name      string
		r         io.Reader
		maxHeader int
		want      string
	}{
		{"empty", bytes.NewReader(nil), 0, "0 bytes is too short"},
		{"short length", bytes.NewReader([]byte{1, 2}), 0, "2 bytes is too short"},
		{"header over the format's limit", bytes.NewReader(claims(1<<40, nil)), 0, "exceeds the format's limit"},
		{"header over the caller's limit", bytes.NewReader(claims(1<<20, nil)), 1 << 10, "exceeds the limit of 1024 bytes"},
		{"header claims more than it has", bytes.NewReader(claims(1<<20, []byte("{}"))), 0, "ends after 2 of 1048576 bytes"},
		{"endless header", &endless{b: ' '}, 1 << 10, "exceeds the limit"},
		{"endless spaces after a short length", io.MultiReader(bytes.NewReader(claims(4, nil)), &endless{b: ' '}), 0, "does not start with '{'"},
		{"data claims more than it has", bytes.NewReader(file(`{"a":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4000000]}}`, f32le)), 0, "ends after 24 of 4000000 bytes"},
		{"read error", &failing{data: good[:20], err: injected}, 0, "injected read error"},
		{"gap", bytes.NewReader(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32le[:8])), 0, "leaves a gap"},
	}
	for i, c := range cases {
		f, err := readStream(c.r, c.maxHeader)
		if err == nil {
			t.Errorf("%d %s: no error (%d tensors)", i, c.name, len(f.Tensors))
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "safetensors: ") {
			t.Errorf("%d %s: got %q, want it to contain %q", i, c.name, err, c.want)
		}
		if strings.Contains(c.want, "exceeds") != errors.Is(err, ErrHeaderTooLarge) {
			t.Errorf("%d %s: errors.Is(err, ErrHeaderTooLarge) is %v for %v", i, c.name, !strings.Contains(c.want, "exceeds"), err)
		}
		if c.name == "read error" && !errors.Is(err, injected) {
			t.Errorf("%d %s: errors.Is(err, injected) is false for %v", i, c.name, err)
		}
	}
	// An endless stream of data after a valid header: only the declared
	// bytes are read.
	e := &endless{b: 0}
	h := `{"a":{"dtype":"F32","shape":[1024],"data_offsets":[0,4096]}}`
	f, err := readStream(io.MultiReader(bytes.NewReader(claims(uint64(len(h)), []byte(h))), e), 0)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := f.Tensor("a"); len(a.Data) != 4096 || e.n > 1<<16 {
		t.Errorf("endless data: got %d bytes of tensor, read %d from the stream; want 4096 and at most a buffer's worth", len(a.Data), e.n)
	}
}

// FuzzDecode: Decode never panics, the stream reader (ReadHeader,
// ReadData) reads the same file from a reader, and what Decode accepts
// survives an Encode and Decode unchanged. Seeds: the reference vectors
// and a small model-like file (testdata/fuzz/FuzzDecode holds more). Run
// it with
//
//	go test ./internal/safetensors -run '^$' -fuzz FuzzDecode -fuzztime 30s -fuzzminimizetime 0
//
// (.ci/fuzz does, for a short time).
func FuzzDecode(f *testing.F) {
	f.Add(file(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, f32le))
	f.Add(file(`{"__metadata__":{"framework":"pt"}}     `, nil))
	f.Add(file(`{"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, f32le[:16]))
	var buf bytes.Buffer
	if err := Encode(&buf, []Tensor{
		Float32s("dense/kernel", []int{2, 2}, []float32{1, 2, 3, 4}),
		Float64s("optimizer/iterations", []int{1}, []float64{3}),
	}, map[string]string{"format": "keragon", "version": "1"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		streamed, err := readStream(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatalf("Decode accepts the file, the stream reader says %v", err)
		}
		if !reflect.DeepEqual(streamed.Metadata, file.Metadata) || !reflect.DeepEqual(streamed.Tensors, file.Tensors) {
			t.Fatalf("the stream reader read another file than Decode")
		}
		var out bytes.Buffer
		if err := Encode(&out, file.Tensors, file.Metadata); err != nil {
			t.Fatalf("re-encoding a decoded file: %v", err)
		}
		again, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("decoding a re-encoded file: %v", err)
		}
		if !reflect.DeepEqual(again.Metadata, file.Metadata) || len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("re-encoded file differs: metadata %v vs %v, %d vs %d tensors", again.Metadata, file.Metadata, len(again.Tensors), len(file.Tensors))
		}
		for _, want := range file.Tensors {
			got, ok := again.Tensor(want.Name)
			if !ok || got.Dtype != want.Dtype || !reflect.DeepEqual(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("tensor %q changed in a round trip", want.Name)
			}
		}
	})
}

func TestCopyFloats(t *testing.T) {
	a := Float32s("a", []int{3}, []float32{1, 2, 3})
	got := make([]float32, 3)
	if err := a.CopyFloat32s(got); err != nil || !reflect.DeepEqual(got, []float32{1, 2, 3}) {
		t.Errorf("CopyFloat32s: %v %v", got, err)
	}
	b := Float64s("b", []int{2}, []float64{4, 5})
	got64 := make([]float64, 2)
	if err := b.CopyFloat64s(got64); err != nil || !reflect.DeepEqual(got64, []float64{4, 5}) {
		t.Errorf("CopyFloat64s: %v %v", got64, err)
	}
	for i, err := range []error{a.CopyFloat32s(make([]float32, 2)), a.CopyFloat64s(make([]float64, 3)), b.CopyFloat32s(make([]float32, 4))} {
		if err == nil || !strings.HasPrefix(err.Error(), "safetensors: tensor ") {
			t.Errorf("%d: a mismatch gave %v", i, err)
		}
	}
}
