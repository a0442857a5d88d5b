package ops

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// torchConvCase is one case of testdata/torch_conv.json, written by
// testdata/torch_conv.py: PyTorch's convolutions, pools, upsampling and
// padding in float64, channel-last with Keras kernel layouts and Keras
// padding. For loss = Σ y·upstream it holds y and the gradients with
// respect to x and the kernel.
type torchConvCase struct {
	Name        string    `json:"name"`
	Op          string    `json:"op"`
	XShape      []int     `json:"x_shape"`
	X           []float64 `json:"x"`
	KernelShape []int     `json:"kernel_shape"` // nil: the op has no kernel
	Kernel      []float64 `json:"kernel"`
	YShape      []int     `json:"y_shape"`
	Y           []float64 `json:"y"`
	Upstream    []float64 `json:"upstream"`
	DX          []float64 `json:"dx"`
	DK          []float64 `json:"dk"`
	// Parameters; 1-D ops have one entry per list.
	Strides  []int  `json:"strides"`
	Dilation []int  `json:"dilation"`
	Size     []int  `json:"size"`
	Padding  string `json:"padding"`
	Pad      []int  `json:"pad"` // (top, bottom, left, right) or (left, right)
}

func loadTorchConv(t *testing.T) []torchConvCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_conv.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []torchConvCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("testdata/torch_conv.json has no cases")
	}
	return f.Cases
}

// pair turns a parameter list into a [2]int: (a, b) stays, (a) becomes
// (1, a) for the height-less 1-D ops, () zeros.
func pair(v []int) [2]int {
	switch len(v) {
	case 0:
		return [2]int{}
	case 1:
		return [2]int{1, v[0]}
	}
	return [2]int{v[0], v[1]}
}

// build returns the Keragon op of the case.
func (c torchConvCase) build(t *testing.T) gradcheck.Func {
	t.Helper()
	conv := ConvConfig{Strides: pair(c.Strides), Padding: c.Padding, Dilation: pair(c.Dilation)}
	pool := PoolConfig{Size: pair(c.Size), Strides: pair(c.Strides), Padding: c.Padding}
	pool1D := Pool1DConfig{Size: pool.Size[1], Stride: pool.Strides[1], Padding: c.Padding}
	one := func(f func(x *gorgonia.Node) (*gorgonia.Node, error)) gradcheck.Func {
		return func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return f(in[0]) }
	}
	switch c.Op {
	case "conv2d":
		return func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Conv2D(in[0], in[1], conv)
		}
	case "conv1d":
		return func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Conv1D(in[0], in[1], Conv1DConfig{Stride: conv.Strides[1], Padding: c.Padding, Dilation: conv.Dilation[1]})
		}
	case "conv2dtranspose":
		return func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Conv2DTranspose(in[0], in[1], conv)
		}
	case "conv1dtranspose":
		return func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Conv1DTranspose(in[0], in[1], Conv1DConfig{Stride: conv.Strides[1], Padding: c.Padding, Dilation: conv.Dilation[1]})
		}
	case "depthwise":
		return func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return DepthwiseConv2D(in[0], in[1], conv)
		}
	case "maxpool2d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool2D(x, pool) })
	case "avgpool2d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return AvgPool2D(x, pool) })
	case "maxpool1d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool1D(x, pool1D) })
	case "avgpool1d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return AvgPool1D(x, pool1D) })
	case "globalmax2d":
		return one(GlobalMaxPool2D)
	case "globalavg2d":
		return one(GlobalAvgPool2D)
	case "globalmax1d":
		return one(GlobalMaxPool1D)
	case "globalavg1d":
		return one(GlobalAvgPool1D)
	case "upsample2d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return UpSample2D(x, c.Size[0], c.Size[1]) })
	case "upsample1d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return UpSample1D(x, c.Size[0]) })
	case "zeropad2d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) {
			return ZeroPad2D(x, c.Pad[0], c.Pad[1], c.Pad[2], c.Pad[3])
		})
	case "zeropad1d":
		return one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return ZeroPad1D(x, c.Pad[0], c.Pad[1]) })
	}
	t.Fatalf("unknown op %q", c.Op)
	return nil
}

// TestConvAndPoolMatchTorch compares outputs and gradients with PyTorch:
// float64 to 1e-10 (relative to 1+|want|), float32 to 1e-4.
func TestConvAndPoolMatchTorch(t *testing.T) {
	inKernelModes(t, func(t *testing.T) { matchTorchConv(t) })
}

func matchTorchConv(t *testing.T) {
	for _, c := range loadTorchConv(t) {
		t.Run(c.Name, func(t *testing.T) {
			f := c.build(t)
			inputs := []*tensor.Dense{vecTensor(c.X, c.XShape...)}
			if c.KernelShape != nil {
				inputs = append(inputs, vecTensor(c.Kernel, c.KernelShape...))
			}
			upstream := vecTensor(c.Upstream, c.YShape...)
			for _, tol := range []struct {
				dt  tensor.Dtype
				tol float64
			}{{tensor.Float64, 1e-10}, {tensor.Float32, 1e-4}} {
				got := evalGrads(t, tol.dt, f, inputs, upstream)
				compareTol(t, tol.dt.String()+" y", got[0], c.Y, tol.tol)
				compareTol(t, tol.dt.String()+" dx", got[1], c.DX, tol.tol)
				if c.KernelShape != nil {
					compareTol(t, tol.dt.String()+" dkernel", got[2], c.DK, tol.tol)
				}
			}
		})
	}
}

// compareTol reports the worst entry of got that differs from want by
// more than tol·(1+|want|).
func compareTol(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	worst, at := 0.0, -1
	for i := range want {
		if r := math.Abs(got[i]-want[i]) / (1 + math.Abs(want[i])); r > worst || math.IsNaN(got[i]) {
			worst, at = r, i
		}
	}
	if at >= 0 && (worst > tol || math.IsNaN(worst)) {
		t.Errorf("%s[%d] = %.17g, torch %.17g (relative difference %.3g)", name, at, got[at], want[at], worst)
	}
}
