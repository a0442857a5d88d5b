package plot

import (
	"bytes"
	"image"
	"image/png"
	"os/exec"
	"strings"

	"github.com/pkg/errors"
)

// RenderDOT draws a graph written in Graphviz's DOT language
// (keras.Model.WriteDOT, graph.Program.DOT) with Graphviz's dot program,
// which must be on the PATH (Debian's package graphviz). format is an output
// format of dot: "png" or "svg".
func RenderDOT(dot, format string) ([]byte, error) {
	switch format {
	case "png", "svg":
	default:
		return nil, errors.Errorf("plot: RenderDOT draws png or svg, got %q", format)
	}
	bin, err := exec.LookPath("dot")
	if err != nil {
		return nil, errors.Wrap(err, "plot: Graphviz's dot is needed to draw graphs (Debian: apt-get install graphviz)")
	}
	cmd := exec.Command(bin, "-T"+format)
	cmd.Stdin = strings.NewReader(dot)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.Wrapf(err, "plot: dot -T%s: %s", format, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// DOTImage draws a DOT graph with Graphviz's dot as an image (at dot's 96
// dpi). In a gophernotes notebook, display.Image(img) shows it.
func DOTImage(dot string) (image.Image, error) {
	data, err := RenderDOT(dot, "png")
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(data))
	return img, errors.Wrap(err, "plot: decoding dot's PNG")
}
