package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// UpSample2D repeats each row of x (batch, height, width, channels) sizeH
// times and each column sizeW times (nearest-neighbour upsampling, Keras'
// UpSampling2D default), giving (batch, height·sizeH, width·sizeW,
// channels). Its gradient sums each sizeH×sizeW block.
func UpSample2D(x *gorgonia.Node, sizeH, sizeW int) (*gorgonia.Node, error) {
	return upSample("UpSample2D", x, 2, sizeH, sizeW)
}

// UpSample1D repeats each step of x (batch, steps, channels) size times,
// as Keras' UpSampling1D.
func UpSample1D(x *gorgonia.Node, size int) (*gorgonia.Node, error) {
	return upSample("UpSample1D", x, 1, 1, size)
}

// upGeom is an upsampling of channel-last data seen as (n, h, w, c)
// (h = 1 for sequences) by sh×sw.
type upGeom struct{ rank, n, h, w, c, sh, sw int }

func (u upGeom) String() string {
	return fmt.Sprintf("%dD,n%d,%dx%dx%d,by%dx%d", u.rank, u.n, u.h, u.w, u.c, u.sh, u.sw)
}

func (u upGeom) shape(h, w int) tensor.Shape {
	if u.rank == 1 {
		return tensor.Shape{u.n, w, u.c}
	}
	return tensor.Shape{u.n, h, w, u.c}
}

func upSample(name string, x *gorgonia.Node, rank, sh, sw int) (*gorgonia.Node, error) {
	n, h, w, c, err := spatial(name, "input", x.Shape(), rank)
	if err != nil {
		return nil, err
	}
	if sh < 1 || sw < 1 {
		return nil, errors.Errorf("ops: %s: sizes must be positive, got %d×%d", name, sh, sw)
	}
	return apply(upSampleOp(upGeom{rank, n, h, w, c, sh, sw}), x)
}

func upSampleOp(u upGeom) *customOp {
	d := u.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("UpSample(%v)", u),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return u.shape(u.h*u.sh, u.w*u.sw), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { upSampleNearest(u, y, in[0]) },
				func(y []float64, in [][]float64) { upSampleNearest(u, y, in[0]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(blockSumOp(u), grad)
			return gorgonia.Nodes{dx}, err
		},
	}, u.shape(u.h, u.w))
}

// blockSumOp sums each sh×sw block: the gradient of UpSample, and its
// adjoint, so its own gradient is UpSample.
func blockSumOp(u upGeom) *customOp {
	d := u.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("UpSample'(%v)", u),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return u.shape(u.h, u.w), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(dx []float32, in [][]float32) { blockSum(u, dx, in[0]) },
				func(dx []float64, in [][]float64) { blockSum(u, dx, in[0]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dg, err := apply(upSampleOp(u), grad)
			return gorgonia.Nodes{dg}, err
		},
	}, u.shape(u.h*u.sh, u.w*u.sw))
}

// upSampleNearest sets y[n, i, j] = x[n, i/sh, j/sw] (c channels each).
func upSampleNearest[T float](u upGeom, y, x []T) {
	c, ow := u.c, u.w*u.sw
	for n := range u.n {
		for i := range u.h {
			src := x[(n*u.h+i)*u.w*c:][:u.w*c]
			first := y[((n*u.h+i)*u.sh)*ow*c:][:ow*c]
			for j := range u.w {
				for r := range u.sw {
					copy(first[(j*u.sw+r)*c:][:c], src[j*c:][:c])
				}
			}
			for r := 1; r < u.sh; r++ {
				copy(y[((n*u.h+i)*u.sh+r)*ow*c:][:ow*c], first)
			}
		}
	}
}

// blockSum sets dx[n, i, j] to the sum of grad over the block that
// upSampleNearest filled from x[n, i, j].
func blockSum[T float](u upGeom, dx, grad []T) {
	c, ow := u.c, u.w*u.sw
	clear(dx)
	for n := range u.n {
		for i := range u.h {
			dst := dx[(n*u.h+i)*u.w*c:][:u.w*c]
			for r := range u.sh {
				src := grad[((n*u.h+i)*u.sh+r)*ow*c:][:ow*c]
				for j := range u.w {
					d := dst[j*c:][:c]
					for q := range u.sw {
						addTo(d, src[(j*u.sw+q)*c:][:c])
					}
				}
			}
		}
	}
}
