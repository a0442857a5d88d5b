package ensemble

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Voting modes.
const (
	votingAuto = ""
	votingSoft = "soft"
	votingHard = "hard"
)

func checkVoting(name, v string) error {
	if v != votingAuto && v != votingSoft && v != votingHard {
		return errors.Wrapf(ErrConfig, "ensemble: %s Voting %q: want \"soft\", \"hard\" or \"\"", name, v)
	}
	return nil
}

// classVotes returns a member's (n, k) contribution to a vote: its class
// probabilities (soft, or auto when it has them) or a one-hot row for the
// class it predicts (hard, or auto when it has no probabilities). The
// member was trained on class indices 0, 1, …, k−1.
func classVotes(l Learner, x *tensor.Dense, n, k int, voting string) ([][]float64, error) {
	if c, ok := l.(Classifier); ok && voting != votingHard {
		p, err := c.PredictProba(x)
		if err == nil {
			return probaRows(l, p, n, k, "PredictProba")
		}
		if voting == votingSoft || !errors.Is(err, ErrNoProba) {
			return nil, err
		}
	} else if voting == votingSoft {
		return nil, errors.Wrapf(ErrNoProba, "ensemble: soft voting needs a Classifier, got %T", l)
	}
	p, err := l.Predict(x)
	if err != nil {
		return nil, err
	}
	labels, err := predictions(p, n, "Predict")
	if err != nil {
		return nil, err
	}
	out := make([][]float64, n)
	for i, c := range labels {
		if c < 0 || int(c) >= k || c != float64(int(c)) {
			return nil, errors.Wrapf(ErrLabels, "ensemble: Predict returned %v for sample %d, want a class index below %d", c, i, k)
		}
		out[i] = make([]float64, k)
		out[i][int(c)] = 1
	}
	return out, nil
}

func zeros(n, k int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, k)
	}
	return out
}

// argmaxRows returns the argmax of every row as class labels.
func argmaxRows(rows [][]float64) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = float64(argmax(r))
	}
	return out
}
