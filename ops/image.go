package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Image ops of Keras' augmentation layers, on NHWC images.

// ImageTransformConfig configures ImageTransform, with Keras' names.
type ImageTransformConfig struct {
	// Interpolation is "bilinear" (the default, "") or "nearest".
	Interpolation string
	// FillMode says what lies outside the image: "reflect" (the default,
	// "": d c b a | a b c d | d c b a), "wrap" (a b c d | a b c d | a b c
	// d), "nearest" (a a a a | a b c d | d d d d) or "constant" (FillValue).
	FillMode string
	// FillValue is the value outside the image with "constant".
	FillValue float64
}

func (c ImageTransformConfig) resolve() (ImageTransformConfig, error) {
	if c.Interpolation == "" {
		c.Interpolation = "bilinear"
	}
	if c.FillMode == "" {
		c.FillMode = "reflect"
	}
	if c.Interpolation != "bilinear" && c.Interpolation != "nearest" {
		return c, errors.Errorf("ops: ImageTransform: interpolation %q (want \"bilinear\" or \"nearest\")", c.Interpolation)
	}
	switch c.FillMode {
	case "reflect", "wrap", "nearest", "constant":
	default:
		return c, errors.Errorf("ops: ImageTransform: fill mode %q (want \"reflect\", \"wrap\", \"nearest\" or \"constant\")", c.FillMode)
	}
	return c, nil
}

// ImageTransform applies one projective transform per image, as Keras'
// ops.image.affine_transform: images (batch, height, width, channels),
// transforms (batch, 8) [a0 a1 a2 b0 b1 b2 c0 c1], which map each output
// pixel (x, y) = (column, row) to the input point
//
//	((a0·x + a1·y + a2)/k, (b0·x + b1·y + b2)/k),   k = c0·x + c1·y + 1,
//
// read with the interpolation from the image extended by the fill mode
// (pixels outside take the values the fill mode gives them, then the
// interpolation runs, as Keras' NumPy and JAX backends do). The gradient
// flows to the images (each output is a weighted sum of input pixels);
// the transforms get none.
func ImageTransform(images, transforms *gorgonia.Node, cfg ImageTransformConfig) (*gorgonia.Node, error) {
	is, ts := images.Shape(), transforms.Shape()
	if is.Dims() != 4 || ts.Dims() != 2 || ts[0] != is[0] || ts[1] != 8 {
		return nil, errors.Errorf("ops: ImageTransform needs images (batch, height, width, channels) and transforms (batch, 8), got %v and %v", is, ts)
	}
	if images.Dtype() != transforms.Dtype() {
		return nil, errors.Errorf("ops: ImageTransform: images are %v, transforms %v", images.Dtype(), transforms.Dtype())
	}
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	op := &customOp{
		id:     fmt.Sprintf("ImageTransform(%s,%s,%v)", cfg.Interpolation, cfg.FillMode, cfg.FillValue),
		arity:  2,
		typ:    fnType(4, 2, 4),
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			s := in[0].Shape()
			return dispatch(out, in,
				func(y []float32, x [][]float32) { transformImages(y, x[0], nil, x[1], s, cfg, false) },
				func(y []float64, x [][]float64) { transformImages(y, x[0], nil, x[1], s, cfg, false) })
		},
	}
	op.diff = func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
		gop := &customOp{
			id:    fmt.Sprintf("ImageTransformGrad(%s,%s)", cfg.Interpolation, cfg.FillMode),
			arity: 2,
			typ:   fnType(4, 2, 4),
			do: func(out *tensor.Dense, in []*tensor.Dense) error {
				s := in[0].Shape()
				return dispatch(out, in,
					func(y []float32, x [][]float32) { transformImages(nil, y, x[0], x[1], s, cfg, true) },
					func(y []float64, x [][]float64) { transformImages(nil, y, x[0], x[1], s, cfg, true) })
			},
		}
		gx, err := apply(gop, g, in[1])
		return gorgonia.Nodes{gx, nil}, err
	}
	return apply(op, images, transforms)
}

// extend maps an integer index to [0, n) by the fill mode; ok is false
// where "constant" gives the fill value.
func extend(i, n int, mode string) (int, bool) {
	if i >= 0 && i < n {
		return i, true
	}
	switch mode {
	case "nearest":
		return min(max(i, 0), n-1), true
	case "wrap":
		return ((i % n) + n) % n, true
	case "reflect": // symmetric: d c b a | a b c d | d c b a
		p := 2 * n
		i = ((i % p) + p) % p
		if i >= n {
			i = p - 1 - i
		}
		return i, true
	}
	return 0, false
}

