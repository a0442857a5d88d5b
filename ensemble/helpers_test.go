package ensemble

import (
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// column makes a float64 tensor (n, 1) holding v: with v[i] = i, a
// learner can tell which rows it was given.
func column(v []float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(v), 1), tensor.WithBacking(append([]float64(nil), v...)))
}

func ids(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i)
	}
	return v
}

// script is a learner for hand-worked cases: it records what Fit got and
// predicts a fixed vector (classes or values) or fixed probability rows,
// whatever x holds.
type script struct {
	pred  []float64
	proba [][]float64
	fails error // returned by Fit

	fitX, fitY, fitW []float64
	fitted           bool
}

func (s *script) Fit(x, y *tensor.Dense, w []float64) error {
	if s.fails != nil {
		return s.fails
	}
	s.fitX, _ = numbers(x)
	s.fitY, _ = numbers(y)
	s.fitW = append([]float64(nil), w...)
	if w == nil {
		s.fitW = nil
	}
	s.fitted = true
	return nil
}

func (s *script) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	if s.pred == nil {
		return vec(argmaxRows(s.proba)), nil
	}
	return vec(append([]float64(nil), s.pred...)), nil
}

func (s *script) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if s.proba == nil {
		return nil, errors.Wrap(ErrNoProba, "script")
	}
	return rowsTensor(s.proba, len(s.proba[0])), nil
}

// scripts hands out the given learners in order, one per Factory call
// (for ensembles that build learners one after another).
type scripts struct {
	mu   sync.Mutex
	list []*script
	next int
}

func (s *scripts) factory(uint64) (Learner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next >= len(s.list) {
		return nil, errors.New("no more scripted learners")
	}
	l := s.list[s.next]
	s.next++
	return l, nil
}

// memo is a learner over x (n, 1) holding row ids: it records the ids it
// trained on and was asked about, and predicts class (id + salt) % k (or
// the value id + salt).
type memo struct {
	k, salt   int
	regress   bool
	trained   []int
	predicted [][]int
}

func (m *memo) Fit(x, y *tensor.Dense, w []float64) error {
	v, _ := numbers(x)
	m.trained = nil
	for _, id := range v {
		m.trained = append(m.trained, int(id))
	}
	return nil
}

func (m *memo) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	v, _ := numbers(x)
	out := make([]float64, len(v))
	var asked []int
	for i, id := range v {
		asked = append(asked, int(id))
		if m.regress {
			out[i] = id + float64(m.salt)
		} else {
			out[i] = float64((int(id) + m.salt) % m.k)
		}
	}
	m.predicted = append(m.predicted, asked)
	return vec(out), nil
}
