package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// The torch files every hostile-file test starts from.
var torchFiles = []string{"mlp", "convnet", "convnet2", "lstm", "gru", "rnn", "bilstm"}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// panicked reports an error that stands for a recovered panic.
func panicked(err error) bool {
	return err != nil && strings.Contains(err.Error(), "(a panic)")
}

// TestTruncatedFilesFail cuts each PyTorch file at many lengths: every cut
// must fail with an error, never a panic or a model.
func TestTruncatedFilesFail(t *testing.T) {
	for _, name := range torchFiles {
		data := readTestdata(t, name+".onnx")
		step := 1
		if name != "lstm" {
			step = 7 // every byte of one file, a sample of the others
		}
		for n := 0; n < len(data); n += step {
			m, err := Decode(data[:n])
			switch {
			case err == nil:
				t.Fatalf("%s cut to %d of %d bytes: no error (model %v)", name, n, len(data), m.Name())
			case panicked(err):
				t.Fatalf("%s cut to %d bytes: %v", name, n, err)
			case !strings.HasPrefix(err.Error(), "onnx: "):
				t.Fatalf("%s cut to %d bytes: error %q does not start with the package name", name, n, err)
			}
		}
	}
}

// TestCorruptFilesFailClearly checks crafted files: each must fail with
// an error saying what is wrong.
func TestCorruptFilesFailClearly(t *testing.T) {
	mlp := readTestdata(t, "mlp.onnx")
	// rewrite returns the MLP encoded after change modified a fresh copy.
	rewrite := func(change func(m *modelProto)) []byte {
		m, err := decodeModel(mlp)
		if err != nil {
			t.Fatal(err)
		}
		change(m)
		return m.encode()
	}
	huge := protowire.AppendTag(nil, 7, protowire.BytesType)
	huge = protowire.AppendVarint(huge, 1<<40) // a graph of a terabyte
	var manyNodes []byte
	for i := 0; i <= MaxNodes; i++ {
		manyNodes = protowire.AppendTag(manyNodes, 1, protowire.BytesType)
		manyNodes = protowire.AppendVarint(manyNodes, 0)
	}
	manyNodes = append(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.BytesType), uint64(len(manyNodes))), manyNodes...)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no graph"},
		{"text", []byte("this is not an ONNX file\n"), "onnx: reading the file"},
		{"huge length", huge, "truncated or corrupt"},
		{"too many nodes", manyNodes, "more than 65536 nodes"},
		{"unknown op", rewrite(func(m *modelProto) { m.graph.nodes[1].opType = "Frobnicate" }), "op Frobnicate is not supported"},
		{"op names the node", rewrite(func(m *modelProto) { m.graph.nodes[1].opType = "Frobnicate" }), `node "/Relu"`},
		{"custom domain", rewrite(func(m *modelProto) { m.graph.nodes[0].domain = "com.example" }), `domain "com.example"`},
		{"no opset", rewrite(func(m *modelProto) { m.opsets = nil }), "imports no version of the default operator set"},
		{"future opset", rewrite(func(m *modelProto) { m.opsets[0].version = 99 }), "opset 99"},
		{"short raw data", rewrite(func(m *modelProto) { m.graph.initializers[0].dims = []int64{1 << 20, 1 << 10} }), "needs 4294967296 bytes of raw_data"},
		{"external data", func() []byte {
			b := rewrite(func(*modelProto) {})
			// data_location = EXTERNAL on the first initializer.
			m, _ := decodeModel(b)
			tb := m.graph.initializers[0].encode()
			tb = protowire.AppendTag(tb, 14, protowire.VarintType)
			tb = protowire.AppendVarint(tb, 1)
			g := protowire.AppendTag(nil, 5, protowire.BytesType)
			g = protowire.AppendBytes(g, tb)
			g = append(g, m.graph.encode()...)
			out := protowire.AppendTag(nil, 1, protowire.VarintType)
			out = protowire.AppendVarint(out, 7)
			out = protowire.AppendTag(out, 7, protowire.BytesType)
			out = protowire.AppendBytes(out, g)
			return append(out, rewrite(func(m *modelProto) { m.graph = &graphProto{} })...)
		}(), "external file"},
		{"missing weights", rewrite(func(m *modelProto) { m.graph.initializers = m.graph.initializers[1:] }), "computed by no earlier node"},
		{"huge input", rewrite(func(m *modelProto) { m.graph.inputs[0].dims[1].value = 1 << 40 }), "fixed positive size up to"},
		{"input too big", rewrite(func(m *modelProto) {
			m.graph.inputs[0].dims = append(m.graph.inputs[0].dims, dimension{value: 1 << 20, known: true}, dimension{value: 1 << 20, known: true})
		}), "samples of more than"},
		{"no outputs", rewrite(func(m *modelProto) { m.graph.outputs = nil }), "no outputs"},
		{"bad weight shape", rewrite(func(m *modelProto) {
			for _, in := range m.graph.initializers {
				if in.name == "fc1.weight" {
					in.dims = []int64{in.dims[1], in.dims[0]}
				}
			}
		}), "multiplies"},
		{"cycle", rewrite(func(m *modelProto) { m.graph.nodes[0].inputs[0] = m.graph.nodes[1].outputs[0] }), "computed by no earlier node"},
		{"duplicate output", rewrite(func(m *modelProto) { m.graph.nodes[1].outputs[0] = m.graph.nodes[0].outputs[0] }), "computed twice"},
		{"subgraph", rewrite(func(m *modelProto) {
			m.graph.nodes[1].attrs = append(m.graph.nodes[1].attrs, &attribute{name: "then_branch", graph: true})
		}), "subgraph"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Decode(c.data)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("no error; want one containing %q", c.want)
			}
			if panicked(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q; want one containing %q", err, c.want)
			}
			// A file may make the importer allocate a small multiple of its
			// size, plus a fixed amount: never what it claims to hold.
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*len(c.data)+4<<20); got > limit {
				t.Errorf("allocated %d bytes for a %d-byte file (limit %d)", got, len(c.data), limit)
			}
		})
	}
}

