package keras

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/keragon/keragon/keras/tree"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// zooModel is a small saved model: the files the hostile-file tests and
// the structured fuzzer start from. Together the models use every layer
// class Keragon registers.
type zooModel struct {
	name string
	file []byte
}

var (
	zooOnce  sync.Once
	zooFiles []zooModel
	zooErr   error
)

// zoo returns the saved models, built once per test binary.
func zoo(t testing.TB) []zooModel {
	t.Helper()
	zooOnce.Do(func() { zooFiles, zooErr = buildZoo() })
	if zooErr != nil {
		t.Fatalf("building the zoo: %+v", zooErr)
	}
	return zooFiles
}

// zooFile returns the file of the zoo model called name.
func zooFile(t testing.TB, name string) []byte {
	t.Helper()
	for _, z := range zoo(t) {
		if z.name == name {
			return z.file
		}
	}
	t.Fatalf("no zoo model %q", name)
	return nil
}

func buildZoo() ([]zooModel, error) {
	seq := func(layers ...Layer) func() (*Model, error) {
		return func() (*Model, error) { m := NewSequential(layers...); return m, m.Err() }
	}
	// sum2 applies two layers to x and adds their outputs.
	sum2 := func(in *Tensor, a, b Layer, head Layer) func() (*Model, error) {
		return func() (*Model, error) {
			return NewModel([]*Tensor{in}, []*Tensor{Apply(head, Apply(&saveTestSum{}, Apply(a, in), Apply(b, in)))})
		}
	}
	enc := tree.Encoder{MaxNodes: 5, MaxChildren: 2, MaxHeight: 2, MaxWidth: 1}
	treeModel := func() (*Model, error) {
		tok, st := NewInput(enc.MaxNodes), NewInput(enc.StructureShape()...)
		h1 := Apply(&TreeLSTM{Units: 3}, Apply(&Embedding{InputDim: 10, OutputDim: 4}, tok), st)
		h2 := Apply(&TreeRNN{Units: 3, VocabSize: 10}, tok, st)
		return NewModel([]*Tensor{tok, st}, []*Tensor{Apply(&Dense{Units: 2}, Apply(&saveTestSum{}, h1, h2))})
	}
	merge := func() (*Model, error) {
		a, b := NewInput(4, 3), NewInput(4, 3)
		h := Apply(&Concatenate{}, Apply(&Add{}, a, b), Apply(&Subtract{}, a, b), Apply(&Multiply{}, a, b),
			Apply(&Average{}, a, b), Apply(&Maximum{}, a, b), Apply(&Minimum{}, a, b))
		d := Apply(&Dot{Axes: []int{2}}, h, h)
		return NewModel([]*Tensor{a, b}, []*Tensor{Apply(&Dense{Units: 1}, Apply(&Flatten{}, d))})
	}
	attention := func() (*Model, error) {
		ids := NewInput(5)
		h := Apply(&TokenAndPositionEmbedding{VocabularySize: 9, SequenceLength: 5, EmbeddingDim: 4, MaskZero: true}, ids)
		h = Apply(&saveTestSum{}, h, Apply(&PositionEmbedding{SequenceLength: 6}, h))
		h = Apply(&saveTestSum{}, h, Apply(&SinePositionEncoding{}, h))
		return NewModel([]*Tensor{ids}, []*Tensor{Apply(&Dense{Units: 1}, Apply(&GlobalAveragePooling1D{}, h))})
	}
	mha := func() (*Model, error) {
		x := NewInput(5, 4)
		h := Apply(&MultiHeadAttention{NumHeads: 2, KeyDim: 2, UseCausalMask: true}, x, x)
		return NewModel([]*Tensor{x}, []*Tensor{Apply(&Dense{Units: 1}, Apply(&GlobalAveragePooling1D{}, h))})
	}
	preprocess := func() (*Model, error) {
		s := Apply(&Input{Shape: []int{}, Dtype: "string"})
		codes, num := NewInput(2), NewInput(1)
		norm := &Normalization{}
		h := Apply(&Concatenate{},
			Apply(&StringLookup{Vocabulary: []string{"a", "b"}, OutputMode: "one_hot"}, s),
			Apply(&IntegerLookup{Vocabulary: []int{3, 5}, OutputMode: "multi_hot"}, codes),
			Apply(&CategoryEncoding{NumTokens: 3}, Apply(&Discretization{BinBoundaries: []float64{0, 1}}, num)),
			Apply(norm, num), Apply(&Rescaling{Scale: 0.5}, num))
		return NewModel([]*Tensor{s, codes, num}, []*Tensor{Apply(&Dense{Units: 1}, h)})
	}
	specs := []struct {
		name    string
		build   func() (*Model, error)
		compile bool
	}{
		{"merge", merge, false},
		{"attention", attention, false},
		{"mha", mha, true},
		{"preprocess", preprocess, false},
		{"augment", seq(&Input{Shape: []int{6, 6, 2}}, &RandomFlip{}, &RandomRotation{Factor: []float64{0.1}},
			&RandomTranslation{HeightFactor: []float64{0.1}, WidthFactor: []float64{0.1}}, &RandomZoom{HeightFactor: []float64{0.1}},
			&RandomContrast{Factor: []float64{0.2}}, &SeparableConv2D{Filters: 2, KernelSize: []int{3}},
			&Conv2DTranspose{Filters: 2, KernelSize: []int{2}, Strides: []int{2}, OutputPadding: []int{1}}, &Flatten{}, &Dense{Units: 1}), false},
		{"transpose1d", seq(&Input{Shape: []int{6, 3}}, &Conv1DTranspose{Filters: 2, KernelSize: 3, Strides: 2},
			&GlobalAveragePooling1D{}, &Dense{Units: 1}), false},
		{"mlp", seq(&Input{Shape: []int{6}}, &Dense{Units: 8, Activation: "relu"}, &BatchNormalization{}, &LayerNormalization{},
			&Dropout{Rate: 0.1}, &Activation{Activation: "tanh"}, &LeakyReLU{}, &Dense{Units: 3, Activation: "softmax"}), true},
		{"conv", seq(&Input{Shape: []int{8, 8, 2}}, &ZeroPadding2D{Padding: []int{1}}, &Conv2D{Filters: 4, KernelSize: []int{3}},
			&DepthwiseConv2D{KernelSize: []int{3}}, &MaxPooling2D{}, &UpSampling2D{}, &AveragePooling2D{}, &Reshape{TargetShape: []int{9, 4}},
			&Flatten{}, &Dense{Units: 3}), false},
		{"global2d", sum2(NewInput(5, 5, 2), &GlobalMaxPooling2D{}, &GlobalAveragePooling2D{}, &Dense{Units: 2}), false},
		{"seq1d", seq(&Input{Shape: []int{12, 3}}, &Conv1D{Filters: 4, KernelSize: 3}, &MaxPooling1D{}, &AveragePooling1D{PoolSize: 1},
			&GlobalMaxPooling1D{}, &Dense{Units: 2}), false},
		{"global1d", sum2(NewInput(6, 3), &GlobalAveragePooling1D{}, &GlobalMaxPooling1D{}, &Dense{Units: 1}), false},
		{"rnn", seq(&Input{Shape: []int{5}}, &Embedding{InputDim: 10, OutputDim: 4, MaskZero: true}, &LSTM{Units: 3, ReturnSequences: true},
			&GRU{Units: 3, ReturnSequences: true}, &SimpleRNN{Units: 2}, &Dense{Units: 1}), true},
		{"wrappers", seq(&Input{Shape: []int{4, 3}}, &Masking{}, &Bidirectional{Layer: &LSTM{Units: 2, ReturnSequences: true}},
			&TimeDistributed{Layer: &Dense{Units: 2}}, &Flatten{}, &Dense{Units: 1}), false},
		{"tree", treeModel, true},
	}
	var out []zooModel
	for _, s := range specs {
		m, err := s.build()
		if err != nil {
			return nil, errors.WithMessage(err, s.name)
		}
		m.SetSeed(1)
		if s.compile {
			if err := m.Compile(CompileConfig{Optimizer: &training.Adam{}, Loss: "mse"}); err != nil {
				return nil, errors.WithMessage(err, s.name)
			}
		}
		var buf bytes.Buffer
		if err := m.SaveTo(&buf); err != nil {
			return nil, errors.WithMessage(err, s.name)
		}
		out = append(out, zooModel{s.name, buf.Bytes()})
	}
	return out, nil
}

