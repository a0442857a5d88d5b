// Package safetensors reads and writes the safetensors format
// (https://huggingface.co/docs/safetensors), so that PyTorch's
// safetensors.torch.load_file reads what Keragon saves.
//
// # Overview
//
// A file is an 8-byte little-endian unsigned header length N, N bytes of
// UTF-8 JSON, then the tensors' raw little-endian bytes. The JSON maps each
// tensor name to {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin,
// end]}, offsets counted from the start of the data, plus an optional
// "__metadata__" object of strings. Decode applies the reference
// implementation's rules (huggingface/safetensors, safetensors/src/tensor.rs):
// the header is at most 100,000,000 bytes; sorted by offset, the tensors
// tile the data exactly (each begins where the previous ends, the first at
// 0, the last ends at the end of the file) and each spans exactly
// numel·dtype-size bytes. It is also stricter where the reference is loose:
// the header must start with '{', a name may appear once, and only
// whitespace may follow the JSON object. Encode pads the header with spaces
// to a multiple of 8 bytes and writes 8-byte dtypes first, so every tensor
// is aligned, as the reference does.
//
// Decode parses a file held in memory. ReadHeader and Header.ReadData read
// one from an io.Reader in two steps, so that a caller can check the
// header (names, dtypes, shapes, the total size) before any data is read;
// neither reads past the file's end, and neither allocates much more than
// the bytes the reader actually delivers.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// MaxHeaderSize is the largest header Decode accepts, the reference's
// limit.
const MaxHeaderSize = 100_000_000

// ErrHeaderTooLarge is returned, wrapped, by ReadHeader for a header
// longer than its limit; test for it with errors.Is.
var ErrHeaderTooLarge = errors.New("safetensors: header too large")

type headerSizeError struct{ msg string }

func (e *headerSizeError) Error() string        { return e.msg }
func (e *headerSizeError) Is(target error) bool { return target == ErrHeaderTooLarge }

// MetadataKey is the header entry that holds the string metadata.
const MetadataKey = "__metadata__"

// dtypeSizes lists every dtype of the format with its size in bytes.
var dtypeSizes = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// DtypeSize returns the size in bytes of one element of a dtype ("F32"),
// and false for a name the format does not define.
func DtypeSize(dtype string) (int, bool) {
	n, ok := dtypeSizes[dtype]
	return n, ok
}

// A Tensor is one named array: its dtype name, its shape and its raw
// little-endian bytes in row-major ('C') order.
type Tensor struct {
	Name  string
	Dtype string
	Shape []int
	Data  []byte
}

