package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DepthwiseConv2D convolves each input channel with its own filters
// (Keras' DepthwiseConv2D, PyTorch's groups = in):
//
//	x      (batch, height, width, in)
//	kernel (kh, kw, in, m), m the depth multiplier
//	result (batch, outHeight, outWidth, in·m)
//
// out[n, i, j, c·m + k] = Σ x[n, i·sh − pt + a·dh, j·sw − pl + b·dw, c]·kernel[a, b, c, k]
// over a, b: output channel c·m + k comes from input channel c, as in
// TensorFlow. cfg is as for Conv2D. No bias: add one with BiasAdd.
func DepthwiseConv2D(x, kernel *gorgonia.Node, cfg ConvConfig) (*gorgonia.Node, error) {
	g, out, err := convGeom("DepthwiseConv2D", x, kernel, 2, cfg.Strides, cfg.Dilation, cfg.Padding, true)
	if err != nil {
		return nil, err
	}
	return apply(depthwiseOp(g, out/g.c), x, kernel)
}

// depthwiseOp maps (x, kernel) to the depthwise convolution with
// multiplier m.
func depthwiseOp(g geom, m int) *customOp {
	return checked(&customOp{
		id:    fmt.Sprintf("Depthwise(%v,m%d)", g, m),
		arity: 2,
		typ:   fnType(4, 4, 4),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.outShape(g.c * m), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { depthwise(g, m, y, in[0], in[1], nil) },
				func(y []float64, in [][]float64) { depthwise(g, m, y, in[0], in[1], nil) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(depthwiseGradInputOp(g, m), grad, in[1])
			if err != nil {
				return nil, err
			}
			dk, err := apply(depthwiseGradKernelOp(g, m), in[0], grad)
			return gorgonia.Nodes{dx, dk}, err
		},
	}, g.inShape(), g.kernelShape(m))
}

// depthwiseGradInputOp maps (grad, kernel) to the gradient of the input.
func depthwiseGradInputOp(g geom, m int) *customOp {
	return checked(&customOp{
		id:    fmt.Sprintf("Depthwise'x(%v,m%d)", g, m),
		arity: 2,
		typ:   fnType(4, 4, 4),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.inShape(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(dx []float32, in [][]float32) { clear(dx); depthwise(g, m, nil, dx, in[1], in[0]) },
				func(dx []float64, in [][]float64) { clear(dx); depthwise(g, m, nil, dx, in[1], in[0]) })
		},
	}, g.outShape(g.c*m), g.kernelShape(m))
}

// depthwiseGradKernelOp maps (x, grad) to the gradient of the kernel.
func depthwiseGradKernelOp(g geom, m int) *customOp {
	return checked(&customOp{
		id:    fmt.Sprintf("Depthwise'k(%v,m%d)", g, m),
		arity: 2,
		typ:   fnType(4, 4, 4),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.kernelShape(m), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(dk []float32, in [][]float32) { depthwiseKernelGrad(g, m, dk, in[0], in[1]) },
				func(dk []float64, in [][]float64) { depthwiseKernelGrad(g, m, dk, in[0], in[1]) })
		},
	}, g.inShape(), g.outShape(g.c*m))
}

// depthwise walks every (output pixel, tap) pair that reads inside the
// input. With y non-nil it computes the forward pass from x into y; with y
// nil it adds the input gradient for grad into x, which is then dx (cleared
// by the caller).
func depthwise[T float](g geom, m int, y, x, k, grad []T) {
	work := g.outPixels() * g.h.k * g.w.k * g.c * m
	parallelImages(0, g.n, work, func(lo, hi int) { depthwiseRange(g, m, y, x, k, grad, lo, hi) })
}

