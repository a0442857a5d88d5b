package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rnnCase is one configuration of Recurrent for the tests.
type rnnCase struct {
	cfg              RecurrentConfig
	mask             []float64 // (batch, steps), nil for none
	initial          bool      // initial states as inputs
	bias             bool
	inDrop, recDrop  bool // fixed dropout masks
	perGateInputDrop bool
}

func (c rnnCase) String() string {
	s := fmt.Sprintf("%v", c.cfg.Cell)
	for _, f := range []struct {
		on   bool
		name string
	}{{c.cfg.GoBackwards, "backwards"}, {c.cfg.ReturnSequences, "sequences"}, {c.cfg.ZeroOutputForMask, "zero-output"},
		{c.cfg.InputOrder, "input-order"}, {c.mask != nil, "mask"}, {c.initial, "initial"}, {c.bias, "bias"},
		{c.inDrop, "dropout"}, {c.recDrop, "recurrent-dropout"}, {c.perGateInputDrop, "per-gate"}} {
		if f.on {
			s += "/" + f.name
		}
	}
	if a := c.cfg.Activation; a != "" {
		s += "/" + a
	}
	return s
}

const (
	rnnBatch, rnnSteps, rnnFeat, rnnUnits = 2, 4, 3, 2
)

// Sample 0 is padded at the end, sample 1 at the start and in the middle
// (Keras' masks may have holes).
var rnnTestMask = []float64{1, 1, 1, 0, 0, 1, 0, 1}

// rnnInputs returns the differentiable inputs (x, kernel, recurrent
// kernel, then bias, h0, c0 as the case asks) and the fixed ones (mask,
// dropout masks).
func rnnInputs(c rnnCase, seed uint64) (wrt []*tensor.Dense, fixed map[string]*tensor.Dense) {
	rng := rand.New(rand.NewPCG(seed, 1))
	G := c.cfg.Cell.Gates()
	u := rnnUnits
	wrt = []*tensor.Dense{
		gradcheck.Random(rng, -1, 1, rnnBatch, rnnSteps, rnnFeat),
		gradcheck.Random(rng, -0.8, 0.8, rnnFeat, G*u),
		gradcheck.Random(rng, -0.8, 0.8, u, G*u),
	}
	if c.bias {
		if c.cfg.Cell == GRUCell {
			wrt = append(wrt, gradcheck.Random(rng, -0.5, 0.5, 2, G*u))
		} else {
			wrt = append(wrt, gradcheck.Random(rng, -0.5, 0.5, G*u))
		}
	}
	if c.initial {
		wrt = append(wrt, gradcheck.Random(rng, -1, 1, rnnBatch, u))
		if c.cfg.Cell == LSTMCell {
			wrt = append(wrt, gradcheck.Random(rng, -1, 1, rnnBatch, u))
		}
	}
	fixed = map[string]*tensor.Dense{}
	if c.mask != nil {
		fixed["mask"] = tensor.New(tensor.WithShape(rnnBatch, rnnSteps), tensor.WithBacking(append([]float64(nil), c.mask...)))
	}
	drop := func(shape ...int) *tensor.Dense {
		t := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(shape...))
		DropoutMaskFiller(0.4)(rng, t)
		return t
	}
	if c.inDrop {
		gm := 1
		if c.perGateInputDrop {
			gm = G
		}
		fixed["in"] = drop(rnnBatch, gm, rnnFeat)
	}
	if c.recDrop {
		fixed["rec"] = drop(rnnBatch, G, u)
	}
	return wrt, fixed
}

