// Command onnx_mnist fine-tunes in Keragon a model trained in PyTorch: it
// imports mnist_torch.onnx (a small convnet that train_torch.py trained
// for only 150 batches and exported from PyTorch), evaluates it on the
// MNIST test set, fine-tunes it on the training set (one epoch by
// default), evaluates it again and saves it with keras.Save, so that
// keras.Load (and examples/serve) can read it.
//
// The ONNX model takes NCHW images; the imported Keragon model takes
// NHWC images (28, 28, 1), Keragon's layout: its convolutions' weights
// and the Dense layer after the Flatten are converted on import. Its
// output is logits, hence the loss with FromLogits.
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
	"runtime"
	"time"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/keras/onnx"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

func main() {
	_, here, _, _ := runtime.Caller(0)
	model := flag.String("model", filepath.Join(filepath.Dir(here), "mnist_torch.onnx"), "ONNX model to import")
	epochs := flag.Int("epochs", 1, "fine-tuning epochs")
	batch := flag.Int("batch", 128, "batch size")
	lr := flag.Float64("lr", 1e-3, "Adam learning rate")
	seed := flag.Uint64("seed", 1, "random seed (shuffling, dropout)")
	train := flag.Int("train", 0, "fine-tune on the first N training images only (0: all 60000)")
	verbose := flag.Int("verbose", 1, "0 silent, 1 progress bar, 2 one line per epoch")
	save := flag.String("save", "onnx_mnist.keragon", "save the fine-tuned model here (keras.Save)")
	export := flag.String("export", "", "also export the fine-tuned model to this ONNX file")
	flag.Parse()

	xTrain, yTrain, xTest, yTest, err := datasets.MNIST()
	check(err)
	if *train > 0 {
		xTrain, err = datasets.Take(xTrain, *train)
		check(err)
		yTrain, err = datasets.Take(yTrain, *train)
		check(err)
	}
	xTrain, xTest = channels(xTrain), channels(xTest)

	m, err := onnx.Import(*model)
	check(err)
	m.SetSeed(*seed)
	check(m.Summary(os.Stdout))
	check(m.Compile(keras.CompileConfig{
		Optimizer: &training.Adam{LearningRate: *lr},
		Loss:      keras.Loss{Name: "sparse_categorical_crossentropy", FromLogits: true},
		Metrics:   []string{"accuracy"},
	}))
	eval := keras.EvalConfig{BatchSize: 500}
	lossBefore, before, err := m.Evaluate(xTest, yTest, eval)
	check(err)
	fmt.Printf("Imported from PyTorch: test loss %.4f, test accuracy %.4f\n", lossBefore, before["accuracy"])

	start := time.Now()
	hist, err := m.Fit(xTrain, yTrain, keras.FitConfig{Epochs: *epochs, BatchSize: *batch, Verbose: *verbose})
	check(err)
	perEpoch := time.Since(start).Seconds() / float64(len(hist.Epoch))
	lossAfter, after, err := m.Evaluate(xTest, yTest, eval)
	check(err)
	fmt.Printf("Fine-tuned in Keragon: test loss %.4f, test accuracy %.4f\n", lossAfter, after["accuracy"])

	// Save, and check that keras.Load gives the same model back.
	check(m.Save(*save))
	loaded, err := keras.Load(*save)
	check(err)
	sample, err := datasets.Take(xTest, 100)
	check(err)
	p1, err := m.Predict(sample)
	check(err)
	p2, err := loaded.Predict(sample)
	check(err)
	diff := maxDiff(p1, p2)
	fmt.Printf("Saved to %s; keras.Load's predictions differ by %g\n", *save, diff)
	if *export != "" {
		check(onnx.Export(m, *export))
		fmt.Printf("Exported to %s\n", *export)
	}
	out, err := json.Marshal(map[string]any{
		"test_accuracy_imported": round(before["accuracy"]),
		"test_accuracy":          round(after["accuracy"]),
		"test_loss_imported":     round(lossBefore),
		"test_loss":              round(lossAfter),
		"epochs":                 len(hist.Epoch),
		"batch":                  *batch,
		"seed":                   *seed,
		"seconds_per_epoch":      round(perEpoch),
		"saved":                  *save,
		"load_max_diff":          diff,
	})
	check(err)
	fmt.Println(string(out))
}

// channels reshapes (n, 28, 28) images to NHWC (n, 28, 28, 1).
func channels(x *tensor.Dense) *tensor.Dense {
	s := x.Shape()
	check(x.Reshape(s[0], s[1], s[2], 1))
	return x
}

func maxDiff(a, b *tensor.Dense) float64 {
	x, y := a.Data().([]float32), b.Data().([]float32)
	d := 0.0
	for i := range x {
		d = math.Max(d, math.Abs(float64(x[i]-y[i])))
	}
	return d
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "onnx_mnist: %+v\n", err)
		os.Exit(1)
	}
}
