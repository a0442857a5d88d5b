package keras

import "github.com/keragon/keragon/training"

// Float returns a pointer to v, for the configuration fields where Keras
// accepts 0 as a setting of its own and its default is not 0: there the
// field is a *float64, nil meaning Keras' default, so that 0 can be asked
// for (BatchNormalization{Momentum: keras.Float(0)}, LeakyReLU{
// NegativeSlope: keras.Float(0)}). It is training.Float; see the package
// documentation's "Zero values" section.
func Float(v float64) *float64 { return training.Float(v) }

// Int returns a pointer to v, as Float for integer fields.
func Int(v int) *int { return training.Int(v) }

// floatOr resolves an optional field to Keras' default def when unset.
func floatOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}
