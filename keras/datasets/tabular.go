package datasets

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// irisCSV is examples/datasets/iris.csv of github.com/sjwhitworth/golearn
// (MIT licence), which is UCI's iris.data: 4.5 KB, so it is embedded rather
// than fetched with golearn's 26 MB module.
//
//go:embed data/iris.csv
var irisCSV []byte

// Iris returns Fisher's iris flowers as in UCI's iris.data: x (150, 4)
// float32 holding sepal length, sepal width, petal length and petal width
// in cm; y (150) float32 class indices into classNames, which are
// "Iris-setosa", "Iris-versicolor" and "Iris-virginica" (50 rows each, in
// that order in the file). The data is embedded in the package.
func Iris() (x, y *tensor.Dense, classNames []string, err error) {
	return readCSV(bytes.NewReader(irisCSV), "iris.csv", -1)
}

// CSV reads a comma-separated file of numbers in which one column is the
// label, and returns x (rows, columns−1) float32 holding the other columns
// in order, and y (rows) float32.
//
// labelColumn counts from 0; a negative value counts from the end (−1 is
// the last column). When every label is a number, y holds those numbers
// (a regression target, or class indices) and classNames is nil; otherwise
// the distinct labels, sorted, are classNames and y holds indices into it.
//
// The first row is taken as a header, and skipped, when none of its
// feature fields is a number. Spaces around fields are ignored and blank
// lines skipped. A row with a different number of fields, or a feature
// that is not a finite number, is an error naming the file, line and
// column. So is a label that is not a (finite) number when most labels
// are numbers — a missing value such as "NA", or a first line that is a
// header whose feature names look like numbers — rather than a silent
// extra class.
func CSV(path string, labelColumn int) (x, y *tensor.Dense, classNames []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, errors.Wrap(err, "datasets")
	}
	defer f.Close()
	return readCSV(f, path, labelColumn)
}

// GolearnFile returns the path of a data file, such as "titanic.csv" or
// "house-votes-84.csv", in examples/datasets of the Go module
// github.com/sjwhitworth/golearn, downloading the module (26 MB) into the
// module cache with the go command on first use. Read the CSV files with
// CSV, which skips the header row that some of them have.
func GolearnFile(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return "", errors.Errorf("datasets: golearn data file name %q: want a plain file name such as \"iris.csv\"", name)
	}
	dir, err := moduleDir(golearnModule, golearnVersion)
	if err != nil {
		return "", errors.WithMessage(err, "datasets: cannot find golearn's data sets")
	}
	path := filepath.Join(dir, "examples", "datasets", name)
	if _, err := os.Stat(path); err != nil {
		return "", errors.Wrapf(ErrNotFound, "datasets: golearn has no data file %q in %s", name, filepath.Dir(path))
	}
	return path, nil
}

// readCSV parses CSV text from r; name identifies it in errors.
func readCSV(r io.Reader, name string, labelColumn int) (x, y *tensor.Dense, classNames []string, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	cr.TrimLeadingSpace = true

	var (
		features []float32
		labels   []string
		lines    []int  // line of every label
		numeric  = true // every label so far is a number
		cols     = -1
		label    int
		line1    int // line of the first record
		rows     int
	)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, errors.Wrapf(err, "datasets: reading %s", name)
		}
		line, _ := cr.FieldPos(0)
		if cols < 0 {
			cols, line1 = len(rec), line
			if cols < 2 {
				return nil, nil, nil, errors.Errorf("datasets: %s line %d has %d field, want a label and at least one feature", name, line, cols)
			}
			label = labelColumn
			if label < 0 {
				label += cols
			}
			if label < 0 || label >= cols {
				return nil, nil, nil, errors.Errorf("datasets: %s: label column %d is out of range for %d columns", name, labelColumn, cols)
			}
		}
		if len(rec) != cols {
			return nil, nil, nil, errors.Errorf("datasets: %s line %d has %d fields, want %d as on line %d", name, line, len(rec), cols, line1)
		}
		if first && isHeader(rec, label) {
			continue
		}
		for j, f := range rec {
			f = strings.TrimSpace(f)
			if j == label {
				labels = append(labels, f)
				lines = append(lines, line)
				if v, err := strconv.ParseFloat(f, 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					numeric = false
				}
				continue
			}
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
				return nil, nil, nil, errors.Errorf("datasets: %s line %d column %d (counting from 0): %q is not a finite float32 number", name, line, j, f)
			}
			features = append(features, float32(v))
		}
		rows++
	}
	if rows == 0 {
		return nil, nil, nil, errors.Errorf("datasets: %s holds no data rows", name)
	}

	if !numeric {
		if err := mixedLabels(name, labels, lines, line1); err != nil {
			return nil, nil, nil, err
		}
	}
	ys := make([]float32, rows)
	if numeric {
		for i, l := range labels {
			v, _ := strconv.ParseFloat(l, 64)
			ys[i] = float32(v)
		}
	} else {
		index := map[string]int{}
		for _, l := range labels {
			index[l] = 0
		}
		for l := range index {
			classNames = append(classNames, l)
		}
		sort.Strings(classNames)
		for i, l := range classNames {
			index[l] = i
		}
		for i, l := range labels {
			ys[i] = float32(index[l])
		}
	}
	x = tensor.New(tensor.WithShape(rows, cols-1), tensor.WithBacking(features))
	y = tensor.New(tensor.WithShape(rows), tensor.WithBacking(ys))
	return x, y, classNames, nil
}

// isNumber reports whether a label is a finite number.
func isNumber(s string) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// mixedLabels returns an error when most labels are numbers but some are
// not, naming the first line of those (a header whose feature names are
// numbers, if it is the file's first line).
func mixedLabels(name string, labels []string, lines []int, line1 int) error {
	nums, first := 0, -1
	for i, l := range labels {
		if isNumber(l) {
			nums++
		} else if first < 0 {
			first = i
		}
	}
	if nums == 0 || nums < len(labels)-nums {
		return nil // class names, some of which may look like numbers
	}
	if lines[first] == line1 {
		return errors.Errorf("datasets: %s line %d looks like a header whose feature names are numbers: its label %q is not a number, while %d of the %d labels below are; remove the line or give the features names that are not numbers",
			name, line1, labels[first], nums, len(labels)-1)
	}
	return errors.Errorf("datasets: %s line %d: label %q is not a finite number, while %d of the %d labels are (a missing value?)",
		name, lines[first], labels[first], nums, len(labels))
}

// isHeader reports whether no feature field of rec is a number.
func isHeader(rec []string, label int) bool {
	for j, f := range rec {
		if j == label {
			continue
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil {
			return false
		}
	}
	return true
}