// layerConfigOf returns the config of the layer called name in a generic
// architecture.
func layerConfigOf(arch map[string]any, name string) map[string]any {
	for _, l := range arch["layers"].([]any) {
		if l := l.(map[string]any); l["name"] == name {
			return l["config"].(map[string]any)
		}
	}
	panic("no layer " + name)
}

// nested returns the config of the layer a wrapper's config wraps.
func nested(cfg map[string]any) map[string]any {
	return cfg["layer"].(map[string]any)["config"].(map[string]any)
}

// TestLoadHostileConfigs edits one number of a saved model of every
// registered layer class into something hostile: Load must refuse it with
// a clear error, without a panic and without trying to allocate or build
// what the number asks for (a huge allocation would kill the test binary,
// and its run time would show a huge graph).
func TestLoadHostileConfigs(t *testing.T) {
	huge := 1 << 40
	set := func(layer, field string, v any) func(map[string]any) {
		return func(a map[string]any) { layerConfigOf(a, layer)[field] = v }
	}
	cases := []struct {
		class, model string
		edit         func(arch map[string]any)
		want         string
		limit        bool // errors.Is(err, ErrLoadLimit)
	}{
		{"Input", "mlp", set("input_layer", "shape", []int{huge}), `layer "input_layer" (Input): config field shape[0] is 1099511627776, more than LoadOptions.MaxDim allows (16777216)`, true},
		{"Input", "mlp", set("input_layer", "shape", []int{1 << 24, 9}), `layer "input_layer" (Input) output 0 has shape (None, 16777216, 9), which brings the values per sample`, true},
		{"Input", "mlp", set("input_layer", "shape", []int{1 << 14, 1 << 14}), "brings the values per sample of all layer outputs to more than 134217728, more than LoadOptions.MaxActivations", true},
		{"Input", "conv", set("input_layer", "shape", []int{8, 8, 2, 1, 1, 1, 1, 1, 1}), "has 9 axes, more than LoadOptions.MaxRank allows (8)", true},
		{"Input", "mlp", set("input_layer", "shape", []int{0}), "Input shape must be positive, got [0]", false},
		{"Dense", "mlp", set("dense", "units", huge), `layer "dense" (Dense): config field units is 1099511627776, more than LoadOptions.MaxDim`, true},
		{"Dense", "mlp", set("dense", "units", 0), "Dense needs a positive Units, got 0", false},
		{"BatchNormalization", "mlp", set("batch_normalization", "momentum", 2), "momentum < 1", false},
		{"LayerNormalization", "mlp", set("layer_normalization", "epsilon", -1), "epsilon >= 0", false},
		{"Dropout", "mlp", set("dropout", "rate", 1.5), "rate must be in [0, 1), got 1.5", false},
		{"Activation", "mlp", set("activation", "activation", "nope"), `"nope"`, false},
		{"LeakyReLU", "mlp", set("leaky_re_lu", "negative_slope", -1), "slope must be >= 0", false},
		{"ZeroPadding2D", "conv", set("zero_padding2d", "padding", []int{1 << 23}), "output 0 has shape (None, 16777224, 16777224, 2), more than LoadOptions.MaxDim", true},
		{"ZeroPadding2D", "conv", set("zero_padding2d", "padding", []int{1 << 12}), "more than LoadOptions.MaxActivations", true},
		{"ZeroPadding2D", "conv", set("zero_padding2d", "padding", []int{-1}), "padding must not be negative", false},
		{"Conv2D", "conv", set("conv2d", "filters", huge), "config field filters is 1099511627776", true},
		{"Conv2D", "conv", set("conv2d", "kernel_size", []int{1 << 30}), "config field kernel_size[0] is 1073741824", true},
		{"Conv2D", "conv", set("conv2d", "strides", []int{-3}), "strides must be positive", false},
		{"Conv2D", "conv", set("conv2d", "kernel_size", []int{1 << 20}), "does not fit an input of 10", false},
		{"DepthwiseConv2D", "conv", set("depthwise_conv2d", "depth_multiplier", huge), "config field depth_multiplier is 1099511627776", true},
		{"DepthwiseConv2D", "conv", set("depthwise_conv2d", "dilation_rate", []int{1 << 22}), "does not fit", false},
		{"MaxPooling2D", "conv", func(a map[string]any) {
			set("max_pooling2d", "pool_size", []int{1 << 20})(a)
			set("max_pooling2d", "padding", "same")(a)
		}, "has a pooling window of [1048576 1048576] for inputs of shape (None, 6, 6, 4): Load refuses windows larger than their input", true},
		{"UpSampling2D", "conv", set("up_sampling2d", "size", []int{6148914691236517206}), "config field size[0] is 6148914691236517206", true},
		{"UpSampling2D", "conv", set("up_sampling2d", "size", []int{1 << 12}), "more than LoadOptions.MaxActivations", true},
		{"AveragePooling2D", "conv", func(a map[string]any) {
			set("average_pooling2d", "pool_size", []int{7})(a)
			set("average_pooling2d", "padding", "same")(a)
		}, "pooling window of [7 7]", true},
		{"Reshape", "conv", set("reshape", "target_shape", []int{1 << 20, 1 << 20, 1 << 20, 1 << 20}), "cannot reshape", false},
		{"Reshape", "conv", set("reshape", "target_shape", []int{huge}), "config field target_shape[0] is 1099511627776", true},
		{"Flatten", "conv", set("flatten", "data_format", "channels_first"), `unknown field "data_format"`, false},
		{"GlobalMaxPooling2D", "global2d", set("global_max_pooling2d", "axis", 1), `unknown field "axis"`, false},
		{"GlobalAveragePooling2D", "global2d", set("global_average_pooling2d", "keepdims", true), `unknown field "keepdims"`, false},
		{"Conv1D", "seq1d", set("conv1d", "kernel_size", huge), "config field kernel_size is 1099511627776", true},
		{"Conv1D", "seq1d", set("conv1d", "dilation_rate", 1<<24), "does not fit", false},
		{"MaxPooling1D", "seq1d", func(a map[string]any) {
			set("max_pooling1d", "pool_size", 1<<24)(a)
			set("max_pooling1d", "padding", "same")(a)
		}, "pooling window of [16777216] for inputs of shape (None, 10, 4)", true},
		{"AveragePooling1D", "seq1d", set("average_pooling1d", "strides", -1), "must be positive", false},
		{"GlobalMaxPooling1D", "seq1d", set("global_max_pooling1d", "data_format", "x"), "unknown field", false},
		{"GlobalAveragePooling1D", "global1d", set("global_average_pooling1d", "axis", 1), "unknown field", false},
		{"Embedding", "rnn", set("embedding", "input_dim", huge), "config field input_dim is 1099511627776", true},
		{"Embedding", "rnn", set("embedding", "output_dim", 1<<20), `weight "embedding/embeddings" has shape [10 4] in the file, the model's layer makes [10 1048576]`, false},
		{"LSTM", "rnn", set("lstm", "units", huge), "config field units is 1099511627776", true},
		{"LSTM", "rnn", set("input_layer", "shape", []int{1 << 20}), `layer "lstm" (LSTM) unrolls 1048576 time steps or tree levels, more than LoadOptions.MaxSteps allows (4096)`, true},
		{"GRU", "rnn", set("input_layer", "shape", []int{3000}), `layer "gru" (GRU) unrolls 3000 time steps or tree levels, 6000 with the layers before it, more than LoadOptions.MaxSteps`, true},
		{"SimpleRNN", "rnn", set("simple_rnn", "units", -1), "positive Units, got -1", false},
		{"Masking", "wrappers", set("masking", "mask_value", "x"), "cannot unmarshal string", false},
		{"Bidirectional", "wrappers", set("input_layer", "shape", []int{2049, 3}), `layer "bidirectional" (Bidirectional) unrolls 4098 time steps`, true},
		{"Bidirectional", "wrappers", func(a map[string]any) { nested(layerConfigOf(a, "bidirectional"))["units"] = huge }, "config field layer.units is 1099511627776", true},
		{"TimeDistributed", "wrappers", func(a map[string]any) { nested(layerConfigOf(a, "time_distributed"))["units"] = huge }, "config field layer.units is 1099511627776", true},
		{"TimeDistributed", "wrappers", func(a map[string]any) {
			cfg := layerConfigOf(a, "time_distributed")
			inner := cfg["layer"]
			for range 10 {
				inner = map[string]any{"class_name": "TimeDistributed", "config": map[string]any{"layer": inner}}
			}
			cfg["layer"] = inner
		}, "more than LoadOptions.MaxConfigDepth allows (16)", true},
		{"TreeLSTM", "tree", set("tree_lstm", "arity", huge), "config field arity is 1099511627776", true},
		{"TreeLSTM", "tree", set("input_layer_1", "shape", []int{1 << 20, 1, 3}), `layer "tree_lstm" (TreeLSTM) unrolls 1048576 time steps or tree levels`, true},
		{"TreeRNN", "tree", set("tree_rnn", "vocab_size", huge), "config field vocab_size is 1099511627776", true},
		{"TreeRNN", "tree", set("tree_rnn", "arity", -1), "Arity ≥ 0", false},
		{"Add", "merge", set("add", "axis", 1), `unknown field "axis"`, false},
		{"Subtract", "merge", set("subtract", "axis", 1), `unknown field "axis"`, false},
		{"Multiply", "merge", set("multiply", "axis", 1), `unknown field "axis"`, false},
		{"Average", "merge", set("average", "axis", 1), `unknown field "axis"`, false},
		{"Maximum", "merge", set("maximum", "axis", 1), `unknown field "axis"`, false},
		{"Minimum", "merge", set("minimum", "axis", 1), `unknown field "axis"`, false},
		{"Concatenate", "merge", set("concatenate", "axis", huge), "config field axis is 1099511627776", true},
		{"Concatenate", "merge", set("concatenate", "axis", 7), "Concatenate axis 7 is not a sample axis", false},
		{"Dot", "merge", set("dot", "axes", []int{huge}), "config field axes[0] is 1099511627776", true},
		{"Dot", "merge", set("dot", "axes", []int{1, 2, 3}), "axes must be one or two numbers", false},
		{"TokenAndPositionEmbedding", "attention", set("token_and_position_embedding", "vocabulary_size", huge), "config field vocabulary_size is 1099511627776", true},
		{"PositionEmbedding", "attention", set("position_embedding", "sequence_length", 2), "longer than SequenceLength 2", false},
		{"SinePositionEncoding", "attention", set("sine_position_encoding", "max_wavelength", "x"), "cannot unmarshal string", false},
		{"MultiHeadAttention", "mha", set("multi_head_attention", "num_heads", huge), "config field num_heads is 1099511627776", true},
		// Few weights, but the attention weights of 2 heads over 2¹³ steps
		// would be 2·2²⁶ values per sample.
		{"MultiHeadAttention", "mha", set("input_layer", "shape", []int{1 << 13, 4}), `layer "multi_head_attention" (MultiHeadAttention) computes`, true},
		{"StringLookup", "preprocess", set("string_lookup", "num_oov_indices", 2), "0 or 1 OOV indices", false},
		{"IntegerLookup", "preprocess", func(a map[string]any) {
			set("integer_lookup", "max_tokens", huge)(a)
			set("integer_lookup", "pad_to_max_tokens", true)(a)
		}, "config field max_tokens is 1099511627776", true},
		{"IntegerLookup", "preprocess", func(a map[string]any) {
			set("integer_lookup", "max_tokens", 1<<24)(a)
			set("integer_lookup", "pad_to_max_tokens", true)(a)
		}, "more than LoadOptions.MaxDim", true},
		{"CategoryEncoding", "preprocess", set("category_encoding", "num_tokens", huge), "config field num_tokens is 1099511627776", true},
		{"Discretization", "preprocess", set("discretization", "bin_boundaries", []float64{2, 1}), "not sorted", false},
		{"Normalization", "preprocess", set("normalization", "mean", []float64{1, 2}), "both Mean and Variance", false},
		{"Rescaling", "preprocess", set("rescaling", "scale", 0), "non-zero Scale", false},
		{"RandomFlip", "augment", set("random_flip", "mode", "diagonal"), `mode "diagonal"`, false},
		{"RandomRotation", "augment", set("random_rotation", "factor", []float64{5}), "each number must be in [-1, 1]", false},
		{"RandomTranslation", "augment", set("random_translation", "height_factor", []float64{}), "one number or two", false},
		{"RandomZoom", "augment", set("random_zoom", "fill_mode", "mirror"), `fill mode "mirror"`, false},
		{"RandomContrast", "augment", set("random_contrast", "value_range", []float64{1, 0}), "min < max", false},
		{"SeparableConv2D", "augment", set("separable_conv2d", "depth_multiplier", huge), "config field depth_multiplier is 1099511627776", true},
		{"Conv2DTranspose", "augment", set("conv2d_transpose", "output_padding", []int{5}), "less than the stride 2", false},
		{"Conv2DTranspose", "augment", set("conv2d_transpose", "strides", []int{1 << 23}), "more than LoadOptions.MaxDim", true},
		{"Conv1DTranspose", "transpose1d", set("conv1d_transpose", "kernel_size", huge), "config field kernel_size is 1099511627776", true},
	}
	covered := map[string]bool{}
	for i, c := range cases {
		covered[c.class] = true
		data := editArch(t, zooFile(t, c.model), c.edit)
		var m *Model
		err := noPanic(t, c.class, func() (err error) {
			m, err = decodeModel(data)
			return err
		})
		if err == nil {
			t.Errorf("%d %s: Load gave no error (model %s)", i, c.class, m.Name())
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %s: got %q, want it to contain %q", i, c.class, err, c.want)
		}
		if errors.Is(err, ErrLoadLimit) != c.limit {
			t.Errorf("%d %s: errors.Is(err, ErrLoadLimit) = %v, want %v (%v)", i, c.class, !c.limit, c.limit, err)
		}
		if strings.Contains(err.Error(), panicMessage) {
			t.Errorf("%d %s: a recovered panic: %v", i, c.class, err)
		}
	}
	// Every layer class Keragon registers has a hostile case above: a new
	// class must be reviewed for what its config can make Load do.
	registryMu.RLock()
	var missing []string
	for class := range registry {
		if !covered[class] && !testOnlyClasses[class] {
			missing = append(missing, class)
		}
	}
	registryMu.RUnlock()
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("registered layer classes without a hostile-config case: %v", missing)
	}
}

