package ensemble

import (
	"context"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Pipeline is a chain of transformers and then a learner, itself a
// Learner, as scikit-learn's Pipeline: Fit fits each transformer on the
// output of the previous ones and the learner on the last output; Predict
// transforms x the same way and asks the learner. Because it is a
// Learner, cross-validation, bagging and stacking fit the transformers
// on each fold's or member's training rows only, never on the rows they
// are scored on:
//
//	svm := &ensemble.Pipeline{Steps: []ensemble.Transformer{&ensemble.StandardScaler{}},
//		New: (&ensemble.LinearSVC{}).Clone}
//	res, err := ensemble.CrossValidate(ctx, svm.Clone, x, y, folds, ensemble.CVConfig{})
//
// Sample weights go to the learner only (the transformers fit unweighted).
type Pipeline struct {
	// Steps transform x in order; Clone gives each new pipeline fresh
	// ones (NewTransformer).
	Steps []Transformer `json:"-"`
	// New makes the learner; if nil, Learner describes it as data; one of
	// them is required.
	New Factory `json:"-"`
	// Learner describes the learner as a registered kind with JSON
	// parameters (used when New is nil).
	Learner *Spec `json:"-"`
	// Seed is passed to New. Clone sets it.
	Seed uint64 `json:"-"`

	learner Learner
}

var (
	_ Classifier     = (*Pipeline)(nil)
	_ ContextLearner = (*Pipeline)(nil)
)

// Clone returns an unfitted pipeline with fresh transformers and the given
// seed for its learner (a Factory).
func (p *Pipeline) Clone(seed uint64) (Learner, error) {
	c := &Pipeline{New: p.New, Learner: p.Learner, Seed: seed}
	for i, t := range p.Steps {
		if t == nil {
			return nil, errors.Wrapf(ErrConfig, "ensemble: Pipeline step %d is nil", i)
		}
		c.Steps = append(c.Steps, t.NewTransformer())
	}
	return c, nil
}

// FinalLearner returns the fitted learner (nil before Fit).
func (p *Pipeline) FinalLearner() Learner { return p.learner }

// ClassLabels returns the learner's classes, if it reports them.
func (p *Pipeline) ClassLabels() []float64 {
	if p.learner == nil {
		return nil
	}
	return classesOf(p.learner)
}

// Fit fits the transformers and then the learner on x, y with optional
// sample weights (for the learner).
func (p *Pipeline) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return p.FitContext(context.Background(), x, y, sampleWeight)
}

// FitContext is Fit, passing ctx to a learner that takes one.
func (p *Pipeline) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	p.learner = nil
	newL, err := factoryOf("Pipeline", p.New, p.Learner, nil)
	if err != nil {
		return err
	}
	for i, t := range p.Steps {
		if t == nil {
			return errors.Wrapf(ErrConfig, "ensemble: Pipeline step %d is nil", i)
		}
		if err := t.Fit(x); err != nil {
			return errors.WithMessagef(err, "ensemble: Pipeline step %d", i)
		}
		if x, err = t.Transform(x); err != nil {
			return errors.WithMessagef(err, "ensemble: Pipeline step %d", i)
		}
	}
	l, err := newLearner(newL, p.Seed)
	if err != nil {
		return err
	}
	if err := fitLearner(ctx, l, x, y, sampleWeight); err != nil {
		return errors.WithMessage(err, "ensemble: Pipeline learner")
	}
	p.learner = l
	return nil
}

// transform runs x through the fitted transformers.
func (p *Pipeline) transform(x *tensor.Dense) (*tensor.Dense, error) {
	if p.learner == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Pipeline")
	}
	var err error
	for i, t := range p.Steps {
		if x, err = t.Transform(x); err != nil {
			return nil, errors.WithMessagef(err, "ensemble: Pipeline step %d", i)
		}
	}
	return x, nil
}

// Predict transforms x and returns the learner's predictions.
func (p *Pipeline) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	xt, err := p.transform(x)
	if err != nil {
		return nil, err
	}
	return p.learner.Predict(xt)
}

// PredictProba transforms x and returns the learner's probabilities, or
// ErrNoProba if it gives none.
func (p *Pipeline) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	xt, err := p.transform(x)
	if err != nil {
		return nil, err
	}
	c, ok := p.learner.(Classifier)
	if !ok {
		return nil, errors.Wrapf(ErrNoProba, "ensemble: the Pipeline's learner %T gives no probabilities", p.learner)
	}
	return c.PredictProba(xt)
}

// Transform runs x through the fitted transformers (what the learner
// sees).
func (p *Pipeline) Transform(x *tensor.Dense) (*tensor.Dense, error) { return p.transform(x) }
