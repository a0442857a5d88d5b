package ops

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// lossKind says how a loss splits a sample into rows.
type lossKind int

const (
	// elementwise: a sample is one row of all its elements; its value is
	// the mean over them.
	elementwise lossKind = iota
	// categorical: rows run along the last (class) axis; a sample's value is
	// the mean over its rows.
	categorical
	// sparse: categorical with yTrue holding one class index per row.
	sparse
)

// bounds are the clipping bounds [Epsilon, 1−Epsilon] rounded to the dtype.
type bounds struct{ lo, hi float64 }

func (b bounds) clip(x float64) float64 { return math.Min(math.Max(x, b.lo), b.hi) }

// inside reports whether clipping leaves x alone; like TensorFlow's
// clip_by_value gradient, the bounds themselves count as inside.
func (b bounds) inside(x float64) bool { return x >= b.lo && x <= b.hi }

// rowFunc returns the loss summed over one row (elementwise losses) or the
// loss of one row (categorical ones). When dp (dt) is non-nil it also
// writes there the derivative of that value with respect to p (t).
type rowFunc func(t, p, dp, dt []float64, b bounds) float64

// lossKernel describes a loss for the shared forward and gradient driver.
type lossKernel struct {
	name    string    // the public function's name, for errors
	variant string    // distinguishes ops of one name (from logits …)
	params  []float64 // part of the op's identity
	kind    lossKind
	row     rowFunc
	// hinge maps yTrue to 2·yTrue−1 when all of it is in {0, 1}.
	hinge bool
	// noDiffTrue: no gradient with respect to yTrue.
	noDiffTrue bool
	// smooth is the label smoothing factor: yTrue·(1−smooth) +
	// smooth/smoothClasses, where 0 classes means the row length.
	smooth        float64
	smoothClasses int
}

func (k *lossKernel) id() string { return fmt.Sprintf("%s%s%v", k.name, k.variant, k.params) }

var (
	mseK = &lossKernel{name: "MeanSquaredError", kind: elementwise,
		row: diffRow(func(e float64) (float64, float64) { return e * e, 2 * e })}
	maeK = &lossKernel{name: "MeanAbsoluteError", kind: elementwise,
		row: diffRow(func(e float64) (float64, float64) { return math.Abs(e), sign(e) })}
	bceProbK   = &lossKernel{name: "BinaryCrossentropy", kind: elementwise, row: bceProbRow}
	bceLogitsK = &lossKernel{name: "BinaryCrossentropy", variant: "(logits)", kind: elementwise,
		row: bceLogitsRow}
	cceProbK   = &lossKernel{name: "CategoricalCrossentropy", kind: categorical, row: cceProbRow}
	cceLogitsK = &lossKernel{name: "CategoricalCrossentropy", variant: "(logits)", kind: categorical,
		row: cceLogitsRow}
	sparseProbK = &lossKernel{name: "SparseCategoricalCrossentropy", kind: sparse, row: cceProbRow,
		noDiffTrue: true}
	sparseLogitsK = &lossKernel{name: "SparseCategoricalCrossentropy", variant: "(logits)", kind: sparse,
		row: cceLogitsRow, noDiffTrue: true}
	hingeK = &lossKernel{name: "Hinge", kind: elementwise, hinge: true, noDiffTrue: true,
		row: hingeRow(false)}
	squaredHingeK = &lossKernel{name: "SquaredHinge", kind: elementwise, hinge: true, noDiffTrue: true,
		row: hingeRow(true)}
)

