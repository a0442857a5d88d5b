// Command mnist_lstm reads MNIST digits as sequences: each image is 28
// steps (its rows) of 28 pixels, through an LSTM of 128 units and a
// softmax Dense layer; Adam, batch 64, validation split 0.1. The LSTM is
// unrolled over the 28 steps, one fused op per step (see ops.Recurrent).
//
// The last line printed is one JSON object with the results.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
)

func main() {
	epochs := flag.Int("epochs", 3, "training epochs")
	batch := flag.Int("batch", 64, "batch size")
	units := flag.Int("units", 128, "LSTM units")
	seed := flag.Uint64("seed", 1, "random seed (weights, shuffling)")
	verbose := flag.Int("verbose", 1, "0 silent, 1 progress bar, 2 one line per epoch")
	train := flag.Int("train", 0, "use only the first N training images (0: all 60000)")
	save := flag.String("save", "", "save the trained model to this file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of training to this file")
	flag.Parse()

	xTrain, yTrain, xTest, yTest, err := datasets.MNIST()
	check(err)
	if *train > 0 {
		xTrain, err = datasets.Take(xTrain, *train)
		check(err)
		yTrain, err = datasets.Take(yTrain, *train)
		check(err)
	}

	// (n, 28, 28) images are already (samples, steps, features).
	model := keras.NewSequential(
		&keras.Input{Shape: []int{28, 28}},
		&keras.LSTM{Units: *units},
		&keras.Dense{Units: 10, Activation: "softmax"},
	)
	model.SetSeed(*seed)
	check(model.Summary(os.Stdout))
	check(model.Compile(keras.CompileConfig{
		Optimizer: &training.Adam{},
		Loss:      "sparse_categorical_crossentropy",
		Metrics:   []string{"accuracy"},
	}))

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	start := time.Now()
	hist, err := model.Fit(xTrain, yTrain, keras.FitConfig{
		Epochs: *epochs, BatchSize: *batch, ValidationSplit: 0.1, Verbose: *verbose,
	})
	check(err)
	perEpoch := time.Since(start).Seconds() / float64(len(hist.Epoch))
	pprof.StopCPUProfile()

	loss, metrics, err := model.Evaluate(xTest, yTest, keras.EvalConfig{BatchSize: 500})
	check(err)
	fmt.Printf("Test loss: %.4f\nTest accuracy: %.4f\n", loss, metrics["accuracy"])
	if *save != "" {
		check(model.Save(*save))
	}
	valAcc, _ := hist.Last("val_accuracy")
	out, err := json.Marshal(map[string]any{
		"test_accuracy":     round(metrics["accuracy"]),
		"test_loss":         round(loss),
		"val_accuracy":      round(valAcc),
		"epochs":            len(hist.Epoch),
		"batch":             *batch,
		"units":             *units,
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
		fmt.Fprintf(os.Stderr, "mnist_lstm: %+v\n", err)
		os.Exit(1)
	}
}
