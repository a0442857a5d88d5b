package ensemble

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// memoFactory makes memo learners over k classes; the salt is the seed mod
// k, so members vote differently.
func memoFactory(k int, regress bool) Factory {
	return func(seed uint64) (Learner, error) {
		return &memo{k: k, salt: int(seed % 7), regress: regress}, nil
	}
}

// TestBaggingIndexSets: each member trains on the rows MemberSamples
// reports — n draws with replacement by default, MaxSamples of them,
// distinct without bootstrap — and the out-of-bag score is the accuracy of
// the summed votes of the members for which a sample was out of the bag
// (argmax, class 0 for a sample never out of the bag).
func TestBaggingIndexSets(t *testing.T) {
	const n, k = 40, 3
	labels := make([]float64, n)
	for i := range labels {
		labels[i] = float64(i * 5 % k)
	}
	y := vec(labels)
	x := column(ids(n))
	for _, c := range []struct {
		name        string
		b           Bagging
		size        int
		replacement bool
	}{
		{"bootstrap", Bagging{Members: 7, OOBScore: true}, n, true},
		{"half, bootstrap", Bagging{Members: 5, MaxSamples: 0.5, OOBScore: true}, n / 2, true},
		{"count 10, pasting", Bagging{Members: 5, MaxSamples: 10, NoBootstrap: true}, 10, false},
		{"all, pasting", Bagging{Members: 2, NoBootstrap: true}, n, false},
	} {
		b := c.b
		b.New, b.Seed, b.Workers = memoFactory(k, false), 3, 2
		if err := b.Fit(x, y, nil); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		votes := zeros(n, k)
		repeats := false
		for i, l := range b.Learners() {
			m := l.(*memo)
			rows, feats := b.MemberSamples(i)
			if feats != nil {
				t.Errorf("%s member %d: features %v, want nil (all)", c.name, i, feats)
			}
			if fmt.Sprint(m.trained) != fmt.Sprint(rows) || len(rows) != c.size {
				t.Errorf("%s member %d trained on %v, MemberSamples %v (want %d rows)", c.name, i, m.trained, rows, c.size)
			}
			seen := map[int]bool{}
			for _, r := range rows {
				if r < 0 || r >= n {
					t.Fatalf("%s member %d: row %d out of range", c.name, i, r)
				}
				repeats = repeats || seen[r]
				seen[r] = true
			}
			if !b.OOBScore {
				continue
			}
			var out []int
			for r := 0; r < n; r++ {
				if !seen[r] {
					out = append(out, r)
				}
			}
			if len(m.predicted) != 1 || fmt.Sprint(m.predicted[0]) != fmt.Sprint(out) {
				t.Errorf("%s member %d: out-of-bag predictions for %v, want the rows not drawn %v", c.name, i, m.predicted, out)
			}
			for _, r := range out {
				votes[r][(r+m.salt)%k]++
			}
		}
		if repeats != c.replacement {
			t.Errorf("%s: rows repeated within a member: %v, want %v", c.name, repeats, c.replacement)
		}
		if !b.OOBScore {
			if _, _, err := b.OutOfBag(); !errors.Is(err, ErrNotFitted) {
				t.Errorf("%s: OutOfBag without OOBScore: %v, want ErrNotFitted", c.name, err)
			}
			continue
		}
		right := 0
		for r := range votes {
			if argmax(votes[r]) == int(labels[r]) {
				right++
			}
		}
		score, dec, err := b.OutOfBag()
		if err != nil {
			t.Fatal(err)
		}
		if want := float64(right) / n; score != want {
			t.Errorf("%s: out-of-bag score %v, want %v", c.name, score, want)
		}
		d := flat(t, dec)
		for r := range votes {
			total := votes[r][0] + votes[r][1] + votes[r][2]
			for j := 0; j < k; j++ {
				want := votes[r][j] / total
				if got := d[r*k+j]; !(got == want || (math.IsNaN(got) && total == 0)) {
					t.Errorf("%s: out-of-bag decision [%d][%d] = %v, want %v", c.name, r, j, got, want)
				}
			}
		}
	}
}

