package keras

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/pkg/errors"
)

// The fuzzers of Load. Run each for a while with
//
//	go test ./keras -run '^$' -fuzz '^FuzzLoadArch$' -fuzztime 60s -fuzzminimizetime 0
//	go test ./keras -run '^$' -fuzz '^FuzzLoad$' -fuzztime 60s -fuzzminimizetime 0
//
// (.ci/fuzz runs them for a short time). -fuzzminimizetime 0 matters: the
// default minimises every new input for up to 60 s, and an input that
// reaches Gorgonia runs slowly enough that the fuzzer then does little
// else. A failing input is written under testdata/fuzz/<Fuzzer>: check it
// in, as a regression seed that `go test` runs from then on.

// fuzzLimits are the limits the fuzzers load with: small enough that a
// model which passes them compiles and predicts in milliseconds (the
// checks are the same whatever the limits).
var fuzzLimits = LoadOptions{MaxSteps: 64, MaxActivations: 1 << 16, MaxParams: 1 << 16, MaxDim: 1 << 12, MaxLayers: 64}

// checkLoaded fails the test on a recovered panic, and exercises a model
// that loaded: it predicts (errors are fine, panics are not) and saves to
// bytes that load again.
func checkLoaded(t *testing.T, m *Model, err error) {
	t.Helper()
	if err != nil {
		if strings.Contains(err.Error(), panicMessage) {
			t.Fatalf("Load recovered a panic: %v", err)
		}
		return
	}
	if xs := zeroInputs(m, 1); xs != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Predict on a loaded model panicked: %v", r)
				}
			}()
			m.PredictMulti(xs)
		}()
	}
	var buf bytes.Buffer
	if err := m.SaveTo(&buf); err != nil {
		t.Fatalf("a loaded model does not save: %v", err)
	}
	if _, err := fuzzLimits.LoadFrom(&buf); err != nil {
		t.Fatalf("a loaded and saved model does not load: %v", err)
	}
}

// FuzzLoad: no file makes Load panic (a recovered panic is a failure too)
// or crash, and a file that loads gives a model that predicts and saves.
// LoadWeightsFrom, given the same bytes, either loads them or leaves the
// model untouched. Seeds: a saved model, the zoo and the Python-written
// file; testdata/fuzz/FuzzLoad holds more.
func FuzzLoad(f *testing.F) {
	f.Add(savedBytes(f))
	for _, z := range zoo(f) {
		f.Add(z.file)
	}
	if py, err := readTestdata("interop_py.safetensors"); err == nil {
		f.Add(py)
	}
	target := NewSequential(&Input{Shape: []int{6}}, &Dense{Units: 8, Activation: "relu"}, &BatchNormalization{}, &Dense{Units: 3, Activation: "softmax"})
	target.SetSeed(1)
	if err := target.ready(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := fuzzLimits.decode(bytes.NewReader(data), int64(len(data)))
		checkLoaded(t, m, err)
		before := weightsSnapshot(target)
		if err := target.loadWeights(bytes.NewReader(data), -1); err != nil {
			if diff := sameAsSnapshot(target, before); diff != nil {
				t.Fatalf("LoadWeights failed (%v) and changed the model: %v", err, diff)
			}
		}
	})
}

// FuzzLoadArch mutates the structure of valid files rather than their
// bytes: program is a list of 4-byte instructions (op, site high, site
// low, value) applied to the architecture JSON of one of the zoo models
// (every registered layer class appears in one) and to its tensors'
// shapes, after which the file is encoded again, well-formed. So the
// fuzzer spends its time past the safetensors reader, in the checks of
// the architecture against the limits and the file.
func FuzzLoadArch(f *testing.F) {
	zs := zoo(f)
	for i := range zs {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{0, 0, 7, 9})              // a number set to 2^40
		f.Add(uint8(i), []byte{5, 0, 0, 3})              // a tensor shape changed
		f.Add(uint8(i), []byte{8, 0, 12, 1})             // a layer wrapped
		f.Add(uint8(i), []byte{3, 0, 20, 0, 2, 0, 5, 0}) // an element duplicated, then one deleted
	}
	f.Fuzz(func(t *testing.T, which uint8, program []byte) {
		data, ok := mutateFile(zs[int(which)%len(zs)].file, program)
		if !ok {
			return
		}
		m, err := fuzzLimits.decode(bytes.NewReader(data), int64(len(data)))
		checkLoaded(t, m, err)
	})
}

