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
//
// With verbose 1 a terminal sees the bar redrawn in place ("\r" frames)
// during the epoch; any other writer (a file, a pipe, a notebook, a
// buffer) gets only the epoch's final line, as Keras prints when its
// output is not interactive.
type progress struct {
	w        io.Writer
	verbose  int
	dynamic  bool // redraw the bar in place during the epoch
	steps    int
	start    time.Time
	last     time.Time
	interval time.Duration
	step     int
}

const barWidth = 30

// redrawInterval is the shortest time between two frames of the bar.
const redrawInterval = 100 * time.Millisecond

func newProgress(w io.Writer, verbose, epoch, epochs, steps int) *progress {
	return newProgressMode(w, isTerminal(w), verbose, epoch, epochs, steps)
}

// newProgressMode is newProgress with the terminal test done by the caller.
func newProgressMode(w io.Writer, dynamic bool, verbose, epoch, epochs, steps int) *progress {
	p := &progress{w: w, verbose: verbose, dynamic: dynamic, steps: steps, start: time.Now(), interval: redrawInterval}
	if verbose >= 1 {
		fmt.Fprintf(w, "Epoch %d/%d\n", epoch+1, epochs)
	}
	return p
}

// isTerminal reports whether w is an *os.File open on a character device
// other than the null device: a terminal, for all practical purposes,
// found without a system call beyond Stat.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil || f.Name() == os.DevNull {
		return false
	}
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
	if p.verbose != 1 || !p.dynamic || step >= p.steps {
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
	switch {
	case p.verbose == 1 && p.dynamic:
		fmt.Fprintf(p.w, "\r%s - %s %s/step%s\n", p.bar(p.step), elapsed(total), elapsed(per), formatLogs(l))
	case p.verbose == 1:
		fmt.Fprintf(p.w, "%s - %s %s/step%s\n", p.bar(p.step), elapsed(total), elapsed(per), formatLogs(l))
	default:
		fmt.Fprintf(p.w, "%d/%d - %s - %s/step%s\n", p.step, p.steps, elapsed(total), elapsed(per), formatLogs(l))
	}
}
