package graph

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/ops"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// linear builds loss = Σ (x·w + b − y)² / n with an unused weight, a random
// input and a state update, the pieces a Program has to handle.
func linear(t *testing.T, phase Phase, batch int, w, b, unused, state *Weight, rng *rand.Rand) (*Context, Spec) {
	t.Helper()
	ctx := NewContext(phase, batch, tensor.Float64, rng)
	x := ctx.Input("x", batch, 2)
	y := ctx.Input("y", batch, 1)
	wn, err := ctx.Param(w)
	if err != nil {
		t.Fatal(err)
	}
	bn, _ := ctx.Param(b)
	if _, err := ctx.Param(unused); err != nil {
		t.Fatal(err)
	}
	noise := ctx.RandomInput("noise", []int{batch, 1}, func(r *rand.Rand, t *tensor.Dense) {
		for i := range t.Data().([]float64) {
			t.Data().([]float64)[i] = r.Float64()
		}
	})
	pred := gorgonia.Must(ops.BiasAdd(gorgonia.Must(gorgonia.Mul(x, wn)), bn))
	diff := gorgonia.Must(gorgonia.Sub(pred, y))
	loss := gorgonia.Must(gorgonia.Div(gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(diff)))), ctx.Constant(float64(batch))))
	if err := ctx.AddUpdate(state, gorgonia.Must(gorgonia.Sum(pred, 0)), 0.75); err != nil {
		t.Fatal(err)
	}
	return ctx, Spec{Inputs: []*gorgonia.Node{x, y}, Outputs: []*gorgonia.Node{pred, noise}, Loss: loss, Grad: phase == Train}
}

func weights() (w, b, unused, state *Weight) {
	w = NewWeight("w", tensor.Float64, []int{2, 1}, nil, true)
	copy(w.Value.Data().([]float64), []float64{0.5, -1})
	b = NewWeight("b", tensor.Float64, []int{1}, nil, true)
	b.Value.Data().([]float64)[0] = 0.25
	unused = NewWeight("unused", tensor.Float64, []int{3}, nil, true)
	state = NewWeight("state", tensor.Float64, []int{1}, nil, false)
	state.Value.Data().([]float64)[0] = 1
	return
}

func TestProgramGradientsAndUpdates(t *testing.T) {
	w, b, unused, state := weights()
	rng := rand.New(rand.NewPCG(1, 2))
	ctx, spec := linear(t, Train, 2, w, b, unused, state, rng)
	p, err := Compile(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	y := tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{0, 1}))
	if err := p.Run(x, y); err != nil {
		t.Fatal(err)
	}
	// pred = x·w + b = [1·0.5 − 2 + 0.25, 3·0.5 − 4 + 0.25] = [−1.25, −2.25]
	// loss = ((−1.25)² + (−3.25)²)/2 = (1.5625 + 10.5625)/2 = 6.0625
	loss, err := p.Loss()
	if err != nil || loss != 6.0625 {
		t.Fatalf("loss = %v, %v; want 6.0625", loss, err)
	}
	grads, err := p.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	// d/dpred = 2·diff/2 = diff = [−1.25, −3.25]; dw = xᵀ·diff; db = Σ diff.
	want := map[string][]float64{"w": {1*-1.25 + 3*-3.25, 2*-1.25 + 4*-3.25}, "b": {-4.5}}
	if len(grads) != 2 {
		t.Fatalf("got %d gradients, want 2 (the unused and the state weight have none)", len(grads))
	}
	for _, g := range grads {
		got := g.Value.Data().([]float64)
		for i := range got {
			if got[i] != want[g.Weight.Name][i] {
				t.Errorf("d%s = %v, want %v", g.Weight.Name, got, want[g.Weight.Name])
			}
		}
	}
	// state = 0.75·1 + 0.25·Σpred = 0.75 + 0.25·(−3.5) = −0.125
	if err := p.ApplyUpdates(); err != nil {
		t.Fatal(err)
	}
	if got := state.Value.Data().([]float64)[0]; got != -0.125 {
		t.Errorf("state after update = %v, want -0.125", got)
	}
	// Weights are bound by reference: a change is seen by the next run.
	w.Value.Data().([]float64)[0] = 1.5
	if err := p.Run(x, y); err != nil {
		t.Fatal(err)
	}
	out, _ := p.Output(0)
	if got := out.Data().([]float64)[0]; got != 1*1.5-2+0.25 {
		t.Errorf("prediction after an in-place weight change = %v, want %v", got, 1*1.5-2+0.25)
	}
	// Running does not touch the weights themselves.
	if w.Value.Data().([]float64)[1] != -1 || b.Value.Data().([]float64)[0] != 0.25 {
		t.Errorf("running changed the weights: w=%v b=%v", w.Value.Data(), b.Value.Data())
	}
}

