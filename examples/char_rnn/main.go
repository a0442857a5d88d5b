// Command char_rnn trains a character-level language model on Isaac
// Newton's Opticks, the English text every Go installation ships
// (keras/datasets.Text): Embedding, LSTM with ReturnSequences, and a
// softmax Dense layer that predicts each next character. The last tenth of
// the text is held out; the command prints the bits per character there
// and a sample generated from a held-out prefix at -temperature.
//
// Training windows are -seq characters long, each step predicting the
// next character. Bits per character are measured over the held-out text
// with windows that overlap by half: every character is scored once, with
// at least seq/2 characters of context (except at the very start).
//
// The last line printed is one JSON object with the results.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

func main() {
	epochs := flag.Int("epochs", 5, "training epochs")
	batch := flag.Int("batch", 32, "batch size")
	seqLen := flag.Int("seq", 64, "characters per training window (steps of the unrolled LSTM)")
	units := flag.Int("units", 256, "LSTM units")
	embed := flag.Int("embed", 32, "character embedding size")
	lr := flag.Float64("lr", 2e-3, "Adam learning rate")
	seed := flag.Uint64("seed", 1, "random seed (weights, shuffling, sampling)")
	verbose := flag.Int("verbose", 1, "0 silent, 1 progress bar, 2 one line per epoch")
	temperature := flag.Float64("temperature", 0.7, "sampling temperature: lower is more conservative, 1 samples the model's distribution")
	generate := flag.Int("generate", 400, "characters to generate")
	trainChars := flag.Int("train", 0, "train on only the first N characters of the training text (0: all)")
	save := flag.String("save", "", "save the trained model to this file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of training to this file")
	flag.Parse()
	if *seqLen < 2 || !(*temperature > 0) {
		check(fmt.Errorf("-seq must be at least 2 and -temperature positive, got %d and %v", *seqLen, *temperature))
	}

	text, err := datasets.Text()
	check(err)
	chars, index := datasets.CharVocab(text)
	ids := make([]float64, 0, len(text))
	for _, r := range text {
		ids = append(ids, float64(index[r]))
	}
	split := len(ids) * 9 / 10
	train, heldout := ids[:split], ids[split:]
	if *trainChars > 0 && *trainChars < len(train) {
		train = train[:*trainChars]
	}
	x, y := windows(train, *seqLen, *seqLen)
	fmt.Printf("%d characters (%d distinct): %d to train on in %d windows of %d, %d held out\n",
		len(ids), len(chars), len(train), x.Shape()[0], *seqLen, len(heldout))

	model := keras.NewSequential(
		&keras.Input{Shape: []int{*seqLen}},
		&keras.Embedding{InputDim: len(chars), OutputDim: *embed},
		&keras.LSTM{Units: *units, ReturnSequences: true},
		&keras.Dense{Units: len(chars), Activation: "softmax"},
	)
	model.SetSeed(*seed)
	check(model.Summary(os.Stdout))
	check(model.Compile(keras.CompileConfig{
		Optimizer: &training.Adam{LearningRate: *lr},
		Loss:      "sparse_categorical_crossentropy",
	}))

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	start := time.Now()
	hist, err := model.Fit(x, y, keras.FitConfig{Epochs: *epochs, BatchSize: *batch, Verbose: *verbose})
	check(err)
	perEpoch := time.Since(start).Seconds() / float64(len(hist.Epoch))
	pprof.StopCPUProfile()
	trainLoss, _ := hist.Last("loss")

	bpc, err := bitsPerChar(model, heldout, *seqLen)
	check(err)
	fmt.Printf("Held-out bits per character: %.4f\n", bpc)

	rng := rand.New(rand.NewPCG(*seed, 0x63686172))
	prefix := heldout[:*seqLen]
	sample, err := sampleText(model, prefix, *generate, *temperature, rng)
	check(err)
	fmt.Printf("Sample at temperature %v, after %q:\n%s\n", *temperature, decode(prefix, chars), decode(sample, chars))
	if *save != "" {
		check(model.Save(*save))
	}

	out, err := json.Marshal(map[string]any{
		"heldout_bpc":       round(bpc),
		"train_bpc":         round(trainLoss / math.Ln2),
		"epochs":            len(hist.Epoch),
		"batch":             *batch,
		"seq":               *seqLen,
		"units":             *units,
		"vocabulary":        len(chars),
		"train_chars":       len(train),
		"heldout_chars":     len(heldout),
		"temperature":       *temperature,
		"seed":              *seed,
		"seconds_per_epoch": round(perEpoch),
		"blas":              graph.BLASName,
		"sample":            decode(sample, chars),
	})
	check(err)
	fmt.Println(string(out))
}

