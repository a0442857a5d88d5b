package datasets

import (
	"fmt"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func testSets(folds []Fold) [][]int {
	var out [][]int
	for _, f := range folds {
		out = append(out, f.Test)
	}
	return out
}

// checkPartition: every row is tested exactly once, and each fold trains
// on the rows it does not test, in increasing order.
func checkPartition(t *testing.T, name string, folds []Fold, n int) {
	t.Helper()
	tested := make([]int, n)
	for f, fold := range folds {
		in := make([]bool, n)
		for i, r := range fold.Test {
			if i > 0 && r <= fold.Test[i-1] {
				t.Errorf("%s fold %d: test rows not increasing: %v", name, f, fold.Test)
			}
			tested[r]++
			in[r] = true
		}
		var want []int
		for r := 0; r < n; r++ {
			if !in[r] {
				want = append(want, r)
			}
		}
		if fmt.Sprint(fold.Train) != fmt.Sprint(want) {
			t.Errorf("%s fold %d: train rows %v, want %v", name, f, fold.Train, want)
		}
	}
	for r, c := range tested {
		if c != 1 {
			t.Errorf("%s: row %d is tested %d times, want once", name, r, c)
		}
	}
}

func labelsOf(ys []float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(ys)), tensor.WithBacking(append([]float64(nil), ys...)))
}

func TestKFoldMatchesSklearn(t *testing.T) {
	ref := loadSklearnRef(t)
	if len(ref.KFold) == 0 || len(ref.Stratified) == 0 {
		t.Fatal("no reference folds")
	}
	for _, c := range ref.KFold {
		folds, err := KFold(c.N, KFoldConfig{Splits: c.Splits})
		if err != nil {
			t.Fatalf("KFold(%d, %d): %+v", c.N, c.Splits, err)
		}
		if got := testSets(folds); fmt.Sprint(got) != fmt.Sprint(c.Test) {
			t.Errorf("KFold(%d, %d) test sets %v, want %v", c.N, c.Splits, got, c.Test)
		}
		checkPartition(t, fmt.Sprintf("KFold(%d, %d)", c.N, c.Splits), folds, c.N)
	}
	for _, c := range ref.Stratified {
		folds, err := StratifiedKFold(labelsOf(c.Y), KFoldConfig{Splits: c.Splits})
		if err != nil {
			t.Fatalf("StratifiedKFold(%v, %d): %+v", c.Y, c.Splits, err)
		}
		if got := testSets(folds); fmt.Sprint(got) != fmt.Sprint(c.Test) {
			t.Errorf("StratifiedKFold(%v, %d) test sets %v, want %v", c.Y, c.Splits, got, c.Test)
		}
		checkPartition(t, fmt.Sprintf("StratifiedKFold(%v, %d)", c.Y, c.Splits), folds, len(c.Y))
	}
}

