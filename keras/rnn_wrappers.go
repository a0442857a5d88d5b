package keras

import (
	"bytes"
	"encoding/json"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
)

// What Bidirectional and TimeDistributed share: a wrapped layer saved as
// {"class_name": …, "config": …}, as Keras serialises nested layers.

// nestedLayer is a wrapped layer's saved form.
type nestedLayer struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// encodeNested returns l's saved form.
func encodeNested(l Layer) (*nestedLayer, error) {
	if l == nil {
		return nil, nil
	}
	raw, err := json.Marshal(l)
	if err != nil {
		return nil, errors.Wrapf(err, "keras: writing the config of a wrapped %s", ClassName(l))
	}
	return &nestedLayer{ClassName: ClassName(l), Config: raw}, nil
}

// decodeNested rebuilds a layer from its saved form, strictly.
func decodeNested(n *nestedLayer) (Layer, error) {
	if n == nil {
		return nil, nil
	}
	l, err := newLayer(n.ClassName)
	if err != nil {
		return nil, err
	}
	if cfg := bytes.TrimSpace(n.Config); len(cfg) == 0 || cfg[0] != '{' {
		return nil, errors.Errorf("keras: the config of a wrapped %s must be a JSON object, got %.80s", n.ClassName, n.Config)
	}
	if err := strictUnmarshal(n.Config, l); err != nil {
		return nil, errors.WithMessagef(err, "keras: the config of a wrapped %s", n.ClassName)
	}
	return l, nil
}

// cloneLayer returns a fresh, unbuilt layer with l's configuration.
func cloneLayer(l Layer) (Layer, error) {
	n, err := encodeNested(l)
	if err != nil {
		return nil, err
	}
	return decodeNested(n)
}

// innerName is the name a wrapped layer contributes to its weights' names.
func innerName(l Layer) string {
	if n := configName(l); n != "" {
		return n
	}
	return snake(ClassName(l))
}

// buildInner names a wrapped layer "<outer>/<name>", gives it the outer
// layer's dtype and frozenness, and builds it.
func buildInner(outer *Base, l Layer, name string, in []Shape) error {
	b := l.base()
	b.name, b.dtype, b.frozen = outer.name+"/"+name, outer.dtype, outer.frozen
	if err := l.Build(in); err != nil {
		return err
	}
	b.built = true
	outer.weights = append(outer.weights, b.weights...)
	for w := range b.state {
		if outer.state == nil {
			outer.state = map[*graph.Weight]bool{}
		}
		outer.state[w] = true
	}
	return nil
}
