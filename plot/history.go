package plot

import (
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/keragon/keragon/training"
)

// History charts logs of a training run against the epoch, counted from 1
// as Keras prints it. With no names it draws "loss" and, when recorded,
// "val_loss". A validation log ("val_x") is dashed and takes the colour of
// its training log ("x") when both are drawn. A name the History lacks makes
// the chart's Figure report an error listing the names it has.
func History(h *training.History, names ...string) Chart {
	c := Chart{XLabel: "epoch"}
	if h == nil {
		c.err = errors.New("plot: History of a nil *training.History")
		return c
	}
	if len(names) == 0 {
		names = []string{"loss"}
		if _, ok := h.Values["val_loss"]; ok {
			names = append(names, "val_loss")
		}
	}
	colours := map[string]string{}
	for _, name := range names {
		ys, ok := h.Values[name]
		if !ok {
			have := make([]string, 0, len(h.Values))
			for k := range h.Values {
				have = append(have, k)
			}
			sort.Strings(have)
			c.err = errors.Errorf("plot: the history has no %q; it has %q", name, have)
			return c
		}
		base := strings.TrimPrefix(name, "val_")
		col, ok := colours[base]
		if !ok {
			col = palette9(len(colours))
			colours[base] = col
		}
		xs := make([]float64, len(ys))
		for i := range xs {
			if i < len(h.Epoch) {
				xs[i] = float64(h.Epoch[i] + 1)
			} else {
				xs[i] = float64(i + 1)
			}
		}
		c.Series = append(c.Series, Series{Label: name, X: xs, Y: ys, Color: col,
			Dashed: strings.HasPrefix(name, "val_")})
	}
	if len(colours) == 1 {
		for base := range colours {
			c.YLabel = base
		}
	}
	return c
}

// palette9 names palette colour i.
func palette9(i int) string { return "C" + string(rune('0'+i%len(palette))) }
