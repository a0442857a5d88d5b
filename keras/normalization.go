package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// BatchNormalization normalises each feature (the last axis: channels of
// an NHWC image) with the batch's mean and variance while training, and
// with moving averages of them at inference, as
// keras.layers.BatchNormalization:
//
//	y = gamma · (x − mean) / sqrt(variance + Epsilon) + beta
//
// After each training step moving = Momentum·moving + (1−Momentum)·batch,
// with the biased batch variance, as Keras does. Weights, in Keras' order:
// gamma, beta (trainable), moving_mean, moving_variance (not trainable).
// Output shape = input shape.
type BatchNormalization struct {
	Name string `json:"name,omitempty"`
	// Momentum of the moving averages, in [0, 1); nil means Keras' 0.99.
	// Set it with Float (Float(0) keeps the last batch's statistics).
	Momentum *float64 `json:"momentum,omitempty"`
	// Epsilon is added to the variance (default 1e-3).
	Epsilon float64 `json:"epsilon,omitempty"`
	// NoCenter drops beta (Keras' center=False).
	NoCenter bool `json:"no_center,omitempty"`
	// NoScale drops gamma (Keras' scale=False).
	NoScale bool `json:"no_scale,omitempty"`

	Base
	gamma, beta, movingMean, movingVar *graph.Weight
}

func init() { Register("BatchNormalization", func() Layer { return &BatchNormalization{} }) }

func (l *BatchNormalization) momentum() float64 { return floatOr(l.Momentum, 0.99) }

func (l *BatchNormalization) epsilon() float64 {
	if l.Epsilon == 0 {
		return 1e-3
	}
	return l.Epsilon
}

// OutputShape implements Layer.
func (l *BatchNormalization) OutputShape(in []Shape) (Shape, error) {
	s, err := single("BatchNormalization", in)
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, errors.New("keras: BatchNormalization needs inputs with a feature axis")
	}
	if m := l.momentum(); !(m >= 0 && m < 1) || !(l.Epsilon >= 0) { // NaN too
		return nil, errors.Errorf("keras: BatchNormalization needs 0 <= momentum < 1 and epsilon >= 0, got %v and %v", m, l.Epsilon)
	}
	if err := checkBuilt("BatchNormalization", l.movingMean, 0, s[len(s)-1]); err != nil {
		return nil, err
	}
	return s, nil
}

// Build implements Layer.
func (l *BatchNormalization) Build(in []Shape) error {
	c := []int{in[0][len(in[0])-1]}
	if !l.NoScale {
		l.gamma = l.AddWeight("gamma", c, ops.Ones{}, true)
	}
	if !l.NoCenter {
		l.beta = l.AddWeight("beta", c, ops.Zeros{}, true)
	}
	l.movingMean = l.AddWeight("moving_mean", c, ops.Zeros{}, false)
	l.movingVar = l.AddWeight("moving_variance", c, ops.Ones{}, false)
	return nil
}

// Call implements Layer.
func (l *BatchNormalization) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	gamma, beta, err := optionalParams(ctx, l.gamma, l.beta)
	if err != nil {
		return nil, err
	}
	var mean, variance *gorgonia.Node
	// A frozen BatchNormalization runs in inference mode, as in Keras 3.
	if ctx.Training() && !l.frozen {
		if mean, variance, err = ops.BatchMoments(in[0]); err != nil {
			return nil, err
		}
		if err := ctx.AddUpdate(l.movingMean, mean, l.momentum()); err != nil {
			return nil, err
		}
		if err := ctx.AddUpdate(l.movingVar, variance, l.momentum()); err != nil {
			return nil, err
		}
	} else {
		if mean, err = ctx.Param(l.movingMean); err != nil {
			return nil, err
		}
		if variance, err = ctx.Param(l.movingVar); err != nil {
			return nil, err
		}
	}
	return ops.Normalize(in[0], mean, variance, gamma, beta, l.epsilon())
}

func optionalParams(ctx *graph.Context, ws ...*graph.Weight) (gamma, beta *gorgonia.Node, err error) {
	ns := make([]*gorgonia.Node, len(ws))
	for i, w := range ws {
		if w == nil {
			continue
		}
		if ns[i], err = ctx.Param(w); err != nil {
			return nil, nil, err
		}
	}
	return ns[0], ns[1], nil
}

// LayerNormalization normalises each sample over its last axis, as
// keras.layers.LayerNormalization (axis=-1):
//
//	y = gamma · (x − mean) / sqrt(variance + Epsilon) + beta
//
// It behaves the same in training and inference. Weights: gamma, beta.
// Output shape = input shape.
type LayerNormalization struct {
	Name string `json:"name,omitempty"`
	// Epsilon is added to the variance (default 1e-3).
	Epsilon float64 `json:"epsilon,omitempty"`
	// NoCenter drops beta; NoScale drops gamma.
	NoCenter bool `json:"no_center,omitempty"`
	NoScale  bool `json:"no_scale,omitempty"`

	Base
	gamma, beta *graph.Weight
}

func init() { Register("LayerNormalization", func() Layer { return &LayerNormalization{} }) }

// OutputShape implements Layer.
func (l *LayerNormalization) OutputShape(in []Shape) (Shape, error) {
	s, err := single("LayerNormalization", in)
	if err != nil {
		return nil, err
	}
	if len(s) == 0 || !(l.Epsilon >= 0) { // NaN too
		return nil, errors.Errorf("keras: LayerNormalization needs a feature axis and epsilon >= 0 (shape %v, epsilon %v)", s, l.Epsilon)
	}
	w := l.gamma
	if w == nil {
		w = l.beta
	}
	if err := checkBuilt("LayerNormalization", w, 0, s[len(s)-1]); err != nil {
		return nil, err
	}
	return s, nil
}

// Build implements Layer.
func (l *LayerNormalization) Build(in []Shape) error {
	c := []int{in[0][len(in[0])-1]}
	if !l.NoScale {
		l.gamma = l.AddWeight("gamma", c, ops.Ones{}, true)
	}
	if !l.NoCenter {
		l.beta = l.AddWeight("beta", c, ops.Zeros{}, true)
	}
	return nil
}

// Call implements Layer.
func (l *LayerNormalization) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	gamma, beta, err := optionalParams(ctx, l.gamma, l.beta)
	if err != nil {
		return nil, err
	}
	eps := l.Epsilon
	if eps == 0 {
		eps = 1e-3
	}
	return ops.LayerNorm(in[0], gamma, beta, eps)
}

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *BatchNormalization) PassesMask() bool { return true }

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *LayerNormalization) PassesMask() bool { return true }
