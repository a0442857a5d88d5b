package keras

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// twoHeads is a test layer with two outputs: a Dense-like projection and
// its input halved. It stands for an LSTM with ReturnState.
type twoHeads struct {
	Name  string `json:"name,omitempty"`
	Units int    `json:"units"`
	Base
	dense *Dense
}

var _ MultiOutputLayer = (*twoHeads)(nil)

func init() { Register("twoHeads", func() Layer { return &twoHeads{} }) }

func (l *twoHeads) inner() *Dense {
	if l.dense == nil {
		l.dense = &Dense{Units: l.Units}
	}
	return l.dense
}

func (l *twoHeads) OutputShapes(in []Shape) ([]Shape, error) {
	s, err := l.inner().OutputShape(in)
	if err != nil {
		return nil, err
	}
	return []Shape{s, in[0]}, nil
}

func (l *twoHeads) OutputShape(in []Shape) (Shape, error) { return l.inner().OutputShape(in) }

func (l *twoHeads) Build(in []Shape) error {
	d := l.inner()
	d.Base.name, d.Base.dtype = l.name, l.dtype
	if err := d.Build(in); err != nil {
		return err
	}
	l.weights = d.weights
	return nil
}

func (l *twoHeads) CallMulti(ctx *graph.Context, in []*gorgonia.Node) ([]*gorgonia.Node, error) {
	y, err := l.inner().Call(ctx, in)
	if err != nil {
		return nil, err
	}
	half, err := gorgonia.Mul(in[0], ctx.Constant(0.5))
	if err != nil {
		return nil, err
	}
	return []*gorgonia.Node{y, half}, nil
}

func (l *twoHeads) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, err := l.CallMulti(ctx, in)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

func TestMultiOutputLayer(t *testing.T) {
	x := NewInput(3)
	outs := ApplyMulti(&twoHeads{Units: 2}, x)
	if len(outs) != 2 || !outs[0].Shape().Equal(Shape{2}) || !outs[1].Shape().Equal(Shape{3}) {
		t.Fatalf("ApplyMulti gave %d outputs", len(outs))
	}
	// The second output feeds another layer; both reach the model.
	y := Apply(&Dense{Units: 1}, outs[1])
	m, err := NewModel([]*Tensor{x}, []*Tensor{outs[0], y, outs[1]})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	m.SetSeed(2)
	in := denseOf(tensor.Float32, []float64{1, 2, 4, -2, 0, 6}, 2, 3)
	got, err := m.PredictMulti([]*tensor.Dense{in})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	half := floatsOf(got[2])
	for i, v := range floatsOf(in) {
		if half[i] != v/2 {
			t.Fatalf("second output %v, want the input halved", half)
		}
	}
	var sb bytes.Buffer
	if err := m.Summary(&sb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "[(None, 2), (None, 3)]") || strings.Count(sb.String(), "(twoHeads)") != 1 {
		t.Errorf("Summary does not show the two outputs on one row:\n%s", sb.String())
	}
	// Save/Load keeps which output feeds what.
	path := filepath.Join(t.TempDir(), "m.keragon")
	if err := m.Save(path); err != nil {
		t.Fatalf("%+v", err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	again, err := l.PredictMulti([]*tensor.Dense{in})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		a, b := floatsOf(got[i]), floatsOf(again[i])
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("output %d after Load: %v, want %v", i, b, a)
			}
		}
	}
}
