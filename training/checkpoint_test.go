package training

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func TestCheckpointPathFormat(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	// want is Python 3's pattern.format(**values) for the same values.
	for i, tc := range []struct {
		pattern string
		ints    map[string]int
		logs    Logs
		want    string
	}{
		{"ckpt-{epoch:02d}-{val_loss:.4f}.keragon", map[string]int{"epoch": 3}, Logs{"val_loss": 0.123456}, "ckpt-03-0.1235.keragon"},
		{"{epoch}", map[string]int{"epoch": 7}, nil, "7"},
		{"{loss}", nil, Logs{"loss": 0.25}, "0.25"},
		{"{loss}", nil, Logs{"loss": 1.0}, "1.0"},
		{"{loss}", nil, Logs{"loss": 1e-05}, "1e-05"},
		{"{loss}", nil, Logs{"loss": 1.5e16}, "1.5e+16"},
		{"{loss}", nil, Logs{"loss": 123456789.125}, "123456789.125"},
		{"{loss}", nil, Logs{"loss": math.Copysign(0, -1)}, "-0.0"},
		{"{loss:.3}", nil, Logs{"loss": 100.0}, "1e+02"},
		{"{loss:.3}", nil, Logs{"loss": 1.0}, "1.0"},
		{"{loss:.3}", nil, Logs{"loss": 0.00012345}, "0.000123"},
		{"{loss:.3g}", nil, Logs{"loss": 100.0}, "100"},
		{"{loss:g}", nil, Logs{"loss": 0.5}, "0.5"},
		{"{loss:g}", nil, Logs{"loss": 1234567.0}, "1.23457e+06"},
		{"{loss:.2e}", nil, Logs{"loss": 12345.678}, "1.23e+04"},
		{"{loss:.2E}", nil, Logs{"loss": 12345.678}, "1.23E+04"},
		{"{acc:.1%}", nil, Logs{"acc": 0.8765}, "87.6%"},
		{"{acc:8.1%}", nil, Logs{"acc": 0.8765}, "   87.6%"},
		{"{loss:+.2f}", nil, Logs{"loss": 0.5}, "+0.50"},
		{"{loss: .2f}", nil, Logs{"loss": 0.5}, " 0.50"},
		{"{loss:08.3f}", nil, Logs{"loss": -2.5}, "-002.500"},
		{"{loss:8.3f}", nil, Logs{"loss": 2.5}, "   2.500"},
		{"{loss:08}", nil, Logs{"loss": 1.5}, "000001.5"},
		{"{loss:f}", nil, Logs{"loss": 0.1}, "0.100000"},
		{"{loss:.0f}", nil, Logs{"loss": 2.5}, "2"},
		{"{loss:.2f}", nil, Logs{"loss": nan}, "nan"},
		{"{loss:.2F}", nil, Logs{"loss": inf}, "INF"},
		{"{loss:+.2f}", nil, Logs{"loss": inf}, "+inf"},
		{"{loss:.2f}", nil, Logs{"loss": -inf}, "-inf"},
		{"{epoch:.2f}", map[string]int{"epoch": 3}, nil, "3.00"},
		{"{epoch:+04d}", map[string]int{"epoch": 3}, nil, "+003"},
		{"{epoch:4}", map[string]int{"epoch": 3}, nil, "   3"},
		{"{{epoch}}-{epoch}", map[string]int{"epoch": 3}, nil, "{epoch}-3"},
		{"plain.keragon", nil, nil, "plain.keragon"},
	} {
		got, err := pyFormat(tc.pattern, tc.ints, tc.logs)
		if err != nil || got != tc.want {
			t.Errorf("%d: pyFormat(%q, %v, %v) = %q, %v; want %q", i, tc.pattern, tc.ints, tc.logs, got, err, tc.want)
		}
	}
	for i, tc := range []struct {
		pattern, want string
	}{
		{"{val_loss}", `no value for {val_loss}; available: epoch, loss`},
		{"{epoch", "is not closed"},
		{"a}b", "a single '}'"},
		{"{loss:d}", "format code 'd' needs an integer"},
		{"{epoch:.2d}", "precision not allowed"},
		{"{loss:>10}", `unsupported format spec ">10"`},
		{"{}", "no value for {}"},
	} {
		_, err := pyFormat(tc.pattern, map[string]int{"epoch": 1}, Logs{"loss": 0.5})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d: pyFormat(%q): got %v, want an error containing %q", i, tc.pattern, err, tc.want)
		}
	}
}

// cbSaver is a model that can save itself, recording the paths.
type cbSaver struct {
	cbModel
	saved, savedWeights []string
}

