package training

import (
	"math"
	"math/rand/v2"

	"github.com/keragon/keragon/internal/dense"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Dataset holds samples in memory, batch axis first. The loop feeds a
// program Inputs, then Targets, then one sample-weight vector per target.
type Dataset struct {
	// Inputs are the model's inputs, each (n, ...).
	Inputs []*tensor.Dense
	// Targets are what the losses compare the outputs with, each (n, ...).
	Targets []*tensor.Dense
	// SampleWeights holds one (n) vector per target; nil entries (or a nil
	// slice) mean a weight of 1.
	SampleWeights []*tensor.Dense
}

// Len is the number of samples.
func (d *Dataset) Len() int {
	if d == nil || len(d.Inputs) == 0 || d.Inputs[0] == nil || d.Inputs[0].Dims() == 0 {
		return 0
	}
	return d.Inputs[0].Shape()[0]
}

// Validate checks that every tensor has the same number of samples, that
// there is at least one, and that no value is NaN or infinite.
func (d *Dataset) Validate() error {
	n := d.Len()
	if n == 0 {
		return errors.New("training: the dataset is empty")
	}
	for i, t := range d.Inputs {
		if err := checkTensor("input", i, t, n); err != nil {
			return err
		}
	}
	for i, t := range d.Targets {
		if err := checkTensor("target", i, t, n); err != nil {
			return err
		}
	}
	for i, t := range d.SampleWeights {
		if t == nil {
			continue
		}
		if err := checkTensor("sample weight", i, t, n); err != nil {
			return err
		}
	}
	return nil
}

func checkTensor(kind string, i int, t *tensor.Dense, n int) error {
	if t == nil {
		return errors.Errorf("training: %s %d is nil", kind, i)
	}
	if t.Dims() == 0 || t.Shape()[0] != n {
		return errors.Errorf("training: %s %d has shape %v, want %d samples on the first axis", kind, i, t.Shape(), n)
	}
	if c, err := dense.Contiguous(t); err != nil || c != t {
		return errors.Errorf("training: %s %d (shape %v) is a view or a lazily transposed tensor: give a contiguous one (Materialize it)", kind, i, t.Shape())
	}
	row := t.Shape().TotalSize() / n
	switch t.Data().(type) {
	case []float32, []float64:
		if j, v := dense.FirstNonFinite(t); j >= 0 {
			return errors.Errorf("training: %s %d holds %v at sample %d", kind, i, v, j/row)
		}
	default:
		return errors.Errorf("training: %s %d has dtype %v, want float32 or float64", kind, i, t.Dtype())
	}
	return nil
}

// SplitTail returns the first (1−fraction) of the samples and the last
// fraction, as Keras' validation_split does (before any shuffling).
func (d *Dataset) SplitTail(fraction float64) (head, tail *Dataset, err error) {
	n := d.Len()
	if fraction <= 0 || fraction >= 1 {
		return nil, nil, errors.Errorf("training: validation split must be in (0, 1), got %v", fraction)
	}
	nv := int(math.Floor(float64(n) * fraction))
	if nv == 0 || nv == n {
		return nil, nil, errors.Errorf("training: validation split %v of %d samples leaves an empty set", fraction, n)
	}
	head, tail = &Dataset{}, &Dataset{}
	sl := func(ts []*tensor.Dense) (a, b []*tensor.Dense, err error) {
		for _, t := range ts {
			if t == nil {
				a, b = append(a, nil), append(b, nil)
				continue
			}
			x, err1 := rowsOf(t, 0, n-nv)
			y, err2 := rowsOf(t, n-nv, n)
			if err1 != nil || err2 != nil {
				return nil, nil, errors.Errorf("training: cannot split a tensor of shape %v", t.Shape())
			}
			a, b = append(a, x), append(b, y)
		}
		return a, b, nil
	}
	if head.Inputs, tail.Inputs, err = sl(d.Inputs); err != nil {
		return nil, nil, err
	}
	if head.Targets, tail.Targets, err = sl(d.Targets); err != nil {
		return nil, nil, err
	}
	if head.SampleWeights, tail.SampleWeights, err = sl(d.SampleWeights); err != nil {
		return nil, nil, err
	}
	return head, tail, nil
}

// rowsOf copies samples [from, to) of t.
func rowsOf(t *tensor.Dense, from, to int) (*tensor.Dense, error) {
	shape := t.Shape().Clone()
	row := shape.TotalSize() / shape[0]
	shape[0] = to - from
	switch d := t.Data().(type) {
	case []float32:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), d[from*row:to*row]...))), nil
	case []float64:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), d[from*row:to*row]...))), nil
	}
	return nil, errors.Errorf("training: unsupported dtype %v", t.Dtype())
}

