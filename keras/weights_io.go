package keras

import (
	"io"
	"os"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/internal/safetensors"
	"github.com/pkg/errors"
)

// weightsFormat is the "format" metadata of a SaveWeights file.
const weightsFormat = "keragon-weights"

// SaveWeights writes the model's weights, and nothing else, to path, as
// Keras' save_weights: one safetensors file with every weight, trainable
// and not, under its name ("dense/kernel",
// "batch_normalization/moving_mean"), and the metadata {"format":
// "keragon-weights", "version": "1"}. It writes atomically, as Save does.
// A model that has not been initialised yet is initialised first.
func (m *Model) SaveWeights(path string) error {
	tensors, metadata, err := m.encodeWeights()
	if err != nil {
		return errors.WithMessagef(err, "keras: SaveWeights %s", path)
	}
	return writeAtomic("SaveWeights", path, func(w io.Writer) error {
		return safetensors.Encode(w, tensors, metadata)
	})
}

// SaveWeightsTo writes what SaveWeights writes to w.
func (m *Model) SaveWeightsTo(w io.Writer) error {
	tensors, metadata, err := m.encodeWeights()
	if err != nil {
		return errors.WithMessage(err, "keras: SaveWeightsTo")
	}
	return errors.WithMessage(safetensors.Encode(w, tensors, metadata), "keras: SaveWeightsTo")
}

// encodeWeights is the one step of SaveWeights and SaveWeightsTo that
// reads the model: it initialises it if need be, then copies the weights
// holding the model's lock shared (the file is written from the copies,
// without the lock).
func (m *Model) encodeWeights() ([]safetensors.Tensor, map[string]string, error) {
	if err := m.prepare(nil); err != nil {
		return nil, nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.ready(); err != nil {
		return nil, nil, err
	}
	var tensors []safetensors.Tensor
	for _, w := range m.Weights() {
		st, err := toSafetensor(w.Name, w.Value)
		if err != nil {
			return nil, nil, errors.WithMessage(err, "weight")
		}
		tensors = append(tensors, st)
	}
	return tensors, map[string]string{"format": weightsFormat, "version": fileVersion}, nil
}

// LoadWeights sets the model's weights from a file, as Keras'
// load_weights: every weight by its name ("dense/kernel"), trainable and
// not. The file is one that SaveWeights wrote, one that Save wrote (its
// architecture and optimizer state are ignored), or any safetensors file
// holding exactly the model's weights under their names (one written by
// PyTorch, say).
//
// Loading is all or nothing: a weight missing from the file, a tensor in
// the file that is not a weight of the model, or a shape or dtype that
// differs (float32 and float64 are not converted) is an error naming
// them, and the model is left untouched. The optimizer's state and the
// compile configuration are kept. LoadWeights reads the model's input
// shapes: a Sequential model without an Input needs Build first.
func (m *Model) LoadWeights(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.Wrap(err, "keras: LoadWeights")
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	if err := m.loadWeights(f, size); err != nil {
		return errors.WithMessagef(err, "keras: LoadWeights %s", path)
	}
	return nil
}

// LoadWeightsFrom is LoadWeights from a reader. It reads exactly the
// file's bytes, and no more than the model's weights (and a Save file's
// optimizer state) need.
func (m *Model) LoadWeightsFrom(r io.Reader) error {
	if r == nil {
		return errors.New("keras: LoadWeightsFrom: nil reader")
	}
	return errors.WithMessage(m.loadWeights(r, -1), "keras: LoadWeightsFrom")
}

// loadWeights is the one path of LoadWeights and LoadWeightsFrom: it
// reads and checks every value (readWeights, without the model's lock:
// a built model's weights, names and shapes do not change), then sets
// them all holding the lock exclusively (setWeightValues), between
// training steps and inference calls.
func (m *Model) loadWeights(r io.Reader, size int64) error {
	vs, err := m.readWeights(r, size)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setWeightValues(vs)
	return nil
}

// weightValue is a weight and the file tensor that holds its values,
// checked: of its shape and dtype.
type weightValue struct {
	w  *graph.Weight
	st safetensors.Tensor
}

// readWeights reads a weights file and checks it against m's weights
// without changing m.
func (m *Model) readWeights(r io.Reader, size int64) ([]weightValue, error) {
	m.mu.RLock()
	err, built, ws := m.err, len(m.inputs) > 0, m.Weights()
	m.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if !built {
		return nil, errors.New("the model has no input shape yet, hence no weights: start it with an Input layer or call Build")
	}
	// The index of a file of these weights, with room for a Save file's
	// metadata and optimizer state.
	maxHeader := DefaultLoadOptions().MaxHeaderBytes + 1024*len(ws)
	h, err := safetensors.ReadHeader(r, size, maxHeader)
	if err != nil {
		return nil, err
	}
	withState := false
	switch format := h.Metadata["format"]; format {
	case fileFormat, weightsFormat:
		if v := h.Metadata["version"]; v != fileVersion {
			return nil, errors.Errorf("metadata version is %q; this Keragon reads version %q", v, fileVersion)
		}
		withState = format == fileFormat
	}
	if _, err := checkTensors(ws, m.dtype, h, withState); err != nil {
		return nil, err
	}
	f, err := h.ReadData(r)
	if err != nil {
		return nil, err
	}
	vs := make([]weightValue, 0, len(ws))
	for _, w := range ws {
		st, ok := f.Tensor(w.Name)
		if !ok || !Shape(st.Shape).Equal(w.Shape) {
			return nil, errors.Errorf("weight %q: the file changed between its header and its data", w.Name)
		}
		vs = append(vs, weightValue{w, st})
	}
	return vs, nil
}

// setWeightValues decodes the values readWeights checked into the
// weights, in place, so that compiled programs see them. It cannot fail:
// readWeights checked every dtype and size.
func (m *Model) setWeightValues(vs []weightValue) {
	for _, v := range vs {
		v.w.Alloc()
		_ = copyInto(v.w.Value, v.st) // readWeights checked dtype and size
	}
}