func huberKernel(delta float64) *lossKernel {
	return &lossKernel{name: "Huber", params: []float64{delta}, kind: elementwise,
		row: diffRow(func(e float64) (float64, float64) {
			if a := math.Abs(e); a > delta {
				return delta * (a - 0.5*delta), delta * sign(e)
			}
			return 0.5 * e * e, e
		})}
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// diffRow makes the rowFunc of a loss f(e) of the error e = p − t, given
// f and f′.
func diffRow(f func(e float64) (v, d float64)) rowFunc {
	return func(t, p, dp, dt []float64, _ bounds) float64 {
		var sum float64
		for j := range p {
			v, d := f(p[j] - t[j])
			sum += v
			if dp != nil {
				dp[j] = d
			}
			if dt != nil {
				dt[j] = -d
			}
		}
		return sum
	}
}

// bceProbRow: −(t·log c + (1−t)·log(1−c)), c = clip(p).
func bceProbRow(t, p, dp, dt []float64, b bounds) float64 {
	var sum float64
	for j := range p {
		c := b.clip(p[j])
		lc, l1c := math.Log(c), math.Log(1-c)
		sum -= t[j]*lc + (1-t[j])*l1c
		if dp != nil {
			dp[j] = 0
			if b.inside(p[j]) {
				dp[j] = (c - t[j]) / (c * (1 - c))
			}
		}
		if dt != nil {
			dt[j] = l1c - lc
		}
	}
	return sum
}

// bceLogitsRow: max(x, 0) − x·t + log(1 + exp(−|x|)).
func bceLogitsRow(t, x, dp, dt []float64, _ bounds) float64 {
	var sum float64
	for j := range x {
		sum += math.Max(x[j], 0) - x[j]*t[j] + math.Log1p(math.Exp(-math.Abs(x[j])))
		if dp != nil {
			dp[j] = sigmoid(x[j]) - t[j]
		}
		if dt != nil {
			dt[j] = -x[j]
		}
	}
	return sum
}

// cceProbRow: −Σ t·log clip(p/Σp). With a_j = ∂/∂q_j (zero where clipped)
// and q = p/s, the chain rule through the normalisation gives
// ∂/∂p_k = (a_k − Σ_j a_j q_j) / s.
func cceProbRow(t, p, dp, dt []float64, b bounds) float64 {
	var s float64
	for _, v := range p {
		s += v
	}
	var loss, aq float64
	for j := range p {
		q := p[j] / s
		c := b.clip(q)
		lc := math.Log(c)
		loss -= t[j] * lc
		if dt != nil {
			dt[j] = -lc
		}
		if dp != nil {
			a := 0.0
			if b.inside(q) {
				a = -t[j] / c
			}
			dp[j] = a
			aq += a * q
		}
	}
	for j := range dp { // dp is nil when no gradient is wanted
		dp[j] = (dp[j] - aq) / s
	}
	return loss
}

// cceLogitsRow: Σ t·(lse − x), lse = log Σ exp(x); ∂/∂x = softmax(x)·Σt − t,
// ∂/∂t = lse − x.
func cceLogitsRow(t, x, dp, dt []float64, _ bounds) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	var se float64
	for j, v := range x {
		e := math.Exp(v - m)
		se += e
		if dp != nil {
			dp[j] = e // kept for the softmax below
		}
	}
	lse := m + math.Log(se)
	var loss, st float64
	for j := range x {
		loss += t[j] * (lse - x[j])
		st += t[j]
		if dt != nil {
			dt[j] = lse - x[j]
		}
	}
	if dp != nil {
		f := st / se
		for j := range dp {
			dp[j] = dp[j]*f - t[j]
		}
	}
	return loss
}

// hingeRow: max(1 − t·p, 0), or its square. Hinge losses have no gradient
// with respect to t (its {0, 1} → {−1, 1} mapping depends on the whole
// batch), so dt is ignored.
func hingeRow(squared bool) rowFunc {
	return func(t, p, dp, dt []float64, _ bounds) float64 {
		var sum float64
		for j := range p {
			m := 1 - t[j]*p[j]
			v, d := 0.0, 0.0 // d = ∂v/∂m
			if m > 0 {
				v, d = m, 1
				if squared {
					v, d = m*m, 2*m
				}
			}
			sum += v
			if dp != nil {
				dp[j] = -t[j] * d
			}
		}
		return sum
	}
}

