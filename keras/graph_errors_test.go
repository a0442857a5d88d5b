package keras

import (
	"strings"
	"testing"
)

// TestModelGraphErrors: declaring a malformed model gives an error that
// names the problem, never a panic.
func TestModelGraphErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func() error
		want  string
	}{
		{"duplicate names in a Sequential", func() error {
			return NewSequential(&Input{Shape: []int{3}}, &Dense{Units: 2, Name: "a"}, &Dense{Units: 2, Name: "a"}).Err()
		}, `two layers are named "a"`},
		{"duplicate names in a functional model", func() error {
			x := NewInput(3)
			y := Apply(&Dense{Units: 2, Name: "twin"}, Apply(&Dense{Units: 2, Name: "twin"}, x))
			_, err := NewModel([]*Tensor{x}, []*Tensor{y})
			return err
		}, `two layers are named "twin"`},
		{"an output from an Input the model does not list", func() error {
			x1, x2 := NewInput(3), NewInput(3)
			y := Apply(&Dense{Units: 2}, x2)
			_, err := NewModel([]*Tensor{x1}, []*Tensor{y})
			return err
		}, "an output depends on an Input (shape (None, 3)) that is not among the model's inputs"},
		{"a model input that is not an Input", func() error {
			x := NewInput(3)
			h := Apply(&Dense{Units: 2}, x)
			_, err := NewModel([]*Tensor{h}, []*Tensor{Apply(&Dense{Units: 1}, h)})
			return err
		}, "model input 0 is not an Input tensor (made by Dense)"},
		{"no outputs", func() error {
			_, err := NewModel([]*Tensor{NewInput(3)}, nil)
			return err
		}, "needs at least one input and one output"},
		{"a nil output", func() error {
			_, err := NewModel([]*Tensor{NewInput(3)}, []*Tensor{nil})
			return err
		}, "model tensor 1 is nil"},
		{"an Input in the middle of a Sequential", func() error {
			return NewSequential(&Input{Shape: []int{3}}, &Dense{Units: 2}, &Input{Shape: []int{2}}).Err()
		}, "an Input layer can only come first"},
		{"Add to a functional model", func() error {
			x := NewInput(3)
			m, err := NewModel([]*Tensor{x}, []*Tensor{Apply(&Dense{Units: 1}, x)})
			if err != nil {
				return err
			}
			// Refused, and the model stays usable.
			if err := m.Err(); err != nil {
				return err
			}
			return m.Add(&Dense{Units: 1})
		}, "Add works on Sequential models only"},
		{"Add(nil)", func() error { return NewSequential(&Input{Shape: []int{3}}, nil).Err() }, "Add(nil)"},
		{"an empty Sequential", func() error {
			return NewSequential().Compile(CompileConfig{Loss: "mse"})
		}, "the Sequential model has no layers"},
		{"mixed dtypes", func() error {
			a, b := Apply(&Input{Shape: []int{2}}), Apply(&Input{Shape: []int{2}, Dtype: "float64"})
			_, err := NewModel([]*Tensor{a, b}, []*Tensor{Apply(&Dense{Units: 1}, a), Apply(&Dense{Units: 1}, b)})
			return err
		}, "all inputs of a model must have the same dtype"},
		{"a bad Input dtype", func() error {
			return NewSequential(&Input{Shape: []int{2}, Dtype: "int32"}).Err()
		}, `Input dtype must be "float32", "float64" or "string", got "int32"`},
		{"a zero Input dimension", func() error {
			return NewSequential(&Input{Shape: []int{2, 0}}).Err()
		}, "Input shape must be positive, got [2 0]"},
	}
	for _, c := range cases {
		err := noPanic(t, c.name, c.build)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

// TestModelGraphCycle: Apply only refers to existing tensors, so no cycle
// can be declared through the API; NewModel still rejects one made by
// hand rather than recursing forever.
func TestModelGraphCycle(t *testing.T) {
	x := NewInput(3)
	a := Apply(&Dense{Units: 3}, x)
	b := Apply(&Dense{Units: 3}, a)
	a.inputs = []*Tensor{b} // a ← b ← a
	_, err := NewModel([]*Tensor{x}, []*Tensor{b})
	if err == nil || !strings.Contains(err.Error(), "the layer graph has a cycle") {
		t.Errorf("error %v, want one about a cycle", err)
	}
}

// TestApplyErrorPropagation: an error made by one Apply is kept by every
// tensor built on it and returned by NewModel, naming the layer.
func TestApplyErrorPropagation(t *testing.T) {
	x := NewInput(4)
	bad := Apply(&Dense{Units: 0, Name: "broken"}, x)
	want := `layer "broken" (Dense): keras: Dense needs a positive Units, got 0`
	if bad.Err() == nil || !strings.Contains(bad.Err().Error(), want) {
		t.Fatalf("Apply error %v, want %q", bad.Err(), want)
	}
	later := Apply(&Dense{Units: 2}, Apply(&Activation{Activation: "relu"}, bad))
	if later.Err() != bad.Err() {
		t.Errorf("a tensor built on a failed one has error %v, want the first error %v", later.Err(), bad.Err())
	}
	if _, err := NewModel([]*Tensor{x}, []*Tensor{later}); err != bad.Err() {
		t.Errorf("NewModel error %v, want the first Apply error", err)
	}

	cases := []struct {
		t    *Tensor
		want string
	}{
		{Apply(nil, x), "Apply: nil layer"},
		{Apply(&Dense{Units: 2}), "Apply Dense: no inputs"},
		{Apply(&Dense{Units: 2}, x, nil), "Apply Dense: input 1 is nil"},
		{Apply(&Input{Shape: []int{2}}, x), "an Input layer takes no inputs"},
		{Apply(&Dense{Units: 2}, x, x), "Dense takes one input, got 2"},
		{Apply(&Reshape{TargetShape: []int{3, -1}}, x), `layer "reshape" (Reshape): keras: cannot reshape (None, 4) into [3 -1]`},
		{Apply(&Dense{Units: 2}, NewInput()), "Dense needs inputs with a feature axis"},
		{Apply(&Input{}), "Input needs a Shape"},
	}
	for i, c := range cases {
		if c.t.Err() == nil || !strings.Contains(c.t.Err().Error(), c.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, c.t.Err(), c.want)
		}
	}
}

// noPanic runs f and turns a panic into a test failure.
func noPanic(t *testing.T, what string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	return f()
}

// TestSharedLayerOnAnotherShape: applying a built Dense to inputs with
// another feature size must fail at Apply (Keras: "Input 0 of layer dense
// is incompatible with the layer"), naming both sizes.
func TestSharedLayerOnAnotherShape(t *testing.T) {
	a, b := NewInput(4), NewInput(5)
	shared := &Dense{Units: 2}
	ya := Apply(shared, a)
	if _, err := NewModel([]*Tensor{a}, []*Tensor{ya}); err != nil {
		t.Fatal(err)
	}
	yb := Apply(shared, b)
	if err := yb.Err(); err == nil || !strings.Contains(err.Error(), "4") || !strings.Contains(err.Error(), "5") {
		t.Errorf("Apply on 5 features of a Dense built for 4: error %v, want one naming 4 and 5", err)
	}
}
