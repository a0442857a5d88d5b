package keras

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Summary prints the model's layers, their output shapes and parameter
// counts, as Keras' model.summary(). Functional models also list each
// layer's inputs. A nil w means os.Stdout.
func (m *Model) Summary(w io.Writer) error {
	if m.err != nil {
		return m.err
	}
	if w == nil {
		w = os.Stdout
	}
	if len(m.inputs) == 0 {
		return fmt.Errorf("keras: the model is not built yet: start it with an Input layer or call Build")
	}
	functional := !m.sequential
	cols := []int{29, 26, 10}
	if functional {
		cols = append(cols, 30)
	}
	width := 0
	for _, c := range cols {
		width += c
	}
	line := func(ch string) { fmt.Fprintln(w, strings.Repeat(ch, width)) }
	row := func(cells ...string) {
		// A cell wider than its column wraps at its last space that fits
		// (or is cut), onto continuation lines, as Keras 3 prints.
		lines := make([][]string, len(cells))
		height := 1
		for i, c := range cells {
			lines[i] = wrapCell(c, cols[i]-1)
			height = max(height, len(lines[i]))
		}
		for k := 0; k < height; k++ {
			var sb strings.Builder
			for i := range cells {
				c := ""
				if k < len(lines[i]) {
					c = lines[i][k]
				}
				if i < len(cells)-1 {
					fmt.Fprintf(&sb, " %-*s", cols[i]-1, c)
				} else {
					fmt.Fprintf(&sb, " %s", c)
				}
			}
			fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
		}
	}
	fmt.Fprintf(w, "Model: %q\n", m.name)
	line("_")
	head := []string{"Layer (type)", "Output Shape", "Param #"}
	if functional {
		head = append(head, "Connected to")
	}
	row(head...)
	line("=")
	counted := map[Layer]bool{}
	shown := map[*application]bool{}
	for i, t := range m.nodes {
		if t.app != nil {
			if shown[t.app] {
				continue // printed with its sibling outputs
			}
			shown[t.app] = true
		}
		l := t.layer
		if _, ok := l.(*Input); ok && !functional {
			continue
		}
		b := l.base()
		params := 0
		if !counted[l] {
			for _, wt := range b.weights {
				params += wt.Size()
			}
			counted[l] = true
		}
		shape := t.shape.String()
		if t.app != nil && len(t.app.outputs) > 1 {
			var ss []string
			for _, o := range t.app.outputs {
				ss = append(ss, o.shape.String())
			}
			shape = "[" + strings.Join(ss, ", ") + "]"
		}
		cells := []string{fmt.Sprintf("%s (%s)", b.name, ClassName(l)), shape, fmt.Sprint(params)}
		if functional {
			var from []string
			for _, in := range t.inputs {
				from = append(from, in.layer.base().name)
			}
			cells = append(cells, strings.Join(from, ", "))
		}
		row(cells...)
		if i < len(m.nodes)-1 {
			fmt.Fprintln(w)
		}
	}
	line("=")
	tr, ntr := m.CountParams()
	fmt.Fprintf(w, "Total params: %s\n", thousands(tr+ntr))
	fmt.Fprintf(w, "Trainable params: %s\n", thousands(tr))
	fmt.Fprintf(w, "Non-trainable params: %s\n", thousands(ntr))
	line("_")
	return nil
}

// thousands formats n as Keras does: 669,706.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// wrapCell splits s into lines of at most width runes, breaking at spaces
// where it can.
func wrapCell(s string, width int) []string {
	var out []string
	for len([]rune(s)) > width {
		r := []rune(s)
		cut := strings.LastIndex(string(r[:width+1]), " ")
		if cut <= 0 {
			out = append(out, string(r[:width]))
			s = string(r[width:])
			continue
		}
		out = append(out, s[:cut])
		s = strings.TrimLeft(s[cut:], " ")
	}
	return append(out, s)
}
