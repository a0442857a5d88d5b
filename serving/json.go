package serving

import (
	"bytes"
	"io"
	"math"
	"strconv"

	"github.com/pkg/errors"
)

// parseInstances reads the JSON array of a request's "instances": each
// instance is one sample, as nested arrays of the sample's shape (as
// TensorFlow Serving's row format) or as one flat array of its values in
// row-major order. It returns the values of all samples and their number.
// Nesting is bounded by the shape, so no input can recurse deeply.
func parseInstances(raw []byte, shape []int, maxInstances int) ([]float32, int, error) {
	p := &parser{b: raw}
	size := 1
	for _, d := range shape {
		size *= d
	}
	p.ws()
	if err := p.expect('['); err != nil {
		return nil, 0, errors.WithMessage(err, `"instances" must be an array of samples`)
	}
	var out []float32
	n := 0
	p.ws()
	if p.peek() == ']' {
		return nil, 0, errors.New(`"instances" is empty`)
	}
	for {
		if n == maxInstances {
			return nil, 0, errors.Errorf("more than %d instances in one request", maxInstances)
		}
		before := len(out)
		var err error
		p.ws()
		if len(shape) > 1 && p.flat() {
			out, err = p.array(out, []int{size})
		} else {
			out, err = p.array(out, shape)
		}
		if err != nil {
			return nil, 0, errors.WithMessagef(err, "instance %d (want shape %v or %d values)", n, shape, size)
		}
		if len(out)-before != size {
			return nil, 0, errors.Errorf("instance %d has %d values, want %d (shape %v)", n, len(out)-before, size, shape)
		}
		n++
		p.ws()
		if p.peek() == ',' {
			p.i++
			continue
		}
		if err := p.expect(']'); err != nil {
			return nil, 0, errors.WithMessage(err, `after an instance`)
		}
		break
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, 0, errors.Errorf("unexpected data after the instances at byte %d", p.i)
	}
	return out, n, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) expect(c byte) error {
	p.ws()
	if p.peek() != c {
		if p.i >= len(p.b) {
			return errors.Errorf("want %q, got the end of the data", c)
		}
		return errors.Errorf("want %q at byte %d, got %q", c, p.i, p.b[p.i])
	}
	p.i++
	return nil
}

// flat reports whether the array at p starts with a number (a flat sample).
func (p *parser) flat() bool {
	j := p.i
	if j >= len(p.b) || p.b[j] != '[' {
		return false
	}
	j++
	for j < len(p.b) && (p.b[j] == ' ' || p.b[j] == '\t' || p.b[j] == '\n' || p.b[j] == '\r') {
		j++
	}
	return j < len(p.b) && (p.b[j] == '-' || (p.b[j] >= '0' && p.b[j] <= '9'))
}

// array reads an array of shape[0] elements, each of shape[1:] (a number
// when shape has one axis), appending its numbers to out.
func (p *parser) array(out []float32, shape []int) ([]float32, error) {
	if err := p.expect('['); err != nil {
		return out, err
	}
	for k := 0; k < shape[0]; k++ {
		if k > 0 {
			if err := p.expect(','); err != nil {
				return out, errors.Errorf("an array of %d elements where %d were expected", k, shape[0])
			}
		}
		var err error
		if len(shape) == 1 {
			var v float32
			if v, err = p.number(); err == nil {
				out = append(out, v)
			}
		} else {
			out, err = p.array(out, shape[1:])
		}
		if err != nil {
			return out, err
		}
	}
	p.ws()
	if p.peek() == ',' {
		return out, errors.Errorf("an array of more than %d elements", shape[0])
	}
	return out, p.expect(']')
}

// number reads a JSON number as float32; values beyond float32's range
// are errors, not infinities.
func (p *parser) number() (float32, error) {
	p.ws()
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		if p.i >= len(p.b) {
			return 0, errors.New("want a number, got the end of the data")
		}
		return 0, errors.Errorf("want a number at byte %d, got %q", p.i, p.b[p.i])
	}
	s := string(p.b[start:p.i])
	if !validNumber(s) {
		return 0, errors.Errorf("%q at byte %d is not a JSON number", s, start)
	}
	v, err := strconv.ParseFloat(s, 32)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.Errorf("%s at byte %d is not a finite float32", s, start)
	}
	return float32(v), nil
}

// validNumber checks JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// appendValues writes rows of a sample's output, nested by shape.
func appendValues(buf []byte, v []float32, shape []int) []byte {
	if len(shape) == 0 {
		return appendFloat(buf, v[0])
	}
	step := 1
	for _, d := range shape[1:] {
		step *= d
	}
	buf = append(buf, '[')
	for k := 0; k < shape[0]; k++ {
		if k > 0 {
			buf = append(buf, ',')
		}
		if len(shape) == 1 {
			buf = appendFloat(buf, v[k])
		} else {
			buf = appendValues(buf, v[k*step:(k+1)*step], shape[1:])
		}
	}
	return append(buf, ']')
}

// appendFloat writes v in the shortest form that reads back as the same
// float32; NaN and infinities, which JSON lacks, become null.
func appendFloat(buf []byte, v float32) []byte {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(buf, "null"...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, 32)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
