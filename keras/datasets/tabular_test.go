package datasets

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIris(t *testing.T) {
	x, y, names, err := Iris()
	if err != nil {
		t.Fatalf("Iris: %+v", err)
	}
	if got := []int(x.Shape()); !equalInts(got, []int{150, 4}) {
		t.Fatalf("x shape %v, want [150 4]", got)
	}
	if got := []int(y.Shape()); !equalInts(got, []int{150}) {
		t.Fatalf("y shape %v, want [150]", got)
	}
	wantNames := []string{"Iris-setosa", "Iris-versicolor", "Iris-virginica"}
	if strings.Join(names, ",") != strings.Join(wantNames, ",") {
		t.Errorf("class names %q, want %q", names, wantNames)
	}
	counts := make([]int, 3)
	labels := y.Data().([]float32)
	for _, l := range labels {
		counts[int(l)]++
	}
	if !equalInts(counts, []int{50, 50, 50}) {
		t.Errorf("class counts %v, want [50 50 50]", counts)
	}
	// First and last rows of UCI's iris.data:
	// 5.1,3.5,1.4,0.2,Iris-setosa and 5.9,3.0,5.1,1.8,Iris-virginica.
	xs := x.Data().([]float32)
	for _, c := range []struct {
		row   int
		want  []float32
		label float32
	}{{0, []float32{5.1, 3.5, 1.4, 0.2}, 0}, {149, []float32{5.9, 3.0, 5.1, 1.8}, 2}} {
		if got := xs[4*c.row : 4*c.row+4]; !equalFloats(got, c.want) || labels[c.row] != c.label {
			t.Errorf("row %d: %v label %v, want %v label %v", c.row, got, labels[c.row], c.want, c.label)
		}
	}
	// Column means as printed in UCI's iris.names (two decimals; numpy on
	// this file gives 5.8433, 3.0540, 3.7587, 1.1987).
	means := []float64{5.84, 3.05, 3.76, 1.20}
	for j, want := range means {
		s := 0.0
		for i := 0; i < 150; i++ {
			s += float64(xs[4*i+j])
		}
		if got := s / 150; got < want-0.005 || got > want+0.005 {
			t.Errorf("mean of column %d is %.4f, want %.2f", j, got, want)
		}
	}
}

// TestIrisMatchesGolearn checks the embedded copy against golearn's file
// when that module is already in the module cache (it is not downloaded
// for this test).
func TestIrisMatchesGolearn(t *testing.T) {
	cache := goEnv("GOMODCACHE")["GOMODCACHE"]
	path := filepath.Join(cache, escapeModulePath(golearnModule)+"@"+golearnVersion, "examples", "datasets", "iris.csv")
	if _, err := os.Stat(path); cache == "" || err != nil {
		t.Skipf("%s@%s is not in the module cache", golearnModule, golearnVersion)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, irisCSV) {
		t.Errorf("embedded iris.csv (%d bytes) differs from %s (%d bytes)", len(irisCSV), path, len(raw))
	}
	if got, err := GolearnFile("iris.csv"); err != nil || got != path {
		t.Errorf("GolearnFile(iris.csv) = %q, %v; want %q", got, err, path)
	}
}

func TestGolearnFileBadName(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../iris.csv", "sub/iris.csv"} {
		if _, err := GolearnFile(name); err == nil || !strings.Contains(err.Error(), "want a plain file name") {
			t.Errorf("GolearnFile(%q): error %v, want one asking for a plain file name", name, err)
		}
	}
}