// batcher gathers the rows of a dataset into preallocated batch tensors.
type batcher struct {
	ds    *Dataset
	dtype tensor.Dtype
	feeds map[int][]*tensor.Dense // by batch size
}

func newBatcher(ds *Dataset, dt tensor.Dtype) *batcher {
	return &batcher{ds: ds, dtype: dt, feeds: map[int][]*tensor.Dense{}}
}

// gather fills and returns the feeds (inputs, targets, sample weights) for
// the samples idx. withTargets=false returns the inputs only.
func (b *batcher) gather(idx []int, withTargets bool) ([]*tensor.Dense, error) {
	size := len(idx)
	feeds, ok := b.feeds[size]
	if !ok {
		mk := func(t *tensor.Dense) *tensor.Dense {
			shape := t.Shape().Clone()
			shape[0] = size
			return tensor.New(tensor.Of(b.dtype), tensor.WithShape(shape...))
		}
		for _, t := range b.ds.Inputs {
			feeds = append(feeds, mk(t))
		}
		for _, t := range b.ds.Targets {
			feeds = append(feeds, mk(t))
		}
		for range b.ds.Targets {
			feeds = append(feeds, tensor.New(tensor.Of(b.dtype), tensor.WithShape(size)))
		}
		b.feeds[size] = feeds
	}
	ni, nt := len(b.ds.Inputs), len(b.ds.Targets)
	for i, t := range b.ds.Inputs {
		if err := gatherRows(feeds[i], t, idx); err != nil {
			return nil, err
		}
	}
	if !withTargets {
		return feeds[:ni], nil
	}
	for i, t := range b.ds.Targets {
		if err := gatherRows(feeds[ni+i], t, idx); err != nil {
			return nil, err
		}
	}
	for i := 0; i < nt; i++ {
		dst := feeds[ni+nt+i]
		var sw *tensor.Dense
		if i < len(b.ds.SampleWeights) {
			sw = b.ds.SampleWeights[i]
		}
		if sw == nil {
			fillOnes(dst)
			continue
		}
		if err := gatherRows(dst, sw, idx); err != nil {
			return nil, err
		}
	}
	return feeds, nil
}

func fillOnes(t *tensor.Dense) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = 1
		}
	case []float64:
		for i := range d {
			d[i] = 1
		}
	}
}

// gatherRows copies rows idx of src into dst, converting the dtype if needed.
func gatherRows(dst, src *tensor.Dense, idx []int) error {
	row := dst.Shape().TotalSize() / len(idx)
	if src.Shape().TotalSize()/src.Shape()[0] != row {
		return errors.Errorf("training: rows of shape %v do not fit a batch of shape %v", src.Shape(), dst.Shape())
	}
	switch d := dst.Data().(type) {
	case []float32:
		switch s := src.Data().(type) {
		case []float32:
			for k, i := range idx {
				copy(d[k*row:(k+1)*row], s[i*row:(i+1)*row])
			}
		case []float64:
			for k, i := range idx {
				for j := 0; j < row; j++ {
					d[k*row+j] = float32(s[i*row+j])
				}
			}
		default:
			return errors.Errorf("training: unsupported dtype %v", src.Dtype())
		}
	case []float64:
		switch s := src.Data().(type) {
		case []float64:
			for k, i := range idx {
				copy(d[k*row:(k+1)*row], s[i*row:(i+1)*row])
			}
		case []float32:
			for k, i := range idx {
				for j := 0; j < row; j++ {
					d[k*row+j] = float64(s[i*row+j])
				}
			}
		default:
			return errors.Errorf("training: unsupported dtype %v", src.Dtype())
		}
	}
	return nil
}

// batches splits 0..n-1 (shuffled with rng when rng is not nil) into
// batches of size at most b; the last batch keeps the remainder.
func batches(n, b int, rng *rand.Rand) [][]int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if rng != nil {
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	var out [][]int
	for s := 0; s < n; s += b {
		e := min(s+b, n)
		out = append(out, idx[s:e])
	}
	return out
}
