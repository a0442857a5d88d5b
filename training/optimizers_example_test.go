package training_test

import (
	"encoding/json"
	"fmt"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

func ExampleAdam() {
	opt := &training.Adam{LearningRate: 1e-3} // other fields: Keras' defaults
	w := graph.NewWeight("dense/kernel", tensor.Float64, []int{2}, nil, true)
	g := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0.5, -2}))
	for i := 0; i < 3; i++ {
		if err := opt.Step([]graph.Gradient{{Weight: w, Value: g}}); err != nil {
			fmt.Println(err)
		}
	}
	// With a steady gradient every Adam step moves a weight by about the
	// learning rate, against the gradient's sign.
	fmt.Printf("%.6f after %d steps\n", w.Value.Data(), opt.Iterations())
	// Output: [-0.003000 0.003000] after 3 steps
}

func ExampleOptimizerFromConfig() {
	opt := &training.SGD{Momentum: 0.9, Schedule: training.ExponentialDecay{
		InitialLearningRate: 0.1, DecaySteps: 1000, DecayRate: 0.5}}
	config, err := json.Marshal(opt) // what keras Save stores, with opt.Name()
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(opt.Name(), string(config))

	back, err := training.OptimizerFromConfig("sgd", config)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(back.CurrentLearningRate())
	// Output:
	// sgd {"learning_rate":{"class_name":"ExponentialDecay","config":{"initial_learning_rate":0.1,"decay_steps":1000,"decay_rate":0.5,"staircase":false}},"momentum":0.9,"nesterov":false,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}
	// 0.1
}

func ExampleNewOptimizer() {
	opt, err := training.NewOptimizer("RMSprop")
	fmt.Println(opt.Name(), opt.CurrentLearningRate(), err)
	_, err = training.NewOptimizer("adamax")
	fmt.Println(err)
	// Output:
	// rmsprop 0.001 <nil>
	// training: unknown optimizer "adamax"; known: adadelta, adagrad, adam, adamw, rmsprop, sgd
}