// fuzzNumbers are the numbers a mutation sets: boundaries, sizes around
// the limits, overflows.
var fuzzNumbers = []string{"0", "-1", "1", "2", "3", "7", "64", "4097", "1048576", "16777217",
	"1099511627776", "9223372036854775807", "-9223372036854775808", "2147483648", "1.5", "1e300"}

// fuzzWords are the strings a mutation sets.
var fuzzWords = []string{"", "same", "valid", "causal", "float64", "relu", "linear", "concat", "sum",
	"Dense", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "TimeDistributed", "TreeLSTM", "TreeRNN",
	"Conv2D", "MaxPooling2D", "UpSampling2D", "Reshape", "Flatten", "Embedding", "Input", "Masking",
	"input_layer", "dense", "lstm", "embedding", "optimizer/iterations"}

// fuzzKeys are the config fields a mutation adds.
var fuzzKeys = []string{"units", "shape", "pool_size", "strides", "padding", "kernel_size", "size",
	"arity", "vocab_size", "return_sequences", "return_state", "mask_zero", "dilation_rate", "target_shape"}

// site is a value in the JSON tree, at path, with ways to replace and
// delete it.
type site struct {
	path string
	v    any
	set  func(any)
	del  func()
}

// collect lists every value of a JSON tree, in a fixed order.
func collect(path string, v any, set func(any), del func(), out *[]site) {
	*out = append(*out, site{path, v, set, del})
	switch x := v.(type) {
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			collect(path+"."+k, x[k], func(n any) { x[k] = n }, func() { delete(x, k) }, out)
		}
	case []any:
		for i := range x {
			collect(path+"["+strconv.Itoa(i)+"]", x[i], func(n any) { x[i] = n }, func() { set(append(x[:i:i], x[i+1:]...)) }, out)
		}
	}
}

