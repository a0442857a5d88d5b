package ensemble

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Transformer learns a transformation of the samples from training data
// (Fit) and applies it (Transform), as scikit-learn's transformers: x is
// (n, features), the result a float64 tensor (n, features′). A Pipeline
// chains transformers before a learner, so that cross-validation and
// bagging fit them on each fold's or member's rows only.
type Transformer interface {
	Fit(x *tensor.Dense) error
	Transform(x *tensor.Dense) (*tensor.Dense, error)
	// NewTransformer returns an unfitted transformer with the same
	// configuration.
	NewTransformer() Transformer
}

// StandardScaler centres every feature on its mean and divides it by its
// standard deviation (the population one, ddof 0), as scikit-learn's
// StandardScaler; a constant feature is only centred.
type StandardScaler struct {
	// NoMean skips the centring (with_mean=False).
	NoMean bool `json:"no_mean,omitempty"`
	// NoStd skips the scaling (with_std=False).
	NoStd bool `json:"no_std,omitempty"`

	mean, scale []float64
}

// MinMaxScaler maps every feature's training range onto [Min, Max], as
// scikit-learn's MinMaxScaler(feature_range=(Min, Max)); Min = Max = 0
// means [0, 1]. A constant feature maps to Min.
type MinMaxScaler struct {
	Min float64 `json:"min,omitempty"`
	Max float64 `json:"max,omitempty"`

	scale, offset []float64
}

// OneHotEncoder replaces categorical columns by indicator columns, one
// per category seen at Fit (sorted), as scikit-learn's OneHotEncoder inside
// a ColumnTransformer with remainder="passthrough": the output holds the
// indicators of Columns, in that order, then the other columns in their
// order. A category not seen at Fit is an error unless IgnoreUnknown is
// set (its indicators are then all 0).
type OneHotEncoder struct {
	// Columns are the categorical columns; required.
	Columns []int `json:"columns"`
	// IgnoreUnknown encodes a category not seen at Fit as all zeros
	// (handle_unknown="ignore") instead of failing.
	IgnoreUnknown bool `json:"ignore_unknown,omitempty"`

	categories [][]float64
	features   int
}

var (
	_ Transformer = (*StandardScaler)(nil)
	_ Transformer = (*MinMaxScaler)(nil)
	_ Transformer = (*OneHotEncoder)(nil)
)

// NewTransformer returns an unfitted copy.
func (s *StandardScaler) NewTransformer() Transformer {
	return &StandardScaler{NoMean: s.NoMean, NoStd: s.NoStd}
}

// NewTransformer returns an unfitted copy.
func (s *MinMaxScaler) NewTransformer() Transformer { return &MinMaxScaler{Min: s.Min, Max: s.Max} }

// NewTransformer returns an unfitted copy.
func (e *OneHotEncoder) NewTransformer() Transformer {
	return &OneHotEncoder{Columns: append([]int(nil), e.Columns...), IgnoreUnknown: e.IgnoreUnknown}
}

// columnsOf reads x (n, d) as float64 columns.
func columnsOf(x *tensor.Dense, what string) ([][]float64, error) {
	m, err := matrixOf(x)
	if err != nil {
		return nil, errors.WithMessage(err, what)
	}
	if x.Dims() != 2 {
		return nil, errors.Wrapf(ErrInput, "%s: x must be (n, features), got %v", what, x.Shape())
	}
	cols := make([][]float64, m.d)
	for f := range cols {
		cols[f] = make([]float64, m.n)
		for i := range cols[f] {
			cols[f][i] = m.data[i*m.d+f]
		}
	}
	return cols, nil
}

// Fit learns every feature's mean and standard deviation.
func (s *StandardScaler) Fit(x *tensor.Dense) error {
	s.mean, s.scale = nil, nil
	cols, err := columnsOf(x, "ensemble: StandardScaler")
	if err != nil {
		return err
	}
	// scikit-learn's _incremental_mean_and_var from nothing: column sums
	// row after row, and the corrected two-pass variance.
	const eps = 2.220446049250313e-16
	mean, scale := make([]float64, len(cols)), make([]float64, len(cols))
	for f, c := range cols {
		n := float64(len(c))
		sum := 0.0
		for _, v := range c {
			sum += v
		}
		mean[f] = sum / n
		corr, sq := 0.0, 0.0
		for _, v := range c {
			d := v - mean[f]
			corr += d
			sq += d * d
		}
		variance := (sq - corr*corr/n) / n
		scale[f] = math.Sqrt(variance)
		// _is_constant_feature: such a feature keeps scale 1.
		if bound := n*eps*variance + (n*mean[f]*eps)*(n*mean[f]*eps); variance <= bound {
			scale[f] = 1
		}
		if s.NoMean {
			mean[f] = 0
		}
		if s.NoStd {
			scale[f] = 1
		}
	}
	s.mean, s.scale = mean, scale
	return nil
}

