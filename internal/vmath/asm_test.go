package vmath

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAssemblyHasNoGlobalData guards plugin builds (the notebooks' kernel
// compiles Keragon as a Go plugin): built with -dynlink, an assembly
// instruction that reads a package-level symbol (·name(SB)) goes through
// the GOT, and the vector kernels here then read the wrong memory — the
// sigmoid of a GRU came out NaN in a notebook while every ordinary test
// passed. Constants must be file-local (name<>(SB)), which stay
// PC-relative.
func TestAssemblyHasNoGlobalData(t *testing.T) {
	files, err := filepath.Glob("../*/*.s")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no assembly files found under internal/")
	}
	global := regexp.MustCompile(`·\w+(\+\d+)?\(SB\)`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			code := strings.TrimSpace(line)
			if strings.HasPrefix(code, "TEXT") || strings.HasPrefix(code, "//") {
				continue
			}
			if global.MatchString(code) {
				t.Errorf("%s:%d: %q reads a package-level symbol; make it file-local (name<>(SB))", f, i+1, code)
			}
		}
	}
}
