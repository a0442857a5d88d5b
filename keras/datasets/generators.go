package datasets

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Generators of scikit-learn's toy classification problems. They build the
// same shapes as sklearn.datasets' make_moons, make_circles and make_blobs
// (same counts per class, same curves, same noise model), drawn from this
// package's seeded generator rather than numpy's, so a seed gives the same
// points on every platform but not the points numpy would draw.

// Moons returns n points on two interleaving half circles, as
// sklearn.datasets.make_moons: x (n, 2) float32 and y (n) float32 holding
// 0 for the n/2 points of the upper moon (cos t, sin t) and 1 for the
// others, on the lower moon (1 − cos t, 0.5 − sin t), t evenly spaced in
// [0, π] on each. Gaussian noise of standard deviation noise is added to
// every coordinate (0 adds none; 0.1–0.3 is usual), and the points come in
// a random order. The same seed gives the same points.
func Moons(n int, noise float64, seed int64) (x, y *tensor.Dense, err error) {
	if n < 2 {
		return nil, nil, errors.Errorf("datasets: Moons needs n ≥ 2 points (one per moon), got %d", n)
	}
	if err := checkNoise("Moons", noise); err != nil {
		return nil, nil, err
	}
	nOut := n / 2
	nIn := n - nOut
	pts := make([]float64, 0, 2*n)
	labels := make([]float32, 0, n)
	for _, t := range linspace(0, math.Pi, nOut, true) {
		pts = append(pts, math.Cos(t), math.Sin(t))
		labels = append(labels, 0)
	}
	for _, t := range linspace(0, math.Pi, nIn, true) {
		pts = append(pts, 1-math.Cos(t), 1-math.Sin(t)-0.5)
		labels = append(labels, 1)
	}
	x, y = shuffleNoise(pts, labels, 2, noise, newRand(seed))
	return x, y, nil
}

// Circles returns n points on two concentric circles, as
// sklearn.datasets.make_circles: x (n, 2) float32 and y (n) float32
// holding 0 for the n/2 points of the outer circle (radius 1) and 1 for the
// inner one (radius factor, in [0, 1); 0 means scikit-learn's default 0.8),
// at angles evenly spaced in [0, 2π). Gaussian noise of standard deviation
// noise is added to every coordinate, and the points come in a random
// order. The same seed gives the same points.
func Circles(n int, noise, factor float64, seed int64) (x, y *tensor.Dense, err error) {
	if n < 2 {
		return nil, nil, errors.Errorf("datasets: Circles needs n ≥ 2 points (one per circle), got %d", n)
	}
	if err := checkNoise("Circles", noise); err != nil {
		return nil, nil, err
	}
	if factor == 0 {
		factor = 0.8
	}
	if !(factor > 0 && factor < 1) {
		return nil, nil, errors.Errorf("datasets: Circles factor must be in (0, 1) (0 means 0.8), got %v", factor)
	}
	nOut := n / 2
	nIn := n - nOut
	pts := make([]float64, 0, 2*n)
	labels := make([]float32, 0, n)
	for _, t := range linspace(0, 2*math.Pi, nOut, false) {
		pts = append(pts, math.Cos(t), math.Sin(t))
		labels = append(labels, 0)
	}
	for _, t := range linspace(0, 2*math.Pi, nIn, false) {
		pts = append(pts, factor*math.Cos(t), factor*math.Sin(t))
		labels = append(labels, 1)
	}
	x, y = shuffleNoise(pts, labels, 2, noise, newRand(seed))
	return x, y, nil
}

// BlobsConfig configures Blobs; the zero value of a field means
// sklearn.datasets.make_blobs' default.
type BlobsConfig struct {
	// Samples is the number of points (default 100).
	Samples int
	// Features is the dimension of the points (default 2).
	Features int
	// Centers is the number of blobs, hence classes (default 3). Ignored
	// when CenterPoints is set.
	Centers int
	// CenterPoints fixes the centres, one row of Features numbers each;
	// nil draws Centers centres uniformly from CenterBox.
	CenterPoints [][]float64
	// ClusterStd is the standard deviation of every blob (default 1). Set
	// ZeroStd for points exactly on their centres.
	ClusterStd float64
	// ZeroStd makes the standard deviation 0.
	ZeroStd bool
	// CenterBox bounds the random centres on every axis (default
	// [−10, 10]).
	CenterBox [2]float64
	// NoShuffle keeps the points grouped by blob, in blob order.
	NoShuffle bool
	// Seed makes the points repeatable.
	Seed int64
}