// testOnlyClasses are registered by tests only.
var testOnlyClasses = map[string]bool{"saveTestSum": true, "twoHeads": true}

// TestLoadCraftedRecurrent: the 2 KB files of issue 11, a recurrent layer
// whose saved input shape has 2^40 or 2^20 steps, are refused at once
// (before: a fatal 8 TB allocation, or minutes unrolling the graph), and
// a file just over the step limit loads once the limit is raised.
func TestLoadCraftedRecurrent(t *testing.T) {
	for _, class := range []string{"SimpleRNN", "LSTM", "GRU"} {
		for _, compiled := range []bool{false, true} {
			for _, steps := range []int{1 << 40, 1 << 20, 4097} {
				data := craftedRecurrent(t, class, compiled, steps)
				what := fmt.Sprintf("%s compiled=%v steps=%d", class, compiled, steps)
				if len(data) > 2048 {
					t.Errorf("%s: the crafted file has %d bytes, want ≤ 2 KB", what, len(data))
				}
				_, err := decodeModel(data)
				want := fmt.Sprintf("unrolls %d time steps", steps)
				if steps > 1<<24 {
					want = fmt.Sprintf("config field shape[0] is %d, more than LoadOptions.MaxDim", steps)
				}
				if !errors.Is(err, ErrLoadLimit) || !strings.Contains(fmt.Sprint(err), want) {
					t.Errorf("%s: got %v, want ErrLoadLimit with %q", what, err, want)
				}
			}
		}
		m, err := LoadOptions{MaxSteps: 4097}.decode(bytes.NewReader(craftedRecurrent(t, class, false, 4097)), -1)
		if err != nil {
			t.Errorf("%s with 4097 steps and MaxSteps 4097: %v", class, err)
		} else if got := m.Inputs()[0].Shape(); !got.Equal(Shape{4097, 2}) {
			t.Errorf("%s with 4097 steps: input shape %v", class, got)
		}
	}
}