// rnnFunc builds Recurrent from the inputs of rnnInputs; the cost weighs
// the output and the final states with fixed random weights, so that
// every gradient path is checked.
func rnnFunc(c rnnCase, fixed map[string]*tensor.Dense) gradcheck.Func {
	return func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		ri := RecurrentInputs{X: in[0], Kernel: in[1], RecurrentKernel: in[2]}
		k := 3
		if c.bias {
			ri.Bias, k = in[k], k+1
		}
		if c.initial {
			ri.H0, k = in[k], k+1
			if c.cfg.Cell == LSTMCell {
				ri.C0 = in[k]
			}
		}
		node := func(name string) *gorgonia.Node {
			if t, ok := fixed[name]; ok {
				return gorgonia.NodeFromAny(g, t, gorgonia.WithName(name))
			}
			return nil
		}
		ri.Mask, ri.InputDropout, ri.RecurrentDropout = node("mask"), node("in"), node("rec")
		out, err := Recurrent(c.cfg, ri)
		if err != nil {
			return nil, err
		}
		rng := rand.New(rand.NewPCG(99, 2))
		var cost *gorgonia.Node
		for i, n := range []*gorgonia.Node{out.Output, out.H, out.C} {
			if n == nil {
				continue
			}
			w := gradcheck.Random(rng, -1, 1, n.Shape()...)
			term, err := gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(n, gorgonia.NodeFromAny(g, w, gorgonia.WithName(fmt.Sprintf("w%d", i))))))
			if err != nil {
				return nil, err
			}
			if cost == nil {
				cost = term
			} else if cost, err = gorgonia.Add(cost, term); err != nil {
				return nil, err
			}
		}
		return cost, nil
	}
}

func rnnCases() []rnnCase {
	var cases []rnnCase
	for _, cell := range []CellKind{SimpleRNNCell, LSTMCell, GRUCell, GRUResetBeforeCell} {
		base := RecurrentConfig{Cell: cell}
		seq := base
		seq.ReturnSequences = true
		back := seq
		back.GoBackwards = true
		zero := seq
		zero.ZeroOutputForMask = true
		inOrder := back
		inOrder.InputOrder = true
		cases = append(cases,
			rnnCase{cfg: base, bias: true},
			rnnCase{cfg: seq, bias: true, initial: true},
			rnnCase{cfg: back, bias: true},
			rnnCase{cfg: base, bias: true, mask: rnnTestMask, initial: true},
			rnnCase{cfg: seq, bias: true, mask: rnnTestMask},
			rnnCase{cfg: back, mask: rnnTestMask, initial: true},
			rnnCase{cfg: zero, bias: true, mask: rnnTestMask},
			rnnCase{cfg: inOrder, bias: true, mask: rnnTestMask},
			rnnCase{cfg: seq, bias: true, inDrop: true},
			rnnCase{cfg: seq, bias: true, mask: rnnTestMask, inDrop: true, perGateInputDrop: true, recDrop: true, initial: true},
		)
	}
	soft := RecurrentConfig{Cell: SimpleRNNCell, Activation: "softsign", ReturnSequences: true}
	lstm := RecurrentConfig{Cell: LSTMCell, Activation: "softsign", RecurrentActivation: "tanh"}
	return append(cases, rnnCase{cfg: soft, bias: true}, rnnCase{cfg: lstm, bias: true, initial: true})
}