// windows cuts ids into windows of n characters starting every stride
// characters: x holds a window, y the same window shifted by one (the next
// character at each step).
func windows(ids []float64, n, stride int) (x, y *tensor.Dense) {
	count := 0
	for s := 0; s+n+1 <= len(ids); s += stride {
		count++
	}
	xs, ys := make([]float32, 0, count*n), make([]float32, 0, count*n)
	for s := 0; s+n+1 <= len(ids); s += stride {
		for i := 0; i < n; i++ {
			xs, ys = append(xs, float32(ids[s+i])), append(ys, float32(ids[s+i+1]))
		}
	}
	return tensor.New(tensor.WithShape(count, n), tensor.WithBacking(xs)),
		tensor.New(tensor.WithShape(count, n), tensor.WithBacking(ys))
}

// bitsPerChar is the mean of −log₂ p(next character) over the held-out
// text, from windows overlapping by half: the first window scores all its
// steps, the others their second half.
func bitsPerChar(model *keras.Model, ids []float64, n int) (float64, error) {
	half := n / 2
	x, y := windows(ids, n, half)
	probs, err := model.Predict(x, keras.EvalConfig{BatchSize: 256})
	if err != nil {
		return 0, err
	}
	p := probs.Data().([]float32)
	labels := y.Data().([]float32)
	vocab := probs.Shape()[2]
	var bits float64
	var scored int
	for w := 0; w < x.Shape()[0]; w++ {
		from := half
		if w == 0 {
			from = 0
		}
		for t := from; t < n; t++ {
			i := w*n + t
			bits -= math.Log2(math.Max(float64(p[i*vocab+int(labels[i])]), 1e-30))
			scored++
		}
	}
	return bits / float64(scored), nil
}

// sampleText continues prefix by n characters, each drawn from the model's
// distribution at the last step of the latest window, sharpened by the
// temperature: p_i^(1/T), renormalised.
func sampleText(model *keras.Model, prefix []float64, n int, temperature float64, rng *rand.Rand) ([]float64, error) {
	window := append([]float32(nil), toFloat32(prefix)...)
	steps := len(window)
	var out []float64
	for len(out) < n {
		x := tensor.New(tensor.WithShape(1, steps), tensor.WithBacking(append([]float32(nil), window...)))
		probs, err := model.Predict(x)
		if err != nil {
			return nil, err
		}
		p := probs.Data().([]float32)
		vocab := probs.Shape()[2]
		last := p[(steps-1)*vocab : steps*vocab]
		weights := make([]float64, vocab)
		var sum float64
		for i, v := range last {
			weights[i] = math.Exp(math.Log(math.Max(float64(v), 1e-30)) / temperature)
			sum += weights[i]
		}
		r, next := rng.Float64()*sum, vocab-1
		for i, w := range weights {
			if r < w {
				next = i
				break
			}
			r -= w
		}
		out = append(out, float64(next))
		window = append(window[1:], float32(next))
	}
	return out, nil
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func decode(ids []float64, chars []rune) string {
	var sb strings.Builder
	for _, id := range ids {
		sb.WriteRune(chars[int(id)])
	}
	return sb.String()
}

func round(x float64) float64 { return float64(int64(x*1e4+0.5)) / 1e4 }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "char_rnn: %+v\n", err)
		os.Exit(1)
	}
}
