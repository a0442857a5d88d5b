package keras

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/keragon/keragon/training"
)

// decodeModel loads a model from a file's bytes with the default limits.
func decodeModel(data []byte) (*Model, error) {
	return LoadOptions{}.decode(bytes.NewReader(data), int64(len(data)))
}

// savedBytes returns the file Save writes for a small compiled and
// trained model: Input(6) → dense → batch_normalization → dense_1.
func savedBytes(t testing.TB) []byte {
	t.Helper()
	m := NewSequential(&Input{Shape: []int{6}}, &Dense{Units: 8, Activation: "relu"}, &BatchNormalization{}, &Dense{Units: 3, Activation: "softmax"})
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: &training.Adam{}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	x, y := saveTestData(2, 16, []int{6}, 3)
	if _, err := m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// reencode decodes a file, lets edit change its tensors and metadata, and
// encodes it again (a well-formed file with other contents).
func reencode(t *testing.T, data []byte, edit func(f *safetensors.File)) []byte {
	t.Helper()
	f, err := safetensors.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	edit(f)
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, f.Tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// editHeader lets edit change the header's entries and writes it back
// with the data section unchanged (so offsets may go wrong).
func editHeader(t *testing.T, data []byte, edit func(h map[string]json.RawMessage)) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(data)
	var h map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	header, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data[8+n:]...)
}

// editArch lets edit change the architecture JSON (decoded generically).
func editArch(t *testing.T, data []byte, edit func(arch map[string]any)) []byte {
	t.Helper()
	return reencode(t, data, func(f *safetensors.File) {
		var arch map[string]any
		if err := json.Unmarshal([]byte(f.Metadata["model"]), &arch); err != nil {
			t.Fatal(err)
		}
		edit(arch)
		b, err := json.Marshal(arch)
		if err != nil {
			t.Fatal(err)
		}
		f.Metadata["model"] = string(b)
	})
}

// archLayer returns layer i of a generic architecture.
func archLayer(arch map[string]any, i int) map[string]any {
	return arch["layers"].([]any)[i].(map[string]any)
}

// setInfo rewrites a header entry's field.
func setInfo(t *testing.T, h map[string]json.RawMessage, name, field string, v any) {
	t.Helper()
	var info map[string]any
	if err := json.Unmarshal(h[name], &info); err != nil {
		t.Fatalf("no tensor %q: %v", name, err)
	}
	info[field] = v
	b, _ := json.Marshal(info)
	h[name] = b
}

func offsetsOf(t *testing.T, h map[string]json.RawMessage, name string) (int, int) {
	t.Helper()
	var info struct {
		DataOffsets []int `json:"data_offsets"`
	}
	if err := json.Unmarshal(h[name], &info); err != nil {
		t.Fatal(err)
	}
	return info.DataOffsets[0], info.DataOffsets[1]
}

func dropTensor(f *safetensors.File, name string) {
	for i, st := range f.Tensors {
		if st.Name == name {
			f.Tensors = append(f.Tensors[:i], f.Tensors[i+1:]...)
			return
		}
	}
}