// TestRecurrentGradients checks the gradients of every cell, with masks,
// backwards, initial states and dropout, against finite differences.
func TestRecurrentGradients(t *testing.T) {
	for i, c := range rnnCases() {
		t.Run(c.String(), func(t *testing.T) {
			wrt, fixed := rnnInputs(c, uint64(i))
			if err := gradcheck.Check(rnnFunc(c, fixed), wrt, gradcheck.Options{Seed: uint64(i)}); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRecurrentGradcheckCatchesWrongGradient: a wrong cell gradient
// (the LSTM forget gate's derivative dropped) must fail the check.
func TestRecurrentGradcheckCatchesWrongGradient(t *testing.T) {
	c := rnnCase{cfg: RecurrentConfig{Cell: LSTMCell}, bias: true}
	wrt, fixed := rnnInputs(c, 1)
	orig := sigmoidK.dfy
	sigmoidK.dfy = func(y float64) float64 { return 1 }
	defer func() { sigmoidK.dfy = orig }()
	if err := gradcheck.Check(rnnFunc(c, fixed), wrt, gradcheck.Options{}); err == nil {
		t.Fatal("a wrong sigmoid derivative inside the LSTM cell passed the gradient check")
	}
}

// refRNN is a plain-loop reference of Keras' recurrent layers, for the
// forward values: (outputs in processing order, final h, final c).
func refRNN(c rnnCase, wrt []*tensor.Dense, fixed map[string]*tensor.Dense) (outs [][]float64, h, cs []float64) {
	x, K, R := wrt[0].Data().([]float64), wrt[1].Data().([]float64), wrt[2].Data().([]float64)
	G, u, f := c.cfg.Cell.Gates(), rnnUnits, rnnFeat
	gu := G * u
	k := 3
	var bias []float64
	if c.bias {
		bias, k = wrt[k].Data().([]float64), k+1
	}
	h = make([]float64, rnnBatch*u)
	cs = make([]float64, rnnBatch*u)
	if c.initial {
		copy(h, wrt[k].Data().([]float64))
		if c.cfg.Cell == LSTMCell {
			copy(cs, wrt[k+1].Data().([]float64))
		}
	}
	act := tanhK.f
	prevOut := make([]float64, rnnBatch*u)
	for s := 0; s < rnnSteps; s++ {
		ti := s
		if c.cfg.GoBackwards {
			ti = rnnSteps - 1 - s
		}
		out := make([]float64, rnnBatch*u)
		for b := 0; b < rnnBatch; b++ {
			xin := x[(b*rnnSteps+ti)*f : (b*rnnSteps+ti+1)*f]
			z := make([]float64, gu) // input side
			r := make([]float64, gu) // recurrent side
			for j := 0; j < gu; j++ {
				for i := 0; i < f; i++ {
					z[j] += xin[i] * K[i*gu+j]
				}
				for i := 0; i < u; i++ {
					r[j] += h[b*u+i] * R[i*gu+j]
				}
				if bias != nil {
					z[j] += bias[j]
					if c.cfg.Cell == GRUCell {
						r[j] += bias[gu+j]
					}
				}
			}
			nh, nc := make([]float64, u), make([]float64, u)
			for j := 0; j < u; j++ {
				switch c.cfg.Cell {
				case SimpleRNNCell:
					nh[j] = act(z[j] + r[j])
				case LSTMCell:
					i, fg := sigmoid(z[j]+r[j]), sigmoid(z[u+j]+r[u+j])
					g, o := act(z[2*u+j]+r[2*u+j]), sigmoid(z[3*u+j]+r[3*u+j])
					nc[j] = fg*cs[b*u+j] + i*g
					nh[j] = o * act(nc[j])
				case GRUCell:
					zz, rr := sigmoid(z[j]+r[j]), sigmoid(z[u+j]+r[u+j])
					hh := act(z[2*u+j] + rr*r[2*u+j])
					nh[j] = zz*h[b*u+j] + (1-zz)*hh
				case GRUResetBeforeCell:
					// (r⊙h)·R_h, r over every unit of h.
					zz := sigmoid(z[j] + r[j])
					var rh float64
					for i := 0; i < u; i++ {
						rh += sigmoid(z[u+i]+r[u+i]) * h[b*u+i] * R[i*gu+2*u+j]
					}
					nh[j] = zz*h[b*u+j] + (1-zz)*act(z[2*u+j]+rh)
				}
			}
			real := c.mask == nil || c.mask[b*rnnSteps+ti] != 0
			for j := 0; j < u; j++ {
				if real {
					h[b*u+j], cs[b*u+j] = nh[j], nc[j]
					out[b*u+j] = nh[j]
				} else if c.cfg.ZeroOutputForMask {
					out[b*u+j] = 0
				} else {
					out[b*u+j] = prevOut[b*u+j]
				}
			}
		}
		prevOut = out
		outs = append(outs, out)
	}
	return outs, h, cs
}

// TestRecurrentValues compares outputs and states with refRNN.
func TestRecurrentValues(t *testing.T) {
	for i, c := range rnnCases() {
		if c.inDrop || c.recDrop || c.cfg.Activation != "" {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			wrt, fixed := rnnInputs(c, uint64(i))
			g := gorgonia.NewGraph()
			in := make([]*gorgonia.Node, len(wrt))
			for k, w := range wrt {
				in[k] = gorgonia.NodeFromAny(g, w, gorgonia.WithName(fmt.Sprint("in", k)))
			}
			ri := RecurrentInputs{X: in[0], Kernel: in[1], RecurrentKernel: in[2]}
			k := 3
			if c.bias {
				ri.Bias, k = in[k], k+1
			}
			if c.initial {
				ri.H0 = in[k]
				if c.cfg.Cell == LSTMCell {
					ri.C0 = in[k+1]
				}
			}
			if m, ok := fixed["mask"]; ok {
				ri.Mask = gorgonia.NodeFromAny(g, m, gorgonia.WithName("mask"))
			}
			out, err := Recurrent(c.cfg, ri)
			if err != nil {
				t.Fatal(err)
			}
			var ov, hv, cv gorgonia.Value
			gorgonia.Read(out.Output, &ov)
			gorgonia.Read(out.H, &hv)
			if out.C != nil {
				gorgonia.Read(out.C, &cv)
			}
			m := gorgonia.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			outs, h, cs := refRNN(c, wrt, fixed)
			var want []float64
			if c.cfg.ReturnSequences {
				want = make([]float64, rnnBatch*rnnSteps*rnnUnits)
				for s, o := range outs {
					pos := s
					if c.cfg.InputOrder && c.cfg.GoBackwards {
						pos = rnnSteps - 1 - s
					}
					for b := 0; b < rnnBatch; b++ {
						copy(want[(b*rnnSteps+pos)*rnnUnits:], o[b*rnnUnits:(b+1)*rnnUnits])
					}
				}
			} else {
				want = outs[len(outs)-1]
			}
			check := func(what string, v gorgonia.Value, want []float64) {
				got := v.(*tensor.Dense).Data().([]float64)
				for j := range want {
					if math.Abs(got[j]-want[j]) > 1e-12 {
						t.Fatalf("%s[%d] = %v, want %v\n got %v\nwant %v", what, j, got[j], want[j], got, want)
					}
				}
			}
			check("output", ov, want)
			check("h", hv, h)
			if cv != nil {
				check("c", cv, cs)
			}
		})
	}
}

func TestRecurrentBadInputs(t *testing.T) {
	g := gorgonia.NewGraph()
	n := func(name string, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float64, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name))
	}
	x, k, r := n("x", 2, 4, 3), n("k", 3, 8), n("r", 2, 8)
	cases := []struct {
		cfg  RecurrentConfig
		in   RecurrentInputs
		want string
	}{
		{RecurrentConfig{Cell: LSTMCell}, RecurrentInputs{X: n("x2", 2, 3), Kernel: k, RecurrentKernel: r}, "needs a sequence (batch, steps, features)"},
		{RecurrentConfig{Cell: LSTMCell}, RecurrentInputs{X: x, Kernel: n("k2", 3, 6), RecurrentKernel: r}, "LSTM kernel must be (3, 8)"},
		{RecurrentConfig{Cell: GRUCell}, RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r}, "GRU recurrent kernel must be (units, 3·units), got (2, 8)"},
		{RecurrentConfig{Cell: LSTMCell}, RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r, H0: n("h", 2, 3)}, "initial state h must be (2, 2), got (2, 3)"},
		{RecurrentConfig{Cell: LSTMCell}, RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r, C0: n("c", 3, 2)}, "initial state c must be (2, 2), got (3, 2)"},
		{RecurrentConfig{Cell: LSTMCell}, RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r, Mask: n("m", 2, 3)}, "mask must be (batch, steps) = (2, 4), got (2, 3)"},
		{RecurrentConfig{Cell: LSTMCell, Activation: "gelu"}, RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r}, `got "gelu"`},
		{RecurrentConfig{Cell: LSTMCell}, RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r, Bias: n("b", 2, 8)}, "LSTM bias must be (8), got (2, 8)"},
	}
	for i, c := range cases {
		_, err := Recurrent(c.cfg, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: got %v, want an error containing %q", i, err, c.want)
		}
	}
}

