package keras

import (
	"math"
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Normalization standardises its input feature by feature, as
// keras.layers.Normalization:
//
//	y = (x − mean) / max(sqrt(variance), 1e-7)
//
// with a mean and a variance per position of Axis (the features of a
// table, the channels of an image), computed from data by Adapt or given
// as Mean and Variance. With Invert it undoes that: y = mean +
// x·max(sqrt(variance), 1e-7), e.g. to turn a model's standardised
// predictions back into the target's units.
//
// Adapted statistics are non-trainable weights, "mean" and "variance"
// (features), so Save keeps them and a loaded model takes raw data. Given
// ones are part of the configuration and make no weights, as in Keras
// (which also keeps an adapt "count", not needed here). Output shape =
// input shape.
//
//	norm := &keras.Normalization{}
//	err := norm.Adapt(xTrain) // before or after the model is built
//	model := keras.NewSequential(&keras.Input{Shape: []int{6}}, norm, &keras.Dense{Units: 1})
//
// Keragon keeps one axis; Keras' tuples of axes and axis=None are not
// supported.
type Normalization struct {
	Name string `json:"name,omitempty"`
	// Axis is the axis with its own statistics, counting the batch axis as
	// 0; negative values count from the end. 0 means Keras' default −1.
	Axis int `json:"axis,omitempty"`
	// Mean and Variance, when given, are the statistics: one number for
	// every position of Axis, or one for all. Give both or neither.
	Mean     []float64 `json:"mean,omitempty"`
	Variance []float64 `json:"variance,omitempty"`
	// Invert undoes the normalisation.
	Invert bool `json:"invert,omitempty"`

	Base
	mean, variance *graph.Weight
	adapted        [2][]float64 // from Adapt before Build
	axisSize       int
}

func init() { Register("Normalization", func() Layer { return &Normalization{} }) }

// normalizationEpsilon is Keras' backend epsilon.
const normalizationEpsilon = 1e-7

// axis resolves Axis for inputs of rank (batch axis included) rank.
func (l *Normalization) axis(rank int) (int, error) {
	a := l.Axis
	if a == 0 {
		a = -1
	}
	if a < 0 {
		a += rank
	}
	if a < 1 || a >= rank {
		return 0, errors.Errorf("keras: Normalization axis %d is not a sample axis of inputs of rank %d (batch axis included)", l.Axis, rank)
	}
	return a, nil
}

// OutputShape implements Layer.
func (l *Normalization) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Normalization", in)
	if err != nil {
		return nil, err
	}
	a, err := l.axis(len(s) + 1)
	if err != nil {
		return nil, err
	}
	n := s[a-1]
	if (l.Mean == nil) != (l.Variance == nil) {
		return nil, errors.New("keras: Normalization needs both Mean and Variance, or neither (then Adapt)")
	}
	for _, v := range [][]float64{l.Mean, l.Variance} {
		if v != nil && len(v) != 1 && len(v) != n {
			return nil, errors.Errorf("keras: Normalization statistics %v for axis %d of size %d: want 1 or %d numbers", v, a, n, n)
		}
	}
	for _, v := range l.Variance {
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, errors.Errorf("keras: Normalization variance %v is not a finite number >= 0", v)
		}
	}
	if l.axisSize != 0 && l.axisSize != n {
		return nil, errors.Errorf("keras: Normalization was built for %d features on axis %d, got %d", l.axisSize, a, n)
	}
	return s, nil
}

// Build implements Layer: the weights mean and variance, from Adapt's
// statistics if it ran, else zeros and ones (Keras' initial values).
func (l *Normalization) Build(in []Shape) error {
	a, err := l.axis(len(in[0]) + 1)
	if err != nil {
		return err
	}
	l.axisSize = in[0][a-1]
	if l.Mean != nil {
		return nil
	}
	if l.adapted[0] != nil && len(l.adapted[0]) != l.axisSize {
		return errors.Errorf("keras: Normalization was adapted on %d features, the model gives it %d", len(l.adapted[0]), l.axisSize)
	}
	l.mean = l.AddWeight("mean", []int{l.axisSize}, statInit(l.adapted[0], 0), false)
	l.variance = l.AddWeight("variance", []int{l.axisSize}, statInit(l.adapted[1], 1), false)
	return nil
}

