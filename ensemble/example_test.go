package ensemble_test

import (
	"fmt"

	"github.com/keragon/keragon/ensemble"
	"github.com/keragon/keragon/keras/datasets"
)

func ExampleBagging() {
	x, y, err := datasets.Moons(300, 0.25, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	xTrain, yTrain, xTest, yTest, err := datasets.TrainTestSplit(x, y, datasets.SplitConfig{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	bag := &ensemble.Bagging{New: (&ensemble.Tree{}).Clone, Members: 25, OOBScore: true, Workers: 2, Seed: 1}
	if err := bag.Fit(xTrain, yTrain, nil); err != nil {
		fmt.Println(err)
		return
	}
	oob, _, _ := bag.OutOfBag()
	acc, _ := bag.Score(xTest, yTest)
	fmt.Printf("out-of-bag %.2f, test %.2f\n", oob, acc)
	// Output: out-of-bag 0.93, test 0.88
}

func ExampleAdaBoost() {
	x, y, _, err := datasets.Iris()
	if err != nil {
		fmt.Println(err)
		return
	}
	boost := &ensemble.AdaBoost{New: ensemble.Stump().Clone, Rounds: 50}
	if err := boost.Fit(x, y, nil); err != nil {
		fmt.Println(err)
		return
	}
	scores, _ := boost.StagedScore(x, y)
	fmt.Printf("training accuracy after 1, 2 and %d rounds: %.3f %.3f %.3f\n",
		len(scores), scores[0], scores[1], scores[len(scores)-1])
	// scikit-learn 1.2.1 gives the same figures on this file.

	// Output: training accuracy after 1, 2 and 50 rounds: 0.667 0.660 0.980
}