// run computes, from yTrue t and yPred p, the per-sample losses into out
// or, given the upstream gradient g (one value per sample), the gradient
// with respect to p into dp or to t into dt. Unused outputs are nil.
func (k *lossKernel) run(t, p, g, out, dp, dt *tensor.Dense) error {
	ps := p.Shape()
	batch, n := ps[0], ps.TotalSize()
	rowLen := n / batch
	if k.kind != elementwise {
		rowLen = ps[len(ps)-1]
	}
	switch p.Dtype() {
	case tensor.Float32:
		return runLoss(k, batch, rowLen, data32(t), data32(p), data32(g), data32(out), data32(dp), data32(dt))
	case tensor.Float64:
		return runLoss(k, batch, rowLen, data64(t), data64(p), data64(g), data64(out), data64(dp), data64(dt))
	}
	return errors.Errorf("ops: %s: unsupported dtype %v", k.name, p.Dtype())
}

func data32(d *tensor.Dense) []float32 { return dataOf[float32](d) }
func data64(d *tensor.Dense) []float64 { return dataOf[float64](d) }

// dataOf returns the backing slice of d (nil for a nil d), wrapping a
// scalar's value in a slice.
func dataOf[T float](d *tensor.Dense) []T {
	if d == nil {
		return nil
	}
	switch v := d.Data().(type) {
	case []T:
		return v
	case T:
		return []T{v}
	}
	return nil
}

func runLoss[T float](k *lossKernel, batch, rowLen int, t, p, g, out, dp, dt []T) error {
	n := len(p)
	rows := n / rowLen
	perSample := rows / batch
	wantT := n
	if k.kind == sparse {
		wantT = rows
	}
	switch {
	case len(t) != wantT:
		return errors.Errorf("ops: %s: yTrue has %d values, want %d", k.name, len(t), wantT)
	case g != nil && len(g) != batch:
		return errors.Errorf("ops: %s: gradient has %d values, want one per sample (%d)", k.name, len(g), batch)
	}
	norm := float64(perSample)
	if k.kind == elementwise {
		norm = float64(rowLen)
	}
	b := bounds{lo: float64(T(Epsilon)), hi: float64(T(1 - Epsilon))}
	toHinge := k.hinge && allZeroOne(t)
	smoothK := float64(k.smoothClasses)
	if smoothK == 0 {
		smoothK = float64(rowLen)
	}

	t64, p64 := make([]float64, rowLen), make([]float64, rowLen)
	var dp64, dt64 []float64
	if dp != nil {
		dp64 = make([]float64, rowLen)
	}
	if dt != nil {
		dt64 = make([]float64, rowLen)
	}
	for s := range batch {
		var sum, scale float64
		if g != nil {
			scale = float64(g[s]) / norm
		}
		for r := s * perSample; r < (s+1)*perSample; r++ {
			lo, hi := r*rowLen, (r+1)*rowLen
			for j, v := range p[lo:hi] {
				p64[j] = float64(v)
			}
			if k.kind == sparse {
				c := float64(t[r])
				if c != math.Trunc(c) || c < 0 || c >= float64(rowLen) {
					where := fmt.Sprintf("sample %d", s)
					if perSample > 1 {
						where += fmt.Sprintf(", row %d", r-s*perSample)
					}
					return errors.Errorf("ops: %s: label %v (%s) is not a class index in [0, %d)",
						k.name, c, where, rowLen)
				}
				clear(t64)
				t64[int(c)] = 1
			} else {
				for j, v := range t[lo:hi] {
					y := float64(v)
					if toHinge {
						y = 2*y - 1
					}
					if k.smooth > 0 {
						y = y*(1-k.smooth) + k.smooth/smoothK
					}
					t64[j] = y
				}
			}
			sum += k.row(t64, p64, dp64, dt64, b)
			if dp != nil {
				for j, v := range dp64 {
					dp[lo+j] = T(scale * v)
				}
			}
			if dt != nil {
				f := scale * (1 - k.smooth) // chain rule through smoothing
				for j, v := range dt64 {
					dt[lo+j] = T(f * v)
				}
			}
		}
		if out != nil {
			out[s] = T(sum / norm)
		}
	}
	return nil
}

// allZeroOne reports whether every value is 0 or 1 (Keras'
// convert_binary_labels_to_hinge test).
func allZeroOne[T float](t []T) bool {
	for _, v := range t {
		if v != 0 && v != 1 {
			return false
		}
	}
	return true
}