// craftedRecurrent is a saved Input(3, 2) → class(Units 2) → Dense(1)
// whose input shape is rewritten to (steps, 2).
func craftedRecurrent(t *testing.T, class string, compiled bool, steps int) []byte {
	t.Helper()
	l, err := newLayer(class)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"units": 2}`), l); err != nil {
		t.Fatal(err)
	}
	m := NewSequential(&Input{Shape: []int{3, 2}}, l, &Dense{Units: 1})
	m.SetSeed(1)
	if compiled {
		if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := m.SaveTo(&buf); err != nil {
		t.Fatal(err)
	}
	return editArch(t, buf.Bytes(), func(a map[string]any) { archLayer(a, 0)["config"].(map[string]any)["shape"] = []int{steps, 2} })
}

func TestLoadOptions(t *testing.T) {
	def := DefaultLoadOptions()
	if got, err := (LoadOptions{}).resolve(); err != nil || got != def {
		t.Errorf("zero LoadOptions resolve to %+v (%v), want the defaults %+v", got, err, def)
	}
	if got, _ := (LoadOptions{MaxSteps: 7}).resolve(); got.MaxSteps != 7 || got.MaxDim != def.MaxDim {
		t.Errorf("MaxSteps 7 resolves to %+v", got)
	}
	data := zooFile(t, "mlp")
	_, err := LoadOptions{MaxDim: -1}.LoadFrom(bytes.NewReader(data))
	if want := "keras: LoadFrom: keras: LoadOptions.MaxDim is -1; want 0 (the default, 16777216) or a positive limit"; err == nil || err.Error() != want {
		t.Errorf("negative MaxDim: got %v, want %q", err, want)
	}
	// Each limit, set just below what the model needs, refuses it.
	cases := []struct {
		opt  LoadOptions
		want string
	}{
		{LoadOptions{MaxHeaderBytes: 100}, "(LoadOptions.MaxHeaderBytes)"},
		{LoadOptions{MaxLayers: 7}, "the architecture has 8 layers, more than LoadOptions.MaxLayers allows (7)"},
		{LoadOptions{MaxDim: 7}, `layer "dense" (Dense): config field units is 8, more than LoadOptions.MaxDim allows (7)`},
		{LoadOptions{MaxDim: 5}, `layer "input_layer" (Input): config field shape[0] is 6, more than LoadOptions.MaxDim allows (5)`},
		{LoadOptions{MaxActivations: 30}, "more than LoadOptions.MaxActivations allows (30)"},
		{LoadOptions{MaxParams: 50}, `weight "dense/bias" of shape [8] brings the model's weight values to more than 50, more than LoadOptions.MaxParams allows (50)`},
		{LoadOptions{MaxRank: 1, MaxConfigDepth: 1}, "more than LoadOptions.MaxConfigDepth allows (1)"},
	}
	for i, c := range cases {
		_, err := c.opt.LoadFrom(bytes.NewReader(data))
		if !errors.Is(err, ErrLoadLimit) || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%d %+v: got %v, want ErrLoadLimit with %q", i, c.opt, err, c.want)
		}
	}
	if _, err := (LoadOptions{MaxSteps: 1}).LoadFrom(bytes.NewReader(zooFile(t, "rnn"))); !errors.Is(err, ErrLoadLimit) || !strings.Contains(err.Error(), `layer "lstm" (LSTM) unrolls 5 time steps or tree levels, more than LoadOptions.MaxSteps allows (1)`) {
		t.Errorf("MaxSteps 1: got %v", err)
	}
	if _, err := (LoadOptions{MaxSteps: 20}).LoadFrom(bytes.NewReader(zooFile(t, "rnn"))); err != nil {
		t.Errorf("MaxSteps 20 (the model unrolls 15): %v", err)
	}
}

