package training

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// pyFormat fills the placeholders of a Python str.format pattern, as
// Keras' ModelCheckpoint does with its filepath: "{name}" or
// "{name:spec}", where name is a key of ints (epoch, batch) or of logs, and
// spec is the part of Python's format mini-language numbers use:
// [sign][0][width][.precision][type], sign one of "+- ", type one of
// "dfFeEgG%". "{{" and "}}" stand for braces. Without a spec an integer
// prints as itself and a float as Python's str does ("0.5", "1e-05").
func pyFormat(pattern string, ints map[string]int, logs Logs) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case (c == '{' || c == '}') && i+1 < len(pattern) && pattern[i+1] == c:
			b.WriteByte(c)
			i += 2
		case c == '{':
			j := strings.IndexByte(pattern[i:], '}')
			if j < 0 {
				return "", errors.Errorf("training: %q: a '{' at byte %d is not closed", pattern, i)
			}
			name, spec, _ := strings.Cut(pattern[i+1:i+j], ":")
			var s string
			var err error
			if v, ok := ints[name]; ok {
				s, err = pyFormatInt(v, spec)
			} else if v, ok := logs[name]; ok {
				s, err = pyFormatFloat(v, spec)
			} else {
				keys := make([]string, 0, len(ints)+len(logs))
				for k := range ints {
					keys = append(keys, k)
				}
				keys = append(keys, logs.Keys()...)
				sort.Strings(keys)
				return "", errors.Errorf("training: %q: no value for {%s}; available: %s",
					pattern, name, strings.Join(keys, ", "))
			}
			if err != nil {
				return "", errors.WithMessagef(err, "training: %q: {%s}", pattern, pattern[i+1:i+j])
			}
			b.WriteString(s)
			i += j + 1
		case c == '}':
			return "", errors.Errorf("training: %q: a single '}' at byte %d (write \"}}\" for a brace)", pattern, i)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// pySpec matches [sign][0][width][.precision][type].
var pySpec = regexp.MustCompile(`^([-+ ])?(0)?([0-9]+)?(?:\.([0-9]+))?([dfFeEgG%])?$`)

type pyFormatSpec struct {
	sign      string // "", "+", " " (Python's "-" is the default)
	zero      bool
	width     int
	precision int // -1: none
	typ       byte
}

func parsePySpec(spec string) (pyFormatSpec, error) {
	m := pySpec.FindStringSubmatch(spec)
	if m == nil {
		return pyFormatSpec{}, errors.Errorf("unsupported format spec %q (want [sign][0][width][.precision][type], type one of dfFeEgG%%)", spec)
	}
	s := pyFormatSpec{zero: m[2] == "0", precision: -1}
	if m[1] != "-" {
		s.sign = m[1]
	}
	if m[3] != "" {
		s.width, _ = strconv.Atoi(m[3])
	}
	if m[4] != "" {
		s.precision, _ = strconv.Atoi(m[4])
	}
	if m[5] != "" {
		s.typ = m[5][0]
	}
	return s, nil
}

// goVerb builds the fmt verb for s with Go verb v.
func (s pyFormatSpec) goVerb(v byte, precision int) string {
	f := "%" + s.sign
	if s.zero {
		f += "0"
	}
	if s.width > 0 {
		f += strconv.Itoa(s.width)
	}
	if precision >= 0 {
		f += "." + strconv.Itoa(precision)
	}
	return f + string(v)
}

func pyFormatInt(v int, spec string) (string, error) {
	s, err := parsePySpec(spec)
	if err != nil {
		return "", err
	}
	switch s.typ {
	case 0, 'd':
		if s.precision >= 0 {
			return "", errors.Errorf("precision not allowed for the integer %d (spec %q)", v, spec)
		}
		return fmt.Sprintf(s.goVerb('d', -1), v), nil
	}
	return pyFormatFloat(float64(v), spec)
}

func pyFormatFloat(v float64, spec string) (string, error) {
	s, err := parsePySpec(spec)
	if err != nil {
		return "", err
	}
	if s.typ == 'd' {
		return "", errors.Errorf("format code 'd' needs an integer, got the float %v", v)
	}
	var out string
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0): // Python's words: nan, inf
		out = pyFloat(v)
		if s.typ == 'F' || s.typ == 'E' || s.typ == 'G' {
			out = strings.ToUpper(out)
		}
		if s.typ == '%' {
			out += "%"
		}
		if s.sign != "" && out[0] != '-' {
			out = s.sign + out
		}
		return pyPad(out, s.width, s.zero), nil
	case s.typ == 0 && s.precision < 0:
		out = pyFloat(v)
		if s.sign != "" && out[0] != '-' {
			out = s.sign + out
		}
		return pyPad(out, s.width, s.zero), nil
	case s.typ == 0:
		out = pyGeneral(v, s.precision)
		if s.sign != "" && out[0] != '-' {
			out = s.sign + out
		}
		return pyPad(out, s.width, s.zero), nil
	case s.typ == '%':
		p := s.precision
		if p < 0 {
			p = 6
		}
		s.width-- // the '%' sign takes one column
		return fmt.Sprintf(s.goVerb('f', p), v*100) + "%", nil
	case s.typ == 'g' || s.typ == 'G':
		p := s.precision
		if p < 0 {
			p = 6 // Python's default; Go's would be the shortest
		}
		if p == 0 {
			p = 1
		}
		return fmt.Sprintf(s.goVerb(s.typ, p), v), nil
	}
	p := s.precision
	if p < 0 {
		p = 6
	}
	return fmt.Sprintf(s.goVerb(s.typ, p), v), nil
}

// pyGeneral is Python's float format with a precision p and no type: 'g'
// with p significant digits, but in exponent form from exponent p-1 on,
// and a fixed-point result keeps one digit after the point ("1.0").
func pyGeneral(v float64, p int) string {
	if p == 0 {
		p = 1
	}
	e := strconv.FormatFloat(v, 'e', p-1, 64)
	k := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[k+1:])
	if exp < -4 || exp >= p-1 {
		mant := e[:k]
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		return mant + e[k:]
	}
	f := strconv.FormatFloat(v, 'f', p-1-exp, 64)
	if strings.Contains(f, ".") {
		f = strings.TrimRight(f, "0")
	}
	if strings.HasSuffix(f, ".") || !strings.Contains(f, ".") {
		f = strings.TrimSuffix(f, ".") + ".0"
	}
	return f
}

// pyPad right-aligns s in width columns, with zeros after the sign when
// zero is set, as Python pads numbers.
func pyPad(s string, width int, zero bool) string {
	if len(s) >= width {
		return s
	}
	n := width - len(s)
	if !zero {
		return strings.Repeat(" ", n) + s
	}
	sign := ""
	if s[0] == '+' || s[0] == '-' || s[0] == ' ' {
		sign, s = s[:1], s[1:]
	}
	return sign + strings.Repeat("0", n) + s
}
