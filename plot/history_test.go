package plot

import (
	"reflect"
	"strings"
	"testing"

	"github.com/keragon/keragon/training"
)

func TestHistory(t *testing.T) {
	h := training.NewHistory()
	h.Add(0, training.Logs{"loss": 1, "val_loss": 1.5, "accuracy": 0.5})
	h.Add(1, training.Logs{"loss": 0.5, "val_loss": 0.9, "accuracy": 0.8})

	c := History(h)
	if c.err != nil {
		t.Fatal(c.err)
	}
	if len(c.Series) != 2 || c.Series[0].Label != "loss" || c.Series[1].Label != "val_loss" {
		t.Fatalf("default series = %+v, want loss and val_loss", c.Series)
	}
	loss, val := c.Series[0], c.Series[1]
	if !reflect.DeepEqual(loss.X, []float64{1, 2}) || !reflect.DeepEqual(loss.Y, []float64{1, 0.5}) {
		t.Errorf("loss = %v, %v; want epochs 1, 2 and 1, 0.5", loss.X, loss.Y)
	}
	if loss.Dashed || !val.Dashed || loss.Color != val.Color {
		t.Errorf("loss (dashed %v, %s) and val_loss (dashed %v, %s): want solid and dashed in one colour",
			loss.Dashed, loss.Color, val.Dashed, val.Color)
	}
	if c.YLabel != "loss" || c.XLabel != "epoch" {
		t.Errorf("labels = %q, %q; want epoch, loss", c.XLabel, c.YLabel)
	}

	c = History(h, "loss", "accuracy")
	if c.Series[0].Color == c.Series[1].Color || c.YLabel != "" {
		t.Errorf("loss and accuracy: colours %s, %s and y label %q; want two colours, no label",
			c.Series[0].Color, c.Series[1].Color, c.YLabel)
	}
	if _, err := c.PNG(); err != nil {
		t.Error(err)
	}

	_, err := History(h, "val_accuracy").PNG()
	if err == nil || !strings.Contains(err.Error(), `no "val_accuracy"`) || !strings.Contains(err.Error(), `"accuracy"`) {
		t.Errorf("missing name: error = %v, want one naming it and listing the logs", err)
	}
	if _, err := History(nil).PNG(); err == nil {
		t.Error("History(nil) gave no error")
	}
}