// TestLoadZoo: every zoo model loads and predicts.
func TestLoadZoo(t *testing.T) {
	for _, z := range zoo(t) {
		m, err := decodeModel(z.file)
		if err != nil {
			t.Errorf("%s: %+v", z.name, err)
			continue
		}
		if _, err := m.PredictMulti(zeroInputs(m, 2)); err != nil {
			t.Errorf("%s: Predict: %v", z.name, err)
		}
	}
}

// zeroInputs returns zero inputs of batch n for m; a tree structure
// input gets one valid tree (a root with two leaves) per sample, a string
// input empty strings.
func zeroInputs(m *Model, n int) []*tensor.Dense {
	var xs []*tensor.Dense
	for _, in := range m.Inputs() {
		shape := append([]int{n}, in.Shape()...)
		size, ok := shapeSize(shape, math.MaxInt, 1<<24)
		if !ok {
			return nil
		}
		if isStringInput(in.Layer()) { // empty strings: the lookup's OOV index
			x, _ := Strings(make([]string, size), shape...)
			xs = append(xs, x)
			continue
		}
		x := tensor.New(tensor.Of(m.Dtype()), tensor.WithShape(shape...))
		if len(shape) == 4 && shape[3] >= 3 { // a tree structure (levels, width, 1+children)
			v := make([]float64, size)
			for i := range v {
				v[i] = -1
			}
			per, last := size/n, (shape[1]-1)*shape[2]*shape[3]
			for b := range n {
				row := v[b*per+last:]
				row[0], row[1], row[2] = 0, 1, 2 // the root, node 0, with children 1 and 2, in the last level
			}
			for i, f := range v {
				switch d := x.Data().(type) {
				case []float32:
					d[i] = float32(f)
				case []float64:
					d[i] = f
				}
			}
		}
		xs = append(xs, x)
	}
	return xs
}