func depthwiseRange[T float](g geom, m int, y, x, k, grad []T, n0, n1 int) {
	c, cm := g.c, g.c*m
	img, line := g.h.in*g.w.in*c, g.w.in*c
	p := n0 * g.outPixels()
	for n := n0; n < n1; n++ {
		xn := x[n*img : (n+1)*img]
		for i := range g.h.out {
			a0, a1 := g.h.taps(i)
			for j := range g.w.out {
				b0, b1 := g.w.taps(j)
				var yp, gp []T
				if y != nil {
					yp = y[p*cm : (p+1)*cm]
					clear(yp)
				} else {
					gp = grad[p*cm : (p+1)*cm]
				}
				p++
				for a := a0; a < a1; a++ {
					row := xn[(g.h.first(i)+a*g.h.dilation)*line:]
					for b := b0; b < b1; b++ {
						xs := row[(g.w.first(j)+b*g.w.dilation)*c:][:c]
						ks := k[(a*g.w.k+b)*cm : (a*g.w.k+b+1)*cm]
						if y != nil {
							depthwiseTap(yp, xs, ks, m)
						} else {
							depthwiseTapGrad(xs, gp, ks, m)
						}
					}
				}
			}
		}
	}
}

// depthwiseTap adds x[c]·k[c·m+k] to y[c·m+k].
func depthwiseTap[T float](y, x, k []T, m int) {
	if m == 1 {
		k, y = k[:len(x)], y[:len(x)]
		for c, v := range x {
			y[c] += v * k[c]
		}
		return
	}
	for c, v := range x {
		for q := c * m; q < (c+1)*m; q++ {
			y[q] += v * k[q]
		}
	}
}

// depthwiseTapGrad adds Σ_k g[c·m+k]·k[c·m+k] to dx[c].
func depthwiseTapGrad[T float](dx, g, k []T, m int) {
	if m == 1 {
		k, g = k[:len(dx)], g[:len(dx)]
		for c := range dx {
			dx[c] += g[c] * k[c]
		}
		return
	}
	for c := range dx {
		var s T
		for q := c * m; q < (c+1)*m; q++ {
			s += g[q] * k[q]
		}
		dx[c] += s
	}
}

// depthwiseKernelGrad sets dk[a, b, c, k] = Σ x[…, c]·grad[…, c·m+k] over
// every output pixel, summing in float64, each core over its own images;
// the parts are added in a fixed order, so results are reproducible.
func depthwiseKernelGrad[T float](g geom, m int, dk, x, grad []T) {
	ranges := imageRanges(0, g.n, g.outPixels()*g.h.k*g.w.k*g.c*m)
	parts := make([][]float64, len(ranges))
	inParallel(ranges, func(i, lo, hi int) {
		parts[i] = make([]float64, len(dk))
		depthwiseKernelGradRange(g, m, parts[i], x, grad, lo, hi)
	})
	for _, p := range parts[1:] {
		addTo(parts[0], p)
	}
	for i, v := range parts[0] {
		dk[i] = T(v)
	}
}

func depthwiseKernelGradRange[T float](g geom, m int, acc []float64, x, grad []T, n0, n1 int) {
	c, cm := g.c, g.c*m
	img, line := g.h.in*g.w.in*c, g.w.in*c
	p := n0 * g.outPixels()
	for n := n0; n < n1; n++ {
		xn := x[n*img : (n+1)*img]
		for i := range g.h.out {
			a0, a1 := g.h.taps(i)
			for j := range g.w.out {
				b0, b1 := g.w.taps(j)
				gp := grad[p*cm : (p+1)*cm]
				p++
				for a := a0; a < a1; a++ {
					row := xn[(g.h.first(i)+a*g.h.dilation)*line:]
					for b := b0; b < b1; b++ {
						xs := row[(g.w.first(j)+b*g.w.dilation)*c:][:c]
						as := acc[(a*g.w.k+b)*cm : (a*g.w.k+b+1)*cm]
						for ci, v := range xs {
							for q := ci * m; q < (ci+1)*m; q++ {
								as[q] += float64(v) * float64(gp[q])
							}
						}
					}
				}
			}
		}
	}
}
