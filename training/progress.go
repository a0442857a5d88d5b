package training

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress prints Keras-style progress:
//
//	Epoch 3/10
//	469/469 [==============================] - 12s 25ms/step - loss: 0.0712 - accuracy: 0.9781
type progress struct {
	w        io.Writer
	verbose  int
	steps    int
	start    time.Time
	last     time.Time
	interval time.Duration
	step     int
}

const barWidth = 30

func newProgress(w io.Writer, verbose, epoch, epochs, steps int) *progress {
	p := &progress{w: w, verbose: verbose, steps: steps, start: time.Now()}
	// Redraw a terminal often; write to a file or a notebook rarely.
	p.interval = 100 * time.Millisecond
	if f, ok := w.(*os.File); !ok || !isTerminal(f) {
		p.interval = 10 * time.Second
	}
	if verbose >= 1 {
		fmt.Fprintf(w, "Epoch %d/%d\n", epoch+1, epochs)
	}
	return p
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func formatLogs(l Logs) string {
	var sb strings.Builder
	keys := l.Keys()
	// Keras prints the loss first, then the rest; validation last.
	order := make([]string, 0, len(keys))
	for _, k := range keys {
		if k == "loss" {
			order = append(order, k)
		}
	}
	for _, k := range keys {
		if k != "loss" && !strings.HasPrefix(k, "val_") {
			order = append(order, k)
		}
	}
	for _, k := range keys {
		if k == "val_loss" {
			order = append(order, k)
		}
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "val_") && k != "val_loss" {
			order = append(order, k)
		}
	}
	for _, k := range order {
		fmt.Fprintf(&sb, " - %s: %.4f", k, l[k])
	}
	return sb.String()
}

func (p *progress) bar(step int) string {
	w := len(fmt.Sprint(p.steps))
	done := barWidth * step / p.steps
	var b string
	if step >= p.steps {
		b = strings.Repeat("=", barWidth)
	} else {
		b = strings.Repeat("=", done) + ">" + strings.Repeat(".", barWidth-done-1)
	}
	return fmt.Sprintf("%*d/%d [%s]", w, step, p.steps, b)
}

func (p *progress) update(step int, l Logs) {
	p.step = step
	if p.verbose != 1 || step >= p.steps {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	per := time.Since(p.start) / time.Duration(step)
	eta := per * time.Duration(p.steps-step)
	fmt.Fprintf(p.w, "\r%s - ETA: %s%s", p.bar(step), elapsed(eta), formatLogs(l))
}

func (p *progress) done(l Logs) {
	if p.verbose == 0 || p.step == 0 {
		return
	}
	total := time.Since(p.start)
	per := total / time.Duration(p.step)
	switch p.verbose {
	case 1:
		fmt.Fprintf(p.w, "\r%s - %s %s/step%s\n", p.bar(p.step), elapsed(total), elapsed(per), formatLogs(l))
	default:
		fmt.Fprintf(p.w, "%d/%d - %s - %s/step%s\n", p.step, p.steps, elapsed(total), elapsed(per), formatLogs(l))
	}
}
