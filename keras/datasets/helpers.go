package datasets

import (
	"github.com/keragon/keragon/internal/dense"
	"math"
	"reflect"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// OneHot turns class indices into one-hot rows, for the
// "categorical_crossentropy" loss: labels (n) or (n, 1) holding whole
// numbers in 0..classes−1 become (n, classes) with a 1 in each row's
// class column. The result is float64 when labels are float64, float32
// otherwise; labels may be float32, float64, int, int32, int64 or uint8.
func OneHot(labels *tensor.Dense, classes int) (*tensor.Dense, error) {
	if labels == nil {
		return nil, errors.New("datasets: OneHot of nil labels")
	}
	if classes < 1 {
		return nil, errors.Errorf("datasets: OneHot needs classes ≥ 1, got %d", classes)
	}
	shape := labels.Shape()
	if len(shape) == 0 || len(shape) > 2 || (len(shape) == 2 && shape[1] != 1) {
		return nil, errors.Errorf("datasets: OneHot takes labels of shape (n) or (n, 1), got %v", shape)
	}
	labels, err := dense.Contiguous(labels)
	if err != nil {
		return nil, errors.WithMessage(err, "datasets: OneHot")
	}
	n := shape[0]
	var at func(i int) float64
	switch d := labels.Data().(type) {
	case []float32:
		at = func(i int) float64 { return float64(d[i]) }
	case []float64:
		at = func(i int) float64 { return d[i] }
	case []int:
		at = func(i int) float64 { return float64(d[i]) }
	case []int32:
		at = func(i int) float64 { return float64(d[i]) }
	case []int64:
		at = func(i int) float64 { return float64(d[i]) }
	case []uint8:
		at = func(i int) float64 { return float64(d[i]) }
	default:
		return nil, errors.Errorf("datasets: OneHot takes float32, float64 or integer labels, got %v", labels.Dtype())
	}
	hot := make([]int, n)
	for i := range hot {
		v := at(i)
		if v != math.Trunc(v) || v < 0 || v >= float64(classes) {
			return nil, errors.Errorf("datasets: OneHot: label %d is %v, want a whole number in 0..%d", i, v, classes-1)
		}
		hot[i] = i*classes + int(v)
	}
	if labels.Dtype() == tensor.Float64 {
		out := make([]float64, n*classes)
		for _, j := range hot {
			out[j] = 1
		}
		return tensor.New(tensor.WithShape(n, classes), tensor.WithBacking(out)), nil
	}
	out := make([]float32, n*classes)
	for _, j := range hot {
		out[j] = 1
	}
	return tensor.New(tensor.WithShape(n, classes), tensor.WithBacking(out)), nil
}

// Take returns a copy of the first n samples of x (the first axis), for
// quick experiments on part of a data set: Take(xTrain, 1000) is
// (1000, 28, 28) for MNIST.
func Take(x *tensor.Dense, n int) (*tensor.Dense, error) {
	if x == nil {
		return nil, errors.New("datasets: Take of a nil tensor")
	}
	shape := x.Shape().Clone()
	if len(shape) == 0 {
		return nil, errors.Errorf("datasets: Take needs a tensor with a sample axis, got shape %v", shape)
	}
	if n < 1 || n > shape[0] {
		return nil, errors.Errorf("datasets: Take %d samples of a tensor of shape %v: want 1..%d", n, shape, shape[0])
	}
	if x.IsMaterializable() { // a view: copy it out in row-major order
		m, ok := x.Materialize().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("datasets: Take cannot copy the view of shape %v", shape)
		}
		x = m
	}
	if !x.DataOrder().IsRowMajor() {
		return nil, errors.Errorf("datasets: Take needs a row-major tensor (shape %v)", shape)
	}
	row := shape.TotalSize() / shape[0]
	src := reflect.ValueOf(x.Data())
	if src.Kind() != reflect.Slice || src.Len() < n*row {
		return nil, errors.Errorf("datasets: Take: tensor of shape %v holds %T", shape, x.Data())
	}
	dst := reflect.MakeSlice(src.Type(), n*row, n*row)
	reflect.Copy(dst, src.Slice(0, n*row))
	shape[0] = n
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(dst.Interface())), nil
}
