package datasets

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// newRand returns the generator behind the synthetic data sets: PCG, whose
// output math/rand/v2 fixes, so a seed gives the same data on every
// platform and Go release.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x6b657261676f6e)) // "keragon"
}

// XOR returns n points drawn uniformly from the square [−1, 1]² as x (n, 2)
// float32, and y (n) float32 holding 1 where exactly one coordinate is
// positive, 0 otherwise: the XOR problem, which no linear model separates.
// The same seed gives the same points.
func XOR(n int, seed int64) (x, y *tensor.Dense, err error) {
	if n <= 0 {
		return nil, nil, errors.Errorf("datasets: XOR needs n > 0 points, got %d", n)
	}
	rng := newRand(seed)
	xs, ys := make([]float32, 2*n), make([]float32, n)
	for i := 0; i < n; i++ {
		a, b := float32(2*rng.Float64()-1), float32(2*rng.Float64()-1)
		xs[2*i], xs[2*i+1] = a, b
		if (a > 0) != (b > 0) {
			ys[i] = 1
		}
	}
	return tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(xs)),
		tensor.New(tensor.WithShape(n), tensor.WithBacking(ys)), nil
}

// spiralTurn is the angle, in radians, each spiral arm sweeps from the
// centre to radius 1 (as in the CS231n spiral data set).
const spiralTurn = 4

// Spirals returns n points on classes interleaved spiral arms as x (n, 2)
// float32, and y (n) float32 holding each point's arm, 0..classes−1.
//
// Arm k holds n/classes points (the first n%classes arms one more), at
// radius r evenly spaced in (0, 1] and angle 2πk/classes + 4r radians;
// each coordinate then gets Gaussian noise of standard deviation noise
// (0.05 leaves the arms apart, 0.2 makes them overlap). The points come in
// a random order, so Keras' ValidationSplit, which takes the last samples,
// sees every class. The same seed gives the same points.
func Spirals(n, classes int, noise float64, seed int64) (x, y *tensor.Dense, err error) {
	switch {
	case classes < 2:
		return nil, nil, errors.Errorf("datasets: Spirals needs at least 2 classes, got %d", classes)
	case n < classes:
		return nil, nil, errors.Errorf("datasets: Spirals needs at least one point per class: n=%d for %d classes", n, classes)
	case !(noise >= 0) || math.IsInf(noise, 0):
		return nil, nil, errors.Errorf("datasets: Spirals noise must be a finite number ≥ 0, got %v", noise)
	}
	rng := newRand(seed)
	order := rng.Perm(n) // sample i is written at row order[i]
	xs, ys := make([]float32, 2*n), make([]float32, n)
	i := 0
	for k := 0; k < classes; k++ {
		m := n / classes
		if k < n%classes {
			m++
		}
		for j := 0; j < m; j++ {
			r := float64(j+1) / float64(m)
			t := 2*math.Pi*float64(k)/float64(classes) + spiralTurn*r
			row := order[i]
			xs[2*row] = float32(r*math.Sin(t) + noise*rng.NormFloat64())
			xs[2*row+1] = float32(r*math.Cos(t) + noise*rng.NormFloat64())
			ys[row] = float32(k)
			i++
		}
	}
	return tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(xs)),
		tensor.New(tensor.WithShape(n), tensor.WithBacking(ys)), nil
}