func TestCSV(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		label     int
		wantX     []float32
		wantShape []int
		wantY     []float32
		wantNames []string
	}{
		{"string labels, last column", "1,2,b\n3,4,a\n5,6,b\n", -1,
			[]float32{1, 2, 3, 4, 5, 6}, []int{3, 2}, []float32{1, 0, 1}, []string{"a", "b"}},
		{"numeric label, first column, header", "price, rooms, area\n100, 3, 50.5\n\n200,4,70\n", 0,
			[]float32{3, 50.5, 4, 70}, []int{2, 2}, []float32{100, 200}, nil},
		{"label in the middle", "1,x,2\n3,y,4\n", 1,
			[]float32{1, 2, 3, 4}, []int{2, 2}, []float32{0, 1}, []string{"x", "y"}},
		{"quoted fields", "\"1\",\"2\",\"big cat\"\n", 2,
			[]float32{1, 2}, []int{1, 2}, []float32{0}, []string{"big cat"}},
		{"names, some of them numbers", "1,a\n2,b\n3,7\n", -1,
			[]float32{1, 2, 3}, []int{3, 1}, []float32{1, 2, 0}, []string{"7", "a", "b"}},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "data.csv")
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		x, y, names, err := CSV(path, c.label)
		if err != nil {
			t.Errorf("%s: %+v", c.name, err)
			continue
		}
		if got := x.Data().([]float32); !equalFloats(got, c.wantX) || !equalInts(x.Shape(), c.wantShape) {
			t.Errorf("%s: x %v shape %v, want %v shape %v", c.name, got, x.Shape(), c.wantX, c.wantShape)
		}
		if got := y.Data().([]float32); !equalFloats(got, c.wantY) {
			t.Errorf("%s: y %v, want %v", c.name, got, c.wantY)
		}
		if strings.Join(names, "|") != strings.Join(c.wantNames, "|") || (names == nil) != (c.wantNames == nil) {
			t.Errorf("%s: class names %q, want %q", c.name, names, c.wantNames)
		}
	}
}

func TestCSVErrors(t *testing.T) {
	cases := []struct {
		name, text string
		label      int
		want       string
	}{
		{"short row", "1,2,a\n3,b\n", -1, "line 2 has 2 fields, want 3 as on line 1"},
		{"long row after blank lines", "\n\n1,2,a\n3,4,5,b\n", -1, "line 4 has 4 fields, want 3 as on line 3"},
		{"bad number", "1,2,a\n3,x4,b\n", -1, `line 2 column 1 (counting from 0): "x4" is not a finite float32 number`},
		{"missing value", "1,2,a\n3,,b\n", -1, `line 2 column 1 (counting from 0): "" is not`},
		{"NaN", "1,NaN,a\n", -1, `"NaN" is not a finite`},
		{"overflow", "1,1e39,a\n", -1, `"1e39" is not a finite float32`},
		{"label column too big", "1,2,a\n", 3, "label column 3 is out of range for 3 columns"},
		{"label column too small", "1,2,a\n", -4, "label column -4 is out of range for 3 columns"},
		{"one column", "1\n2\n", 0, "line 1 has 1 field, want a label and at least one feature"},
		{"header only", "a,b,c\n", -1, "holds no data rows"},
		{"empty", "", -1, "holds no data rows"},
		{"bad quote", "1,\"2,a\n", -1, "reading"},
		{"missing label", "1,2,0\n3,4,1\n5,6,NA\n7,8,1\n", -1, `line 3: label "NA" is not a finite number, while 3 of the 4 labels are`},
		{"NaN label", "1,2,0.5\n3,4,nan\n5,6,1.5\n", -1, `line 2: label "nan" is not a finite number`},
		{"numeric header", "1,2,label\n3,4,0\n5,6,1\n", -1, `line 1 looks like a header whose feature names are numbers: its label "label" is not a number, while 2 of the 2 labels below are`},
		{"numeric header, label first", "\ny,0,1\n1,3,4\n", 0, "line 2 looks like a header"},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "bad.csv")
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := CSV(path, c.label)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "datasets: ") {
			t.Errorf("%s: error %v, want one starting \"datasets: \", naming %s and containing %q", c.name, err, path, c.want)
		}
	}
	if _, _, _, err := CSV(filepath.Join(t.TempDir(), "none.csv"), -1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v, want one matching fs.ErrNotExist", err)
	}
}