// Transform returns (x − mean) / std.
func (s *StandardScaler) Transform(x *tensor.Dense) (*tensor.Dense, error) {
	if s.mean == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: StandardScaler")
	}
	return affine(x, s.mean, s.scale, nil, "ensemble: StandardScaler")
}

// Fit learns every feature's range.
func (s *MinMaxScaler) Fit(x *tensor.Dense) error {
	s.scale, s.offset = nil, nil
	lo, hi := s.Min, s.Max
	if lo == 0 && hi == 0 {
		hi = 1
	}
	if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return errors.Wrapf(ErrConfig, "ensemble: MinMaxScaler range [%v, %v]: want Min < Max, finite", s.Min, s.Max)
	}
	cols, err := columnsOf(x, "ensemble: MinMaxScaler")
	if err != nil {
		return err
	}
	scale, offset := make([]float64, len(cols)), make([]float64, len(cols))
	for f, c := range cols {
		mn, mx := c[0], c[0]
		for _, v := range c {
			mn, mx = math.Min(mn, v), math.Max(mx, v)
		}
		r := mx - mn
		if r < 10*2.220446049250313e-16 {
			r = 1
		}
		scale[f] = (hi - lo) / r
		offset[f] = lo - mn*scale[f]
	}
	s.scale, s.offset = scale, offset
	return nil
}

// Transform returns x·scale + offset, mapping the training range onto
// [Min, Max].
func (s *MinMaxScaler) Transform(x *tensor.Dense) (*tensor.Dense, error) {
	if s.scale == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: MinMaxScaler")
	}
	return affine(x, nil, s.scale, s.offset, "ensemble: MinMaxScaler")
}

// affine returns (x − sub) / div (StandardScaler) or x·mul + add
// (MinMaxScaler), column by column.
func affine(x *tensor.Dense, sub, scale, add []float64, what string) (*tensor.Dense, error) {
	m, err := matrixOf(x)
	if err != nil {
		return nil, errors.WithMessage(err, what)
	}
	if x.Dims() != 2 || m.d != len(scale) {
		return nil, errors.Wrapf(ErrInput, "%s fitted on %d features, x has shape %v", what, len(scale), x.Shape())
	}
	out := make([]float64, len(m.data))
	for i, v := range m.data {
		f := i % m.d
		if sub != nil {
			out[i] = (v - sub[f]) / scale[f]
		} else {
			out[i] = v*scale[f] + add[f]
		}
	}
	return tensor.New(tensor.WithShape(m.n, m.d), tensor.WithBacking(out)), nil
}

// Fit learns every categorical column's categories.
func (e *OneHotEncoder) Fit(x *tensor.Dense) error {
	e.categories, e.features = nil, 0
	if len(e.Columns) == 0 {
		return errors.Wrap(ErrConfig, "ensemble: OneHotEncoder has no Columns")
	}
	cols, err := columnsOf(x, "ensemble: OneHotEncoder")
	if err != nil {
		return err
	}
	seen := map[int]bool{}
	cats := make([][]float64, len(e.Columns))
	for j, c := range e.Columns {
		if c < 0 || c >= len(cols) || seen[c] {
			return errors.Wrapf(ErrConfig, "ensemble: OneHotEncoder column %d: want distinct columns below %d, got %v", c, len(cols), e.Columns)
		}
		seen[c] = true
		cats[j] = uniqueSorted(cols[c])
	}
	e.categories, e.features = cats, len(cols)
	return nil
}

// Transform returns the indicators of the categorical columns, then the
// other columns.
func (e *OneHotEncoder) Transform(x *tensor.Dense) (*tensor.Dense, error) {
	if e.categories == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: OneHotEncoder")
	}
	m, err := matrixOf(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: OneHotEncoder")
	}
	if x.Dims() != 2 || m.d != e.features {
		return nil, errors.Wrapf(ErrInput, "ensemble: OneHotEncoder fitted on %d features, x has shape %v", e.features, x.Shape())
	}
	categorical := map[int]bool{}
	width := 0
	for j, c := range e.Columns {
		categorical[c] = true
		width += len(e.categories[j])
	}
	width += m.d - len(e.Columns)
	out := make([]float64, 0, m.n*width)
	for i := 0; i < m.n; i++ {
		row := m.row(i)
		for j, c := range e.Columns {
			cats := e.categories[j]
			k := sort.SearchFloat64s(cats, row[c])
			known := k < len(cats) && cats[k] == row[c]
			if !known && !e.IgnoreUnknown {
				return nil, errors.Wrapf(ErrInput, "ensemble: OneHotEncoder: sample %d holds category %v in column %d, not seen at Fit (categories %v)", i, row[c], c, shortList(cats))
			}
			for q := range cats {
				v := 0.0
				if known && q == k {
					v = 1
				}
				out = append(out, v)
			}
		}
		for f, v := range row {
			if !categorical[f] {
				out = append(out, v)
			}
		}
	}
	return tensor.New(tensor.WithShape(m.n, width), tensor.WithBacking(out)), nil
}
