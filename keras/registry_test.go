package keras

import (
	"strings"
	"testing"
)

// TestRegisterRejectsDuplicates: a class name is registered once; a second
// registration is an error and keeps the first constructor, so Keragon's
// own layers cannot be replaced behind Load's back.
func TestRegisterRejectsDuplicates(t *testing.T) {
	for _, c := range []struct {
		class string
		make  func() Layer
		want  string
	}{
		{"Dense", func() Layer { return &Flatten{} }, `keras: layer class "Dense" is already registered`},
		{"", func() Layer { return &Flatten{} }, "needs a class name and a constructor"},
		{"NoConstructor", nil, "needs a class name and a constructor"},
	} {
		err := Register(c.class, c.make)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Register(%q): error %v, want one containing %q", c.class, err, c.want)
		}
	}
	l, err := newLayer("Dense")
	if _, ok := l.(*Dense); !ok || err != nil {
		t.Errorf("after a duplicate Register, newLayer(\"Dense\") = %T, %v; want *Dense", l, err)
	}
}

// TestRegisteredClassesMakeTheirClass: every registered constructor makes a
// layer of the class it is registered under (Keragon's own init functions
// ignore Register's error, so a copy-pasted name would show here).
func TestRegisteredClassesMakeTheirClass(t *testing.T) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for class, make := range registry {
		if got := ClassName(make()); got != class {
			t.Errorf("the constructor registered as %q makes a %s", class, got)
		}
	}
}
