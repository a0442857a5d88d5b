package main

// The floating-point work of each workload, counted exactly from the
// models' shapes, for the "fraction of limit" column: the work divided by
// the time is compared with the measured GEMM peak, the speed at which the
// machine multiplies large matrices. What is counted is what bounds a
// model by that peak, its matrix products and convolutions: 2 FLOP per
// multiply-add, in the forward pass and in the backward pass as far as
// training needs it (the gradient of every weight; the gradient of every
// layer's input except the first layer's, since the data needs none).
// Elementwise work (bias, activations, pooling, dropout, softmax, the
// loss, the optimizer) is not counted: it is under 1% of the multiply-adds
// of these models and runs at memory speed, not at the GEMM peak.

// layerWork is one layer's multiply-adds per sample: fwd in the forward
// pass; dw, the backward work it needs whatever its input (its weights'
// gradients and, for a recurrent layer, its states' gradients through
// time); dx, its input's gradient.
type layerWork struct{ fwd, dw, dx int }

// denseWork is a fully connected layer from in to out units.
func denseWork(in, out int) layerWork {
	return layerWork{fwd: in * out, dw: in * out, dx: in * out}
}

// convWork is a valid (unpadded), stride-1 k×k convolution of an h×w×cin
// image to cout channels: each output position is a dot product of
// k·k·cin inputs with each of the cout filters, the same multiply-adds
// backward for the kernel and for the input.
func convWork(h, w, cin, cout, k int) layerWork {
	n := (h - k + 1) * (w - k + 1) * cout * k * k * cin
	return layerWork{fwd: n, dw: n, dx: n}
}

// lstmWork is an LSTM of units over steps of feat features: the input
// projection x·K and the recurrent product h·R at every step (at step 0
// too: h₀ = 0 is multiplied all the same by both frameworks); backward,
// the gradients of K and R over all steps, and of h₋₁ at every step but
// the first (h₀ needs none); the input's gradient is dx.
func lstmWork(steps, feat, units int) layerWork {
	g := 4 * units
	proj, rec := steps*feat*g, steps*units*g
	return layerWork{fwd: proj + rec, dw: proj + rec + (steps-1)*units*g, dx: proj}
}

// flops returns the FLOP per sample of a model made of layers, forward
// only (train false) or forward and backward.
func flops(train bool, layers ...layerWork) float64 {
	macs := 0
	for i, l := range layers {
		macs += l.fwd
		if train {
			macs += l.dw
			if i > 0 {
				macs += l.dx
			}
		}
	}
	return 2 * float64(macs)
}

// The models of workloads.go and torch_bench.py.
var (
	mlpLayers  = []layerWork{denseWork(784, 512), denseWork(512, 512), denseWork(512, 10)}
	cnnLayers  = []layerWork{convWork(28, 28, 1, 32, 3), convWork(13, 13, 32, 64, 3), denseWork(5*5*64, 128), denseWork(128, 10)}
	lstmLayers = []layerWork{lstmWork(28, 28, 128), denseWork(128, 10)}
)

// workFlops returns a workload's FLOP per sample (per request for the
// serving workloads); 0 when it has no limit column.
func workFlops(name string) float64 {
	switch name {
	case "mlp_epoch":
		return flops(true, mlpLayers...)
	case "cnn_epoch", "cnn_bn_epoch":
		return flops(true, cnnLayers...)
	case "lstm_epoch":
		return flops(true, lstmLayers...)
	case "mlp_infer", "serve_mlp":
		return flops(false, mlpLayers...)
	case "cnn_infer", "serve_cnn":
		return flops(false, cnnLayers...)
	}
	return 0
}