// transformImages computes out from x (forward), or, with back, adds each
// output gradient g back onto the input pixels it was read from, into dx
// (passed as x, cleared first).
func transformImages[T float](out, x, g, tr []T, s tensor.Shape, cfg ImageTransformConfig, back bool) {
	N, H, W, C := s[0], s[1], s[2], s[3]
	if back {
		clear(x)
	}
	parallelFor(N, H*W*C*4, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			t := tr[n*8 : (n+1)*8]
			img := x[n*H*W*C : (n+1)*H*W*C]
			for r := 0; r < H; r++ {
				for c := 0; c < W; c++ {
					xf, yf := float64(c), float64(r)
					k := float64(t[6])*xf + float64(t[7])*yf + 1
					o := ((n*H+r)*W + c) * C
					var ox []T
					if !back {
						ox = out[o : o+C]
						for ch := range ox {
							ox[ch] = 0
						}
					}
					if k == 0 {
						if !back && cfg.FillMode == "constant" {
							for ch := range ox {
								ox[ch] = T(cfg.FillValue)
							}
						}
						continue
					}
					xi := (float64(t[0])*xf + float64(t[1])*yf + float64(t[2])) / k
					yi := (float64(t[3])*xf + float64(t[4])*yf + float64(t[5])) / k
					sample := func(row, col int, w float64) {
						if w == 0 {
							return
						}
						rr, okR := extend(row, H, cfg.FillMode)
						cc, okC := extend(col, W, cfg.FillMode)
						if !okR || !okC {
							if !back {
								for ch := range ox {
									ox[ch] += T(w * cfg.FillValue)
								}
							}
							return
						}
						p := (rr*W + cc) * C
						if back {
							gr := g[o : o+C]
							for ch := range gr {
								img[p+ch] += T(w * float64(gr[ch]))
							}
							return
						}
						for ch := range ox {
							ox[ch] += T(w * float64(img[p+ch]))
						}
					}
					if cfg.Interpolation == "nearest" {
						sample(int(math.Floor(yi+0.5)), int(math.Floor(xi+0.5)), 1)
						continue
					}
					r0, c0 := math.Floor(yi), math.Floor(xi)
					fy, fx := yi-r0, xi-c0
					ri, ci := int(r0), int(c0)
					sample(ri, ci, (1-fy)*(1-fx))
					sample(ri, ci+1, (1-fy)*fx)
					sample(ri+1, ci, fy*(1-fx))
					sample(ri+1, ci+1, fy*fx)
				}
			}
		}
	})
}

// AdjustContrast is Keras' RandomContrast on images (batch, height,
// width, channels) with one factor per image (batch): each channel of an
// image becomes (x − mean)·factor + mean, mean being the channel's mean
// over the image, then is clipped to [lo, hi]. The gradient flows to the
// images (zero where clipped); the factors get none.
func AdjustContrast(images, factors *gorgonia.Node, lo, hi float64) (*gorgonia.Node, error) {
	is, fs := images.Shape(), factors.Shape()
	if is.Dims() != 4 || fs.Dims() != 1 || fs[0] != is[0] {
		return nil, errors.Errorf("ops: AdjustContrast needs images (batch, height, width, channels) and factors (batch), got %v and %v", is, fs)
	}
	if !(lo < hi) {
		return nil, errors.Errorf("ops: AdjustContrast: value range [%v, %v] is empty", lo, hi)
	}
	op := &customOp{
		id:     fmt.Sprintf("AdjustContrast(%v,%v)", lo, hi),
		arity:  2,
		typ:    fnType(4, 1, 4),
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			s := in[0].Shape()
			return dispatch(out, in,
				func(y []float32, x [][]float32) { adjustContrast(y, x[0], nil, x[1], s, lo, hi) },
				func(y []float64, x [][]float64) { adjustContrast(y, x[0], nil, x[1], s, lo, hi) })
		},
	}
	op.diff = func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
		gop := &customOp{
			id:    fmt.Sprintf("AdjustContrastGrad(%v,%v)", lo, hi),
			arity: 3,
			typ:   fnType(4, 1, 4, 4),
			do: func(out *tensor.Dense, in []*tensor.Dense) error {
				s := in[0].Shape()
				return dispatch(out, in,
					func(y []float32, x [][]float32) { adjustContrast(y, x[0], x[2], x[1], s, lo, hi) },
					func(y []float64, x [][]float64) { adjustContrast(y, x[0], x[2], x[1], s, lo, hi) })
			},
		}
		gx, err := apply(gop, in[0], in[1], g)
		return gorgonia.Nodes{gx, nil}, err
	}
	return apply(op, images, factors)
}

// adjustContrast writes the adjusted images, or, given g, the gradient
// with respect to x: with z = (x − m)·f + m and g' = g where lo < z < hi,
// dx = f·g' + (1 − f)·mean(g') over the channel.
func adjustContrast[T float](out, x, g, f []T, s tensor.Shape, lo, hi float64) {
	N, HW, C := s[0], s[1]*s[2], s[3]
	for n := 0; n < N; n++ {
		fac := float64(f[n])
		for ch := 0; ch < C; ch++ {
			var sum float64
			for p := 0; p < HW; p++ {
				sum += float64(x[(n*HW+p)*C+ch])
			}
			m := sum / float64(HW)
			var gsum float64
			for p := 0; p < HW; p++ {
				i := (n*HW+p)*C + ch
				z := (float64(x[i])-m)*fac + m
				if g == nil {
					out[i] = T(min(max(z, lo), hi))
					continue
				}
				if z > lo && z < hi {
					gsum += float64(g[i])
				}
			}
			if g == nil {
				continue
			}
			for p := 0; p < HW; p++ {
				i := (n*HW+p)*C + ch
				z := (float64(x[i])-m)*fac + m
				d := 0.0
				if z > lo && z < hi {
					d = fac * float64(g[i])
				}
				out[i] = T(d + (1-fac)*gsum/float64(HW))
			}
		}
	}
}
