package ops

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gorgonia.org/tensor"
)

// The initialisers below follow Keras 3 (keras.initializers): same
// distributions, same fans (see Fans), same defaults for zero fields. They
// draw only from the *rand.Rand they are given, so one seed makes a model's
// initial weights repeatable. Values are drawn in float64 and rounded to
// the tensor's dtype, so a float32 and a float64 tensor filled from equal
// seeds hold the same numbers up to rounding.

// truncatedNormalStddev is the standard deviation of a standard normal
// truncated to [−2, 2]; Keras divides by it so that the truncated samples
// have the variance asked for.
const truncatedNormalStddev = .87962566103423978

// VarianceScaling draws samples whose variance is Scale/n, n being the
// fan-in, the fan-out or their average (Keras' VarianceScaling). The zero
// value is Keras' default: scale 1, fan_in, truncated normal.
type VarianceScaling struct {
	// Scale is the variance times n; zero means 1.
	Scale float64 `json:"scale"`
	// Mode is "fan_in" (also the meaning of ""), "fan_out" or "fan_avg".
	Mode string `json:"mode"`
	// Distribution is "truncated_normal" (also "" and "normal"),
	// "untruncated_normal" or "uniform". Truncated normal samples have
	// stddev sqrt(Scale/n)/.8796 before truncation at two standard
	// deviations, hence sqrt(Scale/n) after; uniform samples lie in
	// [−sqrt(3·Scale/n), sqrt(3·Scale/n)).
	Distribution string `json:"distribution"`
}

// Initialize implements Initializer.
func (v VarianceScaling) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	scale := v.Scale
	if scale == 0 {
		scale = 1
	}
	if !(scale > 0) || math.IsInf(scale, 1) {
		return errors.Errorf("ops: VarianceScaling: scale must be positive, got %v", v.Scale)
	}
	var fan func(in, out float64) float64
	switch v.Mode {
	case "", "fan_in":
		fan = func(in, _ float64) float64 { return in }
	case "fan_out":
		fan = func(_, out float64) float64 { return out }
	case "fan_avg":
		fan = func(in, out float64) float64 { return (in + out) / 2 }
	default:
		return errors.Errorf("ops: VarianceScaling: unknown mode %q (want fan_in, fan_out or fan_avg)", v.Mode)
	}
	var draw func(rng *rand.Rand, variance float64) float64
	switch v.Distribution {
	case "", "normal", "truncated_normal":
		draw = func(rng *rand.Rand, variance float64) float64 {
			return math.Sqrt(variance) / truncatedNormalStddev * truncatedStdNormal(rng)
		}
	case "untruncated_normal":
		draw = func(rng *rand.Rand, variance float64) float64 { return math.Sqrt(variance) * rng.NormFloat64() }
	case "uniform":
		draw = func(rng *rand.Rand, variance float64) float64 {
			limit := math.Sqrt(3 * variance)
			return -limit + 2*limit*rng.Float64()
		}
	default:
		return errors.Errorf("ops: VarianceScaling: unknown distribution %q (want truncated_normal, untruncated_normal or uniform)", v.Distribution)
	}
	return fill(rng, t, true, func(rng *rand.Rand, shape []int, dst []float64) {
		variance := scale / math.Max(1, fan(Fans(shape)))
		for i := range dst {
			dst[i] = draw(rng, variance)
		}
	})
}

// truncatedStdNormal draws from a standard normal, redrawing samples beyond
// two standard deviations.
func truncatedStdNormal(rng *rand.Rand) float64 {
	for {
		if z := rng.NormFloat64(); math.Abs(z) <= 2 {
			return z
		}
	}
}

// GlorotUniform (Xavier uniform) draws from U(−l, l), l = sqrt(6/(fan_in+fan_out)).
type GlorotUniform struct{}

// Initialize implements Initializer.
func (GlorotUniform) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return VarianceScaling{Scale: 1, Mode: "fan_avg", Distribution: "uniform"}.Initialize(rng, t)
}

// GlorotNormal (Xavier normal) draws from a truncated normal with
// stddev sqrt(2/(fan_in+fan_out)) after truncation.
type GlorotNormal struct{}

// Initialize implements Initializer.
func (GlorotNormal) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return VarianceScaling{Scale: 1, Mode: "fan_avg", Distribution: "truncated_normal"}.Initialize(rng, t)
}

// HeUniform draws from U(−l, l), l = sqrt(6/fan_in).
type HeUniform struct{}

// Initialize implements Initializer.
func (HeUniform) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return VarianceScaling{Scale: 2, Mode: "fan_in", Distribution: "uniform"}.Initialize(rng, t)
}

// HeNormal draws from a truncated normal with stddev sqrt(2/fan_in) after
// truncation.
type HeNormal struct{}

// Initialize implements Initializer.
func (HeNormal) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return VarianceScaling{Scale: 2, Mode: "fan_in", Distribution: "truncated_normal"}.Initialize(rng, t)
}

// LecunUniform draws from U(−l, l), l = sqrt(3/fan_in).
type LecunUniform struct{}

