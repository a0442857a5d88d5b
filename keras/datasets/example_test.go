package datasets_test

import (
	"fmt"

	"github.com/keragon/keragon/keras/datasets"
)

func ExampleMNIST() {
	xTrain, yTrain, xTest, yTest, err := datasets.MNIST()
	if err != nil {
		fmt.Printf("%+v\n", err)
		return
	}
	// A Dense model takes flat rows; Conv2D would take (n, 28, 28, 1).
	if err := xTrain.Reshape(60000, 784); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(xTrain.Shape(), yTrain.Shape(), xTest.Shape(), yTest.Shape())
	fmt.Println("first label:", yTrain.Data().([]float32)[0])
	// Output:
	// (60000, 784) (60000) (10000, 28, 28) (10000)
	// first label: 5
}

func ExampleIris() {
	x, y, classNames, err := datasets.Iris()
	if err != nil {
		fmt.Println(err)
		return
	}
	yHot, err := datasets.OneHot(y, len(classNames))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Shape(), yHot.Shape(), classNames)
	// Output:
	// (150, 4) (150, 3) [Iris-setosa Iris-versicolor Iris-virginica]
}

func ExampleSpirals() {
	x, y, err := datasets.Spirals(300, 3, 0.05, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Shape(), y.Shape())
	// Output:
	// (300, 2) (300)
}

func ExampleCharVocab() {
	text, err := datasets.Text()
	if err != nil {
		fmt.Println(err)
		return
	}
	chars, index := datasets.CharVocab(text)
	var ids []int
	for _, r := range "OPTICKS" {
		ids = append(ids, index[r])
	}
	fmt.Println(len(text), "bytes,", len(chars), "distinct characters; OPTICKS is", ids)
	// Output:
	// 567198 bytes, 91 distinct characters; OPTICKS is [39 40 44 33 27 35 43]
}
