package main

import "testing"

// TestWorkFlops checks the counts against sums worked by hand.
func TestWorkFlops(t *testing.T) {
	for _, c := range []struct {
		name string
		want float64
	}{
		// Forward 784·512 + 512·512 + 512·10 = 668,672 multiply-adds;
		// backward the same for the weights plus 512·512 + 512·10 for
		// the inputs of layers 2 and 3: 1,604,608 in all.
		{"mlp_epoch", 2 * 1604608},
		{"mlp_infer", 2 * 668672},
		// Convolutions 26·26·32·9 = 194,688 and 11·11·64·288 =
		// 2,230,272, dense 1600·128 = 204,800 and 128·10 = 1,280:
		// 2,631,040 forward; backward the same for the weights and
		// 2,436,352 for the inputs of all but the first layer.
		{"cnn_epoch", 2 * (2*2631040 + 2436352)},
		{"cnn_bn_epoch", 2 * (2*2631040 + 2436352)},
		{"cnn_infer", 2 * 2631040},
		// Projections 28·28·512 = 401,408 and recurrent products
		// 28·128·512 = 1,835,008, dense 1,280: forward 2,237,696;
		// backward the kernels' 2,236,416, h's 27·128·512 = 1,769,472,
		// the dense layer's 2·1,280.
		{"lstm_epoch", 2 * (2237696 + 2236416 + 1769472 + 2560)},
		{"gemm", 0},
	} {
		if got := workFlops(c.name); got != c.want {
			t.Errorf("%s: %v FLOP per sample, want %v", c.name, got, c.want)
		}
	}
}