// TestBootstrapFraction: a bootstrap sample of n rows holds about
// 1 − 1/e ≈ 63.2% of them.
func TestBootstrapFraction(t *testing.T) {
	const n = 2000
	b := &Bagging{New: memoFactory(2, false), Members: 4, Seed: 9}
	y := make([]float64, n)
	y[0] = 1
	if err := b.Fit(column(ids(n)), vec(y), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		rows, _ := b.MemberSamples(i)
		seen := map[int]bool{}
		for _, r := range rows {
			seen[r] = true
		}
		// Standard deviation of the fraction ≈ 0.011 for n = 2000.
		if f := float64(len(seen)) / n; math.Abs(f-(1-1/math.E)) > 0.05 {
			t.Errorf("member %d holds %.3f of the rows, want about 0.632", i, f)
		}
	}
}

// TestBaggingFeatures: MaxFeatures picks distinct columns per member (with
// replacement under BootstrapFeatures), and members see those columns.
func TestBaggingFeatures(t *testing.T) {
	const n, d = 12, 5
	xs := make([]float64, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			xs[i*d+j] = float64(100*i + j)
		}
	}
	x := tensor.New(tensor.WithShape(n, d), tensor.WithBacking(xs))
	y := vec([]float64{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1})
	for _, c := range []struct {
		b    Bagging
		size int
	}{{Bagging{MaxFeatures: 0.6}, 3}, {Bagging{MaxFeatures: 4, BootstrapFeatures: true}, 4}, {Bagging{BootstrapFeatures: true}, 5}} {
		b := c.b
		var got []*script
		b.New = func(uint64) (Learner, error) {
			s := &script{pred: make([]float64, n)}
			got = append(got, s)
			return s, nil
		}
		b.Members = 6
		if err := b.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		repeated := false
		for i, s := range got {
			rows, feats := b.MemberSamples(i)
			if len(feats) != c.size {
				t.Fatalf("%+v member %d: features %v, want %d", c.b, i, feats, c.size)
			}
			seen := map[int]bool{}
			for _, f := range feats {
				repeated = repeated || seen[f]
				seen[f] = true
			}
			for r, row := range rows {
				for j, f := range feats {
					if want := float64(100*row + f); s.fitX[r*len(feats)+j] != want {
						t.Fatalf("%+v member %d: x[%d][%d] = %v, want %v", c.b, i, r, j, s.fitX[r*len(feats)+j], want)
					}
				}
			}
		}
		if !c.b.BootstrapFeatures && repeated {
			t.Errorf("%+v: a feature repeated without BootstrapFeatures", c.b)
		}
	}
}

// TestBaggingWorkersRepeatable: a seeded ensemble gives the same
// probabilities and out-of-bag score with 1 and 4 workers.
func TestBaggingWorkersRepeatable(t *testing.T) {
	x, y, err := datasets.Moons(120, 0.3, 4)
	if err != nil {
		t.Fatal(err)
	}
	run := func(workers int, seed uint64) ([]float64, float64) {
		b := &Bagging{New: (&Tree{MaxDepth: 4}).Clone, Members: 12, MaxSamples: 0.8, MaxFeatures: 1,
			BootstrapFeatures: true, OOBScore: true, Workers: workers, Seed: seed}
		if err := b.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		p, err := b.PredictProba(x)
		if err != nil {
			t.Fatal(err)
		}
		oob, _, _ := b.OutOfBag()
		return flat(t, p), oob
	}
	p1, o1 := run(1, 5)
	p4, o4 := run(4, 5)
	if !near(p1, p4, 0) || o1 != o4 {
		t.Errorf("1 and 4 workers differ: out-of-bag %v and %v", o1, o4)
	}
	if p6, _ := run(4, 6); near(p1, p6, 0) {
		t.Error("seeds 5 and 6 gave the same probabilities")
	}
}

