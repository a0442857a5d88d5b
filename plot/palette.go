package plot

import (
	"image/color"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// palette is matplotlib's "tab10", the colours of Keras users' plots.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // C0 blue
	{0xff, 0x7f, 0x0e, 0xff}, // C1 orange
	{0x2c, 0xa0, 0x2c, 0xff}, // C2 green
	{0xd6, 0x27, 0x28, 0xff}, // C3 red
	{0x94, 0x67, 0xbd, 0xff}, // C4 purple
	{0x8c, 0x56, 0x4b, 0xff}, // C5 brown
	{0xe3, 0x77, 0xc2, 0xff}, // C6 pink
	{0x7f, 0x7f, 0x7f, 0xff}, // C7 grey
	{0xbc, 0xbd, 0x22, 0xff}, // C8 olive
	{0x17, 0xbe, 0xcf, 0xff}, // C9 cyan
}

// parseColor reads "C0".."C9" (the palette) or "#rrggbb". next is used for "".
func parseColor(s string, next int) (color.RGBA, error) {
	switch {
	case s == "":
		return palette[next%len(palette)], nil
	case len(s) == 2 && (s[0] == 'C' || s[0] == 'c') && s[1] >= '0' && s[1] <= '9':
		return palette[s[1]-'0'], nil
	case len(s) == 7 && s[0] == '#':
		v, err := strconv.ParseUint(s[1:], 16, 32)
		if err == nil {
			return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}, nil
		}
	}
	return color.RGBA{}, errors.Errorf("plot: colour %q is neither C0..C9 nor #rrggbb", strings.TrimSpace(s))
}
