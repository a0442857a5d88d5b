package keras

import (
	"encoding/base64"
	"encoding/json"
	"io"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/pkg/errors"
)

// Save writes the model to path as one safetensors file
// (https://huggingface.co/docs/safetensors): every weight under its Keras
// name ("dense/kernel", "batch_normalization/moving_mean"), the optimizer's
// state under "optimizer/…", and in the file's metadata the architecture
// and the compile configuration. Load reads it back; PyTorch reads the
// weights with safetensors.torch.load_file (a Dense kernel is stored as
// Keras lays it out, (inputs, units): the transpose of torch's Linear
// weight). A model that has not been initialised yet is initialised first
// (from its seed), as Predict would.
//
// Save is atomic: it writes a temporary file, ".<name>.tmp-…", in the
// directory of path, syncs it and renames it over path, so a Save that
// fails or is killed midway leaves any previous file intact. The next
// Save to the same path removes the temporary files of killed saves:
// those not modified for an hour, and those made on this host by a
// process that no longer runs (never those of a save under way). A
// symbolic link at path is followed: the file it points to is replaced
// and the link kept. An existing read-only file (no write permission bit,
// or not writable by this process) is refused, not replaced, as is a path
// that is not a regular file.
func (m *Model) Save(path string) error {
	tensors, metadata, err := m.encodeModel()
	if err != nil {
		return errors.WithMessagef(err, "keras: Save %s", path)
	}
	return writeAtomic("Save", path, func(w io.Writer) error {
		return safetensors.Encode(w, tensors, metadata)
	})
}

// SaveTo writes what Save writes to w (not atomically: w gets the bytes
// as they are made). LoadFrom reads them back.
func (m *Model) SaveTo(w io.Writer) error {
	tensors, metadata, err := m.encodeModel()
	if err != nil {
		return errors.WithMessage(err, "keras: SaveTo")
	}
	return errors.WithMessage(safetensors.Encode(w, tensors, metadata), "keras: SaveTo")
}

// encodeModel is the one step of Save and SaveTo that reads the model:
// it initialises it if need be, then, holding the model's lock shared,
// copies its architecture, weights and optimizer state (the file is
// written from the copies, without the lock).
func (m *Model) encodeModel() ([]safetensors.Tensor, map[string]string, error) {
	if err := m.prepare(nil); err != nil {
		return nil, nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.ready(); err != nil {
		return nil, nil, err
	}
	return m.encode()
}

// encode returns the file's tensors and metadata.
func (m *Model) encode() ([]safetensors.Tensor, map[string]string, error) {
	arch, err := m.architecture()
	if err != nil {
		return nil, nil, err
	}
	archJSON, err := json.Marshal(arch)
	if err != nil {
		return nil, nil, errors.Wrap(err, "writing the architecture")
	}
	metadata := map[string]string{"format": fileFormat, "version": fileVersion, "model": string(archJSON)}
	var tensors []safetensors.Tensor
	for _, w := range m.Weights() {
		st, err := toSafetensor(w.Name, w.Value)
		if err != nil {
			return nil, nil, errors.WithMessage(err, "weight")
		}
		tensors = append(tensors, st)
	}
	if rs, err := m.randomState(); err != nil {
		return nil, nil, errors.Wrap(err, "writing the random state")
	} else if rs != nil {
		metadata["random_state"] = base64.StdEncoding.EncodeToString(rs)
	}
	if c := m.compiled; c != nil {
		opt, err := json.Marshal(c.optimizer)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "writing the %s optimizer's config", c.optimizer.Name())
		}
		cc := compileConfig{
			Optimizer:   optimizerConfig{Name: c.optimizer.Name(), Config: opt},
			Loss:        c.lossSpecs,
			LossWeights: c.lossWeights,
			Metrics:     c.savedMetrics(),
		}
		ccJSON, err := json.Marshal(cc)
		if err != nil {
			return nil, nil, errors.Wrap(err, "writing the compile config")
		}
		metadata["compile"] = string(ccJSON)
		for _, nt := range c.optimizer.State(m.Weights()) {
			st, err := toSafetensor(optimizerPrefix+nt.Name, nt.Value)
			if err != nil {
				return nil, nil, errors.WithMessage(err, "optimizer state")
			}
			tensors = append(tensors, st)
		}
	}
	return tensors, metadata, nil
}

// architecture describes the layer graph: every layer with its config and
// every application of it, in topological order.
func (m *Model) architecture() (*modelConfig, error) {
	dt, err := dtypeName(m.dtype)
	if err != nil {
		return nil, err
	}
	dtype := map[string]string{"F32": "float32", "F64": "float64"}[dt]
	cfg := &modelConfig{Name: m.name, Sequential: m.sequential, Dtype: dtype}
	refs := make(map[*Tensor]nodeRef, len(m.nodes))
	index := make(map[Layer]int, len(m.layers))
	for _, l := range m.layers {
		raw, err := json.Marshal(l)
		if err != nil {
			return nil, errors.Wrapf(err, "writing the config of layer %q (%s)", l.base().name, ClassName(l))
		}
		index[l] = len(cfg.Layers)
		trainable := !l.base().frozen
		cfg.Layers = append(cfg.Layers, layerConfig{
			ClassName: ClassName(l), Name: l.base().name, Trainable: &trainable, Config: raw,
		})
	}
	for _, t := range m.nodes {
		if _, done := refs[t]; done {
			continue // a sibling output of an application already written
		}
		i, ok := index[t.layer]
		if !ok {
			return nil, errors.Errorf("layer %s is applied but not among the model's layers", ClassName(t.layer))
		}
		lc := &cfg.Layers[i]
		inbound := make([]nodeRef, len(t.inputs))
		for k, in := range t.inputs {
			r, ok := refs[in]
			if !ok {
				return nil, errors.Errorf("layer %q: input %d is not computed before it", lc.Name, k)
			}
			inbound[k] = r
		}
		app := len(lc.Inbound)
		lc.Inbound = append(lc.Inbound, inbound)
		for k, o := range t.app.outputs {
			refs[o] = nodeRef{Layer: lc.Name, Index: app, Tensor: k}
		}
	}
	for _, t := range m.inputs {
		cfg.Inputs = append(cfg.Inputs, refs[t])
	}
	for _, t := range m.outputs {
		cfg.Outputs = append(cfg.Outputs, refs[t])
	}
	return cfg, nil
}
