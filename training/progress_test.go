package training

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestProgressFrames drives one epoch of 4 steps with redrawing on every
// update (no interval): a terminal gets "\r" frames and the final line
// drawn over them; anything else gets only the final line, as Keras
// writes to a file or pipe. Times vary, so they are masked.
func TestProgressFrames(t *testing.T) {
	times := regexp.MustCompile(`[0-9]+(s|ms|us)`)
	for _, c := range []struct {
		name    string
		verbose int
		dynamic bool
		want    string
	}{
		{"silent", 0, true, ""},
		{"bar, terminal", 1, true, "Epoch 2/3\n" +
			"\r1/4 [=======>......................] - ETA: T - loss: 1.0000" +
			"\r2/4 [===============>..............] - ETA: T - loss: 2.0000" +
			"\r3/4 [======================>.......] - ETA: T - loss: 3.0000" +
			"\r4/4 [==============================] - T T/step - loss: 4.0000\n"},
		{"bar, file or pipe", 1, false, "Epoch 2/3\n" +
			"4/4 [==============================] - T T/step - loss: 4.0000\n"},
		{"line per epoch, terminal", 2, true, "Epoch 2/3\n4/4 - T - T/step - loss: 4.0000\n"},
		{"line per epoch, file or pipe", 2, false, "Epoch 2/3\n4/4 - T - T/step - loss: 4.0000\n"},
	} {
		var buf bytes.Buffer
		p := newProgressMode(&buf, c.dynamic, c.verbose, 1, 3, 4)
		p.interval = 0
		for step := 1; step <= 4; step++ {
			p.update(step, Logs{"loss": float64(step)})
		}
		p.done(Logs{"loss": 4})
		if got := times.ReplaceAllString(buf.String(), "T"); got != c.want {
			t.Errorf("%s: got\n%q\nwant\n%q", c.name, got, c.want)
		}
	}
}

// TestIsTerminal checks the writers that are not terminals; whether a
// terminal is one depends on how the tests are run.
func TestIsTerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var nilFile *os.File
	for _, c := range []struct {
		name string
		w    io.Writer
	}{
		{"bytes.Buffer", &bytes.Buffer{}},
		{"regular file", file},
		{"pipe", w},
		{os.DevNull, null},
		{"nil *os.File", nilFile},
	} {
		if isTerminal(c.w) {
			t.Errorf("isTerminal(%s) = true, want false", c.name)
		}
	}
}

// TestFitProgressToBuffer runs Fit with the progress bar into a buffer:
// one line per epoch, no "\r".
func TestFitProgressToBuffer(t *testing.T) {
	xs := tensor.New(tensor.WithShape(8, 1), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8}))
	ys := tensor.New(tensor.WithShape(8, 1), tensor.WithBacking([]float64{2, 4, 6, 8, 10, 12, 14, 16}))
	data := &Dataset{Inputs: []*tensor.Dense{xs}, Targets: []*tensor.Dense{ys}}
	var buf bytes.Buffer
	_, err := Fit(newCBLinear(), &cbOptimizer{lr: 0.01}, data, Config{
		Epochs: 2, BatchSize: 2, NoShuffle: true, Dtype: tensor.Float64, Verbose: 1, Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Errorf("output to a buffer has \\r frames:\n%q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || lines[0] != "Epoch 1/2" || lines[2] != "Epoch 2/2" ||
		!strings.HasPrefix(lines[1], "4/4 [====") || !strings.HasPrefix(lines[3], "4/4 [====") {
		t.Errorf("output\n%s\nwant Epoch 1/2, a 4/4 bar line, Epoch 2/2, a 4/4 bar line", out)
	}
}
