package graph

import "github.com/pkg/errors"

// A Layout names the roles of a program's feeds and outputs, so that the
// code building a program and the code running it agree on one order
// without indexing by convention.
//
// Feeds come in this order: Inputs model inputs; then, when Targets > 0,
// Targets targets and one sample-weight vector per target. Outputs come in
// this order: Outputs model outputs, then one mask per entry of Masked
// (Masked[j] is the index of the model output whose (batch, steps) mask is
// program output Outputs+j), then one scalar per entry of Losses (the
// batch's loss of one model output, logged under that name).
type Layout struct {
	Inputs  int
	Targets int
	Outputs int
	Masked  []int
	Losses  []string
}

// Feeds is the number of tensors Run takes.
func (l Layout) Feeds() int {
	if l.Targets == 0 {
		return l.Inputs
	}
	return l.Inputs + 2*l.Targets
}

// Target is the feed index of target i.
func (l Layout) Target(i int) int { return l.Inputs + i }

// SampleWeight is the feed index of target i's sample weights.
func (l Layout) SampleWeight(i int) int { return l.Inputs + l.Targets + i }

// Mask returns the program output holding the mask of model output o, and
// whether it has one.
func (l Layout) Mask(o int) (int, bool) {
	for j, m := range l.Masked {
		if m == o {
			return l.Outputs + j, true
		}
	}
	return 0, false
}

// LossOutput is the program output holding the loss logged as Losses[j].
func (l Layout) LossOutput(j int) int { return l.Outputs + len(l.Masked) + j }

// check reports a layout that does not describe spec.
func (l Layout) check(spec Spec) error {
	if l.Inputs < 0 || l.Targets < 0 || l.Outputs < 0 {
		return errors.Errorf("graph: layout %+v has a negative count", l)
	}
	if outs := l.Outputs + len(l.Masked) + len(l.Losses); l.Feeds() != len(spec.Inputs) || outs != len(spec.Outputs) {
		return errors.Errorf("graph: layout %+v describes %d feeds and %d outputs; the spec has %d and %d",
			l, l.Feeds(), outs, len(spec.Inputs), len(spec.Outputs))
	}
	for _, o := range l.Masked {
		if o < 0 || o >= l.Outputs {
			return errors.Errorf("graph: layout masks output %d of %d", o, l.Outputs)
		}
	}
	return nil
}