// statInit fills a weight with v, or with def when v is nil.
func statInit(v []float64, def float64) ops.Initializer {
	return ops.InitializerFunc(func(_ *rand.Rand, _ []int, dst []float64) {
		for i := range dst {
			if v != nil {
				dst[i] = v[i]
			} else {
				dst[i] = def
			}
		}
	})
}

// Adapt computes the mean and the (population) variance of data, of shape
// (samples, …) as the layer's input, for every position of Axis, as
// Keras' adapt. It may run before the layer is in a model (the statistics
// then initialise its weights) or after (it overwrites them).
func (l *Normalization) Adapt(data *tensor.Dense) error {
	if l.Mean != nil {
		return errors.New("keras: Normalization has a given Mean and Variance; Adapt would be ignored")
	}
	if data == nil || data.Dims() < 2 || data.Shape()[0] == 0 {
		return errors.New("keras: Normalization.Adapt needs data of shape (samples, features…) with at least one sample")
	}
	a, err := l.axis(data.Dims())
	if err != nil {
		return err
	}
	outer, n, inner := 1, data.Shape()[a], 1
	for k, d := range data.Shape() {
		if k < a {
			outer *= d
		} else if k > a {
			inner *= d
		}
	}
	if l.axisSize != 0 && n != l.axisSize {
		return errors.Errorf("keras: Normalization is built for %d features on axis %d, the data has %d", l.axisSize, a, n)
	}
	v := Values(data)
	mean, variance := make([]float64, n), make([]float64, n)
	count := float64(outer * inner)
	for k := 0; k < n; k++ {
		var s float64
		for o := 0; o < outer; o++ {
			for _, x := range v[(o*n+k)*inner : (o*n+k+1)*inner] {
				s += x
			}
		}
		m := s / count
		var ss float64
		for o := 0; o < outer; o++ {
			for _, x := range v[(o*n+k)*inner : (o*n+k+1)*inner] {
				ss += (x - m) * (x - m)
			}
		}
		if math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(ss) || math.IsInf(ss, 0) {
			return errors.Errorf("keras: Normalization.Adapt: feature %d has non-finite values", k)
		}
		mean[k], variance[k] = m, ss/count
	}
	if l.mean == nil {
		l.adapted = [2][]float64{mean, variance}
		return nil
	}
	for i, w := range []*graph.Weight{l.mean, l.variance} {
		w.Alloc()
		setValues(w.Value, [][]float64{mean, variance}[i])
	}
	return nil
}

// setValues writes float64 values into a float32 or float64 tensor.
func setValues(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	case []float64:
		copy(d, v)
	}
}

// Call implements Layer.
func (l *Normalization) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	x := in[0]
	a, err := l.axis(x.Dims())
	if err != nil {
		return nil, err
	}
	var mean, variance *gorgonia.Node
	if l.Mean != nil {
		n := x.Shape()[a]
		mean = statConstant(ctx, "mean", l.Mean, n)
		variance = statConstant(ctx, "variance", l.Variance, n)
	} else {
		if mean, err = ctx.Param(l.mean); err != nil {
			return nil, err
		}
		if variance, err = ctx.Param(l.variance); err != nil {
			return nil, err
		}
	}
	return ops.Standardize(x, mean, variance, a, normalizationEpsilon, l.Invert)
}

// statConstant is a configured statistic as a vector constant of size n.
func statConstant(ctx *graph.Context, name string, v []float64, n int) *gorgonia.Node {
	full := make([]float64, n)
	for i := range full {
		full[i] = v[min(i, len(v)-1)]
	}
	return gorgonia.NodeFromAny(ctx.G, denseLike(ctx.Dtype, full, n), gorgonia.WithName(uniqueConstant(name)))
}

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *Normalization) PassesMask() bool { return true }
