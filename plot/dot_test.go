package plot

import (
	"os/exec"
	"strings"
	"testing"
)

func TestRenderDOT(t *testing.T) {
	const g = `digraph { a -> b }`
	if _, err := RenderDOT(g, "jpg"); err == nil || !strings.Contains(err.Error(), `"jpg"`) {
		t.Errorf("format jpg: error = %v, want one naming it", err)
	}
	t.Run("without dot", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if _, err := RenderDOT(g, "png"); err == nil || !strings.Contains(err.Error(), "graphviz") {
			t.Errorf("error = %v, want one saying Graphviz is needed", err)
		}
		if _, err := DOTImage(g); err == nil || !strings.Contains(err.Error(), "graphviz") {
			t.Errorf("DOTImage error = %v, want one saying Graphviz is needed", err)
		}
	})
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed")
	}
	p, err := RenderDOT(g, "png")
	if err != nil {
		t.Fatal(err)
	}
	w, h := pngSize(t, p)
	if w < 20 || h < 50 {
		t.Errorf("PNG of a -> b is %d×%d, want at least 20×50", w, h)
	}
	img, err := DOTImage(g)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("DOTImage is %d×%d, want the PNG's %d×%d", b.Dx(), b.Dy(), w, h)
	}
	s, err := RenderDOT(g, "svg")
	if err != nil {
		t.Fatal(err)
	}
	if w, h := svgSize(t, s); !strings.HasSuffix(w, "pt") || !strings.HasSuffix(h, "pt") {
		t.Errorf("SVG size %s×%s, want points", w, h)
	}
	if _, err := RenderDOT("digraph {", "svg"); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("bad DOT: error = %v, want dot's syntax error", err)
	}
}