// Blobs returns isotropic Gaussian blobs for clustering and
// classification, as sklearn.datasets.make_blobs: x (Samples, Features)
// float32, y (Samples) float32 holding each point's blob, and the centres
// (Centers, Features). Blob k holds Samples/Centers points, the first
// Samples%Centers blobs one more.
func Blobs(cfg BlobsConfig) (x, y *tensor.Dense, centers [][]float64, err error) {
	n, d, k, std := cfg.Samples, cfg.Features, cfg.Centers, cfg.ClusterStd
	if n == 0 {
		n = 100
	}
	if d == 0 {
		d = 2
	}
	if k == 0 {
		k = 3
	}
	if std == 0 && !cfg.ZeroStd {
		std = 1
	}
	if cfg.ZeroStd {
		std = 0
	}
	box := cfg.CenterBox
	if box == [2]float64{} {
		box = [2]float64{-10, 10}
	}
	switch {
	case n < 0 || d < 0 || k < 0:
		return nil, nil, nil, errors.Errorf("datasets: Blobs needs positive Samples, Features and Centers, got %d, %d and %d", cfg.Samples, cfg.Features, cfg.Centers)
	case !(std >= 0) || math.IsInf(std, 0):
		return nil, nil, nil, errors.Errorf("datasets: Blobs ClusterStd must be a finite number ≥ 0, got %v", cfg.ClusterStd)
	case !(box[0] <= box[1]) || math.IsInf(box[0], 0) || math.IsInf(box[1], 0):
		return nil, nil, nil, errors.Errorf("datasets: Blobs CenterBox must be a finite interval [low, high], got %v", cfg.CenterBox)
	}
	rng := newRand(cfg.Seed)
	if cfg.CenterPoints != nil {
		k = len(cfg.CenterPoints)
		if k == 0 {
			return nil, nil, nil, errors.New("datasets: Blobs CenterPoints is empty")
		}
		if cfg.Features == 0 {
			d = len(cfg.CenterPoints[0])
		}
		for i, c := range cfg.CenterPoints {
			if len(c) != d || d == 0 {
				return nil, nil, nil, errors.Errorf("datasets: Blobs centre %d has %d coordinates, want %d", i, len(c), d)
			}
			centers = append(centers, append([]float64(nil), c...))
		}
	} else {
		for i := 0; i < k; i++ {
			c := make([]float64, d)
			for j := range c {
				c[j] = box[0] + (box[1]-box[0])*rng.Float64()
			}
			centers = append(centers, c)
		}
	}
	if n < k {
		return nil, nil, nil, errors.Errorf("datasets: Blobs needs at least one point per blob: %d samples for %d centres", n, k)
	}
	pts := make([]float64, 0, n*d)
	labels := make([]float32, 0, n)
	for c := 0; c < k; c++ {
		m := n / k
		if c < n%k {
			m++
		}
		for i := 0; i < m; i++ {
			for j := 0; j < d; j++ {
				pts = append(pts, centers[c][j]+std*rng.NormFloat64())
			}
			labels = append(labels, float32(c))
		}
	}
	if cfg.NoShuffle {
		x, y = shuffleNoise(pts, labels, d, 0, nil)
	} else {
		x, y = shuffleNoise(pts, labels, d, 0, rng)
	}
	return x, y, centers, nil
}

func checkNoise(name string, noise float64) error {
	if !(noise >= 0) || math.IsInf(noise, 0) {
		return errors.Errorf("datasets: %s noise must be a finite number ≥ 0, got %v", name, noise)
	}
	return nil
}

// linspace is numpy.linspace(a, b, n, endpoint).
func linspace(a, b float64, n int, endpoint bool) []float64 {
	out := make([]float64, n)
	div := float64(n)
	if endpoint {
		div = float64(n - 1)
	}
	for i := range out {
		if div == 0 {
			out[i] = a
			continue
		}
		out[i] = a + (b-a)*float64(i)/div
	}
	if endpoint && n > 1 {
		out[n-1] = b
	}
	return out
}

// shuffleNoise permutes the rows (d numbers each) of pts and their labels
// with rng (none if rng is nil), as sklearn.utils.shuffle, then adds
// Gaussian noise of standard deviation noise to every coordinate.
func shuffleNoise(pts []float64, labels []float32, d int, noise float64, rng *rand.Rand) (x, y *tensor.Dense) {
	n := len(labels)
	xs, ys := make([]float32, n*d), make([]float32, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if rng != nil {
		order = rng.Perm(n)
	}
	for i, src := range order {
		ys[i] = labels[src]
		for j := 0; j < d; j++ {
			v := pts[src*d+j]
			if noise > 0 {
				v += noise * rng.NormFloat64()
			}
			xs[i*d+j] = float32(v)
		}
	}
	return tensor.New(tensor.WithShape(n, d), tensor.WithBacking(xs)),
		tensor.New(tensor.WithShape(n), tensor.WithBacking(ys))
}
