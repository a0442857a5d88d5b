package training

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// csvEpochs is three epochs of logs: a NaN, a key missing from the last
// epoch, and a key that first appears in it.
var csvEpochs = []Logs{
	{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625},
	{"loss": 0.25, "accuracy": 1, "val_loss": math.NaN()},
	{"loss": 1e-05, "accuracy": 0.875, "learning_rate": 0.001},
}

func TestCSVLogger(t *testing.T) {
	for i, tc := range []struct {
		sep  string
		want string
	}{
		// Python's csv module writes the same values (str of each float,
		// "NA" for a missing key), with "\r\n" line ends.
		{"", "epoch,accuracy,loss,val_loss\n0,0.75,0.5,0.625\n1,1.0,0.25,nan\n2,0.875,1e-05,NA\n"},
		{",", "epoch,accuracy,loss,val_loss\n0,0.75,0.5,0.625\n1,1.0,0.25,nan\n2,0.875,1e-05,NA\n"},
		{";", "epoch;accuracy;loss;val_loss\n0;0.75;0.5;0.625\n1;1.0;0.25;nan\n2;0.875;1e-05;NA\n"},
		{"\t", "epoch\taccuracy\tloss\tval_loss\n0\t0.75\t0.5\t0.625\n1\t1.0\t0.25\tnan\n2\t0.875\t1e-05\tNA\n"},
		// A field holding the separator is quoted ("0.875", not 1e-05), as
		// Python's csv.writer(delimiter='.') does.
		{".", "epoch.accuracy.loss.val_loss\n0.\"0.75\".\"0.5\".\"0.625\"\n1.\"1.0\".\"0.25\".nan\n2.\"0.875\".1e-05.NA\n"},
	} {
		path := filepath.Join(t.TempDir(), "log.csv")
		cb := CSVLogger(path, tc.sep, false)
		r := &Run{}
		if err := cb.OnTrainBegin(r); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		for e, l := range csvEpochs {
			if err := cb.OnEpochEnd(r, e, l); err != nil {
				t.Fatalf("%d: epoch %d: %v", i, e, err)
			}
			// Every row is on disk once its epoch ends.
			got, _ := os.ReadFile(path)
			if rows := strings.Count(string(got), "\n"); rows != e+2 {
				t.Errorf("%d: after epoch %d the file has %d lines, want %d", i, e, rows, e+2)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != tc.want {
			t.Errorf("%d: separator %q: got %q, %v; want %q", i, tc.sep, got, err, tc.want)
		}
	}
}

func TestCSVLoggerAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	run := func(appending bool, epochs ...int) {
		t.Helper()
		cb := CSVLogger(path, "", appending)
		r := &Run{}
		if err := cb.OnTrainBegin(r); err != nil {
			t.Fatal(err)
		}
		for _, e := range epochs {
			if err := cb.OnEpochEnd(r, e, Logs{"loss": float64(e) / 4}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(what, want string) {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", what, got, err, want)
		}
	}
	run(true, 0, 1) // no file yet: a header
	check("append to a missing file", "epoch,loss\n0,0.0\n1,0.25\n")
	run(true, 2) // resuming: no second header
	check("append", "epoch,loss\n0,0.0\n1,0.25\n2,0.5\n")
	run(false, 0) // truncated
	check("overwrite", "epoch,loss\n0,0.0\n")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run(true, 3) // empty file: a header
	check("append to an empty file", "epoch,loss\n3,0.75\n")
}

func TestCSVLoggerTruncatesAtTrainBegin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CSVLogger(path, "", false).OnTrainBegin(&Run{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); len(got) != 0 {
		t.Errorf("after train begin the file holds %q, want nothing", got)
	}
}

func TestCSVLoggerErrors(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range []struct {
		path, sep string
		want      string
	}{
		{"", "", "the path is empty"},
		{filepath.Join(dir, "log.csv"), ";;", `got ";;"`},
		{filepath.Join(dir, "log.csv"), "\"", `got "\""`},
		{filepath.Join(dir, "log.csv"), "\n", `got "\n"`},
		{filepath.Join(dir, "no", "such", "dir", "log.csv"), "", "no such file or directory"},
		{dir, "", "is a directory"},
	} {
		err := CSVLogger(tc.path, tc.sep, false).OnTrainBegin(&Run{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "training: CSVLogger") {
			t.Errorf("%d: got %v, want a CSVLogger error containing %q", i, err, tc.want)
		}
	}
}
