package datasets_test

import (
	"fmt"

	"github.com/keragon/keragon/keras/datasets"
)

func ExampleStratifiedKFold() {
	x, y, _, err := datasets.Iris()
	if err != nil {
		fmt.Println(err)
		return
	}
	folds, err := datasets.StratifiedKFold(y, datasets.KFoldConfig{Splits: 5, Shuffle: true, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range folds[:2] {
		xTest, err := datasets.Subset(x, f.Test)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(len(f.Train), "training rows,", xTest.Shape(), "test")
	}
	// Output:
	// 120 training rows, (30, 4) test
	// 120 training rows, (30, 4) test
}

func ExampleMoons() {
	x, y, err := datasets.Moons(200, 0.1, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Shape(), y.Shape())
	// Output: (200, 2) (200)
}