// TestRecurrentSharedWeights: two passes over different sequences with
// the same weights (a shared layer) keep separate tapes; their weight
// gradients add up.
func TestRecurrentSharedWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, cell := range []CellKind{LSTMCell, GRUCell} {
		G := cell.Gates()
		bias := gradcheck.Random(rng, -0.5, 0.5, G*rnnUnits)
		if cell == GRUCell {
			bias = gradcheck.Random(rng, -0.5, 0.5, 2, G*rnnUnits)
		}
		inputs := []*tensor.Dense{
			gradcheck.Random(rng, -1, 1, rnnBatch, rnnSteps, rnnFeat),
			gradcheck.Random(rng, -1, 1, rnnBatch, 2, rnnFeat),
			gradcheck.Random(rng, -0.8, 0.8, rnnFeat, G*rnnUnits),
			gradcheck.Random(rng, -0.8, 0.8, rnnUnits, G*rnnUnits),
			bias,
		}
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			a, err := Recurrent(RecurrentConfig{Cell: cell, ReturnSequences: true}, RecurrentInputs{X: in[0], Kernel: in[2], RecurrentKernel: in[3], Bias: in[4]})
			if err != nil {
				return nil, err
			}
			b, err := Recurrent(RecurrentConfig{Cell: cell, GoBackwards: true}, RecurrentInputs{X: in[1], Kernel: in[2], RecurrentKernel: in[3], Bias: in[4], H0: a.H})
			if err != nil {
				return nil, err
			}
			sa, err := gorgonia.Sum(gorgonia.Must(gorgonia.Square(a.Output)))
			if err != nil {
				return nil, err
			}
			return gorgonia.Add(sa, gorgonia.Must(gorgonia.Sum(b.Output)))
		}, inputs, gradcheck.Options{})
		if err != nil {
			t.Errorf("%v: %v", cell, err)
		}
	}
}

