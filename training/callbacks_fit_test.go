package training

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// cbLinear is y = x·w with a mean squared error, a real graph model for
// running callbacks inside Fit.
type cbLinear struct {
	w     *graph.Weight
	cache *graph.Cache
}

func newCBLinear() *cbLinear {
	m := &cbLinear{w: graph.NewWeight("w", tensor.Float64, []int{1, 1}, nil, true)}
	m.cache = graph.NewCache(m.build)
	return m
}

func (m *cbLinear) Program(k graph.Key) (*graph.Program, error) { return m.cache.Get(k) }
func (m *cbLinear) Weights() []*graph.Weight                    { return []*graph.Weight{m.w} }

func (m *cbLinear) build(k graph.Key) (*graph.Program, error) {
	ctx := graph.NewContext(k.Mode.Phase(), k.Batch, tensor.Float64, nil)
	x := ctx.Input("x", k.Batch, 1)
	w, err := ctx.Param(m.w)
	if err != nil {
		return nil, err
	}
	pred := gorgonia.Must(gorgonia.Mul(x, w))
	if k.Mode == graph.Predict {
		return graph.Compile(ctx, graph.Spec{Inputs: []*gorgonia.Node{x}, Outputs: []*gorgonia.Node{pred}})
	}
	y := ctx.Input("y", k.Batch, 1)
	sw := ctx.Input("sw", k.Batch)
	sq := gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(pred, y))))
	loss := gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.HadamardProd(gorgonia.Must(gorgonia.Reshape(sq, tensor.Shape{k.Batch})), sw))))
	return graph.Compile(ctx, graph.Spec{Inputs: []*gorgonia.Node{x, y, sw}, Outputs: []*gorgonia.Node{pred},
		Loss: loss, Grad: k.Mode == graph.Fit})
}

// TestCallbacksInFit runs the callbacks inside the real loop: a callback
// stops training after the first batch of epoch 2; as in Keras 3 that
// epoch still ends normally, with validation. The rate that
// ReduceLROnPlateau logs must reach History and the CSV file, and
// EarlyStopping must restore the weights of the best epoch.
func TestCallbacksInFit(t *testing.T) {
	xs := tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{1, 2, 3, 4}))
	ys := tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{2, 4, 6, 8}))
	data := &Dataset{Inputs: []*tensor.Dense{xs}, Targets: []*tensor.Dense{ys}}
	m := newCBLinear()
	opt := &cbOptimizer{lr: 0.01}
	csvPath := filepath.Join(t.TempDir(), "log.csv")
	var ckpts []string
	var wAt []float64 // w at the end of every epoch
	epoch := 0
	stopper := Callback{
		Name:         "stopper",
		OnEpochBegin: func(_ *Run, e int) error { epoch = e; return nil },
		OnBatchEnd: func(_ *Run, b int, _ Logs) error {
			if epoch == 2 && b == 0 {
				return ErrStopTraining
			}
			return nil
		},
	}
	hist, err := Fit(m, opt, data, Config{
		Epochs: 10, BatchSize: 2, NoShuffle: true, Validation: data, Dtype: tensor.Float64,
		Callbacks: []Callback{
			ReduceLROnPlateau(ReduceLROnPlateauConfig{Patience: 1}),
			CSVLogger(csvPath, "", false),
			EarlyStopping(EarlyStoppingConfig{Patience: 1, RestoreBestWeights: true}),
			ModelCheckpoint(ModelCheckpointConfig{Path: filepath.Join(filepath.Dir(csvPath), "{epoch}-{val_loss:.3f}"), SaveBestOnly: true},
				func(p string) error { ckpts = append(ckpts, filepath.Base(p)); return nil }),
			Lambda("weights", func(int, Logs) error { wAt = append(wAt, m.w.Value.Data().([]float64)[0]); return nil }),
			stopper,
		},
	})
	if err != nil {
		t.Fatalf("Fit: %+v", err)
	}
	if len(hist.Epoch) != 3 {
		t.Fatalf("History has epochs %v, want [0 1 2]", hist.Epoch)
	}
	if lr := hist.Get("learning_rate"); !closeAll(lr, []float64{0.01, 0.01, 0.01}) {
		t.Errorf("History learning_rate %v, want [0.01 0.01 0.01]", lr)
	}
	vl := hist.Get("val_loss")
	if len(vl) != 3 || !(vl[1] < vl[0]) || !(vl[2] < vl[1]) {
		t.Fatalf("History val_loss %v, want three decreasing values (the stopped epoch is validated too)", vl)
	}
	if len(opt.sets) != 0 {
		t.Errorf("ReduceLROnPlateau set rates %v on a decreasing loss", opt.sets)
	}
	// The best epoch is the last one; its weights stay.
	if got := m.w.Value.Data().([]float64)[0]; len(wAt) != 3 || got != wAt[2] {
		t.Errorf("w after Fit = %v, w at epoch ends %v: want epoch 2's", got, wAt)
	}
	wantCkpts := []string{"1-" + pyFormatMust(t, vl[0]), "2-" + pyFormatMust(t, vl[1]), "3-" + pyFormatMust(t, vl[2])}
	if strings.Join(ckpts, " ") != strings.Join(wantCkpts, " ") {
		t.Errorf("checkpoints %q, want %q", ckpts, wantCkpts)
	}
	csv, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(csv), "\n"), "\n")
	if len(lines) != 4 || lines[0] != "epoch,learning_rate,loss,val_loss" ||
		!strings.HasPrefix(lines[1], "0,0.01,") || !strings.HasPrefix(lines[3], "2,0.01,") || strings.Contains(lines[3], "NA") {
		t.Errorf("CSV:\n%s\nwant a header with learning_rate and 3 full rows", csv)
	}
}

func pyFormatMust(t *testing.T, v float64) string {
	t.Helper()
	s, err := pyFormatFloat(v, ".3f")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCallbackErrorAbortsFit checks that a callback's error, other than
// ErrStopTraining, ends Fit with the callback named.
func TestCallbackErrorAbortsFit(t *testing.T) {
	xs := tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{1, 2}))
	data := &Dataset{Inputs: []*tensor.Dense{xs}, Targets: []*tensor.Dense{xs}}
	_, err := Fit(newCBLinear(), &cbOptimizer{lr: 0.1}, data, Config{
		Epochs: 3, NoShuffle: true, Dtype: tensor.Float64,
		Callbacks: []Callback{EarlyStopping(EarlyStoppingConfig{})}, // no validation data: no val_loss
	})
	if err == nil || !strings.Contains(err.Error(), `callback "EarlyStopping"`) || !strings.Contains(err.Error(), "available: loss") {
		t.Errorf("got %v, want EarlyStopping's missing-key error", err)
	}
}