// Initialize implements Initializer.
func (LecunUniform) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return VarianceScaling{Scale: 1, Mode: "fan_in", Distribution: "uniform"}.Initialize(rng, t)
}

// LecunNormal draws from a truncated normal with stddev sqrt(1/fan_in)
// after truncation.
type LecunNormal struct{}

// Initialize implements Initializer.
func (LecunNormal) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return VarianceScaling{Scale: 1, Mode: "fan_in", Distribution: "truncated_normal"}.Initialize(rng, t)
}

// RandomUniform draws from U(Min, Max). When both are zero, Keras' default
// range [−0.05, 0.05) is used.
type RandomUniform struct {
	Min float64 `json:"minval"`
	Max float64 `json:"maxval"`
}

// Initialize implements Initializer.
func (u RandomUniform) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	lo, hi := u.Min, u.Max
	if lo == 0 && hi == 0 {
		lo, hi = -0.05, 0.05
	}
	if !(lo <= hi) || math.IsInf(hi-lo, 0) {
		return errors.Errorf("ops: RandomUniform: want finite Min <= Max, got [%v, %v)", u.Min, u.Max)
	}
	return fill(rng, t, true, func(rng *rand.Rand, _ []int, dst []float64) {
		for i := range dst {
			dst[i] = lo + (hi-lo)*rng.Float64()
		}
	})
}

// RandomNormal draws from N(Mean, Stddev²); a zero Stddev means Keras'
// default 0.05.
type RandomNormal struct {
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
}

// Initialize implements Initializer.
func (n RandomNormal) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	sd, err := stddevOrDefault("RandomNormal", n.Mean, n.Stddev)
	if err != nil {
		return err
	}
	return fill(rng, t, true, func(rng *rand.Rand, _ []int, dst []float64) {
		for i := range dst {
			dst[i] = n.Mean + sd*rng.NormFloat64()
		}
	})
}

// TruncatedNormal draws from N(Mean, Stddev²), redrawing samples more than
// two standard deviations from the mean (so the samples' own standard
// deviation is about 0.88·Stddev). A zero Stddev means Keras' default 0.05.
type TruncatedNormal struct {
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
}

// Initialize implements Initializer.
func (n TruncatedNormal) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	sd, err := stddevOrDefault("TruncatedNormal", n.Mean, n.Stddev)
	if err != nil {
		return err
	}
	return fill(rng, t, true, func(rng *rand.Rand, _ []int, dst []float64) {
		for i := range dst {
			dst[i] = n.Mean + sd*truncatedStdNormal(rng)
		}
	})
}

func stddevOrDefault(name string, mean, sd float64) (float64, error) {
	if sd == 0 {
		sd = 0.05
	}
	if !(sd > 0) || math.IsInf(sd, 1) || math.IsNaN(mean) || math.IsInf(mean, 0) {
		return 0, errors.Errorf("ops: %s: want a finite mean and a positive stddev, got mean %v, stddev %v", name, mean, sd)
	}
	return sd, nil
}

// Zeros fills with 0.
type Zeros struct{}

// Initialize implements Initializer.
func (Zeros) Initialize(rng *rand.Rand, t *tensor.Dense) error { return Constant{}.Initialize(rng, t) }

// Ones fills with 1.
type Ones struct{}

// Initialize implements Initializer.
func (Ones) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return Constant{Value: 1}.Initialize(rng, t)
}

// Constant fills with Value.
type Constant struct {
	Value float64 `json:"value"`
}

// Initialize implements Initializer.
func (c Constant) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	return fill(rng, t, false, func(_ *rand.Rand, _ []int, dst []float64) {
		for i := range dst {
			dst[i] = c.Value
		}
	})
}

// Identity fills a 2-D weight with Gain times the identity matrix (ones on
// the main diagonal of a rectangular matrix). A zero Gain means 1.
type Identity struct {
	Gain float64 `json:"gain"`
}

// Initialize implements Initializer.
func (id Identity) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	if t != nil && t.Dims() != 2 {
		return errors.Errorf("ops: Identity initialises 2-D weights only, got shape %v", t.Shape())
	}
	gain := gainOrOne(id.Gain)
	return fill(rng, t, false, func(_ *rand.Rand, shape []int, dst []float64) {
		clear(dst)
		for i := 0; i < min(shape[0], shape[1]); i++ {
			dst[i*shape[1]+i] = gain
		}
	})
}

func gainOrOne(g float64) float64 {
	if g == 0 {
		return 1
	}
	return g
}

// Orthogonal fills a weight of shape (…, n) with Gain times a matrix of
// shape (prod(…), n) whose columns (or rows, if it is wide) are orthonormal:
// the Q factor of the QR decomposition of a standard normal matrix, with
// the signs of R's diagonal moved into Q so that Q is uniformly distributed
// (Keras' Orthogonal). A zero Gain means 1. The weight needs two axes or more.
type Orthogonal struct {
	Gain float64 `json:"gain"`
}