// TestBaggingRegression: the prediction is the members' mean, and the
// out-of-bag prediction the mean over members that did not draw a sample.
func TestBaggingRegression(t *testing.T) {
	const n = 10
	b := &Bagging{New: memoFactory(0, true), Members: 5, Regression: true, OOBScore: true, Seed: 2}
	y := ids(n)
	if err := b.Fit(column(ids(n)), vec(y), nil); err != nil {
		t.Fatal(err)
	}
	salt := 0.0
	for _, l := range b.Learners() {
		salt += float64(l.(*memo).salt) / 5
	}
	p, err := b.Predict(column([]float64{2, 7}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flat(t, p), []float64{2 + salt, 7 + salt}; !near(got, want, 1e-12) {
		t.Errorf("Predict = %v, want the mean of the members %v", got, want)
	}
	_, dec, err := b.OutOfBag()
	if err != nil {
		t.Fatal(err)
	}
	for r, got := range flat(t, dec) {
		sum, count := 0.0, 0.0
		for i, l := range b.Learners() {
			rows, _ := b.MemberSamples(i)
			in := false
			for _, s := range rows {
				in = in || s == r
			}
			if !in {
				sum += float64(r + l.(*memo).salt)
				count++
			}
		}
		if want := sum / math.Max(count, 1); math.Abs(got-want) > 1e-12 {
			t.Errorf("out-of-bag prediction of row %d = %v, want %v", r, got, want)
		}
	}
}

// failing fails for one seed: the member given that seed.
func failingFactory(failSeed uint64) Factory {
	return func(seed uint64) (Learner, error) {
		if seed == failSeed {
			return &script{fails: errors.New("out of memory")}, nil
		}
		return &script{pred: []float64{0, 1, 1, 0, 1, 0}}, nil
	}
}

// TestBaggingMemberFails: the error names the member; the others are
// kept and predict.
func TestBaggingMemberFails(t *testing.T) {
	x, y := column(ids(6)), vec([]float64{0, 1, 1, 0, 1, 0})
	var progress bytes.Buffer
	plan, err := (&Bagging{Members: 5, Seed: 8}).Plan(x, y)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bagging{New: failingFactory(plan[2].Seed), Members: 5, Workers: 3, Seed: 8, Progress: &progress}
	err = b.Fit(x, y, nil)
	var fe *FitError
	if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Failed[0].Member != 2 || fe.Trained != 4 {
		t.Fatalf("error %v, want a FitError for member 2 with 4 members trained", err)
	}
	if !strings.Contains(err.Error(), "bagging member 2: out of memory") {
		t.Errorf("error %q does not name the member and the cause", err)
	}
	kept := 0
	for i, l := range b.Learners() {
		if (l == nil) != (i == 2) {
			t.Errorf("member %d: learner %v", i, l)
		}
		if l != nil {
			kept++
		}
	}
	p, err := b.Predict(x)
	if err != nil || kept != 4 {
		t.Fatalf("Predict with %d members kept: %v", kept, err)
	}
	if got := flat(t, p); !near(got, []float64{0, 1, 1, 0, 1, 0}, 0) {
		t.Errorf("Predict = %v", got)
	}
	if lines := strings.Count(progress.String(), "\n"); lines != 5 || !strings.Contains(progress.String(), "member 3/5 failed") {
		t.Errorf("progress has %d lines, want 5 with member 3/5 failed:\n%s", lines, progress.String())
	}
	// A panicking learner is a member error, not a crash.
	b = &Bagging{New: func(uint64) (Learner, error) {
		return LearnerFuncs{FitFunc: func(x, y *tensor.Dense, w []float64) error { panic("boom") }}, nil
	}, Members: 2, Workers: 2}
	if err := b.Fit(x, y, nil); !errors.As(err, &fe) || !strings.Contains(err.Error(), "panic: boom") {
		t.Errorf("panicking learner: error %v", err)
	}
}

func TestBaggingBadInput(t *testing.T) {
	x, y := column(ids(6)), vec([]float64{0, 1, 1, 0, 1, 0})
	ok := memoFactory(2, false)
	cases := []struct {
		name string
		b    *Bagging
		x, y *tensor.Dense
		w    []float64
		want error
		msg  string
	}{
		{"zero members", &Bagging{New: ok}, x, y, nil, ErrConfig, "Members ≥ 1, got 0"},
		{"no factory", &Bagging{Members: 2}, x, y, nil, ErrConfig, "set New (a Factory) or Learner (a Spec)"},
		{"negative MaxSamples", &Bagging{New: ok, Members: 2, MaxSamples: -0.5}, x, y, nil, ErrConfig, "MaxSamples is -0.5"},
		{"fractional count", &Bagging{New: ok, Members: 2, MaxSamples: 1.5}, x, y, nil, ErrConfig, "MaxSamples is 1.5: outside (0, 1] and not a whole count"},
		{"above the data size", &Bagging{New: ok, Members: 2, MaxSamples: 7}, x, y, nil, ErrConfig, "MaxSamples is 7, above the 6 available"},
		{"NaN MaxSamples", &Bagging{New: ok, Members: 2, MaxSamples: math.NaN()}, x, y, nil, ErrConfig, "MaxSamples is NaN"},
		{"tiny fraction", &Bagging{New: ok, Members: 2, MaxSamples: 0.1}, x, y, nil, ErrConfig, "MaxSamples 0.1 of 6 is no sample"},
		{"MaxFeatures above", &Bagging{New: ok, Members: 2, MaxFeatures: 2}, x, y, nil, ErrConfig, "MaxFeatures is 2, above the 1 available"},
		{"OOB without bootstrap", &Bagging{New: ok, Members: 2, OOBScore: true, NoBootstrap: true}, x, y, nil, ErrConfig, "needs bootstrap"},
		{"voting", &Bagging{New: ok, Members: 2, Voting: "majority"}, x, y, nil, ErrConfig, `Voting "majority"`},
		{"all weights zero", &Bagging{New: ok, Members: 2}, x, y, make([]float64, 6), ErrZeroWeights, "the 6 sample weights sum to 0"},
		{"negative weight", &Bagging{New: ok, Members: 2}, x, y, []float64{1, 1, -1, 1, 1, 1}, ErrInput, "sample weight -1 at sample 2"},
		{"weights count", &Bagging{New: ok, Members: 2}, x, y, []float64{1}, ErrInput, "1 sample weights for 6 samples"},
		{"infinite labels", &Bagging{New: ok, Members: 2}, x, vec([]float64{0, 1, math.Inf(1), 0, 1, 0}), nil, ErrLabels, "label +Inf at sample 2"},
		{"NaN labels", &Bagging{New: ok, Members: 2}, x, vec([]float64{0, 1, math.NaN(), 0, 1, 0}), nil, ErrLabels, "label NaN at sample 2"},
		{"one-hot labels", &Bagging{New: ok, Members: 2}, x, tensor.New(tensor.WithShape(6, 2), tensor.WithBacking(make([]float64, 12))), nil, ErrLabels, "y has shape (6, 2), want (n) or (n, 1)"},
		{"string labels", &Bagging{New: ok, Members: 2}, x, tensor.New(tensor.WithBacking([]string{"a", "b", "a", "b", "a", "b"})), nil, ErrLabels, "y holds string"},
		{"bool labels", &Bagging{New: ok, Members: 2}, x, tensor.New(tensor.WithBacking([]bool{true, false, true, false, true, false})), nil, ErrLabels, "y holds bool"},
		{"NaN target", &Bagging{New: ok, Members: 2, Regression: true}, x, vec([]float64{0, 1, math.NaN(), 0, 1, 0}), nil, ErrLabels, "target NaN at sample 2"},
		{"label count", &Bagging{New: ok, Members: 2}, x, vec([]float64{0, 1}), nil, ErrLabels, "y has 2 samples, x has 6"},
		{"nil x", &Bagging{New: ok, Members: 2}, nil, y, nil, ErrInput, "x is nil"},
	}
	for _, c := range cases {
		err := c.b.Fit(c.x, c.y, c.w)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
	b := &Bagging{New: ok, Members: 2}
	if _, err := b.Predict(x); !errors.Is(err, ErrNotFitted) {
		t.Errorf("Predict before Fit: %v, want ErrNotFitted", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.FitContext(ctx, x, y, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
}

// TestBaggingHardVoting: hard voting counts the members' classes even when
// they give probabilities.
func TestBaggingHardVoting(t *testing.T) {
	x, y := column(ids(3)), vec([]float64{0, 1, 2})
	probas := [][][]float64{
		{{0.4, 0.6, 0}, {0, 1, 0}, {0.5, 0, 0.5}},
		{{0.4, 0.6, 0}, {0, 0, 1}, {0.5, 0, 0.5}},
		{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
	}
	for _, c := range []struct {
		voting string
		want   []float64
	}{
		// Soft: mean probabilities. Row 0: [0.6 0.4 0] → 0; row 2: [1/3 0 2/3] → 2.
		{"soft", []float64{0, 1, 2}},
		// Hard: classes [1 1 0], [1 2 1], [0 0 2] → 1, 1, 0.
		{"hard", []float64{1, 1, 0}},
	} {
		s := &scripts{}
		for _, p := range probas {
			s.list = append(s.list, &script{proba: p})
		}
		b := &Bagging{New: s.factory, Members: 3, Voting: c.voting}
		if err := b.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
		p, err := b.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		if got := flat(t, p); !near(got, c.want, 0) {
			t.Errorf("%s voting: %v, want %v", c.voting, got, c.want)
		}
	}
}
