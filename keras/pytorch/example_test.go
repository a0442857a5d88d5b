package pytorch_test

import (
	"fmt"
	"path/filepath"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/pytorch"
)

// Load the state dict of a PyTorch MLP (fc1, fc2, fc3: Linear layers)
// into a Keragon model built to match it.
func ExampleLoadStateDict() {
	m := keras.NewSequential(
		&keras.Input{Shape: []int{12}},
		&keras.Dense{Name: "hidden", Units: 16, Activation: "relu"},
		&keras.Dropout{Rate: 0.25},
		&keras.Dense{Name: "hidden2", Units: 8, Activation: "gelu"},
		&keras.Dense{Name: "logits", Units: 4, Activation: "log_softmax"},
	)
	err := pytorch.LoadStateDict(m, filepath.Join("testdata", "mlp.safetensors"),
		map[string]string{"fc1": "hidden", "fc2": "hidden2", "fc3": "logits"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range m.Weights() {
		fmt.Println(w.Name, w.Shape)
	}
	// Output:
	// hidden/kernel [12 16]
	// hidden/bias [16]
	// hidden2/kernel [16 8]
	// hidden2/bias [8]
	// logits/kernel [8 4]
	// logits/bias [4]
}
