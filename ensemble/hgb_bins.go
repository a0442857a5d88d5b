package ensemble

import (
	"math"
	"slices"
)

// binMapper bins every feature into at most maxBins bins, as
// scikit-learn's _BinMapper: with at most maxBins distinct values, the
// thresholds are the midpoints between consecutive values; with more, the
// maxBins−1 percentiles at 100·i/maxBins (numpy's "midpoint" method). A
// value goes to the first bin whose threshold it does not exceed.
type binMapper struct {
	thresholds [][]float64
}

// almostInf caps thresholds, as scikit-learn's ALMOST_INF.
const almostInf = 1e300

func fitBins(cols [][]float64, maxBins int) *binMapper {
	b := &binMapper{thresholds: make([][]float64, len(cols))}
	for f, col := range cols {
		b.thresholds[f] = binThresholds(col, maxBins)
	}
	return b
}

func binThresholds(col []float64, maxBins int) []float64 {
	sorted := append([]float64(nil), col...)
	slices.Sort(sorted)
	distinct := slices.Compact(append([]float64(nil), sorted...))
	var mid []float64
	if len(distinct) <= maxBins {
		mid = make([]float64, len(distinct)-1)
		for i := range mid {
			mid[i] = (distinct[i] + distinct[i+1]) * 0.5
		}
	} else {
		// np.percentile(col, linspace(0, 100, maxBins+1)[1:-1], method="midpoint")
		n := len(sorted)
		step := 100.0 / float64(maxBins)
		mid = make([]float64, maxBins-1)
		for i := range mid {
			q := float64(i+1) * step / 100
			v := float64(n-1) * q
			lo, hi := math.Floor(v), math.Ceil(v)
			idx := 0.5 * (lo + hi)
			prev := int(math.Floor(idx))
			if idx >= float64(n-1) {
				mid[i] = sorted[n-1]
				continue
			}
			a, c := sorted[prev], sorted[prev+1]
			if idx == math.Trunc(idx) { // gamma 0
				mid[i] = a + (c-a)*0
			} else { // gamma 0.5: numpy's lerp takes b − (b−a)·(1−t) for t ≥ 0.5
				mid[i] = c - (c-a)*0.5
			}
		}
	}
	for i, v := range mid {
		if v > almostInf {
			mid[i] = almostInf
		}
	}
	return mid
}

// bin returns the bin of value v of feature f.
func (b *binMapper) bin(f int, v float64) uint8 {
	t := b.thresholds[f]
	lo, hi := 0, len(t)
	for lo < hi {
		m := (lo + hi - 1) / 2
		if v <= t[m] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return uint8(lo)
}

// transform bins the columns: out[f][i] is the bin of cols[f][i].
func (b *binMapper) transform(cols [][]float64) [][]uint8 {
	out := make([][]uint8, len(cols))
	for f, col := range cols {
		out[f] = make([]uint8, len(col))
		for i, v := range col {
			out[f][i] = b.bin(f, v)
		}
	}
	return out
}