// TestShuffledFolds: shuffling keeps the partition and, when stratified,
// each fold's class counts; a seed repeats it.
func TestShuffledFolds(t *testing.T) {
	y := []float64{2, 0, 1, 1, 0, 2, 2, 1, 0, 0, 0, 1, 2, 2, 1, 0, 1, 1, 1, 0}
	classCounts := func(folds []Fold) string {
		var s []string
		for _, f := range folds {
			c := map[float64]int{}
			for _, r := range f.Test {
				c[y[r]]++
			}
			s = append(s, fmt.Sprint(c))
		}
		return strings.Join(s, " ")
	}
	plain, err := StratifiedKFold(labelsOf(y), KFoldConfig{Splits: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, err := StratifiedKFold(labelsOf(y), KFoldConfig{Splits: 3, Shuffle: true, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := StratifiedKFold(labelsOf(y), KFoldConfig{Splits: 3, Shuffle: true, Seed: 5})
	checkPartition(t, "shuffled StratifiedKFold", a, len(y))
	if got, want := classCounts(a), classCounts(plain); got != want {
		t.Errorf("shuffled class counts per fold %s, want %s", got, want)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different folds: %v and %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(plain) {
		t.Errorf("shuffled folds equal the unshuffled ones: %v", a)
	}
	k1, err := KFold(23, KFoldConfig{Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, "shuffled KFold", k1, 23)
	for f, fold := range k1 {
		// 23 = 5+5+5+4+4.
		if want := []int{5, 5, 5, 4, 4}[f]; len(fold.Test) != want {
			t.Errorf("shuffled KFold fold %d tests %d rows, want %d", f, len(fold.Test), want)
		}
	}
}

func TestTrainTestSplit(t *testing.T) {
	const n = 40
	xs := make([]float32, 2*n)
	ys := make([]float32, n)
	for i := 0; i < n; i++ {
		xs[2*i], xs[2*i+1] = float32(i), float32(-i)
		if i >= 30 {
			ys[i] = 1 // 30 of class 0, 10 of class 1
		}
	}
	x := tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(xs))
	y := tensor.New(tensor.WithShape(n), tensor.WithBacking(ys))
	for _, cfg := range []SplitConfig{{Seed: 1}, {Seed: 2, Stratify: true, TestSize: 0.3}, {NoShuffle: true, TestSize: 0.1}} {
		xTr, yTr, xTe, yTe, err := TrainTestSplit(x, y, cfg)
		if err != nil {
			t.Fatalf("%+v: %+v", cfg, err)
		}
		size := cfg.TestSize
		if size == 0 {
			size = 0.25
		}
		nTest := int(size*n + 0.999)
		if xTe.Shape()[0] != nTest || xTr.Shape()[0] != n-nTest || yTe.Shape()[0] != nTest || yTr.Shape()[0] != n-nTest {
			t.Errorf("%+v: sizes %v %v %v %v, want %d train and %d test", cfg, xTr.Shape(), yTr.Shape(), xTe.Shape(), yTe.Shape(), n-nTest, nTest)
			continue
		}
		seen := map[float32]bool{}
		ones := 0
		for _, part := range []struct{ x, y *tensor.Dense }{{xTr, yTr}, {xTe, yTe}} {
			px, py := part.x.Data().([]float32), part.y.Data().([]float32)
			for i, l := range py {
				row := px[2*i]
				if seen[row] || px[2*i+1] != -row || l != ys[int(row)] {
					t.Errorf("%+v: row %v (%v, label %v) repeated or misaligned", cfg, row, px[2*i:2*i+2], l)
				}
				seen[row] = true
			}
		}
		for _, l := range yTe.Data().([]float32) {
			ones += int(l)
		}
		if cfg.Stratify && ones != 3 { // 30% of the 10 of class 1
			t.Errorf("stratified: %d of class 1 in the test set, want 3", ones)
		}
		if cfg.NoShuffle && fmt.Sprint(xTe.Data()) != fmt.Sprint(xs[2*(n-nTest):]) {
			t.Errorf("no shuffle: test rows %v, want the last %d", xTe.Data(), nTest)
		}
	}
}

func TestSubset(t *testing.T) {
	x := tensor.New(tensor.WithShape(3, 2, 1), tensor.WithBacking([]int{1, 2, 3, 4, 5, 6}))
	got, err := Subset(x, []int{2, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{5, 6, 1, 2, 5, 6}; fmt.Sprint(got.Data()) != fmt.Sprint(want) || !equalInts(got.Shape(), []int{3, 2, 1}) {
		t.Errorf("Subset: %v shape %v, want %v shape [3 2 1]", got.Data(), got.Shape(), want)
	}
	if _, err := Subset(x, []int{0, 3}); err == nil || !strings.Contains(err.Error(), "index 3 (position 1) is out of range for 3 samples") {
		t.Errorf("out of range: error %v", err)
	}
}

func TestSplitErrors(t *testing.T) {
	y := labelsOf([]float64{0, 0, 0, 1, 1, 1, 1})
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"one split", func() error { _, err := KFold(10, KFoldConfig{Splits: 1}); return err }, "at least 2 splits, got 1"},
		{"too few samples", func() error { _, err := KFold(3, KFoldConfig{}); return err }, "cannot make 5 folds of 3 samples"},
		{"too many splits for classes", func() error { _, err := StratifiedKFold(y, KFoldConfig{Splits: 5}); return err }, "more than the number of members of every class"},
		{"one-hot labels", func() error {
			_, err := StratifiedKFold(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 0, 0, 1})), KFoldConfig{Splits: 2})
			return err
		}, "labels of shape (n) or (n, 1), got (2, 2)"},
		{"test size", func() error { _, _, err := SplitIndices(y, SplitConfig{TestSize: 1.5}); return err }, "fraction in (0, 1), got 1.5"},
		{"stratify no shuffle", func() error { _, _, err := SplitIndices(y, SplitConfig{Stratify: true, NoShuffle: true}); return err }, "cannot stratify without shuffling"},
		{"x rows", func() error {
			_, _, _, _, err := TrainTestSplit(tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float32{1, 2, 3})), y, SplitConfig{})
			return err
		}, "want 7 samples as y"},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "datasets: ") {
			t.Errorf("%s: error %v, want one starting \"datasets: \" containing %q", c.name, err, c.want)
		}
	}
}
