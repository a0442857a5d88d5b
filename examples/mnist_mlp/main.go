// Command mnist_mlp trains Keras' mnist_mlp example on the full MNIST data:
// a 784-512-512-10 perceptron with ReLU and Dropout 0.2, RMSprop, batch 128.
// Keras reports a test accuracy of 0.9840 after 20 epochs.
//
// The last line printed is one JSON object with the results.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
)

func main() {
	epochs := flag.Int("epochs", 5, "training epochs")
	batch := flag.Int("batch", 128, "batch size")
	seed := flag.Uint64("seed", 1, "random seed (weights, shuffling, dropout)")
	verbose := flag.Int("verbose", 1, "0 silent, 1 progress bar, 2 one line per epoch")
	save := flag.String("save", "", "save the trained model to this file")
	flag.Parse()

	xTrain, yTrain, xTest, yTest, err := datasets.MNIST()
	check(err)

	model := keras.NewSequential(
		&keras.Input{Shape: []int{28, 28}},
		&keras.Flatten{},
		&keras.Dense{Units: 512, Activation: "relu"},
		&keras.Dropout{Rate: 0.2},
		&keras.Dense{Units: 512, Activation: "relu"},
		&keras.Dropout{Rate: 0.2},
		&keras.Dense{Units: 10, Activation: "softmax"},
	)
	model.SetSeed(*seed)
	check(model.Summary(os.Stdout))
	check(model.Compile(keras.CompileConfig{
		Optimizer: &training.RMSprop{},
		Loss:      "sparse_categorical_crossentropy",
		Metrics:   []string{"accuracy"},
	}))

	start := time.Now()
	hist, err := model.Fit(xTrain, yTrain, keras.FitConfig{
		Epochs: *epochs, BatchSize: *batch, Verbose: *verbose,
		ValidationData: keras.XY(xTest, yTest),
	})
	check(err)
	perEpoch := time.Since(start).Seconds() / float64(len(hist.Epoch))

	loss, metrics, err := model.Evaluate(xTest, yTest)
	check(err)
	fmt.Printf("Test loss: %.4f\nTest accuracy: %.4f\n", loss, metrics["accuracy"])
	if *save != "" {
		check(model.Save(*save))
	}
	out, err := json.Marshal(map[string]any{
		"test_accuracy":     round(metrics["accuracy"]),
		"test_loss":         round(loss),
		"epochs":            len(hist.Epoch),
		"batch":             *batch,
		"seed":              *seed,
		"seconds_per_epoch": round(perEpoch),
		"blas":              graph.BLASName,
	})
	check(err)
	fmt.Println(string(out))
}

func round(x float64) float64 { return float64(int64(x*1e4+0.5)) / 1e4 }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "mnist_mlp: %+v\n", err)
		os.Exit(1)
	}
}