func TestLoadCorrupt(t *testing.T) {
	good := savedBytes(t)
	n := binary.LittleEndian.Uint64(good)
	withLength := func(v uint64) []byte {
		out := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(out, v)
		return out
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "too short for the 8-byte header length"},
		{"truncated length", good[:5], "too short"},
		{"header length past the end", withLength(uint64(len(good))), "runs past the end of the file"},
		{"header length too large", withLength(1 << 40), "header length 1099511627776 exceeds the limit of 16777216 bytes (LoadOptions.MaxHeaderBytes)"},
		{"header not JSON", append(append(append([]byte(nil), good[:9]...), bytes.Repeat([]byte("x"), int(n)-1)...), good[8+n:]...), "the header is not JSON"},
		{"data shorter than declared", good[:len(good)-4], "the file is truncated"},
		{"trailing bytes", append(append([]byte(nil), good...), 0, 0, 0, 0), "the tensors cover"},
		{"offsets out of range", editHeader(t, good, func(h map[string]json.RawMessage) {
			b, e := offsetsOf(t, h, "dense_1/bias")
			setInfo(t, h, "dense_1/bias", "data_offsets", []int{b + 1<<20, e + 1<<20})
		}), "run past the end of the data"},
		{"overlapping offsets", editHeader(t, good, func(h map[string]json.RawMessage) {
			b, e := offsetsOf(t, h, "dense/bias")
			setInfo(t, h, "dense/bias", "data_offsets", []int{b - 4, e - 4})
		}), "overlaps the previous tensor"},
		{"unknown dtype", editHeader(t, good, func(h map[string]json.RawMessage) {
			setInfo(t, h, "dense/kernel", "dtype", "F17")
		}), `unknown dtype "F17"`},
		{"missing metadata", editHeader(t, good, func(h map[string]json.RawMessage) {
			delete(h, "__metadata__")
		}), "no __metadata__"},
		{"other format", reencode(t, good, func(f *safetensors.File) { f.Metadata["format"] = "pt" }), `format is "pt"`},
		{"newer version", reencode(t, good, func(f *safetensors.File) { f.Metadata["version"] = "2" }), `version is "2"`},
		{"no architecture", reencode(t, good, func(f *safetensors.File) { delete(f.Metadata, "model") }), `no "model"`},
		{"architecture not JSON", reencode(t, good, func(f *safetensors.File) { f.Metadata["model"] = "{" }), "reading the architecture"},
		{"unknown layer class", editArch(t, good, func(a map[string]any) { archLayer(a, 1)["class_name"] = "Densest" }), `unknown layer class "Densest"`},
		{"unknown config field", editArch(t, good, func(a map[string]any) {
			archLayer(a, 1)["config"].(map[string]any)["unitz"] = 3
		}), `unknown field "unitz"`},
		{"bad config value", editArch(t, good, func(a map[string]any) {
			archLayer(a, 1)["config"].(map[string]any)["units"] = -3
		}), "positive Units, got -3"},
		{"weight shape mismatch", editArch(t, good, func(a map[string]any) {
			archLayer(a, 1)["config"].(map[string]any)["units"] = 9
		}), `weight "dense/kernel" has shape [6 8] in the file, the model's layer makes [6 9]`},
		// A number beyond LoadOptions.MaxDim is refused as it is read.
		{"huge units", editArch(t, good, func(a map[string]any) {
			archLayer(a, 1)["config"].(map[string]any)["units"] = 2_000_000_000
		}), `layer "dense" (Dense): config field units is 2000000000, more than LoadOptions.MaxDim allows (16777216)`},
		// Layers declare their weights without allocating them, so a
		// crafted size within the limits is caught by the shape check,
		// not by the allocator.
		{"huge weight", editArch(t, good, func(a map[string]any) {
			archLayer(a, 1)["config"].(map[string]any)["units"] = 16_000_000
		}), `the model's layer makes [6 16000000]`},
		{"unknown reference", editArch(t, good, func(a map[string]any) {
			archLayer(a, 2)["inbound"] = []any{[]any{[]any{"nope", 0}}}
		}), `unknown layer "nope"`},
		{"application out of range", editArch(t, good, func(a map[string]any) {
			a["outputs"] = []any{[]any{"dense_1", 3}}
		}), `application 3 of layer "dense_1", which has 1`},
		{"cycle", editArch(t, good, func(a map[string]any) {
			archLayer(a, 2)["inbound"] = []any{[]any{[]any{"dense_1", 0}}}
		}), "is in a cycle"},
		{"bad reference", editArch(t, good, func(a map[string]any) {
			a["inputs"] = []any{"input_layer"}
		}), "[layer name, application index(, output index)]"},
		{"missing weight", reencode(t, good, func(f *safetensors.File) { dropTensor(f, "dense/bias") }), `lacks 1 weight(s) the model has: ["dense/bias"]`},
		{"unexpected tensor", reencode(t, good, func(f *safetensors.File) {
			f.Tensors = append(f.Tensors, safetensors.Float32s("extra/w", []int{1}, []float32{1}))
		}), `neither weights of the model nor optimizer state: ["extra/w"]`},
		{"weight dtype mismatch", reencode(t, good, func(f *safetensors.File) {
			k, _ := f.Tensor("dense/kernel")
			v, _ := k.Float32s()
			w := make([]float64, len(v))
			dropTensor(f, "dense/kernel")
			f.Tensors = append(f.Tensors, safetensors.Float64s("dense/kernel", k.Shape, w))
		}), `weight "dense/kernel" is F64 in the file`},
		{"state without compile config", reencode(t, good, func(f *safetensors.File) { delete(f.Metadata, "compile") }), "no compile config"},
		{"unknown optimizer", reencode(t, good, func(f *safetensors.File) {
			f.Metadata["compile"] = strings.Replace(f.Metadata["compile"], `"name":"adam"`, `"name":"adamax"`, 1)
		}), `unknown optimizer "adamax"`},
		{"bad optimizer state", reencode(t, good, func(f *safetensors.File) {
			dropTensor(f, "optimizer/dense/kernel/m")
			f.Tensors = append(f.Tensors, safetensors.Float32s("optimizer/dense/kernel/m", []int{2}, []float32{1, 2}))
		}), "restoring the optimizer state"},
		{"data after the architecture", reencode(t, good, func(f *safetensors.File) { f.Metadata["model"] += "}" }), "data after the value"},
		{"compile config not JSON", reencode(t, good, func(f *safetensors.File) { f.Metadata["compile"] = "[" }), "reading the compile config"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(path)
		if err == nil {
			t.Errorf("%d %s: no error (model %v)", i, c.name, m)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", c.name, strings.TrimPrefix(msg, "keras: Load "+path+": "))
		if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "keras: Load "+path+": ") {
			t.Errorf("%d %s: got %q\nwant \"keras: Load %s: …%s…\"", i, c.name, msg, path, c.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("missing file: got %v, want an error naming it", err)
	}
	// The unmodified file loads (the cases above fail for their reason).
	path := filepath.Join(dir, "good.safetensors")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("the unmodified file: %v", err)
	}
}

// readTestdata reads a file of testdata/.
func readTestdata(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}
