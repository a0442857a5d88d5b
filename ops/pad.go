package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ZeroPad2D adds zero rows at the top and bottom and zero columns at the
// left and right of x (batch, height, width, channels), as Keras'
// ZeroPadding2D, giving (batch, top+height+bottom, left+width+right,
// channels). Its gradient crops.
func ZeroPad2D(x *gorgonia.Node, top, bottom, left, right int) (*gorgonia.Node, error) {
	return zeroPad("ZeroPad2D", x, 2, top, bottom, left, right)
}

// ZeroPad1D adds zero steps at the start and end of x (batch, steps,
// channels), as Keras' ZeroPadding1D.
func ZeroPad1D(x *gorgonia.Node, left, right int) (*gorgonia.Node, error) {
	return zeroPad("ZeroPad1D", x, 1, 0, 0, left, right)
}

// padGeom is a zero padding of channel-last data seen as (n, h, w, c)
// (h = 1 for sequences).
type padGeom struct {
	rank, n, h, w, c         int
	top, bottom, left, right int
}

func (p padGeom) String() string {
	return fmt.Sprintf("%dD,n%d,%dx%dx%d,t%d,b%d,l%d,r%d", p.rank, p.n, p.h, p.w, p.c, p.top, p.bottom, p.left, p.right)
}

func (p padGeom) shape(h, w int) tensor.Shape {
	if p.rank == 1 {
		return tensor.Shape{p.n, w, p.c}
	}
	return tensor.Shape{p.n, h, w, p.c}
}

func (p padGeom) inShape() tensor.Shape { return p.shape(p.h, p.w) }
func (p padGeom) outShape() tensor.Shape {
	return p.shape(p.top+p.h+p.bottom, p.left+p.w+p.right)
}

func zeroPad(name string, x *gorgonia.Node, rank, top, bottom, left, right int) (*gorgonia.Node, error) {
	n, h, w, c, err := spatial(name, "input", x.Shape(), rank)
	if err != nil {
		return nil, err
	}
	if top < 0 || bottom < 0 || left < 0 || right < 0 {
		return nil, errors.Errorf("ops: %s: padding must not be negative, got top %d, bottom %d, left %d, right %d", name, top, bottom, left, right)
	}
	return apply(padOp(padGeom{rank, n, h, w, c, top, bottom, left, right}, false), x)
}

// padOp pads (crop false) or crops back (crop true); each is the other's
// gradient.
func padOp(p padGeom, crop bool) *customOp {
	d := p.rank + 2
	name, in, shape := "ZeroPad", p.inShape(), p.outShape()
	if crop {
		name, in, shape = "Crop", shape, in
	}
	return checked(&customOp{
		id:    fmt.Sprintf("%s(%v)", name, p),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { padCrop(p, y, in[0], crop) },
				func(y []float64, in [][]float64) { padCrop(p, y, in[0], crop) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(padOp(p, !crop), grad)
			return gorgonia.Nodes{dx}, err
		},
	}, in)
}

// padCrop copies the rows of the small tensor into the padded one (crop
// false; the rest zero) or back (crop true).
func padCrop[T float](p padGeom, out, in []T, crop bool) {
	small, big := in, out
	if crop {
		small, big = out, in
	} else {
		clear(out)
	}
	bw := p.left + p.w + p.right
	row := p.w * p.c
	for n := range p.n {
		for i := range p.h {
			s := small[(n*p.h+i)*row:][:row]
			b := big[((n*(p.top+p.h+p.bottom)+p.top+i)*bw+p.left)*p.c:][:row]
			if crop {
				copy(s, b)
			} else {
				copy(b, s)
			}
		}
	}
}
