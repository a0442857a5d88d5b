package training_test

import (
	"fmt"
	"math"

	"github.com/keragon/keragon/training"
)

// A typical set of callbacks for Fit (Config.Callbacks, or keras.FitConfig).
func ExampleEarlyStopping() {
	callbacks := []training.Callback{
		// Stop when val_loss has not improved for 3 epochs, and keep the best
		// weights.
		training.EarlyStopping(training.EarlyStoppingConfig{Patience: 3, RestoreBestWeights: true}),
		// Divide the rate by 5 after 2 flat epochs; it also logs
		// "learning_rate", so put it before the CSV logger.
		training.ReduceLROnPlateau(training.ReduceLROnPlateauConfig{Factor: 0.2, Patience: 2, MinLR: 1e-5}),
		training.CSVLogger("training.csv", ",", false),
		// Save the best model; nil: the model's own Save method.
		training.ModelCheckpoint(training.ModelCheckpointConfig{
			Path: "checkpoints/best-{epoch:02d}-{val_loss:.4f}.keragon", SaveBestOnly: true}, nil),
		training.Lambda("print", func(epoch int, logs training.Logs) error {
			fmt.Printf("epoch %d: loss %.4f\n", epoch+1, logs["loss"])
			return nil
		}),
	}
	fmt.Println(len(callbacks), "callbacks")
	// Output: 5 callbacks
}

// A schedule that keeps the rate for 10 epochs, then decays it by e^-0.1
// per epoch, as in Keras' documentation.
func ExampleLearningRateScheduler() {
	cb := training.LearningRateScheduler(func(epoch int, lr float64) float64 {
		if epoch < 10 {
			return lr
		}
		return lr * math.Exp(-0.1)
	})
	fmt.Println(cb.Name)
	// Output: LearningRateScheduler
}
