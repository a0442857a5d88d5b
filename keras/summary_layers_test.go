package keras

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
)

// TestSummaryAndDOTShowNewLayers: Summary lists the merge, attention,
// preprocessing and augmentation layers with their shapes and parameter
// counts (long names wrap onto a second line, as in Keras), and the DOT drawing of a training step shows their ops.
func TestSummaryAndDOTShowNewLayers(t *testing.T) {
	ids := NewInput(6)
	h := Apply(&TokenAndPositionEmbedding{VocabularySize: 10, SequenceLength: 6, EmbeddingDim: 8, MaskZero: true}, ids)
	att := Apply(&MultiHeadAttention{NumHeads: 2, KeyDim: 4}, h, h)
	h = Apply(&LayerNormalization{}, Apply(&Add{}, h, att))
	pooled := Apply(&GlobalAveragePooling1D{}, h)
	num := Apply(&Input{Shape: []int{3}, Name: "numbers"})
	joined := Apply(&Concatenate{}, pooled, Apply(&Normalization{}, num))
	out := Apply(&Dense{Units: 2, Activation: "softmax"}, joined)
	m, err := NewModel([]*Tensor{ids, num}, []*Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	var sb bytes.Buffer
	if err := m.Summary(&sb); err != nil {
		t.Fatal(err)
	}
	s := sb.String()
	for _, want := range []string{
		"(TokenAndPositionEmbedding)", "(None, 6, 8)", "128", // 10·8 + 6·8
		"(MultiHeadAttention)", "288", // 3·(8·2·4 + 2·4) + 2·4·8 + 8
		"add (Add)", "concatenate (Concatenate)", "(None, 11)", "(Normalization)",
		"Non-trainable params: 6", // Normalization's mean and variance
	} {
		if !strings.Contains(s, want) {
			t.Errorf("Summary lacks %q:\n%s", want, s)
		}
	}
	var dot bytes.Buffer
	if err := m.WriteDOT(&dot, graph.Fit); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AttentionSoftmax", "BatchMatMul", "Standardize", "multi_head_attention/query/kernel", "∂loss/∂multi_head_attention/query/kernel"} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("the DOT drawing lacks %q", want)
		}
	}
	aug := NewSequential(&Input{Shape: []int{8, 8, 1}}, &RandomRotation{Factor: []float64{0.1}}, &RandomContrast{Factor: []float64{0.2}},
		&SeparableConv2D{Filters: 2, KernelSize: []int{3}}, &Flatten{}, &Dense{Units: 1})
	sb.Reset()
	if err := aug.Summary(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"random_rotation", "(RandomRotation)", "(RandomContrast)", "separable_conv2d", "(SeparableConv2D)", "(None, 6, 6, 2)"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("Summary lacks %q:\n%s", want, sb.String())
		}
	}
	if err := aug.Compile(CompileConfig{Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	dot.Reset()
	if err := aug.WriteDOT(&dot, graph.Fit); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ImageTransform", "AdjustContrast", "random_rotation/transform"} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("the DOT drawing of training lacks %q", want)
		}
	}
}