// Initialize implements Initializer.
func (o Orthogonal) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	if t != nil && t.Dims() < 2 {
		return errors.Errorf("ops: Orthogonal needs a weight of two axes or more, got shape %v", t.Shape())
	}
	gain := gainOrOne(o.Gain)
	return fill(rng, t, true, func(rng *rand.Rand, shape []int, dst []float64) {
		cols := shape[len(shape)-1]
		rows := 1
		for _, s := range shape[:len(shape)-1] {
			rows *= s
		}
		if rows == 0 || cols == 0 {
			return
		}
		q := orthonormalColumns(rng, max(rows, cols), min(rows, cols))
		for i := range rows {
			for j := range cols {
				if rows >= cols {
					dst[i*cols+j] = gain * q[i*cols+j]
				} else {
					dst[i*cols+j] = gain * q[j*rows+i]
				}
			}
		}
	})
}

// orthonormalColumns returns, row-major, the m×n (m ≥ n) thin Q factor of a
// standard normal matrix, its columns multiplied by the signs of diag(R).
func orthonormalColumns(rng *rand.Rand, m, n int) []float64 {
	a := blas64.General{Rows: m, Cols: n, Stride: n, Data: make([]float64, m*n)}
	for i := range a.Data {
		a.Data[i] = rng.NormFloat64()
	}
	tau := make([]float64, n)
	work := make([]float64, 1)
	lapack64.Geqrf(a, tau, work, -1)
	work = make([]float64, max(int(work[0]), n))
	lapack64.Geqrf(a, tau, work, len(work))
	// Q·[I; 0] is the thin Q.
	q := blas64.General{Rows: m, Cols: n, Stride: n, Data: make([]float64, m*n)}
	for j := range n {
		q.Data[j*n+j] = 1
	}
	lapack64.Ormqr(blas.Left, blas.NoTrans, a, tau, q, work, -1)
	if int(work[0]) > len(work) {
		work = make([]float64, int(work[0]))
	}
	lapack64.Ormqr(blas.Left, blas.NoTrans, a, tau, q, work, len(work))
	for j := range n {
		if a.Data[j*n+j] < 0 {
			for i := range m {
				q.Data[i*n+j] = -q.Data[i*n+j]
			}
		}
	}
	return q.Data
}

// fill checks its arguments and runs f through InitializerFunc.
func fill(rng *rand.Rand, t *tensor.Dense, random bool, f InitializerFunc) error {
	if t == nil {
		return errors.New("ops: cannot initialise a nil tensor")
	}
	if random && rng == nil {
		return errors.New("ops: a random initialiser needs a random source, got nil")
	}
	return f.Initialize(rng, t)
}

// initializers maps Keras' names, both the class name and its snake_case
// form, plus Keras' aliases, to initialisers with default settings.
var initializers = map[string]Initializer{
	"glorot_uniform":   GlorotUniform{},
	"glorot_normal":    GlorotNormal{},
	"he_uniform":       HeUniform{},
	"he_normal":        HeNormal{},
	"lecun_uniform":    LecunUniform{},
	"lecun_normal":     LecunNormal{},
	"random_uniform":   RandomUniform{},
	"uniform":          RandomUniform{},
	"random_normal":    RandomNormal{},
	"normal":           RandomNormal{},
	"truncated_normal": TruncatedNormal{},
	"variance_scaling": VarianceScaling{},
	"zeros":            Zeros{},
	"zero":             Zeros{},
	"ones":             Ones{},
	"one":              Ones{},
	"constant":         Constant{},
	"identity":         Identity{},
	"orthogonal":       Orthogonal{},
	// Class names, as Keras also accepts them.
	"GlorotUniform":         GlorotUniform{},
	"GlorotNormal":          GlorotNormal{},
	"HeUniform":             HeUniform{},
	"HeNormal":              HeNormal{},
	"LecunUniform":          LecunUniform{},
	"LecunNormal":           LecunNormal{},
	"RandomUniform":         RandomUniform{},
	"RandomNormal":          RandomNormal{},
	"TruncatedNormal":       TruncatedNormal{},
	"VarianceScaling":       VarianceScaling{},
	"Zeros":                 Zeros{},
	"Ones":                  Ones{},
	"Constant":              Constant{},
	"Identity":              Identity{},
	"IdentityInitializer":   Identity{},
	"Orthogonal":            Orthogonal{},
	"OrthogonalInitializer": Orthogonal{},
}

// InitializerByName returns the initialiser Keras calls name, with Keras'
// default settings: "glorot_uniform", "he_normal", "zeros", "orthogonal",
// the class names ("GlorotUniform") and Keras' aliases ("uniform",
// "normal", "one", "zero"). Names are case-sensitive, as in Keras.
func InitializerByName(name string) (Initializer, error) {
	in, ok := initializers[name]
	if !ok {
		return nil, errors.Errorf("ops: unknown initializer %q (known: %v)", name, InitializerNames())
	}
	return in, nil
}

// InitializerNames lists the snake_case names InitializerByName accepts
// (it also accepts Keras' class names).
func InitializerNames() []string {
	var names []string
	for k := range initializers {
		if k[0] >= 'a' && k[0] <= 'z' {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}
