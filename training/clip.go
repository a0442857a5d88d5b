package training

import (
	"math"

	"github.com/pkg/errors"
)

// Gradient clipping, as Keras' BaseOptimizer._clip_gradients does it before
// every update. An optimizer's ClipNorm, ClipValue and GlobalClipNorm are
// zero (off) by default; at most one may be set.
//
//   - ClipNorm c: each weight's gradient g becomes g*c/max(‖g‖, c).
//   - GlobalClipNorm c: with n the norm of all gradients together, every
//     gradient is scaled by c*min(1/n, 1/c); a non-finite n makes every
//     gradient NaN, as in Keras.
//   - ClipValue c: every element is clipped to [-c, c].
//
// Clipped gradients are written to a buffer kept per weight: the gradient
// tensors given to Step are never changed.

// check validates the learning-rate and clipping settings.
func (h common) check(name string) error {
	set := 0
	for _, c := range []struct {
		field string
		v     float64
	}{{"ClipNorm", h.clipNorm}, {"ClipValue", h.clipValue}, {"GlobalClipNorm", h.globalClipNorm}} {
		if !(c.v >= 0) || math.IsInf(c.v, 0) {
			return errors.Errorf("training: %s %s is %v; want a finite number >= 0 (0: no clipping)", name, c.field, c.v)
		}
		if c.v > 0 {
			set++
		}
	}
	if set > 1 {
		return errors.Errorf("training: %s: only one of ClipNorm, ClipValue and GlobalClipNorm can be set; got ClipNorm=%v, ClipValue=%v, GlobalClipNorm=%v",
			name, h.clipNorm, h.clipValue, h.globalClipNorm)
	}
	return nil
}

// clipGradients points every job's gradient at its clipped copy when a
// clipping setting is on.
func clipGradients(h common, jobs []job) {
	switch {
	case h.clipNorm > 0:
		for i := range jobs {
			j := &jobs[i]
			var norm float64
			if j.is64 {
				norm = math.Sqrt(sumSquares(j.g64))
			} else {
				norm = math.Sqrt(sumSquares(j.g32))
			}
			if norm <= h.clipNorm {
				continue // g*c/max(‖g‖, c) = g
			}
			scaleGradient(j, h.clipNorm, norm) // Keras: (g*c)/‖g‖
		}
	case h.globalClipNorm > 0:
		var sum float64
		for _, j := range jobs {
			if j.is64 {
				sum += sumSquares(j.g64)
			} else {
				sum += sumSquares(j.g32)
			}
		}
		norm, c := math.Sqrt(sum), h.globalClipNorm
		if norm <= c {
			return // c*min(1/n, 1/c) = 1
		}
		// Keras adds (n - n) so that an infinite or NaN norm gives NaN.
		scale := c*math.Min(1/norm, 1/c) + (norm - norm)
		for i := range jobs {
			scaleGradient(&jobs[i], scale, 1)
		}
	case h.clipValue > 0:
		for i := range jobs {
			j := &jobs[i]
			if j.is64 {
				j.st.clip64 = clampInto(grow(j.st.clip64, len(j.g64)), j.g64, h.clipValue)
				j.g64 = j.st.clip64
			} else {
				j.st.clip32 = clampInto(grow(j.st.clip32, len(j.g32)), j.g32, h.clipValue)
				j.g32 = j.st.clip32
			}
		}
	}
}

// scaleGradient makes j's gradient its copy times mul, divided by div.
func scaleGradient(j *job, mul, div float64) {
	if j.is64 {
		j.st.clip64 = scaleInto(grow(j.st.clip64, len(j.g64)), j.g64, mul, div)
		j.g64 = j.st.clip64
	} else {
		j.st.clip32 = scaleInto(grow(j.st.clip32, len(j.g32)), j.g32, mul, div)
		j.g32 = j.st.clip32
	}
}

func grow[T float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

func sumSquares[T float](g []T) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return s
}

func scaleInto[T float](dst, src []T, mul, div float64) []T {
	for i, v := range src {
		dst[i] = T(float64(v) * mul / div)
	}
	return dst
}

func clampInto[T float](dst, src []T, c float64) []T {
	hi := T(c)
	for i, v := range src {
		switch {
		case v > hi:
			v = hi
		case v < -hi:
			v = -hi
		}
		dst[i] = v
	}
	return dst
}
