package training

// Zero values and Keras defaults. A configuration field's zero value means
// Keras' default, so that &Adam{} is Keras' Adam(). Where Keras accepts 0
// as a setting of its own and its default is not 0 (Adam's beta_1, a
// ReduceLROnPlateau patience), the field is a pointer: nil means the
// default and Float or Int give any other value, 0 included:
//
//	opt := &training.Adam{LearningRate: 1e-3, Beta1: training.Float(0)}
//
// Fields whose 0 would defeat their purpose (a learning rate, an epsilon
// that keeps a division finite, a size) stay plain numbers with 0 meaning
// the default. (A zero learning rate can still be set at run time, with
// SetLearningRate.)

// Float returns a pointer to v, for the pointer fields described above.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v, for the pointer fields described above.
func Int(v int) *int { return &v }

// floatOr resolves an optional field to Keras' default def when unset.
func floatOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}