// FuzzDecode feeds corrupted files to the importer: it must return a
// model or an error, never panic; a model it returns must export again.
// Run it with
//
//	go test ./keras/onnx -run '^$' -fuzz FuzzDecode -fuzztime 2m -fuzzminimizetime 0
func FuzzDecode(f *testing.F) {
	for _, name := range torchFiles {
		f.Add(readTestdata(f, name+".onnx"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if panicked(err) {
			t.Fatalf("Decode recovered a panic: %v", err)
		}
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Encode(m, &b); panicked(err) {
			t.Fatalf("Encode of an imported model recovered a panic: %v", err)
		}
	})
}

// FuzzImportNumbers changes one number of a valid model (an integer
// attribute, one of its list entries, a tensor or input dimension) to an
// arbitrary value, which byte-level fuzzing rarely reaches through the
// protobuf framing: the importer must still fail cleanly or build a model.
//
//	go test ./keras/onnx -run '^$' -fuzz FuzzImportNumbers -fuzztime 1m -fuzzminimizetime 0
func FuzzImportNumbers(f *testing.F) {
	models := map[uint8][]byte{}
	for i, name := range torchFiles {
		models[uint8(i)] = readTestdata(f, name+".onnx")
	}
	f.Add(uint8(1), uint16(3), int64(0))
	f.Add(uint8(2), uint16(11), int64(-1))
	f.Add(uint8(3), uint16(40), int64(1<<40))
	f.Fuzz(func(t *testing.T, model uint8, which uint16, v int64) {
		data, ok := models[model%uint8(len(models))]
		if !ok {
			return
		}
		m, err := decodeModel(data)
		if err != nil {
			t.Fatal(err)
		}
		// Enumerate the numbers and change the one picked.
		var slots []*int64
		for _, n := range m.graph.nodes {
			for _, a := range n.attrs {
				slots = append(slots, &a.i)
				for k := range a.ints {
					slots = append(slots, &a.ints[k])
				}
			}
		}
		for _, in := range m.graph.initializers {
			for k := range in.dims {
				slots = append(slots, &in.dims[k])
			}
		}
		for _, vi := range m.graph.inputs {
			for k := range vi.dims {
				slots = append(slots, &vi.dims[k].value)
			}
		}
		*slots[int(which)%len(slots)] = v
		// Keep the data consistent with changed dims, as a crafted file
		// would, when it is small enough.
		for _, in := range m.graph.initializers {
			n := int64(1)
			for _, d := range in.dims {
				if d < 0 || d > 1<<12 {
					n = -1
					break
				}
				n *= d
			}
			if n >= 0 && n <= 1<<16 && in.dataType == dtFloat {
				in.floats = append(in.floats, make([]float32, max(0, int(n)-len(in.floats)))...)[:n]
			}
		}
		mm, err := Decode(m.encode())
		if panicked(err) {
			t.Fatalf("Decode recovered a panic: %v", err)
		}
		if err == nil {
			if err := Encode(mm, &bytes.Buffer{}); panicked(err) {
				t.Fatalf("Encode recovered a panic: %v", err)
			}
		}
	})
}
