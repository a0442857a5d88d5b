package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PoolConfig configures MaxPool2D and AvgPool2D. The zero value is Keras'
// default: 2×2 windows, strides equal to the window, "valid" padding.
type PoolConfig struct {
	// Size is the window's height and width; 0 means 2.
	Size [2]int
	// Strides along height and width; 0 means the window's size there.
	Strides [2]int
	// Padding is Valid ("") or Same (TensorFlow's: output size
	// ceil(in/stride), the odd padding at the bottom and right). Padding
	// never takes part in a window: it is neither a maximum nor counted
	// in an average.
	Padding string
}

// Pool1DConfig configures MaxPool1D and AvgPool1D. The zero value is
// Keras' default: windows of 2, stride equal to the window, "valid".
type Pool1DConfig struct {
	Size    int    // 0 means 2
	Stride  int    // 0 means Size
	Padding string // Valid ("") or Same, as in PoolConfig
}

// MaxPool2D takes the maximum of each window of x (batch, height, width,
// channels), per channel, giving (batch, outHeight, outWidth, channels).
// The gradient goes to the window's maximum, to the first one (in
// row-major window order) when several entries tie.
func MaxPool2D(x *gorgonia.Node, cfg PoolConfig) (*gorgonia.Node, error) {
	g, err := poolGeom("MaxPool2D", x, 2, cfg.Size, cfg.Strides, cfg.Padding)
	if err != nil {
		return nil, err
	}
	return apply(maxPoolOp(g), x)
}

// AvgPool2D averages each window of x (batch, height, width, channels),
// per channel. With Same padding a window that overlaps the border
// averages only its entries inside x, as in TensorFlow and Keras.
func AvgPool2D(x *gorgonia.Node, cfg PoolConfig) (*gorgonia.Node, error) {
	g, err := poolGeom("AvgPool2D", x, 2, cfg.Size, cfg.Strides, cfg.Padding)
	if err != nil {
		return nil, err
	}
	return apply(avgPoolOp(g), x)
}

// MaxPool1D is MaxPool2D for sequences: x is (batch, steps, channels).
func MaxPool1D(x *gorgonia.Node, cfg Pool1DConfig) (*gorgonia.Node, error) {
	g, err := poolGeom("MaxPool1D", x, 1, [2]int{1, cfg.Size}, [2]int{1, cfg.Stride}, cfg.Padding)
	if err != nil {
		return nil, err
	}
	return apply(maxPoolOp(g), x)
}

// AvgPool1D is AvgPool2D for sequences: x is (batch, steps, channels).
func AvgPool1D(x *gorgonia.Node, cfg Pool1DConfig) (*gorgonia.Node, error) {
	g, err := poolGeom("AvgPool1D", x, 1, [2]int{1, cfg.Size}, [2]int{1, cfg.Stride}, cfg.Padding)
	if err != nil {
		return nil, err
	}
	return apply(avgPoolOp(g), x)
}

// poolGeom checks x and resolves the windows of a pooling op with rank
// spatial axes.
func poolGeom(name string, x *gorgonia.Node, rank int, size, strides [2]int, padding string) (geom, error) {
	n, h, w, c, err := spatial(name, "input", x.Shape(), rank)
	if err != nil {
		return geom{}, err
	}
	padding = normPadding(padding)
	if padding != Valid && padding != Same {
		return geom{}, errors.Errorf("ops: %s: unknown padding %q (want %q or %q)", name, padding, Valid, Same)
	}
	for i := range size {
		if size[i] == 0 {
			size[i] = 2
		}
		if strides[i] == 0 {
			strides[i] = size[i]
		}
	}
	g := geom{rank: rank, n: n, c: c, h: trivial()}
	if rank == 2 {
		if g.h, err = newWindow("height", h, size[0], strides[0], 1, padding); err != nil {
			return geom{}, errors.WithMessagef(err, "ops: %s", name)
		}
	}
	if g.w, err = newWindow("width", w, size[1], strides[1], 1, padding); err != nil {
		return geom{}, errors.WithMessagef(err, "ops: %s", name)
	}
	return g, nil
}

func maxPoolOp(g geom) *customOp {
	d := g.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("MaxPool(%v)", g),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.outShape(g.c), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { maxPool(g, y, in[0]) },
				func(y []float64, in [][]float64) { maxPool(g, y, in[0]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(maxPoolGradOp(g), in[0], grad)
			return gorgonia.Nodes{dx}, err
		},
	}, g.inShape())
}

// maxPoolGradOp maps (x, grad) to the gradient of x.
func maxPoolGradOp(g geom) *customOp {
	d := g.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("MaxPool'(%v)", g),
		arity: 2,
		typ:   fnType(d, d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.inShape(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(dx []float32, in [][]float32) { maxPoolGrad(g, dx, in[0], in[1]) },
				func(dx []float64, in [][]float64) { maxPoolGrad(g, dx, in[0], in[1]) })
		},
	}, g.inShape(), g.outShape(g.c))
}

func avgPoolOp(g geom) *customOp {
	d := g.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("AvgPool(%v)", g),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.outShape(g.c), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { avgPool(g, y, in[0]) },
				func(y []float64, in [][]float64) { avgPool(g, y, in[0]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(avgPoolGradOp(g), grad)
			return gorgonia.Nodes{dx}, err
		},
	}, g.inShape())
}

// avgPoolGradOp maps grad to the gradient of x. It is linear, the adjoint
// of average pooling, so its own gradient is average pooling.
func avgPoolGradOp(g geom) *customOp {
	d := g.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("AvgPool'(%v)", g),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.inShape(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(dx []float32, in [][]float32) { avgPoolGrad(g, dx, in[0]) },
				func(dx []float64, in [][]float64) { avgPoolGrad(g, dx, in[0]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dg, err := apply(avgPoolOp(g), grad)
			return gorgonia.Nodes{dg}, err
		},
	}, g.outShape(g.c))
}
