package keras

import (
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// pool2D holds what MaxPooling2D and AveragePooling2D share.
type pool2D struct {
	class   string
	size    []int
	strides []int
	padding string
}

func (p pool2D) config() (ops.PoolConfig, error) {
	size, err := pair(p.class+" pool_size", p.size, 2, 2)
	if err != nil {
		return ops.PoolConfig{}, err
	}
	strides, err := pair(p.class+" strides", p.strides, 2, 0)
	if err != nil && len(p.strides) != 0 {
		return ops.PoolConfig{}, err
	}
	if len(p.strides) == 0 {
		strides = size
	}
	if s := strings.ToLower(p.padding); s != "" && s != "valid" && s != "same" {
		return ops.PoolConfig{}, errors.Errorf("keras: %s padding must be \"valid\" or \"same\", got %q", p.class, p.padding)
	}
	return ops.PoolConfig{Size: [2]int{size[0], size[1]}, Strides: [2]int{strides[0], strides[1]}, Padding: p.padding}, nil
}

func (p pool2D) outputShape(in []Shape) (Shape, error) {
	s, err := single(p.class, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, errors.Errorf("keras: %s takes (height, width, channels) samples, got %v", p.class, s)
	}
	c, err := p.config()
	if err != nil {
		return nil, err
	}
	h, err := convOut(s[0], c.Size[0], c.Strides[0], 1, p.padding)
	if err != nil {
		return nil, err
	}
	w, err := convOut(s[1], c.Size[1], c.Strides[1], 1, p.padding)
	if err != nil {
		return nil, err
	}
	return Shape{h, w, s[2]}, nil
}

// MaxPooling2D takes the maximum of each PoolSize window, as
// keras.layers.MaxPooling2D (channels last).
//
// Input shape: (batch, height, width, channels). Output shape: (batch,
// newHeight, newWidth, channels).
type MaxPooling2D struct {
	Name string `json:"name,omitempty"`
	// PoolSize defaults to (2, 2); one number means a square window.
	PoolSize []int `json:"pool_size,omitempty"`
	// Strides defaults to PoolSize.
	Strides []int `json:"strides,omitempty"`
	// Padding is "valid" (default) or "same".
	Padding string `json:"padding,omitempty"`
	Base
}

func init() { Register("MaxPooling2D", func() Layer { return &MaxPooling2D{} }) }

func (l *MaxPooling2D) pool() pool2D { return pool2D{"MaxPooling2D", l.PoolSize, l.Strides, l.Padding} }

// OutputShape implements Layer.
func (l *MaxPooling2D) OutputShape(in []Shape) (Shape, error) { return l.pool().outputShape(in) }

// Call implements Layer.
func (l *MaxPooling2D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	c, err := l.pool().config()
	if err != nil {
		return nil, err
	}
	return ops.MaxPool2D(in[0], c)
}

// AveragePooling2D averages each PoolSize window, as
// keras.layers.AveragePooling2D; with "same" padding the padding is not
// counted in the average (TensorFlow's semantics).
type AveragePooling2D struct {
	Name     string `json:"name,omitempty"`
	PoolSize []int  `json:"pool_size,omitempty"`
	Strides  []int  `json:"strides,omitempty"`
	Padding  string `json:"padding,omitempty"`
	Base
}

func init() { Register("AveragePooling2D", func() Layer { return &AveragePooling2D{} }) }

func (l *AveragePooling2D) pool() pool2D {
	return pool2D{"AveragePooling2D", l.PoolSize, l.Strides, l.Padding}
}

// OutputShape implements Layer.
func (l *AveragePooling2D) OutputShape(in []Shape) (Shape, error) { return l.pool().outputShape(in) }

// Call implements Layer.
func (l *AveragePooling2D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	c, err := l.pool().config()
	if err != nil {
		return nil, err
	}
	return ops.AvgPool2D(in[0], c)
}

// pool1D holds what MaxPooling1D and AveragePooling1D share.
type pool1D struct {
	class        string
	size, stride int
	padding      string
}

func (p pool1D) config() (ops.Pool1DConfig, error) {
	if p.size < 0 || p.stride < 0 {
		return ops.Pool1DConfig{}, errors.Errorf("keras: %s pool size and strides must be positive, got %d and %d", p.class, p.size, p.stride)
	}
	size := p.size
	if size == 0 {
		size = 2
	}
	stride := p.stride
	if stride == 0 {
		stride = size
	}
	if s := strings.ToLower(p.padding); s != "" && s != "valid" && s != "same" {
		return ops.Pool1DConfig{}, errors.Errorf("keras: %s padding must be \"valid\" or \"same\", got %q", p.class, p.padding)
	}
	return ops.Pool1DConfig{Size: size, Stride: stride, Padding: p.padding}, nil
}

func (p pool1D) outputShape(in []Shape) (Shape, error) {
	s, err := single(p.class, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 2 {
		return nil, errors.Errorf("keras: %s takes (steps, channels) samples, got %v", p.class, s)
	}
	c, err := p.config()
	if err != nil {
		return nil, err
	}
	n, err := convOut(s[0], c.Size, c.Stride, 1, p.padding)
	if err != nil {
		return nil, err
	}
	return Shape{n, s[1]}, nil
}

// MaxPooling1D takes the maximum of each window of PoolSize steps, as
// keras.layers.MaxPooling1D. Input (batch, steps, channels).
type MaxPooling1D struct {
	Name string `json:"name,omitempty"`
	// PoolSize defaults to 2; Strides defaults to PoolSize.
	PoolSize int    `json:"pool_size,omitempty"`
	Strides  int    `json:"strides,omitempty"`
	Padding  string `json:"padding,omitempty"`
	Base
}

func init() { Register("MaxPooling1D", func() Layer { return &MaxPooling1D{} }) }

func (l *MaxPooling1D) pool() pool1D {
	return pool1D{class: "MaxPooling1D", size: l.PoolSize, stride: l.Strides, padding: l.Padding}
}

// OutputShape implements Layer.
func (l *MaxPooling1D) OutputShape(in []Shape) (Shape, error) { return l.pool().outputShape(in) }

// Call implements Layer.
func (l *MaxPooling1D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	c, err := l.pool().config()
	if err != nil {
		return nil, err
	}
	return ops.MaxPool1D(in[0], c)
}

// AveragePooling1D averages each window of PoolSize steps, as
// keras.layers.AveragePooling1D.
type AveragePooling1D struct {
	Name     string `json:"name,omitempty"`
	PoolSize int    `json:"pool_size,omitempty"`
	Strides  int    `json:"strides,omitempty"`
	Padding  string `json:"padding,omitempty"`
	Base
}

func init() { Register("AveragePooling1D", func() Layer { return &AveragePooling1D{} }) }

func (l *AveragePooling1D) pool() pool1D {
	return pool1D{class: "AveragePooling1D", size: l.PoolSize, stride: l.Strides, padding: l.Padding}
}

// OutputShape implements Layer.
func (l *AveragePooling1D) OutputShape(in []Shape) (Shape, error) { return l.pool().outputShape(in) }

// Call implements Layer.
func (l *AveragePooling1D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	c, err := l.pool().config()
	if err != nil {
		return nil, err
	}
	return ops.AvgPool1D(in[0], c)
}

// global is the shared shape rule of the global pooling layers: the
// spatial axes (all but the last) disappear.
func global(class string, rank int, in []Shape) (Shape, error) {
	s, err := single(class, in)
	if err != nil {
		return nil, err
	}
	if len(s) != rank+1 {
		return nil, errors.Errorf("keras: %s takes samples with %d spatial axes and channels, got %v", class, rank, s)
	}
	return Shape{s[rank]}, nil
}

// GlobalMaxPooling2D is the maximum over height and width:
// (batch, h, w, c) → (batch, c).
type GlobalMaxPooling2D struct {
	Name string `json:"name,omitempty"`
	Base
}

// GlobalAveragePooling2D is the mean over height and width:
// (batch, h, w, c) → (batch, c).
type GlobalAveragePooling2D struct {
	Name string `json:"name,omitempty"`
	Base
}

// GlobalMaxPooling1D is the maximum over steps: (batch, steps, c) → (batch, c).
type GlobalMaxPooling1D struct {
	Name string `json:"name,omitempty"`
	Base
}

// GlobalAveragePooling1D is the mean over steps: (batch, steps, c) → (batch, c).
// With a mask (from Embedding's MaskZero, say) it averages the real steps
// only, as Keras does.
type GlobalAveragePooling1D struct {
	Name string `json:"name,omitempty"`
	Base
}

func init() {
	Register("GlobalMaxPooling2D", func() Layer { return &GlobalMaxPooling2D{} })
	Register("GlobalAveragePooling2D", func() Layer { return &GlobalAveragePooling2D{} })
	Register("GlobalMaxPooling1D", func() Layer { return &GlobalMaxPooling1D{} })
	Register("GlobalAveragePooling1D", func() Layer { return &GlobalAveragePooling1D{} })
}

// OutputShape implements Layer.
func (l *GlobalMaxPooling2D) OutputShape(in []Shape) (Shape, error) {
	return global("GlobalMaxPooling2D", 2, in)
}

// Call implements Layer.
func (l *GlobalMaxPooling2D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return ops.GlobalMaxPool2D(in[0])
}

// OutputShape implements Layer.
func (l *GlobalAveragePooling2D) OutputShape(in []Shape) (Shape, error) {
	return global("GlobalAveragePooling2D", 2, in)
}

// Call implements Layer.
func (l *GlobalAveragePooling2D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return ops.GlobalAvgPool2D(in[0])
}

// OutputShape implements Layer.
func (l *GlobalMaxPooling1D) OutputShape(in []Shape) (Shape, error) {
	return global("GlobalMaxPooling1D", 1, in)
}

// Call implements Layer.
func (l *GlobalMaxPooling1D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return ops.GlobalMaxPool1D(in[0])
}

// OutputShape implements Layer.
func (l *GlobalAveragePooling1D) OutputShape(in []Shape) (Shape, error) {
	return global("GlobalAveragePooling1D", 1, in)
}

// Call implements Layer.
func (l *GlobalAveragePooling1D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return ops.GlobalAvgPool1D(in[0])
}

// CallMasked implements MaskedLayer: with a mask the mean is over the
// real steps only, as in Keras; the output has no mask.
func (l *GlobalAveragePooling1D) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	var y *gorgonia.Node
	var err error
	if len(masks) > 0 && masks[0] != nil {
		y, err = ops.MaskedMean1D(in[0], masks[0])
	} else {
		y, err = l.Call(ctx, in)
	}
	if err != nil {
		return nil, nil, err
	}
	return []*gorgonia.Node{y}, []*gorgonia.Node{nil}, nil
}

// ZeroPadding2D adds rows and columns of zeros around each image, as
// keras.layers.ZeroPadding2D. Padding is one number (all sides), two
// (top/bottom, left/right) or four (top, bottom, left, right); default 1.
type ZeroPadding2D struct {
	Name    string `json:"name,omitempty"`
	Padding []int  `json:"padding,omitempty"`
	Base
}

func init() { Register("ZeroPadding2D", func() Layer { return &ZeroPadding2D{} }) }

func (l *ZeroPadding2D) sides() ([4]int, error) {
	p := l.Padding
	var s [4]int
	switch len(p) {
	case 0:
		s = [4]int{1, 1, 1, 1}
	case 1:
		s = [4]int{p[0], p[0], p[0], p[0]}
	case 2:
		s = [4]int{p[0], p[0], p[1], p[1]}
	case 4:
		s = [4]int{p[0], p[1], p[2], p[3]}
	default:
		return s, errors.Errorf("keras: ZeroPadding2D padding takes 1, 2 or 4 numbers, got %v", p)
	}
	for _, v := range s {
		if v < 0 {
			return s, errors.Errorf("keras: ZeroPadding2D padding must not be negative, got %v", p)
		}
	}
	return s, nil
}

// OutputShape implements Layer.
func (l *ZeroPadding2D) OutputShape(in []Shape) (Shape, error) {
	s, err := single("ZeroPadding2D", in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, errors.Errorf("keras: ZeroPadding2D takes (height, width, channels) samples, got %v", s)
	}
	p, err := l.sides()
	if err != nil {
		return nil, err
	}
	return Shape{s[0] + p[0] + p[1], s[1] + p[2] + p[3], s[2]}, nil
}

// Call implements Layer.
func (l *ZeroPadding2D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	p, err := l.sides()
	if err != nil {
		return nil, err
	}
	return ops.ZeroPad2D(in[0], p[0], p[1], p[2], p[3])
}

// UpSampling2D repeats rows and columns (nearest neighbour), as
// keras.layers.UpSampling2D. Size defaults to (2, 2).
type UpSampling2D struct {
	Name string `json:"name,omitempty"`
	Size []int  `json:"size,omitempty"`
	Base
}

func init() { Register("UpSampling2D", func() Layer { return &UpSampling2D{} }) }

// OutputShape implements Layer.
func (l *UpSampling2D) OutputShape(in []Shape) (Shape, error) {
	s, err := single("UpSampling2D", in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, errors.Errorf("keras: UpSampling2D takes (height, width, channels) samples, got %v", s)
	}
	f, err := pair("UpSampling2D size", l.Size, 2, 2)
	if err != nil {
		return nil, err
	}
	return Shape{s[0] * f[0], s[1] * f[1], s[2]}, nil
}

// Call implements Layer.
func (l *UpSampling2D) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	f, err := pair("UpSampling2D size", l.Size, 2, 2)
	if err != nil {
		return nil, err
	}
	return ops.UpSample2D(in[0], f[0], f[1])
}