// TestLoadFromFileKinds: Load reads regular files, and streams (a pipe),
// with the same checks.
func TestLoadFromFileKinds(t *testing.T) {
	data := zooFile(t, "mlp")
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.HasPrefix(err.Error(), "keras: Load "+dir+": ") {
		t.Errorf("Load of a directory: got %v, want an error naming it", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		w.Write([]byte("more"))
		w.Close()
	}()
	if _, err := LoadFrom(r); err != nil {
		t.Errorf("LoadFrom a pipe: %v", err)
	}
	if rest, _ := readAllString(r); rest != "more" {
		t.Errorf("LoadFrom left %q in the pipe, want \"more\"", rest)
	}
	r.Close()
}

func readAllString(f *os.File) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(f)
	return b.String(), err
}

// TestLoadHostileStructure: a file whose architecture or compile config
// is huge in its structure rather than in one number is refused.
func TestLoadHostileStructure(t *testing.T) {
	mlp := zooFile(t, "mlp")
	repeat := func(v any, n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"many applications of one layer", editArch(t, mlp, func(a map[string]any) {
			l := archLayer(a, 1)
			l["inbound"] = repeat(l["inbound"].([]any)[0], 9000)
		}), "the architecture has 9001 layer applications or more, more than LoadOptions.MaxLayers allows (8192)"},
		{"many outputs", editArch(t, mlp, func(a map[string]any) {
			a["outputs"] = repeat(a["outputs"].([]any)[0], 9000)
		}), "the architecture has 9001 inputs and outputs, more than LoadOptions.MaxLayers"},
		{"many layers never applied", editArch(t, mlp, func(a map[string]any) {
			ls := a["layers"].([]any)
			for i := range 9000 {
				ls = append(ls, map[string]any{"class_name": "Dense", "name": fmt.Sprintf("extra_%d", i), "config": map[string]any{"units": 1}, "inbound": []any{}})
			}
			a["layers"] = ls
		}), "the architecture has 9008 layers, more than LoadOptions.MaxLayers"},
		{"deeply nested config", editArch(t, mlp, func(a map[string]any) {
			var v any = 1
			for range 40 {
				v = []any{v}
			}
			archLayer(a, 1)["config"].(map[string]any)["kernel_regularizer"] = map[string]any{"l1": v}
		}), `layer "dense" (Dense): its config nests 42 levels deep, more than LoadOptions.MaxConfigDepth allows (16)`},
		{"many metrics", reencode(t, mlp, func(f *safetensors.File) {
			var cc map[string]any
			if err := json.Unmarshal([]byte(f.Metadata["compile"]), &cc); err != nil {
				t.Fatal(err)
			}
			cc["metrics"] = repeat("accuracy", 100000)
			b, _ := json.Marshal(cc)
			f.Metadata["compile"] = string(b)
		}), "the compile config asks for 100000 metrics over the model's 1 outputs; Load accepts at most 4096"},
		{"much optimizer state", reencode(t, mlp, func(f *safetensors.File) {
			for i := range 10 {
				f.Tensors = append(f.Tensors, safetensors.Float32s(fmt.Sprintf("optimizer/extra%d", i), []int{100}, make([]float32, 100)))
			}
		}), "the optimizer state has more than"},
	}
	for i, c := range cases {
		_, err := decodeModel(c.data)
		if !errors.Is(err, ErrLoadLimit) || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%d %s: got %v, want ErrLoadLimit with %q", i, c.name, err, c.want)
		}
	}
}
