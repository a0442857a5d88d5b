package training

import (
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// monitor watches one figure in the logs for EarlyStopping,
// ModelCheckpoint and ReduceLROnPlateau (Keras' MonitorCallback).
type monitor struct {
	who      string  // the callback's name, for messages
	key      string  // the log key watched, "val_loss" by default
	max      bool    // higher is better
	minDelta float64 // ≥ 0: the smallest change that counts
}

// newMonitor resolves key ("" means "val_loss") and mode ("", "auto",
// "min" or "max").
func newMonitor(who, key, mode string, minDelta float64) (monitor, error) {
	if key == "" {
		key = "val_loss"
	}
	m := monitor{who: who, key: key, minDelta: math.Abs(minDelta)}
	if math.IsNaN(minDelta) || math.IsInf(minDelta, 0) {
		return m, errors.Errorf("training: %s: MinDelta must be finite, got %v", who, minDelta)
	}
	switch mode {
	case "", "auto":
		m.max = higherIsBetter(key)
	case "min":
	case "max":
		m.max = true
	default:
		return m, errors.Errorf("training: %s: Mode must be \"auto\", \"min\" or \"max\", got %q", who, mode)
	}
	return m, nil
}

// higherIsBetter is Mode "auto": a figure is maximised when its name,
// without "val_", contains "acc", "auc", "precision" or "recall" (every
// metric of this package that grows as the model improves) and does not
// end in "loss"; everything else (losses, errors) is minimised. Keras asks
// the metric object for its direction; training sees only names.
func higherIsBetter(key string) bool {
	name := strings.ToLower(strings.TrimPrefix(key, "val_"))
	if strings.HasSuffix(name, "loss") {
		return false
	}
	for _, s := range []string{"acc", "auc", "precision", "recall"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// worst is the starting best value: +Inf when minimising, -Inf when
// maximising.
func (m monitor) worst() float64 {
	if m.max {
		return math.Inf(-1)
	}
	return math.Inf(1)
}

// improves reports whether cur beats ref by more than minDelta (Keras'
// _is_improvement: monitor_op(cur ∓ min_delta, ref)). NaN never improves.
func (m monitor) improves(cur, ref float64) bool {
	if m.max {
		return cur-m.minDelta > ref
	}
	return cur+m.minDelta < ref
}

// value returns the watched figure. A missing key is an error naming the
// keys there are, except at the end of an epoch cut short (short true),
// whose logs lack the validation figures: then ok is false and err nil.
func (m monitor) value(logs Logs, short bool) (v float64, ok bool, err error) {
	v, ok = logs[m.key]
	if ok || short {
		return v, ok, nil
	}
	return 0, false, missingKey(m.who, m.key, logs)
}

// missingKey is the error for a monitored key absent from the logs.
func missingKey(who, key string, logs Logs) error {
	hint := ""
	if strings.HasPrefix(key, "val_") {
		hint = " (val_ figures need validation data)"
	}
	return errors.Errorf("training: %s monitors %q, which is not in the logs; available: %s%s",
		who, key, strings.Join(logs.Keys(), ", "), hint)
}

// batchCounter counts the batches of the current epoch, so a callback can
// tell an epoch cut short by a stop request from a full one: the logs of a
// short epoch lack the val_ figures when no batch ran (Fit validates an
// epoch only if one did).
type batchCounter struct{ n int }

func (c *batchCounter) epochBegin(*Run, int) error     { c.n = 0; return nil }
func (c *batchCounter) batchEnd(*Run, int, Logs) error { c.n++; return nil }

// short reports whether the epoch ending now was cut short: a callback
// asked to stop (Run.StopTraining), or fewer than Run.Steps batches ended.
// With Run.Steps 0 (callbacks driven by hand) only StopTraining counts.
func (c *batchCounter) short(r *Run) bool {
	return r == nil || r.StopTraining || (r.Steps > 0 && c.n < r.Steps)
}

// needRun is the error for a hook called with a nil *Run (only possible
// when hooks are called by hand).
func needRun(who string, r *Run) error {
	if r == nil {
		return errors.Errorf("training: %s: called with a nil *Run", who)
	}
	return nil
}

// writerOr returns w, or os.Stdout when w is nil.
func writerOr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stdout
	}
	return w
}

// weightSnapshot holds copies of a model's weight values (all of them,
// trainable or not), reusing its buffers from one take to the next.
type weightSnapshot struct {
	names  []string
	values []*tensor.Dense
}

// has reports whether a snapshot was taken.
func (s *weightSnapshot) has() bool { return s.values != nil }

// take copies the current values of ws.
func (s *weightSnapshot) take(ws []*graph.Weight) error {
	reuse := len(s.values) == len(ws)
	for i, w := range ws {
		if w == nil || w.Value == nil {
			return errors.Errorf("training: weight %d (%s) has no value to copy", i, weightName(w))
		}
		if reuse && (s.names[i] != w.Name || s.values[i].Dtype() != w.Value.Dtype() ||
			!s.values[i].Shape().Eq(w.Value.Shape())) {
			reuse = false
		}
	}
	if !reuse {
		s.names = make([]string, len(ws))
		s.values = make([]*tensor.Dense, len(ws))
		for i, w := range ws {
			s.names[i] = w.Name
			s.values[i] = w.Value.Clone().(*tensor.Dense)
		}
		return nil
	}
	for i, w := range ws {
		if err := w.Value.CopyTo(s.values[i]); err != nil {
			return errors.Wrapf(err, "training: copying weight %s", w.Name)
		}
	}
	return nil
}

// restore writes the snapshot back into ws, which must be the same weights
// (names, dtypes and shapes) as when it was taken.
func (s *weightSnapshot) restore(ws []*graph.Weight) error {
	if len(ws) != len(s.values) {
		return errors.Errorf("training: the model has %d weights, the saved best %d", len(ws), len(s.values))
	}
	for i, w := range ws {
		if w == nil || w.Value == nil {
			return errors.Errorf("training: weight %d (%s) has no value to restore into", i, weightName(w))
		}
		v := s.values[i]
		if w.Name != s.names[i] || w.Value.Dtype() != v.Dtype() || !w.Value.Shape().Eq(v.Shape()) {
			return errors.Errorf("training: weight %d is %s %v %v, the saved best was %s %v %v",
				i, w.Name, w.Value.Dtype(), w.Value.Shape(), s.names[i], v.Dtype(), v.Shape())
		}
		if err := v.CopyTo(w.Value); err != nil {
			return errors.Wrapf(err, "training: restoring weight %s", w.Name)
		}
	}
	return nil
}

func weightName(w *graph.Weight) string {
	if w == nil {
		return "nil"
	}
	return w.Name
}

// pyFloat formats v as Python's str(float) does ("0.5", "1.0", "1e-05",
// "inf", "nan"), as Keras' files and messages show numbers: the shortest
// digits that read back as v, in exponent form when the exponent is below
// -4 or at least 16.
func pyFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(v, 'e', -1, 64) // "1.5e+16", "1e-05": Python's form
	exp, _ := strconv.Atoi(s[strings.IndexByte(s, 'e')+1:])
	if v != 0 && (exp < -4 || exp >= 16) {
		return s
	}
	s = strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
