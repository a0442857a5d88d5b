// Command multitask trains a functional model with two inputs and two
// outputs, as Keras' multi-input, multi-output example: product reviews
// (generated, see data.go) whose text and sale figures give the review's
// sentiment (a class) and the buyer's star rating (a score).
//
//	text (30 ids) ── Embedding 16 (mask zero) ── GlobalAveragePooling1D ─┐
//	                                                                     ├─ Concatenate ─ Dense 32 relu ─┬─ Dense 3 softmax  "sentiment"
//	sale (3) ─────── Normalization (adapted) ── Dense 8 relu ────────────┘                               └─ Dense 1          "rating"
//
// Compile takes one loss per output by name, loss weights and metrics by
// name; Fit logs each output's loss ("sentiment_loss", "rating_loss") and
// metrics beside the weighted total. The model is saved and loaded back,
// and the loaded model predicts the same.
//
// The last line printed is one JSON object with the results.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

func main() {
	epochs := flag.Int("epochs", 20, "training epochs")
	batch := flag.Int("batch", 64, "batch size")
	samples := flag.Int("samples", 8000, "training reviews (a quarter as many for testing)")
	ratingWeight := flag.Float64("rating-weight", 0.5, "loss weight of the rating output (sentiment's is 1)")
	seed := flag.Uint64("seed", 1, "random seed (data, weights, shuffling)")
	verbose := flag.Int("verbose", 2, "0 silent, 1 progress bar, 2 one line per epoch")
	flag.Parse()

	train, test := makeReviews(*samples, *seed), makeReviews(*samples/4, *seed+1000)

	norm := &keras.Normalization{Name: "sale_norm"}
	check(norm.Adapt(train.table))
	text := keras.Apply(&keras.Input{Name: "text", Shape: []int{maxLn}})
	sale := keras.Apply(&keras.Input{Name: "sale", Shape: []int{3}})
	words := keras.Apply(&keras.Embedding{InputDim: vocabulary, OutputDim: 16, MaskZero: true}, text)
	words = keras.Apply(&keras.GlobalAveragePooling1D{}, words)
	figures := keras.Apply(&keras.Dense{Units: 8, Activation: "relu"}, keras.Apply(norm, sale))
	h := keras.Apply(&keras.Concatenate{}, words, figures)
	h = keras.Apply(&keras.Dense{Units: 32, Activation: "relu"}, h)
	sentiment := keras.Apply(&keras.Dense{Units: 3, Activation: "softmax", Name: "sentiment"}, h)
	rating := keras.Apply(&keras.Dense{Units: 1, Name: "rating"}, h)
	model, err := keras.NewModel(keras.Tensors(text, sale), keras.Tensors(sentiment, rating))
	check(err)
	model.SetSeed(*seed)
	check(model.Summary(os.Stdout))
	check(model.Compile(keras.CompileConfig{
		Optimizer:   &training.Adam{LearningRate: 3e-3},
		Loss:        map[string]string{"sentiment": "sparse_categorical_crossentropy", "rating": "mse"},
		LossWeights: map[string]float64{"sentiment": 1, "rating": *ratingWeight},
		Metrics:     map[string][]string{"sentiment": {"accuracy"}, "rating": {"mae"}},
	}))

	xs := []*tensor.Dense{train.text, train.table}
	ys := []*tensor.Dense{train.sentiment, train.rating}
	start := time.Now()
	hist, err := model.FitMulti(xs, ys, keras.FitConfig{Epochs: *epochs, BatchSize: *batch, Verbose: *verbose,
		ValidationSplit: 0.1})
	check(err)
	perEpoch := time.Since(start).Seconds() / float64(len(hist.Epoch))

	testX := []*tensor.Dense{test.text, test.table}
	loss, metrics, err := model.EvaluateMulti(testX, []*tensor.Dense{test.sentiment, test.rating})
	check(err)
	fmt.Printf("Test loss %.4f (sentiment %.4f, rating %.4f); sentiment accuracy %.4f, rating MAE %.4f\n",
		loss, metrics["sentiment_loss"], metrics["rating_loss"], metrics["sentiment_accuracy"], metrics["rating_mae"])
	baseline := meanAbsDeviation(train.rating, test.rating)
	fmt.Printf("Rating MAE of always predicting the training mean: %.4f\n", baseline)

	dir, err := os.MkdirTemp("", "multitask")
	check(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "multitask.keragon")
	check(model.Save(path))
	loaded, err := keras.Load(path)
	check(err)
	before, err := model.PredictMulti(testX)
	check(err)
	after, err := loaded.PredictMulti(testX)
	check(err)
	same := true
	for i := range before {
		a, b := before[i].Data().([]float32), after[i].Data().([]float32)
		for j := range a {
			same = same && a[j] == b[j]
		}
	}
	fmt.Printf("Saved and loaded: same predictions: %v\n", same)

	out, err := json.Marshal(map[string]any{
		"sentiment_accuracy": round(metrics["sentiment_accuracy"]), "rating_mae": round(metrics["rating_mae"]),
		"rating_mae_baseline": round(baseline), "test_loss": round(loss),
		"sentiment_loss": round(metrics["sentiment_loss"]), "rating_loss": round(metrics["rating_loss"]),
		"epochs": len(hist.Epoch), "seconds_per_epoch": round(perEpoch), "loaded_predicts_same": same, "seed": *seed,
	})
	check(err)
	fmt.Println(string(out))
}

// meanAbsDeviation is the MAE on test of predicting train's mean rating.
func meanAbsDeviation(train, test *tensor.Dense) float64 {
	var mean float64
	tr := train.Data().([]float32)
	for _, v := range tr {
		mean += float64(v)
	}
	mean /= float64(len(tr))
	var mae float64
	te := test.Data().([]float32)
	for _, v := range te {
		mae += math.Abs(float64(v) - mean)
	}
	return mae / float64(len(te))
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "multitask: %+v\n", err)
		os.Exit(1)
	}
}