// TestRecurrentBlocksAgree: cutting the batch into blocks (run on several
// goroutines) changes no bit of the outputs or the gradients, for every
// cell, with masks, initial states and recurrent dropout, in both dtypes.
func TestRecurrentBlocksAgree(t *testing.T) {
	defer func(rows, procs int) { rnnBlockRows = rows; runtime.GOMAXPROCS(procs) }(rnnBlockRows, runtime.GOMAXPROCS(0))
	const batch, steps, feat, units = 7, 5, 3, 4
	rng := rand.New(rand.NewPCG(8, 9))
	mask := make([]float64, batch*steps)
	for i := range mask {
		if rng.Float64() < 0.8 {
			mask[i] = 1
		}
	}
	for _, cell := range []CellKind{SimpleRNNCell, LSTMCell, GRUCell, GRUResetBeforeCell} {
		G := cell.Gates()
		vals := map[string]*tensor.Dense{
			"x": gradcheck.Random(rng, -1, 1, batch, steps, feat), "k": gradcheck.Random(rng, -0.8, 0.8, feat, G*units),
			"r": gradcheck.Random(rng, -0.8, 0.8, units, G*units), "h0": gradcheck.Random(rng, -1, 1, batch, units),
			"c0": gradcheck.Random(rng, -1, 1, batch, units), "rd": gradcheck.Random(rng, 0, 2, batch, G, units),
			"mask": tensor.New(tensor.WithShape(batch, steps), tensor.WithBacking(mask)),
		}
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			var first []float64
			for _, v := range []struct{ rows, procs int }{{1 << 20, 1}, {2, 1}, {2, 3}, {3, 2}} {
				rnnBlockRows = v.rows
				runtime.GOMAXPROCS(v.procs)
				got := rnnRunOnce(t, cell, dt, vals)
				if first == nil {
					first = got
					continue
				}
				for i := range got {
					if math.Float64bits(got[i]) != math.Float64bits(first[i]) {
						t.Fatalf("%v %v, blocks of %d rows on %d goroutines: value %d is %v, one block gave %v", cell, dt, v.rows, v.procs, i, got[i], first[i])
					}
				}
			}
		}
	}
}

