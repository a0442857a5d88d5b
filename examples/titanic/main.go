// Command titanic trains a small tabular model on golearn's Titanic table
// (who survived, from the ticket class, the sex and the port of
// embarkation) with its preprocessing inside the model, saves it, loads it
// back and asks the loaded model about passengers given as raw values.
//
// The table stores the sex and the port as codes; the example writes them
// out as the strings they stand for ("female", "male"; "C", "Q", "S"), as
// a raw CSV would have them, and the model takes them as strings:
//
//	class ─ Normalization (adapted on the training rows) ─┐
//	sex ───── StringLookup (one-hot, vocabulary adapted) ──┼─ Concatenate ─ Dense 16 relu ─ Dense 1 sigmoid
//	port ──── StringLookup (one-hot, vocabulary adapted) ──┘
//
// Because the lookups and the normalisation are layers, Save stores their
// vocabularies and statistics, and the loaded model takes the raw values:
// nothing has to be preprocessed by hand at prediction time.
//
// The last line printed is one JSON object with the results.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

func main() {
	epochs := flag.Int("epochs", 40, "training epochs")
	batch := flag.Int("batch", 32, "batch size")
	seed := flag.Uint64("seed", 1, "random seed (weights, shuffling, the split)")
	verbose := flag.Int("verbose", 0, "0 silent, 1 progress bar, 2 one line per epoch")
	save := flag.String("save", "", "where to save the model (default: a temporary file)")
	flag.Parse()

	x, y, err := datasets.Titanic()
	check(err)
	xTrain, yTrain, xTest, yTest, err := datasets.TrainTestSplit(x, y, datasets.SplitConfig{TestSize: 0.25, Stratify: true, Seed: int64(*seed)})
	check(err)
	train, test := columns(xTrain), columns(xTest)

	norm := &keras.Normalization{Name: "class_norm"}
	check(norm.Adapt(train[0]))
	sexLookup := &keras.StringLookup{Name: "sex_lookup", OutputMode: "one_hot"}
	check(sexLookup.Adapt(train[1]))
	portLookup := &keras.StringLookup{Name: "port_lookup", OutputMode: "one_hot"}
	check(portLookup.Adapt(train[2]))

	class := keras.Apply(&keras.Input{Name: "class", Shape: []int{1}})
	sex := keras.Apply(&keras.Input{Name: "sex", Shape: []int{}, Dtype: "string"})
	port := keras.Apply(&keras.Input{Name: "port", Shape: []int{}, Dtype: "string"})
	h := keras.Apply(&keras.Concatenate{}, keras.Apply(norm, class), keras.Apply(sexLookup, sex), keras.Apply(portLookup, port))
	h = keras.Apply(&keras.Dense{Units: 16, Activation: "relu"}, h)
	out := keras.Apply(&keras.Dense{Units: 1, Activation: "sigmoid", Name: "survived"}, h)
	model, err := keras.NewModel(keras.Tensors(class, sex, port), keras.Tensors(out))
	check(err)
	model.SetSeed(*seed)
	check(model.Summary(os.Stdout))
	check(model.Compile(keras.CompileConfig{
		Optimizer: &training.Adam{LearningRate: 0.01},
		Loss:      "binary_crossentropy",
		Metrics:   []string{"accuracy"},
	}))
	_, err = model.FitMulti(train, []*tensor.Dense{yTrain}, keras.FitConfig{Epochs: *epochs, BatchSize: *batch, Verbose: *verbose})
	check(err)
	loss, metrics, err := model.EvaluateMulti(test, []*tensor.Dense{yTest})
	check(err)
	fmt.Printf("Test loss: %.4f\nTest accuracy: %.4f\n", loss, metrics["accuracy"])

	path := *save
	if path == "" {
		dir, err := os.MkdirTemp("", "titanic")
		check(err)
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "titanic.keragon")
	}
	check(model.Save(path))
	loaded, err := keras.Load(path)
	check(err)
	lossLoaded, metricsLoaded, err := loaded.EvaluateMulti(test, []*tensor.Dense{yTest})
	check(err)
	fmt.Printf("Loaded from %s: test accuracy %.4f\n", path, metricsLoaded["accuracy"])

	// Raw passengers, straight into the loaded model. "X" is a port the
	// vocabulary has never seen: the lookup's OOV index.
	people := []struct {
		class     float32
		sex, port string
	}{{1, "female", "C"}, {3, "female", "S"}, {1, "male", "S"}, {3, "male", "Q"}, {2, "male", "X"}}
	classes := make([]float32, len(people))
	sexes, ports := make([]string, len(people)), make([]string, len(people))
	for i, p := range people {
		classes[i], sexes[i], ports[i] = p.class, p.sex, p.port
	}
	cls, err := keras.Data32(classes, len(people), 1)
	check(err)
	sx, err := keras.Strings(sexes)
	check(err)
	pt, err := keras.Strings(ports)
	check(err)
	probs, err := loaded.PredictMulti([]*tensor.Dense{cls, sx, pt})
	check(err)
	chances := map[string]float64{}
	for i, p := range keras.Values(probs[0]) {
		who := fmt.Sprintf("class %g, %s, %s", people[i].class, people[i].sex, people[i].port)
		fmt.Printf("  %-22s survives with probability %.3f\n", who, p)
		chances[who] = round(p)
	}
	vocab, err := portLookup.GetVocabulary()
	check(err)
	res, err := json.Marshal(map[string]any{
		"test_accuracy":        round(metrics["accuracy"]),
		"test_loss":            round(loss),
		"loaded_test_accuracy": round(metricsLoaded["accuracy"]),
		"loaded_test_loss":     round(lossLoaded),
		"epochs":               *epochs,
		"train_rows":           yTrain.Shape()[0],
		"test_rows":            yTest.Shape()[0],
		"seed":                 *seed,
		"port_vocabulary":      vocab,
		"survival":             chances,
	})
	check(err)
	fmt.Println(string(res))
}

// columns turns golearn's coded rows (class, sex, port) into the model's
// three inputs: the class as a number (n, 1) and the sex and the port as
// the strings the codes stand for (n).
func columns(x *tensor.Dense) []*tensor.Dense {
	v := keras.Values(x)
	n := x.Shape()[0]
	class := make([]float32, n)
	sex, port := make([]string, n), make([]string, n)
	for i := 0; i < n; i++ {
		class[i] = float32(v[3*i])
		sex[i] = []string{"female", "male"}[int(v[3*i+1])]
		port[i] = []string{"C", "Q", "S"}[int(v[3*i+2])]
	}
	c, err := keras.Data32(class, n, 1)
	check(err)
	s, err := keras.Strings(sex)
	check(err)
	p, err := keras.Strings(port)
	check(err)
	return []*tensor.Dense{c, s, p}
}

func round(x float64) float64 { return float64(int64(x*1e4+0.5)) / 1e4 }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "titanic: %+v\n", err)
		os.Exit(1)
	}
}
