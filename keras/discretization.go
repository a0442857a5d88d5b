package keras

import (
	"math"
	"sort"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Discretization puts each value into a bin, as keras.layers.Discretization:
// with BinBoundaries [0, 1, 2] the bins are (−∞, 0), [0, 1), [1, 2),
// [2, ∞), so −1 → 0, 0.5 → 1 and 5 → 3. The boundaries are given, or
// computed by Adapt from data for NumBins bins (Keras' approximate
// quantiles, the same algorithm and numbers, with its Epsilon).
//
// OutputMode "int" (the default) outputs bin indices, of the input's shape;
// "one_hot", "multi_hot" and "count" encode them as CategoryEncoding does,
// with len(BinBoundaries)+1 bins. No weights, no gradient.
type Discretization struct {
	Name string `json:"name,omitempty"`
	// BinBoundaries are the sorted bin edges; Adapt sets them.
	BinBoundaries []float64 `json:"bin_boundaries,omitempty"`
	// NumBins is the number of bins Adapt makes; give it or BinBoundaries.
	NumBins int `json:"num_bins,omitempty"`
	// Epsilon is Adapt's error tolerance; 0 means Keras' 0.01.
	Epsilon float64 `json:"epsilon,omitempty"`
	// OutputMode is "int" (""), "one_hot", "multi_hot" or "count".
	OutputMode string `json:"output_mode,omitempty"`
	Base
	built bool
}

func init() { Register("Discretization", func() Layer { return &Discretization{} }) }

func (l *Discretization) mode() (string, error) {
	if l.OutputMode == "" || l.OutputMode == "int" {
		return "int", nil
	}
	return encodeMode("Discretization", l.OutputMode, "")
}

// OutputShape implements Layer.
func (l *Discretization) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Discretization", in)
	if err != nil {
		return nil, err
	}
	if l.NumBins < 0 || !(l.Epsilon >= 0 && l.Epsilon < 1) {
		return nil, errors.Errorf("keras: Discretization needs NumBins >= 0 and Epsilon in [0, 1), got %d and %v", l.NumBins, l.Epsilon)
	}
	if l.BinBoundaries == nil {
		return nil, errors.New("keras: Discretization needs BinBoundaries, or NumBins and a call of Adapt before it is used")
	}
	if !sort.Float64sAreSorted(l.BinBoundaries) {
		return nil, errors.Errorf("keras: Discretization boundaries %v are not sorted", l.BinBoundaries)
	}
	mode, err := l.mode()
	if err != nil || mode == "int" {
		return s, err
	}
	return encodedShape("Discretization", s, len(l.BinBoundaries)+1, mode)
}

// Build implements Layer.
func (l *Discretization) Build([]Shape) error { l.built = true; return nil }

// Call implements Layer.
func (l *Discretization) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	mode, err := l.mode()
	if err != nil {
		return nil, err
	}
	y, err := ops.Bucketize(in[0], l.BinBoundaries)
	if err != nil || mode == "int" {
		return y, err
	}
	return ops.CategoryEncode(y, len(l.BinBoundaries)+1, mode, false)
}

// Adapt sets BinBoundaries to NumBins bins of data (any shape: every value
// counts), with Keras' algorithm: a summary of the sorted values every
// len/(1/Epsilon) of them, then boundaries interpolated at the quantiles
// 1/NumBins, 2/NumBins, … of its cumulative weights (in float32, as
// Keras). Adapt before the layer is in a model when the output is encoded
// (its size depends on the number of bins).
func (l *Discretization) Adapt(data *tensor.Dense) error {
	if l.NumBins <= 0 {
		return errors.New("keras: Discretization.Adapt needs a positive NumBins")
	}
	if data == nil || data.Shape().TotalSize() == 0 {
		return errors.New("keras: Discretization.Adapt needs data")
	}
	if l.built && l.OutputMode != "" && l.OutputMode != "int" {
		return errors.New("keras: Discretization with an encoded output must be adapted before it is in a model")
	}
	eps := l.Epsilon
	if eps == 0 {
		eps = 0.01
	}
	v := Values(data)
	for i, x := range v {
		if math.IsNaN(x) {
			return errors.Errorf("keras: Discretization.Adapt: value %d is NaN", i)
		}
	}
	summary := compressSummary(summarize(v, eps), eps)
	b := compressSummary(summary, 1/float64(l.NumBins))
	l.BinBoundaries = b[0][:len(b[0])-1]
	return nil
}

// summarize is Keras' discretization.summarize: the sorted float32 values
// taken every step = max(n·eps, 1) of them, starting at step−1, each
// weighing step.
func summarize(values []float64, eps float64) [2][]float64 {
	v := make([]float64, len(values))
	for i, x := range values {
		v[i] = float64(float32(x))
	}
	sort.Float64s(v)
	step := max(float64(len(v))/(1/eps), 1)
	var s [2][]float64
	for i := int(step - 1); i < len(v); i += int(step) {
		s[0] = append(s[0], v[i])
		s[1] = append(s[1], float64(float32(step)))
	}
	return s
}

// compressSummary is Keras' compress_summary: the summary resampled at the
// cumulative-weight fractions eps, 2·eps, … (NumPy's arange and interp),
// in float32. A summary of fewer than 1/eps entries is returned as is.
func compressSummary(s [2][]float64, eps float64) [2][]float64 {
	n := len(s[0])
	if float64(n)*eps < 1 {
		return s
	}
	cum := make([]float64, n)
	var acc float32
	for i, w := range s[1] {
		acc += float32(w)
		cum[i] = float64(acc)
	}
	pct := make([]float64, n)
	for i := range cum {
		pct[i] = float64(float32(cum[i]) / float32(cum[n-1]))
	}
	// np.arange(0, 1, eps) has ceil(1/eps) values.
	m := int(math.Ceil(1 / eps))
	var out [2][]float64
	prev := 0.0
	for i := 0; i < m; i++ {
		p := eps + float64(i)*eps
		bin := interp(p, pct, s[0])
		c := interp(p, pct, cum)
		out[0] = append(out[0], float64(float32(bin)))
		out[1] = append(out[1], float64(float32(c-prev)))
		prev = c
	}
	return out
}

// interp is NumPy's interp for one point.
func interp(x float64, xp, fp []float64) float64 {
	n := len(xp)
	switch {
	case x > xp[n-1]:
		return fp[n-1]
	case x < xp[0]:
		return fp[0]
	}
	j := sort.Search(n, func(i int) bool { return xp[i] > x }) - 1
	if j >= n-1 {
		return fp[n-1]
	}
	if xp[j] == x {
		return fp[j]
	}
	slope := (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])
	y := slope*(x-xp[j]) + fp[j]
	if math.IsNaN(y) {
		y = slope*(x-xp[j+1]) + fp[j+1]
		if math.IsNaN(y) && fp[j] == fp[j+1] {
			y = fp[j]
		}
	}
	return y
}