// A File is a decoded safetensors file. Tensors are in the order of their
// data; their Data slices share the buffer given to Decode.
type File struct {
	// Metadata is the "__metadata__" map, nil when the file has none.
	Metadata map[string]string
	Tensors  []Tensor
	index    map[string]int
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// numel is the number of elements of a shape, false on overflow or a
// negative dimension.
func numel(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// nbytes is the byte length a tensor of this dtype and shape must have.
func nbytes(dtype string, shape []int) (int, error) {
	size, ok := dtypeSizes[dtype]
	if !ok {
		return 0, errors.Errorf("unknown dtype %q", dtype)
	}
	n, ok := numel(shape)
	if !ok || n > math.MaxInt/size {
		return 0, errors.Errorf("shape %v overflows", shape)
	}
	return n * size, nil
}

// tensorInfo is a header entry.
type tensorInfo struct {
	Dtype       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// Encode writes tensors and metadata (which may be nil) to w. Names must be
// unique and not "__metadata__"; each tensor's Data must have the length
// its dtype and shape imply.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	order := make([]int, len(tensors))
	seen := make(map[string]bool, len(tensors))
	for i, t := range tensors {
		order[i] = i
		if t.Name == MetadataKey {
			return errors.Errorf("safetensors: a tensor cannot be named %q", MetadataKey)
		}
		if seen[t.Name] {
			return errors.Errorf("safetensors: two tensors are named %q", t.Name)
		}
		seen[t.Name] = true
		n, err := nbytes(t.Dtype, t.Shape)
		if err != nil {
			return errors.WithMessagef(err, "safetensors: tensor %q", t.Name)
		}
		if len(t.Data) != n {
			return errors.Errorf("safetensors: tensor %q (%s %v) has %d bytes of data, want %d", t.Name, t.Dtype, t.Shape, len(t.Data), n)
		}
	}
	// Widest dtypes first keeps every tensor aligned to its element size
	// (the data starts at a multiple of 8).
	sort.SliceStable(order, func(a, b int) bool {
		return dtypeSizes[tensors[order[a]].Dtype] > dtypeSizes[tensors[order[b]].Dtype]
	})
	var h bytes.Buffer
	h.WriteByte('{')
	if metadata != nil {
		mj, err := json.Marshal(metadata) // keys sorted
		if err != nil {
			return errors.Wrap(err, "safetensors: writing the metadata")
		}
		h.WriteString(`"` + MetadataKey + `":`)
		h.Write(mj)
	}
	offset := 0
	for k, i := range order {
		t := tensors[i]
		if k > 0 || metadata != nil {
			h.WriteByte(',')
		}
		name, err := json.Marshal(t.Name)
		if err != nil {
			return errors.Wrapf(err, "safetensors: tensor name %q", t.Name)
		}
		h.Write(name)
		h.WriteString(`:{"dtype":"` + t.Dtype + `","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := offset + len(t.Data)
		h.WriteString(`],"data_offsets":[` + strconv.Itoa(offset) + "," + strconv.Itoa(end) + "]}")
		offset = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeaderSize {
		return errors.Errorf("safetensors: the header would have %d bytes, more than the format's %d", h.Len(), MaxHeaderSize)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(h.Len()))
	if _, err := w.Write(n[:]); err != nil {
		return errors.Wrap(err, "safetensors: writing")
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return errors.Wrap(err, "safetensors: writing")
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return errors.Wrap(err, "safetensors: writing")
		}
	}
	return nil
}

// A Header is a file's header without its data: the metadata and every
// tensor's name, dtype and shape (Data nil), in the order of their data.
// ReadHeader returns one after checking everything the header alone
// allows (the tensors tile DataSize bytes exactly), so that a caller can
// check the tensors against what it expects before reading any data.
type Header struct {
	// Metadata is the "__metadata__" map, nil when the file has none.
	Metadata map[string]string
	Tensors  []Tensor
	// DataSize is the number of data bytes after the header.
	DataSize int64
	index    map[string]int
	spans    [][2]uint64 // [begin, end) of each tensor's data, by index in Tensors
	exact    bool        // the source holds exactly DataSize more bytes
}

// Tensor returns the tensor called name (without data).
func (h *Header) Tensor(name string) (Tensor, bool) {
	i, ok := h.index[name]
	if !ok {
		return Tensor{}, false
	}
	return h.Tensors[i], true
}

// ReadHeader reads the 8-byte header length and the header from r, and
// nothing more. size is the length of the whole file when it is known
// (a regular file), or -1 for a stream; a known size is checked against
// the header (a length or data_offsets past the end, or bytes after the
// last tensor, are errors). A header longer than maxHeader bytes is
// refused before it is read (maxHeader ≤ 0 or above MaxHeaderSize means
// MaxHeaderSize). Memory grows with the bytes r delivers, not with the
// length the file claims.
func ReadHeader(r io.Reader, size int64, maxHeader int) (*Header, error) {
	if maxHeader <= 0 || maxHeader > MaxHeaderSize {
		maxHeader = MaxHeaderSize
	}
	if size >= 0 && size < 8 {
		return nil, errors.Errorf("safetensors: %d bytes is too short for the 8-byte header length", size)
	}
	var nb [8]byte
	if k, err := io.ReadFull(r, nb[:]); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, errors.Errorf("safetensors: %d bytes is too short for the 8-byte header length", k)
		}
		return nil, errors.Wrap(err, "safetensors: reading the header length")
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > uint64(maxHeader) {
		what := "the limit"
		if maxHeader == MaxHeaderSize {
			what = "the format's limit"
		}
		return nil, errors.WithStack(&headerSizeError{fmt.Sprintf("safetensors: header length %d exceeds %s of %d bytes", n, what, maxHeader)})
	}
	if size >= 0 && n > uint64(size-8) {
		return nil, errors.Errorf("safetensors: header length %d runs past the end of the file (%d bytes after the length)", n, size-8)
	}
	header, err := readN(r, int64(n), size >= 0)
	if err != nil {
		return nil, errors.WithMessage(err, "safetensors: reading the header")
	}
	dataLen := int64(-1)
	if size >= 0 {
		dataLen = size - 8 - int64(n)
	}
	return parseHeader(header, dataLen)
}

// readN reads exactly n bytes. When the source is known to hold them it
// allocates once; otherwise the buffer grows as bytes arrive, so a source
// that claims much and delivers little costs little.
func readN(r io.Reader, n int64, known bool) ([]byte, error) {
	if known {
		b := make([]byte, n)
		if k, err := io.ReadFull(r, b); err != nil {
			return nil, truncated(int64(k), n, err)
		}
		return b, nil
	}
	// Double the buffer as it fills, up to n: at most 2n bytes allocated
	// in all, 1.5n at once.
	buf := make([]byte, 0, min(n, 1<<16))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		k, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err != nil && int64(len(buf)) < n {
			return nil, truncated(int64(len(buf)), n, err)
		}
	}
	return buf, nil
}

// truncated describes a short read.
func truncated(got, want int64, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.Errorf("the input ends after %d of %d bytes: it is truncated", got, want)
	}
	return errors.Wrapf(err, "after %d of %d bytes", got, want)
}

// ReadData reads the data section the header describes from r, which must
// be where ReadHeader left it, and returns the whole file. It reads
// exactly DataSize bytes.
func (h *Header) ReadData(r io.Reader) (*File, error) {
	body, err := readN(r, h.DataSize, h.exact)
	if err != nil {
		return nil, errors.WithMessage(err, "safetensors: reading the tensor data")
	}
	return h.attach(body), nil
}

// attach makes a File whose tensors share body, which has DataSize bytes.
func (h *Header) attach(body []byte) *File {
	f := &File{Metadata: h.Metadata, Tensors: make([]Tensor, len(h.Tensors)), index: h.index}
	for i, t := range h.Tensors {
		b, e := h.spans[i][0], h.spans[i][1]
		t.Data = body[b:e:e]
		f.Tensors[i] = t
	}
	return f
}

// Decode parses a whole file. It never panics: a truncated or corrupt
// file gives an error that says what is wrong.
func Decode(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, errors.Errorf("safetensors: %d bytes is too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > MaxHeaderSize {
		return nil, errors.Errorf("safetensors: header length %d exceeds the format's limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, errors.Errorf("safetensors: header length %d runs past the end of the file (%d bytes after the length)", n, len(data)-8)
	}
	header, body := data[8:8+n], data[8+n:]
	h, err := parseHeader(header, int64(len(body)))
	if err != nil {
		return nil, err
	}
	return h.attach(body), nil
}

// parseHeader checks a header and the tiling of its tensors. dataLen is
// the number of bytes after the header when known, else -1.
func parseHeader(header []byte, dataLen int64) (*Header, error) {
	if !utf8.Valid(header) {
		return nil, errors.New("safetensors: the header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, errors.New("safetensors: the header does not start with '{'")
	}
	h := &Header{index: map[string]int{}, exact: dataLen >= 0}
	type entry struct {
		name       string
		begin, end uint64
	}
	var entries []entry
	var infos []Tensor
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return nil, errors.Wrap(err, "safetensors: the header is not JSON")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.Wrap(err, "safetensors: the header is not JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.Errorf("safetensors: the header is not JSON: unexpected %v", tok)
		}
		if seen[name] {
			return nil, errors.Errorf("safetensors: the header names %q twice", name)
		}
		seen[name] = true
		if name == MetadataKey {
			var md map[string]string
			if err := dec.Decode(&md); err != nil {
				return nil, errors.Wrapf(err, "safetensors: %s must be an object of strings", MetadataKey)
			}
			h.Metadata = md
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.Wrap(err, "safetensors: the header is not JSON")
		}
		t, begin, end, err := parseInfo(name, raw)
		if err != nil {
			return nil, err
		}
		infos = append(infos, t)
		entries = append(entries, entry{name, begin, end})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, errors.Wrap(err, "safetensors: the header is not JSON")
	}
	for _, c := range header[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, errors.Errorf("safetensors: the header has %q after its JSON object", c)
		}
	}
	// The reference sorts by offsets, then requires the tensors to tile
	// the data.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ea, eb := entries[order[a]], entries[order[b]]
		if ea.begin != eb.begin {
			return ea.begin < eb.begin
		}
		return ea.end < eb.end
	})
	if dataLen >= 0 {
		for _, i := range order {
			if e := entries[i]; e.end > uint64(dataLen) {
				return nil, errors.Errorf("safetensors: tensor %q: data_offsets [%d, %d] run past the end of the data (%d bytes): the file is truncated or the offsets are wrong", e.name, e.begin, e.end, dataLen)
			}
		}
	}
	var pos uint64
	h.Tensors = make([]Tensor, len(order))
	h.spans = make([][2]uint64, len(order))
	for k, i := range order {
		e, t := entries[i], infos[i]
		if e.begin != pos {
			what := "overlaps the previous tensor"
			if e.begin > pos {
				what = "leaves a gap after the previous tensor"
			}
			return nil, errors.Errorf("safetensors: tensor %q: data_offsets [%d, %d] %s (which ends at %d)", e.name, e.begin, e.end, what, pos)
		}
		if e.end > math.MaxInt64 {
			return nil, errors.Errorf("safetensors: tensor %q: data_offsets [%d, %d] are too large", e.name, e.begin, e.end)
		}
		t.Data = nil
		h.Tensors[k] = t
		h.spans[k] = [2]uint64{e.begin, e.end}
		h.index[e.name] = k
		pos = e.end
	}
	if dataLen >= 0 && pos != uint64(dataLen) {
		return nil, errors.Errorf("safetensors: the tensors cover %d bytes of data, the file has %d", pos, dataLen)
	}
	h.DataSize = int64(pos)
	return h, nil
}

// parseInfo checks one header entry and returns its tensor (without data)
// and offsets.
func parseInfo(name string, raw json.RawMessage) (Tensor, uint64, uint64, error) {
	var info tensorInfo
	var present map[string]json.RawMessage
	if err := json.Unmarshal(raw, &present); err != nil {
		return Tensor{}, 0, 0, errors.Errorf("safetensors: tensor %q: want an object with dtype, shape and data_offsets, got %.60s", name, raw)
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if _, ok := present[k]; !ok {
			return Tensor{}, 0, 0, errors.Errorf("safetensors: tensor %q has no %q", name, k)
		}
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return Tensor{}, 0, 0, errors.Wrapf(err, "safetensors: tensor %q: bad dtype, shape or data_offsets", name)
	}
	if _, ok := dtypeSizes[info.Dtype]; !ok {
		return Tensor{}, 0, 0, errors.Errorf("safetensors: tensor %q has unknown dtype %q", name, info.Dtype)
	}
	if len(info.DataOffsets) != 2 {
		return Tensor{}, 0, 0, errors.Errorf("safetensors: tensor %q: data_offsets has %d numbers, want 2", name, len(info.DataOffsets))
	}
	begin, end := info.DataOffsets[0], info.DataOffsets[1]
	if end < begin {
		return Tensor{}, 0, 0, errors.Errorf("safetensors: tensor %q: data_offsets [%d, %d] end before they begin", name, begin, end)
	}
	shape := make([]int, len(info.Shape))
	for i, d := range info.Shape {
		if d > math.MaxInt {
			return Tensor{}, 0, 0, errors.Errorf("safetensors: tensor %q: dimension %d of shape %v is too large", name, i, info.Shape)
		}
		shape[i] = int(d)
	}
	want, err := nbytes(info.Dtype, shape)
	if err != nil {
		return Tensor{}, 0, 0, errors.WithMessagef(err, "safetensors: tensor %q", name)
	}
	if end-begin != uint64(want) {
		return Tensor{}, 0, 0, errors.Errorf("safetensors: tensor %q: %s %v needs %d bytes, data_offsets [%d, %d] give %d", name, info.Dtype, shape, want, begin, end, end-begin)
	}
	return Tensor{Name: name, Dtype: info.Dtype, Shape: shape}, begin, end, nil
}

// Float32s encodes values as an F32 tensor.
func Float32s(name string, shape []int, values []float32) Tensor {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, Dtype: "F32", Shape: append([]int{}, shape...), Data: b}
}

// Float64s encodes values as an F64 tensor.
func Float64s(name string, shape []int, values []float64) Tensor {
	b := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return Tensor{Name: name, Dtype: "F64", Shape: append([]int{}, shape...), Data: b}
}

// Float32s decodes an F32 tensor.
func (t Tensor) Float32s() ([]float32, error) {
	if t.Dtype != "F32" || len(t.Data)%4 != 0 {
		return nil, errors.Errorf("safetensors: tensor %q is %s (%d bytes), not F32", t.Name, t.Dtype, len(t.Data))
	}
	out := make([]float32, len(t.Data)/4)
	return out, t.CopyFloat32s(out)
}

// Float64s decodes an F64 tensor.
func (t Tensor) Float64s() ([]float64, error) {
	if t.Dtype != "F64" || len(t.Data)%8 != 0 {
		return nil, errors.Errorf("safetensors: tensor %q is %s (%d bytes), not F64", t.Name, t.Dtype, len(t.Data))
	}
	out := make([]float64, len(t.Data)/8)
	return out, t.CopyFloat64s(out)
}

// CopyFloat32s decodes an F32 tensor into dst, which must have its
// number of elements.
func (t Tensor) CopyFloat32s(dst []float32) error {
	if t.Dtype != "F32" || len(t.Data) != 4*len(dst) {
		return errors.Errorf("safetensors: tensor %q is %s (%d bytes), not F32 of %d elements", t.Name, t.Dtype, len(t.Data), len(dst))
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return nil
}

// CopyFloat64s decodes an F64 tensor into dst, which must have its
// number of elements.
func (t Tensor) CopyFloat64s(dst []float64) error {
	if t.Dtype != "F64" || len(t.Data) != 8*len(dst) {
		return errors.Errorf("safetensors: tensor %q is %s (%d bytes), not F64 of %d elements", t.Name, t.Dtype, len(t.Data), len(dst))
	}
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return nil
}
