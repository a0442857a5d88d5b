package training

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestScheduleRates(t *testing.T) {
	exp := ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}
	stair := exp
	stair.Staircase = true
	piece := PiecewiseConstantDecay{Boundaries: []int{10, 20}, Values: []float64{1, 0.5, 0.1}}
	cos := CosineDecay{InitialLearningRate: 1, DecaySteps: 10}
	cosAlpha := CosineDecay{InitialLearningRate: 1, DecaySteps: 10, Alpha: 0.1}
	cos4 := CosineDecay{InitialLearningRate: 1, DecaySteps: 4}
	warm := CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, WarmupTarget: 1, WarmupSteps: 5}
	warm0 := CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, WarmupTarget: 2}
	for _, tc := range []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"exp", exp, 0, 0.1},
		{"exp", exp, 5, 0.1 * math.Sqrt(0.5)}, // 0.5^(5/10)
		{"exp", exp, 10, 0.05},
		{"exp", exp, 25, 0.1 * 0.25 * math.Sqrt(0.5)}, // 0.5^2.5
		{"stair", stair, 9, 0.1},
		{"stair", stair, 10, 0.05},
		{"stair", stair, 25, 0.025},
		// Values[0] up to and including the first boundary.
		{"piece", piece, 0, 1},
		{"piece", piece, 10, 1},
		{"piece", piece, 11, 0.5},
		{"piece", piece, 20, 0.5},
		{"piece", piece, 21, 0.1},
		{"piece", piece, 1000, 0.1},
		{"cos", cos, 0, 1},
		{"cos", cos, 5, 0.5},
		{"cos", cos, 10, 0},
		{"cos", cos, 15, 0}, // stays at the end
		{"cos4", cos4, 1, 0.5 * (1 + math.Sqrt(0.5))},
		{"cosAlpha", cosAlpha, 5, 0.9*0.5 + 0.1},
		{"cosAlpha", cosAlpha, 100, 0.1},
		// Warmup: linear from 0.1 to 1 over 5 steps, then cosine from 1.
		{"warm", warm, 0, 0.1},
		{"warm", warm, 1, 0.1 + 0.9*0.2},
		{"warm", warm, 5, 1},
		{"warm", warm, 10, 0.5},
		{"warm", warm, 15, 0},
		{"warm", warm, 100, 0},
		// A target with no warmup steps: decay starts from the target.
		{"warm0", warm0, 0, 2},
		{"warm0", warm0, 5, 1},
	} {
		if got := tc.s.Rate(tc.step); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s.Rate(%d) = %.17g, want %.17g", tc.name, tc.step, got, tc.want)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		s    interface{ Validate() error }
		want string
		nan  bool // Rate gives NaN too
	}{
		{ExponentialDecay{InitialLearningRate: 1}, "DecaySteps is 0", true},
		{PiecewiseConstantDecay{Boundaries: []int{1}, Values: []float64{1}}, "one more value than boundaries", true},
		{PiecewiseConstantDecay{Boundaries: []int{2, 2}, Values: []float64{1, 2, 3}}, "increase strictly", false},
		{CosineDecay{InitialLearningRate: 1, DecaySteps: -1}, "DecaySteps is -1", true},
		{CosineDecay{InitialLearningRate: 1, DecaySteps: 1, WarmupSteps: -2}, "WarmupSteps is -2", true},
	} {
		err := tc.s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v.Validate() = %v, want an error containing %q", tc.s, err, tc.want)
		}
		if r := tc.s.(Schedule).Rate(3); tc.nan && !math.IsNaN(r) {
			t.Errorf("%+v.Rate(3) = %v, want NaN", tc.s, r)
		}
	}
	for _, s := range []interface{ Validate() error }{
		ExponentialDecay{InitialLearningRate: 1, DecaySteps: 1},
		PiecewiseConstantDecay{Values: []float64{1}},
		CosineDecay{InitialLearningRate: 1, DecaySteps: 1},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v, want nil", s, err)
		}
	}
}

func TestScheduleJSON(t *testing.T) {
	for _, s := range []Schedule{
		&ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.96, Staircase: true},
		&PiecewiseConstantDecay{Boundaries: []int{100, 200}, Values: []float64{1, 0.5, 0.1}},
		&CosineDecay{InitialLearningRate: 0, DecaySteps: 1000, Alpha: 0.1, WarmupTarget: 0.1, WarmupSteps: 100},
	} {
		data, err := MarshalSchedule(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalSchedule(data)
		if err != nil {
			t.Fatalf("%s: %+v", data, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%s came back as %#v, want %#v", data, back, s)
		}
	}
	got, err := MarshalSchedule(PiecewiseConstantDecay{Boundaries: []int{10}, Values: []float64{1, 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"class_name":"PiecewiseConstantDecay","config":{"boundaries":[10],"values":[1,0.1]}}`; string(got) != want {
		t.Errorf("MarshalSchedule = %s, want %s", got, want)
	}
	if _, err := UnmarshalSchedule([]byte(`{"class_name":"PolynomialDecay","config":{}}`)); err == nil ||
		!strings.Contains(err.Error(), `"PolynomialDecay"`) || !strings.Contains(err.Error(), "CosineDecay, ExponentialDecay") {
		t.Errorf("unknown schedule: error = %v, want one naming it and the known ones", err)
	}
}

// halving is a user schedule: the rate halves every step.
type halving struct {
	Start float64 `json:"start"`
}

func (halving) Name() string            { return "test.Halving" }
func (h halving) Rate(step int) float64 { return h.Start * math.Pow(0.5, float64(step)) }

func TestRegisterSchedule(t *testing.T) {
	if err := RegisterSchedule("test.Halving", func() Schedule { return &halving{} }); err != nil {
		t.Fatal(err)
	}
	if err := RegisterSchedule("test.Halving", func() Schedule { return &halving{} }); err == nil {
		t.Error("registering a name twice: no error")
	}
	if err := RegisterSchedule("", nil); err == nil {
		t.Error("registering no name: no error")
	}
	data, err := json.Marshal(&Adam{Schedule: halving{Start: 0.4}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := OptimizerFromConfig("adam", data)
	if err != nil {
		t.Fatalf("%s: %+v", data, err)
	}
	if got := o.CurrentLearningRate(); got != 0.4 {
		t.Errorf("rebuilt from %s: rate %v, want 0.4", data, got)
	}
}