// rnnRunOnce runs one forward and backward pass and returns the output,
// the final states and every gradient, in order.
func rnnRunOnce(t *testing.T, cell CellKind, dt tensor.Dtype, vals map[string]*tensor.Dense) []float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	node := func(name string) *gorgonia.Node {
		v := vals[name]
		if dt == tensor.Float32 {
			d := v.Data().([]float64)
			f := make([]float32, len(d))
			for i, x := range d {
				f[i] = float32(x)
			}
			return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(v.Shape()...), tensor.WithBacking(f)), gorgonia.WithName(name))
		}
		return gorgonia.NodeFromAny(g, v.Clone(), gorgonia.WithName(name))
	}
	in := RecurrentInputs{X: node("x"), Kernel: node("k"), RecurrentKernel: node("r"), H0: node("h0"),
		Mask: node("mask"), RecurrentDropout: node("rd")}
	if cell == LSTMCell {
		in.C0 = node("c0")
	}
	out, err := Recurrent(RecurrentConfig{Cell: cell, ReturnSequences: true}, in)
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(out.Output))))
	if out.C != nil {
		cost = gorgonia.Must(gorgonia.Add(cost, gorgonia.Must(gorgonia.Sum(out.C))))
	}
	wrt := gorgonia.Nodes{in.X, in.Kernel, in.RecurrentKernel, in.H0}
	if in.C0 != nil {
		wrt = append(wrt, in.C0)
	}
	grads, err := gorgonia.Grad(cost, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	reads := append(gorgonia.Nodes{out.Output, out.H}, grads...)
	vs := make([]gorgonia.Value, len(reads))
	for i, n := range reads {
		gorgonia.Read(n, &vs[i])
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	var all []float64
	for _, v := range vs {
		switch d := v.(*tensor.Dense).Data().(type) {
		case []float64:
			all = append(all, d...)
		case []float32:
			for _, x := range d {
				all = append(all, float64(x))
			}
		}
	}
	return all
}

// TestRecurrentFloat32MatchesFloat64: the float32 kernels (the vector
// activations and LSTM cell gradient among them) give the float64 values,
// which pass finite differences, to float32 precision.
func TestRecurrentFloat32MatchesFloat64(t *testing.T) {
	const batch, steps, feat, units = 3, 6, 4, 16
	rng := rand.New(rand.NewPCG(10, 11))
	mask := make([]float64, batch*steps)
	for i := range mask {
		if i%7 != 3 {
			mask[i] = 1
		}
	}
	for _, cell := range []CellKind{SimpleRNNCell, LSTMCell, GRUCell} {
		G := cell.Gates()
		vals := map[string]*tensor.Dense{
			"x": gradcheck.Random(rng, -1, 1, batch, steps, feat), "k": gradcheck.Random(rng, -0.5, 0.5, feat, G*units),
			"r": gradcheck.Random(rng, -0.5, 0.5, units, G*units), "h0": gradcheck.Random(rng, -1, 1, batch, units),
			"c0": gradcheck.Random(rng, -1, 1, batch, units), "rd": gradcheck.Random(rng, 0, 2, batch, G, units),
			"mask": tensor.New(tensor.WithShape(batch, steps), tensor.WithBacking(mask)),
		}
		want := rnnRunOnce(t, cell, tensor.Float64, vals)
		got := rnnRunOnce(t, cell, tensor.Float32, vals)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 2e-5*(1+math.Abs(want[i])) {
				t.Fatalf("%v: value %d is %v in float32, %v in float64", cell, i, got[i], want[i])
			}
		}
	}
}