// mutateFile applies program to a file; false when the result cannot be
// encoded (which is not Load's business).
func mutateFile(file, program []byte) ([]byte, bool) {
	sf, err := safetensors.Decode(file)
	if err != nil {
		return nil, false
	}
	var docs [2]any // the architecture and the compile config
	for i, key := range []string{"model", "compile"} {
		if s, ok := sf.Metadata[key]; ok {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			if dec.Decode(&docs[i]) != nil {
				return nil, false
			}
		}
	}
	for len(program) >= 4 {
		op, at, val := program[0], int(program[1])<<8|int(program[2]), int(program[3])
		program = program[4:]
		if op%10 == 5 || op%10 == 6 {
			if len(sf.Tensors) > 0 {
				mutateTensor(sf, at%len(sf.Tensors), op%10 == 6, val)
			}
			continue
		}
		doc := 0
		if docs[1] != nil && op >= 128 {
			doc = 1
		}
		var sites []site
		collect("", docs[doc], func(n any) { docs[doc] = n }, nil, &sites)
		mutateSite(sites[at%len(sites)], op%10, val)
	}
	for i, key := range []string{"model", "compile"} {
		if docs[i] == nil {
			continue
		}
		b, err := json.Marshal(docs[i])
		if err != nil {
			return nil, false
		}
		sf.Metadata[key] = string(b)
	}
	var buf bytes.Buffer
	if safetensors.Encode(&buf, sf.Tensors, sf.Metadata) != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// mutateSite applies one operation to a value.
func mutateSite(s site, op byte, val int) {
	switch op {
	case 0: // set a number
		s.set(json.Number(fuzzNumbers[val%len(fuzzNumbers)]))
	case 1: // scale or shift a number
		if n, ok := s.v.(json.Number); ok {
			if x, err := n.Int64(); err == nil {
				if val%2 == 0 {
					s.set(json.Number(strconv.FormatInt(x*int64(val/2+2), 10)))
				} else {
					s.set(json.Number(strconv.FormatInt(x+int64(val/2)-64, 10)))
				}
			}
		}
	case 2: // delete
		if s.del != nil {
			s.del()
		}
	case 3: // duplicate an array element, or add a config field
		switch x := s.v.(type) {
		case []any:
			if len(x) > 0 {
				s.set(append(append([]any(nil), x...), x[val%len(x)]))
			}
		case map[string]any:
			x[fuzzKeys[val%len(fuzzKeys)]] = json.Number(fuzzNumbers[val%len(fuzzNumbers)])
		}
	case 4: // set a string
		s.set(fuzzWords[val%len(fuzzWords)])
	case 7: // insert a number into an array
		if x, ok := s.v.([]any); ok {
			s.set(append(append([]any(nil), x...), json.Number(fuzzNumbers[val%len(fuzzNumbers)])))
		}
	case 8: // wrap a layer
		if x, ok := s.v.(map[string]any); ok && x["class_name"] != nil && x["config"] != nil {
			wrapper := "TimeDistributed"
			if val%2 == 1 {
				wrapper = "Bidirectional"
			}
			x["config"] = map[string]any{"layer": map[string]any{"class_name": x["class_name"], "config": x["config"]}}
			x["class_name"] = wrapper
		}
	case 9: // toggle a boolean
		if b, ok := s.v.(bool); ok {
			s.set(!b)
		}
	}
}

// mutateTensor changes tensor i's shape (its data resized, zero), or with
// drop removes it.
func mutateTensor(f *safetensors.File, i int, drop bool, val int) {
	if drop {
		f.Tensors = append(f.Tensors[:i:i], f.Tensors[i+1:]...)
		return
	}
	t := &f.Tensors[i]
	shape := append([]int(nil), t.Shape...)
	switch k := val % 4; {
	case k == 0 && len(shape) > 0:
		shape[val/4%len(shape)] *= 2
	case k == 1 && len(shape) > 0:
		shape[val/4%len(shape)] = 1
	case k == 2:
		shape = append(shape, 1)
	case len(shape) > 0:
		shape = shape[1:]
	}
	n, ok := shapeSize(shape, math.MaxInt, 1<<20)
	size, known := safetensors.DtypeSize(t.Dtype)
	if !ok || !known {
		return
	}
	t.Shape, t.Data = shape, make([]byte, n*size)
}

// TestMutateFile: the structured fuzzer's mutations make well-formed
// files, most of them different from the original, and the empty program
// changes nothing.
func TestMutateFile(t *testing.T) {
	file := zooFile(t, "mlp")
	same, ok := mutateFile(file, nil)
	if !ok {
		t.Fatal("the empty program: not encodable")
	}
	if _, err := decodeModel(same); err != nil {
		t.Fatalf("the empty program: %v", err)
	}
	changed := 0
	for op := range byte(10) {
		got, ok := mutateFile(file, []byte{op, 0, 9, 10})
		if !ok {
			continue
		}
		if _, err := safetensors.Decode(got); err != nil {
			t.Errorf("op %d: a malformed file: %v", op, err)
		}
		if !bytes.Equal(got, same) {
			changed++
		}
	}
	if changed < 6 {
		t.Errorf("%d of 10 operations changed the file, want most", changed)
	}
	// Setting the first Dense's units to 2^40 (fuzzNumbers[10]) is refused
	// as over the limits.
	sf, _ := safetensors.Decode(file)
	var arch any
	dec := json.NewDecoder(strings.NewReader(sf.Metadata["model"]))
	dec.UseNumber()
	if err := dec.Decode(&arch); err != nil {
		t.Fatal(err)
	}
	var sites []site
	collect("", arch, nil, nil, &sites)
	at := -1
	for i, s := range sites {
		if strings.HasSuffix(s.path, ".config.units") {
			at = i
			break
		}
	}
	if at < 0 {
		t.Fatal("no units in the architecture")
	}
	huge, ok := mutateFile(file, []byte{0, byte(at >> 8), byte(at), 10})
	if _, err := decodeModel(huge); !ok || !errors.Is(err, ErrLoadLimit) || !strings.Contains(err.Error(), "config field units is 1099511627776") {
		t.Errorf("units set to 2^40 at site %d (%s): got %v, want ErrLoadLimit", at, sites[at].path, err)
	}
}