func (m *cbSaver) Save(path string) error { m.saved = append(m.saved, path); return nil }
func (m *cbSaver) SaveWeights(path string) error {
	m.savedWeights = append(m.savedWeights, path)
	return nil
}

func TestModelCheckpoint(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for i, tc := range []struct {
		name   string
		cfg    ModelCheckpointConfig
		key    string
		values []float64
		want   []string // paths saved, in order
	}{
		{"best only, min", ModelCheckpointConfig{Path: "ckpt-{epoch:02d}-{val_loss:.4f}.bin", SaveBestOnly: true},
			"val_loss", []float64{0.5, 0.6, 0.4, 0.4, 0.39999}, []string{"ckpt-01-0.5000.bin", "ckpt-03-0.4000.bin", "ckpt-05-0.4000.bin"}},
		{"every epoch", ModelCheckpointConfig{Path: "m-{epoch}-{val_loss}.bin"},
			"val_loss", []float64{0.25, 0.5}, []string{"m-1-0.25.bin", "m-2-0.5.bin"}},
		{"best only, auto max", ModelCheckpointConfig{Path: "best.bin", Monitor: "val_accuracy", SaveBestOnly: true},
			"val_accuracy", []float64{0.5, 0.4, 0.7, 0.7}, []string{"best.bin", "best.bin"}},
		{"best only, mode min on accuracy", ModelCheckpointConfig{Path: "{epoch}", Monitor: "accuracy", Mode: "min", SaveBestOnly: true},
			"accuracy", []float64{0.5, 0.4, 0.7}, []string{"1", "2"}},
		{"initial threshold", ModelCheckpointConfig{Path: "{epoch}", SaveBestOnly: true, InitialValueThreshold: f(0.45)},
			"val_loss", []float64{0.5, 0.4, 0.45}, []string{"2"}},
	} {
		var saved []string
		save := func(p string) error { saved = append(saved, p); return nil }
		cfg := tc.cfg
		cfg.Path = filepath.Join(t.TempDir(), cfg.Path)
		if _, err := cbDrive(ModelCheckpoint(cfg, save), &Run{}, nil, seqOf(tc.key, tc.values...)); err != nil {
			t.Errorf("%d %s: %v", i, tc.name, err)
			continue
		}
		var got []string
		for _, p := range saved {
			got = append(got, filepath.Base(p))
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%d %s: saved %q, want %q", i, tc.name, got, tc.want)
		}
	}
}

func TestModelCheckpointBestSurvivesFits(t *testing.T) {
	// As in Keras, the best value is kept from one Fit to the next, so the
	// file is only overwritten by a better model.
	var saved []string
	cb := ModelCheckpoint(ModelCheckpointConfig{Path: filepath.Join(t.TempDir(), "{epoch}"), SaveBestOnly: true},
		func(p string) error { saved = append(saved, filepath.Base(p)); return nil })
	for _, seq := range [][]float64{{0.5, 0.3}, {0.4, 0.2}} {
		if _, err := cbDrive(cb, &Run{}, nil, seqOf("val_loss", seq...)); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(saved, " ") != "1 2 2" {
		t.Errorf("saved %q, want [1 2 2]", saved)
	}
}

func TestModelCheckpointEveryNBatches(t *testing.T) {
	var saved []string
	cb := ModelCheckpoint(ModelCheckpointConfig{Path: filepath.Join(t.TempDir(), "b-{epoch}-{batch}-{loss}"), SaveFreq: 2},
		func(p string) error { saved = append(saved, filepath.Base(p)); return nil })
	r := &Run{Steps: 3}
	// 3 batches per epoch, a save every 2: after batches 2 and 4 of the
	// run, i.e. epoch 1 batch 2, epoch 2 batch 1, epoch 2 batch 3.
	if _, err := cbDrive(cb, r, nil, seqOf("val_loss", 0.5, 0.4)); err != nil {
		t.Fatal(err)
	}
	want := "b-1-2-1.0 b-2-1-1.0 b-2-3-1.0"
	if strings.Join(saved, " ") != want {
		t.Errorf("saved %q, want %q", saved, want)
	}
}

func TestModelCheckpointModelSaver(t *testing.T) {
	m := &cbSaver{}
	dir := t.TempDir()
	if _, err := cbDrive(ModelCheckpoint(ModelCheckpointConfig{Path: filepath.Join(dir, "m{epoch}")}, nil),
		&Run{Model: m}, nil, seqOf("val_loss", 1, 2)); err != nil {
		t.Fatal(err)
	}
	if len(m.saved) != 2 || filepath.Base(m.saved[1]) != "m2" || len(m.savedWeights) != 0 {
		t.Errorf("Save got %q, SaveWeights %q; want [m1 m2] and none", m.saved, m.savedWeights)
	}
	m = &cbSaver{}
	if _, err := cbDrive(ModelCheckpoint(ModelCheckpointConfig{Path: filepath.Join(dir, "w{epoch}"), SaveWeightsOnly: true}, nil),
		&Run{Model: m}, nil, seqOf("val_loss", 1)); err != nil {
		t.Fatal(err)
	}
	if len(m.savedWeights) != 1 || filepath.Base(m.savedWeights[0]) != "w1" || len(m.saved) != 0 {
		t.Errorf("SaveWeights got %q, Save %q; want [w1] and none", m.savedWeights, m.saved)
	}
}

func TestModelCheckpointWritesFiles(t *testing.T) {
	// Missing directories are created; the save function writes the file.
	dir := t.TempDir()
	cb := ModelCheckpoint(ModelCheckpointConfig{Path: filepath.Join(dir, "run", "{epoch:03d}", "model.bin")},
		func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) })
	if _, err := cbDrive(cb, &Run{}, nil, seqOf("val_loss", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "001", "model.bin")); err != nil {
		t.Error(err)
	}
}