func TestProgramRandomInputsAreSeeded(t *testing.T) {
	draw := func(seed uint64) []float64 {
		w, b, unused, state := weights()
		ctx, spec := linear(t, Infer, 2, w, b, unused, state, rand.New(rand.NewPCG(seed, 0)))
		spec.Grad = false
		p, err := Compile(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float64))
		y := tensor.New(tensor.WithShape(2, 1), tensor.Of(tensor.Float64))
		var all []float64
		for i := 0; i < 2; i++ {
			if err := p.Run(x, y); err != nil {
				t.Fatal(err)
			}
			n, _ := p.Output(1)
			all = append(all, n.Data().([]float64)...)
		}
		return all
	}
	a, b, c := draw(7), draw(7), draw(8)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different random inputs: %v vs %v", a, b)
		}
	}
	if a[0] == a[2] && a[1] == a[3] {
		t.Errorf("random input not refilled between runs: %v", a)
	}
	if a[0] == c[0] {
		t.Errorf("different seeds gave the same draw %v", a[0])
	}
}

func TestProgramRunErrors(t *testing.T) {
	w, b, unused, state := weights()
	ctx, spec := linear(t, Train, 2, w, b, unused, state, rand.New(rand.NewPCG(1, 1)))
	p, err := Compile(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	good := tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float64))
	y := tensor.New(tensor.WithShape(2, 1), tensor.Of(tensor.Float64))
	cases := []struct {
		name  string
		feeds []*tensor.Dense
		want  string
	}{
		{"count", []*tensor.Dense{good}, "takes 2 inputs, got 1"},
		{"shape", []*tensor.Dense{tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Float64)), y}, "has shape (3, 2), want (2, 2)"},
		{"dtype", []*tensor.Dense{tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float32)), y}, "is float32, want float64"},
		{"nil", []*tensor.Dense{good, nil}, "is nil"},
	}
	for _, c := range cases {
		err := p.Run(c.feeds...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if err := (&Program{ctx: ctx}).ApplyUpdates(); err == nil {
		t.Error("ApplyUpdates before any run: no error")
	}
}

func linearCache(t *testing.T, builds map[Key]int, mu *sync.Mutex) *Cache {
	return NewCache(func(k Key) (*Program, error) {
		mu.Lock()
		builds[k]++
		mu.Unlock()
		w, b, unused, state := weights()
		ctx, spec := linear(t, k.Mode.Phase(), k.Batch, w, b, unused, state, rand.New(rand.NewPCG(1, 1)))
		spec.Grad = k.Mode == Fit
		return Compile(ctx, spec)
	})
}

// TestCacheLendsAndReuses: a program put back is lent again, not rebuilt;
// one still lent is not lent twice.
func TestCacheLendsAndReuses(t *testing.T) {
	builds := map[Key]int{}
	var mu sync.Mutex
	c := linearCache(t, builds, &mu)
	for i := 0; i < 3; i++ {
		for _, k := range []Key{{Fit, 2}, {Fit, 3}, {Evaluate, 2}} {
			p, err := c.Get(k)
			if err != nil {
				t.Fatal(err)
			}
			c.Put(p)
		}
	}
	if c.Len() != 3 {
		t.Errorf("cache holds %d programs, want 3", c.Len())
	}
	for k, n := range builds {
		if n != 1 {
			t.Errorf("%v built %d times", k, n)
		}
	}
	a, _ := c.Get(Key{Fit, 2})
	b, _ := c.Get(Key{Fit, 2})
	if a == b {
		t.Error("the same program lent twice at once")
	}
	if builds[Key{Fit, 2}] != 2 {
		t.Errorf("second concurrent Get built %d programs in all, want 2", builds[Key{Fit, 2}])
	}
	c.Put(a)
	c.Put(a) // twice: ignored
	c.Put(b)
	if c.Len() != 4 {
		t.Errorf("cache holds %d programs, want 4", c.Len())
	}
	if _, err := c.Get(Key{Predict, 0}); err == nil {
		t.Error("batch 0: no error")
	}
	c.Clear()
	if c.Len() != 0 {
		t.Error("Clear left programs")
	}
}

// TestCacheBounds: idle programs per key and keys are bounded; a program
// lent before Clear is closed, not kept, when put back.
func TestCacheBounds(t *testing.T) {
	builds := map[Key]int{}
	var mu sync.Mutex
	c := linearCache(t, builds, &mu)
	if err := c.SetLimits(1, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLimits(0, 2); err == nil {
		t.Error("SetLimits(0, 2): no error")
	}
	a, _ := c.Get(Key{Predict, 1})
	b, _ := c.Get(Key{Predict, 1})
	c.Put(a)
	c.Put(b)
	if c.Len() != 1 {
		t.Errorf("%d idle programs for one key with MaxIdle 1, want 1", c.Len())
	}
	for batch := 2; batch <= 5; batch++ {
		p, err := c.Get(Key{Predict, batch})
		if err != nil {
			t.Fatal(err)
		}
		c.Put(p)
	}
	if c.Len() != 2 {
		t.Errorf("%d idle programs after 5 keys with MaxKeys 2, want 2", c.Len())
	}
	// The two most recent keys are kept: getting them builds nothing.
	before := c.Builds()
	for _, batch := range []int{4, 5} {
		p, _ := c.Get(Key{Predict, batch})
		c.Put(p)
	}
	if c.Builds() != before {
		t.Errorf("recent keys were rebuilt (%d builds, want %d)", c.Builds(), before)
	}
	p, _ := c.Get(Key{Predict, 5})
	c.Clear()
	c.Put(p)
	if c.Len() != 0 {
		t.Errorf("a program lent before Clear was kept (%d idle)", c.Len())
	}
}

// TestCacheConcurrent lends programs to many goroutines at once (run with
// -race): each runs its own and gets the serial result.
func TestCacheConcurrent(t *testing.T) {
	builds := map[Key]int{}
	var mu sync.Mutex
	c := linearCache(t, builds, &mu)
	x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	y := tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{1, 0}))
	p, err := c.Get(Key{Evaluate, 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(x, y); err != nil {
		t.Fatal(err)
	}
	want, _ := p.Loss()
	c.Put(p)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				p, err := c.Get(Key{Evaluate, 2})
				if err != nil {
					errs <- err
					return
				}
				err = p.Run(x, y)
				got, _ := p.Loss()
				c.Put(p)
				if err != nil || got != want {
					errs <- fmt.Errorf("run: %v, loss %v, want %v", err, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.Len(); n > DefaultMaxIdle {
		t.Errorf("%d idle programs kept, bound %d", n, DefaultMaxIdle)
	}
}

func TestDOTDrawsTheGradient(t *testing.T) {
	w, b, unused, state := weights()
	ctx, spec := linear(t, Train, 2, w, b, unused, state, rand.New(rand.NewPCG(1, 1)))
	p, err := Compile(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	dot := p.DOT()
	for _, want := range []string{"digraph", "cluster_forward", "cluster_backward", `"w (2, 1)"`, "∂loss/∂w", "∂loss/∂b", "loss"} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT output lacks %q:\n%s", want, dot)
		}
	}
	if strings.Contains(dot, "unused") {
		t.Errorf("DOT output draws a weight the loss does not use:\n%s", dot)
	}
}
