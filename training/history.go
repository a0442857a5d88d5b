package training

// History records the logs of every epoch, like Keras' History callback
// (history.history in Python).
type History struct {
	// Epoch lists the epoch numbers recorded (from 0).
	Epoch []int
	// Values maps each log name to one value per recorded epoch.
	Values map[string][]float64
}

// NewHistory returns an empty history.
func NewHistory() *History { return &History{Values: map[string][]float64{}} }

// Add records the logs of one epoch.
func (h *History) Add(epoch int, logs Logs) {
	h.Epoch = append(h.Epoch, epoch)
	for k, v := range logs {
		h.Values[k] = append(h.Values[k], v)
	}
}

// Get returns the values recorded under name ("loss", "val_accuracy"), or
// nil.
func (h *History) Get(name string) []float64 { return h.Values[name] }

// Last returns the last value recorded under name and whether there is one.
func (h *History) Last(name string) (float64, bool) {
	v := h.Values[name]
	if len(v) == 0 {
		return 0, false
	}
	return v[len(v)-1], true
}
