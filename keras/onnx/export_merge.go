package onnx

import (
	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// merge exports Add, Subtract, Multiply, Average, Maximum and Minimum as
// Add, Sub, Mul, Mean, Max and Min. The inputs stay channels-first when
// all of them are; otherwise they go to Keragon's layout, and an input of
// lower rank gets axes of size 1 after its batch axis, as Keras
// broadcasts (ONNX right-aligns the ranks, batch axis included).
func (e *exporter) merge(op string, in []exported, shapes []keras.Shape, out keras.Shape) ([]exported, error) {
	cf := true
	for _, x := range in {
		cf = cf && x.cf && x.rank == len(out)+1
	}
	names := make([]string, len(in))
	for i, x := range in {
		if cf {
			names[i] = x.name
			continue
		}
		names[i] = e.keras(x)
		if d := len(out) - len(shapes[i]); d > 0 {
			target := []int64{0}
			for k := 0; k < d; k++ {
				target = append(target, 1)
			}
			for _, s := range shapes[i] {
				target = append(target, int64(s))
			}
			names[i] = e.op("Reshape", []string{names[i], e.ints(e.layer+"/shape", target...)})
		}
	}
	y := names[0]
	switch op {
	case "Add", "Sub", "Mul":
		for _, n := range names[1:] {
			y = e.op(op, []string{y, n})
		}
	default: // Mean, Max, Min are variadic
		y = e.op(op, names)
	}
	return []exported{{name: y, cf: cf, rank: len(out) + 1}}, nil
}

// concatenate exports Concatenate as Concat on the ONNX axis that holds
// Keragon's axis.
func (e *exporter) concatenate(l *keras.Concatenate, in []exported, out keras.Shape) ([]exported, error) {
	rank := len(out) + 1
	k := l.Axis
	if k == 0 {
		k = -1
	}
	if k < 0 {
		k += rank
	}
	if k < 1 || k >= rank {
		return nil, errors.Errorf("axis %d is not a sample axis", l.Axis)
	}
	cf := true
	for _, x := range in {
		cf = cf && x.cf
	}
	names := make([]string, len(in))
	for i, x := range in {
		if cf {
			names[i] = x.name
		} else {
			names[i] = e.keras(x)
		}
	}
	axis := k
	if cf {
		// Keragon's (N, spatial…, C) is ONNX's (N, C, spatial…).
		if k == rank-1 {
			axis = 1
		} else {
			axis = k + 1
		}
	}
	return []exported{{name: e.op("Concat", names, "axis", axis), cf: cf, rank: rank}}, nil
}