func TestModelCheckpointVerbose(t *testing.T) {
	var out bytes.Buffer
	cb := ModelCheckpoint(ModelCheckpointConfig{Path: "m.bin", SaveBestOnly: true, Verbose: 1, Output: &out},
		func(string) error { return nil })
	if _, err := cbDrive(cb, &Run{}, nil, seqOf("val_loss", 0.5, 0.75, 0.25)); err != nil {
		t.Fatal(err)
	}
	// Keras 3's messages, without the leading "\n" (Fit's progress line
	// already ends in one).
	want := "Epoch 1: val_loss improved from inf to 0.50000, saving model to m.bin\n" +
		"Epoch 2: val_loss did not improve from 0.50000\n" +
		"Epoch 3: val_loss improved from 0.50000 to 0.25000, saving model to m.bin\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestModelCheckpointErrors(t *testing.T) {
	nop := func(string) error { return nil }
	for i, tc := range []struct {
		cfg  ModelCheckpointConfig
		save func(string) error
		run  *Run
		logs Logs
		want string
	}{
		{ModelCheckpointConfig{}, nop, &Run{}, Logs{"val_loss": 1}, "Path is empty"},
		{ModelCheckpointConfig{Path: "p", SaveFreq: -1}, nop, &Run{}, Logs{"val_loss": 1}, "got -1"},
		{ModelCheckpointConfig{Path: "p", Mode: "up"}, nop, &Run{}, Logs{"val_loss": 1}, `got "up"`},
		{ModelCheckpointConfig{Path: "p"}, nil, &Run{}, Logs{"val_loss": 1}, "no save function and no Run.Model"},
		{ModelCheckpointConfig{Path: "p"}, nil, &Run{Model: &cbModel{}}, Logs{"val_loss": 1},
			"the model (*training.cbModel) has no Save(path string) error method; pass a save function"},
		{ModelCheckpointConfig{Path: "p", SaveWeightsOnly: true}, nil, &Run{Model: &cbModel{}}, Logs{"val_loss": 1},
			"has no SaveWeights(path string) error method"},
		{ModelCheckpointConfig{Path: "p", SaveBestOnly: true}, nop, &Run{}, Logs{"loss": 1},
			`ModelCheckpoint monitors "val_loss", which is not in the logs; available: loss`},
		{ModelCheckpointConfig{Path: "p-{val_acc:.2f}"}, nop, &Run{}, Logs{"loss": 1, "val_accuracy": 1},
			"no value for {val_acc}; available: epoch, loss, val_accuracy"},
		{ModelCheckpointConfig{Path: "p"}, func(string) error { return errors.New("disk full") }, &Run{}, Logs{"val_loss": 1},
			"ModelCheckpoint: saving p: disk full"},
		// An epoch cut short lacks the val_ keys: the save is skipped.
		{ModelCheckpointConfig{Path: "p", SaveBestOnly: true}, nop, &Run{StopTraining: true}, Logs{"loss": 1}, ""},
		{ModelCheckpointConfig{Path: "p-{val_loss}"}, nop, &Run{StopTraining: true}, Logs{"loss": 1}, ""},
	} {
		cb := ModelCheckpoint(tc.cfg, tc.save)
		err := cb.OnTrainBegin(tc.run)
		if err == nil {
			err = cb.OnEpochEnd(tc.run, 0, tc.logs)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%d: unexpected error %v", i, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%d: got error %v, want one containing %q", i, err, tc.want)
		}
	}
}
