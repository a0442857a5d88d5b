package keras

import (
	"encoding/json"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestPoolingContract: output sizes by Keras' rules, valid
// (in−size)/stride+1 and same ceil(in/stride), strides defaulting to the
// pool size. Pooling layers have no weights; the contract still checks
// their gradients by finite differences (max pooling at random inputs,
// away from ties).
func TestPoolingContract(t *testing.T) {
	for _, c := range poolingContractCases() {
		runLayerTest(t, c)
	}
}

// poolingContractCases are TestPoolingContract's cases (also listed in allContractCases).
func poolingContractCases() []layerCase {
	return []layerCase{
		{name: "max1d_default", make: func() Layer { return &MaxPooling1D{} }, input: []int{6, 2}, output: []int{3, 2}},
		// (6−3)/1+1 = 4.
		{name: "max1d_size3_stride1", make: func() Layer { return &MaxPooling1D{PoolSize: 3, Strides: 1} }, input: []int{6, 2}, output: []int{4, 2}},
		// ceil(5/2) = 3, the last window half padding.
		{name: "max1d_same", make: func() Layer { return &MaxPooling1D{Padding: "same", Name: "mp"} }, input: []int{5, 2}, output: []int{3, 2}},
		{name: "avg1d_default", make: func() Layer { return &AveragePooling1D{} }, input: []int{7, 2}, output: []int{3, 2}},
		{name: "avg1d_same", make: func() Layer { return &AveragePooling1D{PoolSize: 3, Strides: 2, Padding: "same"} }, input: []int{6, 2}, output: []int{3, 2}},
		{name: "max2d_default", make: func() Layer { return &MaxPooling2D{} }, input: []int{4, 5, 2}, output: []int{2, 2, 2}},
		// (5−3)/1+1 = 3 rows, (5−2)/2+1 = 2 columns.
		{name: "max2d_rect", make: func() Layer { return &MaxPooling2D{PoolSize: []int{3, 2}, Strides: []int{1, 2}} }, input: []int{5, 5, 1}, output: []int{3, 2, 1}},
		{name: "max2d_same", make: func() Layer { return &MaxPooling2D{PoolSize: []int{3}, Strides: []int{2}, Padding: "same"} }, input: []int{5, 4, 2}, output: []int{3, 2, 2}},
		{name: "avg2d_default", make: func() Layer { return &AveragePooling2D{} }, input: []int{4, 4, 2}, output: []int{2, 2, 2}},
		{name: "avg2d_same", make: func() Layer { return &AveragePooling2D{PoolSize: []int{2}, Padding: "same"} }, input: []int{3, 5, 2}, output: []int{2, 3, 2}},
		{name: "global_max1d", make: func() Layer { return &GlobalMaxPooling1D{} }, input: []int{5, 3}, output: []int{3}},
		{name: "global_avg1d", make: func() Layer { return &GlobalAveragePooling1D{} }, input: []int{5, 3}, output: []int{3}},
		{name: "global_max2d", make: func() Layer { return &GlobalMaxPooling2D{} }, input: []int{3, 4, 2}, output: []int{2}},
		{name: "global_avg2d", make: func() Layer { return &GlobalAveragePooling2D{Name: "gap"} }, input: []int{3, 4, 2}, output: []int{2}},
	}
}

// TestPaddingAndUpSamplingContract: ZeroPadding2D takes one number (all
// sides), two (rows, columns) or four (top, bottom, left, right).
func TestPaddingAndUpSamplingContract(t *testing.T) {
	for _, c := range paddingUpSamplingContractCases() {
		runLayerTest(t, c)
	}
}

// paddingUpSamplingContractCases are TestPaddingAndUpSamplingContract's cases (also listed in allContractCases).
func paddingUpSamplingContractCases() []layerCase {
	return []layerCase{
		{name: "pad_default", make: func() Layer { return &ZeroPadding2D{} }, input: []int{2, 3, 2}, output: []int{4, 5, 2}},
		{name: "pad_1", make: func() Layer { return &ZeroPadding2D{Padding: []int{2}} }, input: []int{2, 3, 2}, output: []int{6, 7, 2}},
		{name: "pad_2", make: func() Layer { return &ZeroPadding2D{Padding: []int{1, 2}} }, input: []int{2, 3, 1}, output: []int{4, 7, 1}},
		{name: "pad_4", make: func() Layer { return &ZeroPadding2D{Padding: []int{0, 1, 2, 3}} }, input: []int{2, 3, 1}, output: []int{3, 8, 1}},
		{name: "upsample_default", make: func() Layer { return &UpSampling2D{} }, input: []int{2, 3, 2}, output: []int{4, 6, 2}},
		{name: "upsample_2_3", make: func() Layer { return &UpSampling2D{Size: []int{2, 3}, Name: "up"} }, input: []int{2, 2, 1}, output: []int{4, 6, 1}},
		{name: "upsample_3", make: func() Layer { return &UpSampling2D{Size: []int{3}} }, input: []int{1, 2, 2}, output: []int{3, 6, 2}},
	}
}

// grid4 is one 4×4 single-channel image holding 4·row + column: 0 … 15.
var grid4 = []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// TestPoolingValues works small cases out by hand, in both dtypes.
func TestPoolingValues(t *testing.T) {
	seq := []float64{3, 1, 4, 1, 5}       // one sequence of 5 steps, 1 channel
	two := []float64{1, -1, 2, -2, 3, -3} // (1, 3, 2): channel 1 = −channel 0
	cases := []struct {
		name  string
		layer Layer
		input []int
		x     []float64
		want  []float64
	}{
		// 2×2 windows: {0,1,4,5} {2,3,6,7} {8,9,12,13} {10,11,14,15}.
		{"max2d", &MaxPooling2D{}, []int{4, 4, 1}, grid4, []float64{5, 7, 13, 15}},
		{"avg2d", &AveragePooling2D{}, []int{4, 4, 1}, grid4, []float64{2.5, 4.5, 10.5, 12.5}},
		// 3×3 windows, stride 2, "same": TF pads 1 row and column at the
		// end; windows rows {0,1,2} and {2,3}, columns likewise.
		{"max2d_same", &MaxPooling2D{PoolSize: []int{3}, Strides: []int{2}, Padding: "same"}, []int{4, 4, 1}, grid4,
			[]float64{10, 11, 14, 15}},
		// The padding is not counted: the window rows {0,1,2} × columns
		// {2,3} averages 6 entries, mean 4·1 + 2.5 (not their sum / 9).
		{"avg2d_same", &AveragePooling2D{PoolSize: []int{3}, Strides: []int{2}, Padding: "same"}, []int{4, 4, 1}, grid4,
			[]float64{5, 6.5, 11, 12.5}},
		// Rows {0,1,2} {1,2,3}, columns {0,1} {2,3}.
		{"max2d_rect", &MaxPooling2D{PoolSize: []int{3, 2}, Strides: []int{1, 2}}, []int{4, 4, 1}, grid4, []float64{9, 11, 13, 15}},
		{"global_max2d", &GlobalMaxPooling2D{}, []int{4, 4, 1}, grid4, []float64{15}},
		{"global_avg2d", &GlobalAveragePooling2D{}, []int{4, 4, 1}, grid4, []float64{7.5}},
		{"max1d", &MaxPooling1D{}, []int{5, 1}, seq, []float64{3, 4}},
		{"max1d_same", &MaxPooling1D{Padding: "same"}, []int{5, 1}, seq, []float64{3, 4, 5}},
		{"avg1d_same", &AveragePooling1D{Padding: "same"}, []int{5, 1}, seq, []float64{2, 2.5, 5}},
		{"max1d_size3_stride1", &MaxPooling1D{PoolSize: 3, Strides: 1}, []int{5, 1}, seq, []float64{4, 4, 5}},
		{"avg1d_size3_stride1", &AveragePooling1D{PoolSize: 3, Strides: 1}, []int{5, 1}, seq, []float64{8.0 / 3, 2, 10.0 / 3}},
		{"global_max1d", &GlobalMaxPooling1D{}, []int{5, 1}, seq, []float64{5}},
		{"global_avg1d", &GlobalAveragePooling1D{}, []int{5, 1}, seq, []float64{2.8}},
		// Channels pool separately: the maximum of −x is −min x.
		{"max1d_channels", &MaxPooling1D{PoolSize: 3}, []int{3, 2}, two, []float64{3, -1}},
		{"global_max1d_channels", &GlobalMaxPooling1D{}, []int{3, 2}, two, []float64{3, -1}},
		{"global_avg1d_channels", &GlobalAveragePooling1D{}, []int{3, 2}, two, []float64{2, -2}},
		// (1, 2, 2): [[1 2] [3 4]].
		{"pad_top0_bottom1_left2_right0", &ZeroPadding2D{Padding: []int{0, 1, 2, 0}}, []int{2, 2, 1}, []float64{1, 2, 3, 4},
			[]float64{0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0}},
		{"pad_rows1_columns0", &ZeroPadding2D{Padding: []int{1, 0}}, []int{2, 2, 1}, []float64{1, 2, 3, 4},
			[]float64{0, 0, 1, 2, 3, 4, 0, 0}},
		{"upsample_1_2", &UpSampling2D{Size: []int{1, 2}}, []int{2, 2, 1}, []float64{1, 2, 3, 4},
			[]float64{1, 1, 2, 2, 3, 3, 4, 4}},
		{"upsample_2_1_channels", &UpSampling2D{Size: []int{2, 1}}, []int{1, 3, 2}, two,
			[]float64{1, -1, 2, -2, 3, -3, 1, -1, 2, -2, 3, -3}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			// A fresh layer per dtype: a layer belongs to one model.
			l, err := newLayer(ClassName(c.layer))
			if err != nil {
				t.Fatal(err)
			}
			copyConfig(t, c.layer, l)
			m := oneLayerModel(t, l, c.input, dt)
			y, err := m.Predict(denseOf(dt, c.x, append([]int{1}, c.input...)...))
			if err != nil {
				t.Fatalf("%s: %+v", c.name, err)
			}
			if err := closeTo(floatsOf(y), c.want, 1e-6, 1e-6); err != nil {
				t.Errorf("%s %v: got %v, want %v: %v", c.name, dt, floatsOf(y), c.want, err)
			}
		}
	}
}

// TestPoolingBadInput: pooling, padding and up-sampling layers reject bad
// configurations and inputs with an error naming the layer and the value.
func TestPoolingBadInput(t *testing.T) {
	cases := []struct {
		name  string
		input []int
		layer Layer
		want  []string
	}{
		{"MaxPooling2D window larger than the input", []int{4, 6, 1}, &MaxPooling2D{PoolSize: []int{5}},
			[]string{`layer "max_pooling2d" (MaxPooling2D)`, "window of 5", "input of 4"}},
		{"AveragePooling2D window wider than the input", []int{4, 2, 1}, &AveragePooling2D{PoolSize: []int{2, 3}, Name: "avg"},
			[]string{`layer "avg" (AveragePooling2D)`, "window of 3", "input of 2"}},
		{"MaxPooling1D window longer than the input", []int{3, 2}, &MaxPooling1D{PoolSize: 4},
			[]string{`layer "max_pooling1d" (MaxPooling1D)`, "window of 4", "input of 3"}},
		{"AveragePooling1D window longer than the input", []int{5, 2}, &AveragePooling1D{PoolSize: 6},
			[]string{`layer "average_pooling1d" (AveragePooling1D)`, "window of 6", "input of 5"}},
		{"MaxPooling2D on sequences", []int{8, 3}, &MaxPooling2D{},
			[]string{`(MaxPooling2D)`, "(height, width, channels)", "(None, 8, 3)"}},
		{"MaxPooling1D on images", []int{4, 4, 1}, &MaxPooling1D{},
			[]string{`(MaxPooling1D)`, "(steps, channels)", "(None, 4, 4, 1)"}},
		{"GlobalAveragePooling2D on sequences", []int{5, 3}, &GlobalAveragePooling2D{},
			[]string{`layer "global_average_pooling2d" (GlobalAveragePooling2D)`, "(None, 5, 3)"}},
		{"GlobalMaxPooling1D on images", []int{5, 3, 2}, &GlobalMaxPooling1D{},
			[]string{`(GlobalMaxPooling1D)`, "(None, 5, 3, 2)"}},
		{"MaxPooling2D causal padding", []int{4, 4, 1}, &MaxPooling2D{Padding: "causal"},
			[]string{`(MaxPooling2D)`, `"causal"`}},
		{"AveragePooling1D bad padding", []int{4, 1}, &AveragePooling1D{Padding: "full"},
			[]string{`(AveragePooling1D)`, `"full"`}},
		{"MaxPooling2D negative strides", []int{4, 4, 1}, &MaxPooling2D{Strides: []int{-1, 2}},
			[]string{`(MaxPooling2D)`, "strides must be positive", "[-1 2]"}},
		{"AveragePooling2D zero pool size", []int{4, 4, 1}, &AveragePooling2D{PoolSize: []int{2, 0}},
			[]string{`(AveragePooling2D)`, "pool_size must be positive", "[2 0]"}},
		{"MaxPooling1D negative strides", []int{4, 1}, &MaxPooling1D{Strides: -1},
			[]string{`(MaxPooling1D)`, "-1"}},
		{"AveragePooling1D negative pool size", []int{4, 1}, &AveragePooling1D{PoolSize: -2},
			[]string{`(AveragePooling1D)`, "-2"}},
		{"ZeroPadding2D three numbers", []int{4, 4, 1}, &ZeroPadding2D{Padding: []int{1, 2, 3}},
			[]string{`layer "zero_padding2d" (ZeroPadding2D)`, "1, 2 or 4 numbers", "[1 2 3]"}},
		{"ZeroPadding2D negative", []int{4, 4, 1}, &ZeroPadding2D{Padding: []int{1, -1}},
			[]string{`(ZeroPadding2D)`, "negative", "[1 -1]"}},
		{"ZeroPadding2D on sequences", []int{4, 1}, &ZeroPadding2D{},
			[]string{`(ZeroPadding2D)`, "(None, 4, 1)"}},
		{"UpSampling2D zero size", []int{4, 4, 1}, &UpSampling2D{Size: []int{0}},
			[]string{`layer "up_sampling2d" (UpSampling2D)`, "size must be positive"}},
		{"UpSampling2D three numbers", []int{4, 4, 1}, &UpSampling2D{Size: []int{1, 2, 3}},
			[]string{`(UpSampling2D)`, "[1 2 3]"}},
	}
	for _, c := range cases {
		err := noPanic(t, c.name, func() error {
			return NewSequential(&Input{Shape: c.input}, c.layer).Err()
		})
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to contain %q", c.name, err, w)
			}
		}
	}
	// A window larger than the input is fine with "same" padding: one
	// output per axis, as in Keras.
	m := NewSequential(&Input{Shape: []int{3, 2, 1}}, &MaxPooling2D{PoolSize: []int{5}, Padding: "same"})
	if err := m.Err(); err != nil {
		t.Errorf("MaxPooling2D 5×5 \"same\" on 3×2: %+v", err)
	} else if got := m.Outputs()[0].Shape(); !got.Equal(Shape{1, 1, 1}) {
		t.Errorf("MaxPooling2D 5×5 \"same\" on 3×2: output %v, want (None, 1, 1, 1)", got)
	}
}

// copyConfig copies the exported configuration of src into dst, a fresh
// layer of the same class, through its JSON form (as Load does).
func copyConfig(t *testing.T, src, dst Layer) {
	t.Helper()
	raw, err := json.Marshal(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		t.Fatal(err)
	}
}
