package ensemble

import (
	"encoding/json"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// The built-in kinds: their Spec parameters (Describe), saved state
// (Save, Load) and registration.

func init() {
	for kind, proto := range map[string]func() persistent{
		"tree":                   func() persistent { return &Tree{} },
		"logistic_regression":    func() persistent { return &LogisticRegression{} },
		"ridge":                  func() persistent { return &Ridge{} },
		"linear_svc":             func() persistent { return &LinearSVC{} },
		"hist_gradient_boosting": func() persistent { return &HistGradientBoosting{} },
		"mlp":                    func() persistent { return &MLP{} },
		"bagging":                func() persistent { return &Bagging{} },
		"adaboost":               func() persistent { return &AdaBoost{} },
		"gradient_boosting":      func() persistent { return &GradientBoosting{} },
		"voting":                 func() persistent { return &Voting{} },
		"stacking":               func() persistent { return &Stacking{} },
		"pipeline":               func() persistent { return &Pipeline{} },
	} {
		protos[kind] = proto
		builtin(kind, func() Learner { return proto().(Learner) })
	}
	// A KerasLearner's model comes from a Go func: it can be saved and
	// loaded (to predict), not made from a Spec.
	protos["keras"] = func() persistent { return &KerasLearner{} }
}

// ---- Tree

func (t *Tree) kind() string                        { return "tree" }
func (t *Tree) params() (any, error)                { c := t.config(); return &c, nil }
func (t *Tree) saveParams() (any, error)            { return t.params() }
func (t *Tree) bootstrapByWeights()                 {}
func (r *LogisticRegression) kind() string          { return "logistic_regression" }
func (r *LogisticRegression) bootstrapByWeights()   {}
func (r *Ridge) kind() string                       { return "ridge" }
func (r *Ridge) bootstrapByWeights()                {}
func (s *LinearSVC) kind() string                   { return "linear_svc" }
func (s *LinearSVC) bootstrapByWeights()            {}
func (h *HistGradientBoosting) kind() string        { return "hist_gradient_boosting" }
func (h *HistGradientBoosting) bootstrapByWeights() {}
func (p *MLP) kind() string                         { return "mlp" }
func (a *AdaBoost) bootstrapByWeights()             {}
func (g *GradientBoosting) bootstrapByWeights()     {}

type treeState struct {
	Features int        `json:"features"`
	Classes  []float64  `json:"classes,omitempty"`
	Nodes    []TreeNode `json:"nodes"`
}

func (t *Tree) state() (any, error) {
	if t.nodes == nil {
		return nil, nil
	}
	return treeState{Features: t.features, Classes: t.classes, Nodes: t.nodes}, nil
}

func (t *Tree) setState(raw json.RawMessage, _ int) error {
	var s treeState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, t.Regression); err != nil {
		return err
	}
	width := max(len(s.Classes), 1)
	if s.Features < 1 || len(s.Nodes) == 0 {
		return badState("a tree of %d nodes on %d features", len(s.Nodes), s.Features)
	}
	parents := make([]int, len(s.Nodes))
	for i, n := range s.Nodes {
		if err := checkVector("a node value", n.Value, width); err != nil {
			return err
		}
		if n.Left == -1 && n.Right == -1 {
			continue
		}
		if n.Left <= i || n.Right <= i || n.Left >= len(s.Nodes) || n.Right >= len(s.Nodes) || n.Left == n.Right ||
			n.Feature < 0 || n.Feature >= s.Features {
			return badState("tree node %d: feature %d, children %d and %d of %d nodes", i, n.Feature, n.Left, n.Right, len(s.Nodes))
		}
		parents[n.Left]++
		parents[n.Right]++
	}
	for i, p := range parents {
		if (i == 0) != (p == 0) || p > 1 {
			return badState("tree node %d has %d parents", i, p)
		}
	}
	t.nodes, t.features, t.classes = s.Nodes, s.Features, s.Classes
	return nil
}

// ---- linear models

func (r *LogisticRegression) params() (any, error) {
	return &LogisticRegression{C: r.C, MaxIter: r.MaxIter}, nil
}
func (r *LogisticRegression) saveParams() (any, error) { return r.params() }

type logisticState struct {
	Features int         `json:"features"`
	Classes  []float64   `json:"classes"`
	Coef     [][]float64 `json:"coef"`
}

func (r *LogisticRegression) state() (any, error) {
	if r.coef == nil {
		return nil, nil
	}
	return logisticState{r.features, r.classes, r.coef}, nil
}

func (r *LogisticRegression) setState(raw json.RawMessage, _ int) error {
	var s logisticState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, false); err != nil {
		return err
	}
	cols := len(s.Classes)
	if cols == 2 {
		cols = 1
	}
	if len(s.Classes) < 2 || s.Features < 0 {
		return badState("logistic regression of %d classes on %d features", len(s.Classes), s.Features)
	}
	if err := checkMatrix("coef", s.Coef, cols, s.Features+1); err != nil {
		return err
	}
	r.features, r.classes, r.coef = s.Features, s.Classes, s.Coef
	return nil
}

func (r *Ridge) params() (any, error)     { return &Ridge{Alpha: r.Alpha, Alphas: r.Alphas}, nil }
func (r *Ridge) saveParams() (any, error) { return r.params() }

type ridgeState struct {
	Features int       `json:"features"`
	Alpha    float64   `json:"alpha"`
	Coef     []float64 `json:"coef"`
}

func (r *Ridge) state() (any, error) {
	if r.coef == nil {
		return nil, nil
	}
	return ridgeState{r.features, r.alpha, r.coef}, nil
}

func (r *Ridge) setState(raw json.RawMessage, _ int) error {
	var s ridgeState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if s.Features < 0 {
		return badState("ridge on %d features", s.Features)
	}
	if err := checkVector("coef", s.Coef, s.Features+1); err != nil {
		return err
	}
	r.features, r.alpha, r.coef = s.Features, s.Alpha, s.Coef
	return nil
}

func (s *LinearSVC) params() (any, error)     { c, _ := s.Clone(s.Seed); return c, nil }
func (s *LinearSVC) saveParams() (any, error) { return s.params() }

type svcState struct {
	Features  int         `json:"features"`
	Classes   []float64   `json:"classes"`
	Coef      [][]float64 `json:"coef"`
	Intercept []float64   `json:"intercept"`
	Iters     []int       `json:"iters"`
}

func (s *LinearSVC) state() (any, error) {
	if s.coef == nil {
		return nil, nil
	}
	return svcState{s.features, s.classes, s.coef, s.intercept, s.iters}, nil
}

func (s *LinearSVC) setState(raw json.RawMessage, _ int) error {
	var st svcState
	if err := decodeState(raw, &st); err != nil {
		return err
	}
	if err := checkClasses(st.Classes, false); err != nil {
		return err
	}
	cols := len(st.Classes)
	if cols == 2 {
		cols = 1
	}
	if len(st.Classes) < 2 || st.Features < 0 {
		return badState("linear SVC of %d classes on %d features", len(st.Classes), st.Features)
	}
	if err := checkMatrix("coef", st.Coef, cols, st.Features); err != nil {
		return err
	}
	if err := checkVector("intercept", st.Intercept, cols); err != nil {
		return err
	}
	s.features, s.classes, s.coef, s.intercept, s.iters = st.Features, st.Classes, st.Coef, st.Intercept, st.Iters
	return nil
}

// ---- histogram gradient boosting

func (h *HistGradientBoosting) params() (any, error) {
	c := *h
	c.fit = nil
	return &c, nil
}
func (h *HistGradientBoosting) saveParams() (any, error) { return h.params() }

type hgbState struct {
	Features   int               `json:"features"`
	Classes    []float64         `json:"classes,omitempty"`
	Baseline   []float64         `json:"baseline"`
	Trees      [][][]hgbTreeNode `json:"trees"`
	Validation []float64         `json:"validation,omitempty"`
}

func (h *HistGradientBoosting) state() (any, error) {
	if h.fit == nil {
		return nil, nil
	}
	f := h.fit
	return hgbState{f.features, f.classes, f.baseline, f.trees, f.validation}, nil
}

func (h *HistGradientBoosting) setState(raw json.RawMessage, _ int) error {
	var s hgbState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, h.Regression); err != nil {
		return err
	}
	cols := 1
	if len(s.Classes) > 2 {
		cols = len(s.Classes)
	}
	if s.Features < 1 || (!h.Regression && len(s.Classes) < 2) {
		return badState("histogram gradient boosting of %d classes on %d features", len(s.Classes), s.Features)
	}
	if err := checkVector("baseline", s.Baseline, cols); err != nil {
		return err
	}
	for r, round := range s.Trees {
		if len(round) != cols {
			return badState("round %d has %d trees, want %d", r, len(round), cols)
		}
		for _, nodes := range round {
			if len(nodes) == 0 {
				return badState("round %d has an empty tree", r)
			}
			for i, n := range nodes {
				if err := checkVector("a leaf value", []float64{n.Value, n.Threshold}, 2); err != nil {
					return err
				}
				if n.Left == -1 && n.Right == -1 {
					continue
				}
				if n.Left <= i || n.Right <= n.Left || n.Right >= len(nodes) || n.Feature < 0 || n.Feature >= s.Features {
					return badState("round %d: node %d has feature %d and children %d, %d of %d nodes", r, i, n.Feature, n.Left, n.Right, len(nodes))
				}
			}
		}
	}
	h.fit = &hgbFit{baseline: s.Baseline, trees: s.Trees, classes: s.Classes, features: s.Features, validation: s.Validation}
	return nil
}

// ---- Keras models

type kerasParams struct {
	Classes int    `json:"classes,omitempty"`
	Scores  bool   `json:"scores,omitempty"`
	Seed    uint64 `json:"seed,omitempty"`
}

type kerasState struct {
	Seen  []float64 `json:"seen,omitempty"`
	Model []byte    `json:"model"`
}

func (k *KerasLearner) kind() string { return "keras" }
func (k *KerasLearner) params() (any, error) {
	return nil, errors.Wrap(ErrConfig, "ensemble: a KerasLearner's model comes from a Go func and cannot be described as data: use MLP (kind \"mlp\") or Register a kind")
}
func (k *KerasLearner) saveParams() (any, error) {
	return kerasParams{Classes: k.Classes, Scores: k.Scores, Seed: k.Seed}, nil
}

func (k *KerasLearner) state() (any, error) {
	if k.model == nil {
		return nil, nil
	}
	b, err := kerasBytes(k.model)
	if err != nil {
		return nil, err
	}
	return kerasState{Seen: k.seen, Model: b}, nil
}

func (k *KerasLearner) setState(raw json.RawMessage, _ int) error {
	var s kerasState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if k.Classes > 0 {
		if err := checkClasses(s.Seen, false); err != nil {
			return err
		}
		for _, c := range s.Seen {
			if c < 0 || c >= float64(k.Classes) || c != float64(int(c)) {
				return badState("class %v of a KerasLearner of %d classes", c, k.Classes)
			}
		}
	}
	m, err := kerasModel(s.Model)
	if err != nil {
		return err
	}
	k.model, k.seen = m, s.Seen
	return nil
}

func (p *MLP) params() (any, error) {
	c, _ := p.Clone(p.Seed)
	return c, nil
}
func (p *MLP) saveParams() (any, error) { return p.params() }

type mlpState struct {
	Classes []float64       `json:"classes,omitempty"`
	Keras   json.RawMessage `json:"keras"`
}

func (p *MLP) state() (any, error) {
	if p.k == nil {
		return nil, nil
	}
	raw, err := marshalLearner(p.k)
	if err != nil {
		return nil, err
	}
	return mlpState{Classes: p.classes, Keras: raw}, nil
}

func (p *MLP) setState(raw json.RawMessage, depth int) error {
	var s mlpState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, p.Regression); err != nil {
		return err
	}
	l, err := unmarshalLearner(s.Keras, depth+1)
	if err != nil {
		return err
	}
	k, ok := l.(*KerasLearner)
	if !ok || (k.Classes == 0) != p.Regression {
		return badState("an MLP holding a %T", l)
	}
	p.k, p.classes = k, s.Classes
	return nil
}

// ---- ensembles

func (b *Bagging) kind() string { return "bagging" }
func (b *Bagging) params() (any, error) {
	if _, err := specOf("Bagging", "New", b.New, b.Learner); err != nil {
		return nil, err
	}
	return b.saveParams()
}
func (b *Bagging) saveParams() (any, error) {
	c := *b
	c.fit = nil
	return &c, nil
}

type bagState struct {
	Classes     []float64         `json:"classes,omitempty"`
	Features    int               `json:"features,omitempty"`
	Specs       []MemberSpec      `json:"specs"`
	Members     []json.RawMessage `json:"members"`
	OOBScore    *float64          `json:"oob_score,omitempty"`
	OOBDecision [][]*float64      `json:"oob_decision,omitempty"`
}

func (b *Bagging) state() (any, error) {
	if b.fit == nil {
		return nil, nil
	}
	ms, err := members(b.fit.learners)
	if err != nil {
		return nil, err
	}
	s := bagState{Classes: b.fit.classes, Features: b.fit.features, Specs: b.fit.specs, Members: ms}
	if o := b.fit.oob; o != nil {
		s.OOBScore = &o.score
		v := flatten(o.decision)
		width := 1
		if o.decision.Dims() == 2 {
			width = o.decision.Shape()[1]
		}
		for i := 0; i < len(v); i += width {
			row := make([]*float64, width)
			for j := range row {
				if f := v[i+j]; f == f { // NaN (never out of bag) stays null
					row[j] = &f
				}
			}
			s.OOBDecision = append(s.OOBDecision, row)
		}
	}
	return s, nil
}

func (b *Bagging) setState(raw json.RawMessage, depth int) error {
	var s bagState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, b.Regression); err != nil {
		return err
	}
	if len(s.Specs) != len(s.Members) || len(s.Specs) == 0 {
		return badState("%d bagging specs for %d members", len(s.Specs), len(s.Members))
	}
	if err := checkSpecs(s.Specs, s.Classes, s.Features); err != nil {
		return err
	}
	ls, err := loadMembers(s.Members, depth)
	if err != nil {
		return err
	}
	if err := b.Assemble(s.Specs, ls); err != nil {
		return errors.Wrap(ErrFormat, err.Error())
	}
	if b.fit.features != s.Features && s.Features != 0 {
		b.fit.features = s.Features
	}
	if s.OOBScore != nil {
		width := max(len(s.Classes), 1)
		var v []float64
		for _, r := range s.OOBDecision {
			if len(r) != width {
				return badState("an out-of-bag row of %d values, want %d", len(r), width)
			}
			for _, f := range r {
				if f == nil {
					v = append(v, math.NaN())
				} else {
					v = append(v, *f)
				}
			}
		}
		dec := vec(v)
		if !b.Regression {
			dec = tensor.New(tensor.WithShape(len(s.OOBDecision), width), tensor.WithBacking(v))
		}
		b.fit.oob = &oobResult{score: *s.OOBScore, decision: dec}
	}
	return nil
}

func (a *AdaBoost) kind() string { return "adaboost" }
func (a *AdaBoost) params() (any, error) {
	if _, err := specOf("AdaBoost", "New", a.New, a.Learner); err != nil {
		return nil, err
	}
	return a.saveParams()
}
func (a *AdaBoost) saveParams() (any, error) {
	c := *a
	c.fit = nil
	return &c, nil
}

type adaState struct {
	Classes  []float64         `json:"classes,omitempty"`
	Features []int             `json:"features"`
	Learners []json.RawMessage `json:"learners"`
	Weights  []float64         `json:"weights"`
	Errors   []float64         `json:"errors"`
}

func (a *AdaBoost) state() (any, error) {
	if a.fit == nil || len(a.fit.learners) == 0 {
		return nil, nil
	}
	ls, err := members(a.fit.learners)
	if err != nil {
		return nil, err
	}
	return adaState{a.fit.classes, a.fit.features, ls, a.fit.weights, a.fit.errors}, nil
}

func (a *AdaBoost) setState(raw json.RawMessage, depth int) error {
	var s adaState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, a.Regression); err != nil {
		return err
	}
	n := len(s.Learners)
	if n == 0 || len(s.Weights) != n || len(s.Errors) != n {
		return badState("%d learners, %d weights and %d errors", n, len(s.Weights), len(s.Errors))
	}
	if err := checkVector("weights", s.Weights, n); err != nil {
		return err
	}
	ls, err := loadMembers(s.Learners, depth)
	if err != nil {
		return err
	}
	for i, l := range ls {
		if l == nil {
			return badState("round %d has no learner", i)
		}
	}
	a.fit = &boostFit{learners: ls, weights: s.Weights, errors: s.Errors, classes: s.Classes, features: s.Features}
	return nil
}

func (g *GradientBoosting) kind() string { return "gradient_boosting" }
func (g *GradientBoosting) params() (any, error) {
	if _, err := specOf("GradientBoosting", "New", g.New, g.Learner); err != nil {
		return nil, err
	}
	return g.saveParams()
}
func (g *GradientBoosting) saveParams() (any, error) {
	c := *g
	c.fit = nil
	return &c, nil
}

type gbState struct {
	Classes   []float64           `json:"classes,omitempty"`
	Features  []int               `json:"features"`
	Init      []float64           `json:"init"`
	Rate      float64             `json:"learning_rate"`
	Stages    [][]json.RawMessage `json:"stages"`
	Steps     [][]float64         `json:"steps"`
	TrainLoss []float64           `json:"train_loss"`
}

func (g *GradientBoosting) state() (any, error) {
	if g.fit == nil || len(g.fit.stages) == 0 {
		return nil, nil
	}
	f := g.fit
	s := gbState{Classes: f.classes, Features: f.features, Init: f.init, Rate: f.lr, Steps: f.steps, TrainLoss: f.trainLoss}
	for _, st := range f.stages {
		ls, err := members(st)
		if err != nil {
			return nil, err
		}
		s.Stages = append(s.Stages, ls)
	}
	return s, nil
}

func (g *GradientBoosting) setState(raw json.RawMessage, depth int) error {
	var s gbState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, g.Regression); err != nil {
		return err
	}
	cols := 1
	if len(s.Classes) > 2 {
		cols = len(s.Classes)
	}
	if err := checkVector("init", s.Init, cols); err != nil {
		return err
	}
	if len(s.Stages) == 0 || len(s.Steps) != len(s.Stages) {
		return badState("%d stages and %d steps", len(s.Stages), len(s.Steps))
	}
	fit := &gbFit{init: s.Init, steps: s.Steps, trainLoss: s.TrainLoss, classes: s.Classes, cols: cols, features: s.Features, lr: s.Rate}
	for m, st := range s.Stages {
		if len(st) != cols {
			return badState("stage %d has %d learners, want %d", m, len(st), cols)
		}
		if err := checkVector("steps", s.Steps[m], cols); err != nil {
			return err
		}
		ls, err := loadMembers(st, depth)
		if err != nil {
			return err
		}
		for c, l := range ls {
			if l == nil {
				return badState("stage %d column %d has no learner", m, c)
			}
		}
		fit.stages = append(fit.stages, ls)
	}
	g.fit = fit
	return nil
}

func (v *Voting) kind() string { return "voting" }
func (v *Voting) params() (any, error) {
	if v.Estimators != nil && v.EstimatorSpecs == nil {
		return nil, errors.Wrap(ErrConfig, "ensemble: Voting.Estimators are Go funcs: set EstimatorSpecs to describe the ensemble as data")
	}
	return v.saveParams()
}
func (v *Voting) saveParams() (any, error) {
	c, _ := v.Clone(v.Seed)
	return c, nil
}

type votingState struct {
	Classes  []float64         `json:"classes,omitempty"`
	Specs    []MemberSpec      `json:"specs"`
	Learners []json.RawMessage `json:"learners"`
}

func (v *Voting) state() (any, error) {
	if !v.fitted {
		return nil, nil
	}
	ls, err := members(v.learners)
	if err != nil {
		return nil, err
	}
	return votingState{v.classes, v.specs, ls}, nil
}

func (v *Voting) setState(raw json.RawMessage, depth int) error {
	var s votingState
	if err := decodeState(raw, &s); err != nil {
		return err
	}
	if err := checkClasses(s.Classes, v.Regression); err != nil {
		return err
	}
	if len(s.Specs) != len(s.Learners) || len(s.Specs) == 0 || (v.Weights != nil && len(v.Weights) != len(s.Specs)) {
		return badState("%d voting specs, %d learners, %d weights", len(s.Specs), len(s.Learners), len(v.Weights))
	}
	if err := checkSpecs(s.Specs, s.Classes, 0); err != nil {
		return err
	}
	ls, err := loadMembers(s.Learners, depth)
	if err != nil {
		return err
	}
	v.specs, v.learners, v.classes, v.fitted = s.Specs, ls, s.Classes, true
	return nil
}

func (s *Stacking) kind() string { return "stacking" }
func (s *Stacking) params() (any, error) {
	if s.Estimators != nil && s.EstimatorSpecs == nil {
		return nil, errors.Wrap(ErrConfig, "ensemble: Stacking.Estimators are Go funcs: set EstimatorSpecs to describe the ensemble as data")
	}
	if _, err := specOf("Stacking", "Final", s.Final, s.FinalSpec); err != nil {
		return nil, err
	}
	return s.saveParams()
}
func (s *Stacking) saveParams() (any, error) {
	c := *s
	c.fit = nil
	return &c, nil
}

type stackState struct {
	Classes []float64         `json:"classes,omitempty"`
	Feature int               `json:"feature,omitempty"`
	Specs   []MemberSpec      `json:"specs"`
	Base    []json.RawMessage `json:"base"`
	Proba   []bool            `json:"proba"`
	Final   json.RawMessage   `json:"final"`
}

func (s *Stacking) state() (any, error) {
	if s.fit == nil {
		return nil, nil
	}
	base, err := members(s.fit.base)
	if err != nil {
		return nil, err
	}
	final, err := marshalLearner(s.fit.final)
	if err != nil {
		return nil, errors.WithMessage(err, "the final learner")
	}
	return stackState{s.fit.classes, s.fit.feature, s.fit.specs, base, s.fit.proba, final}, nil
}

func (s *Stacking) setState(raw json.RawMessage, depth int) error {
	var st stackState
	if err := decodeState(raw, &st); err != nil {
		return err
	}
	if err := checkClasses(st.Classes, s.Regression); err != nil {
		return err
	}
	if len(st.Specs) != len(st.Base) || len(st.Proba) != len(st.Base) || len(st.Base) == 0 {
		return badState("%d stacking specs, %d estimators, %d probability flags", len(st.Specs), len(st.Base), len(st.Proba))
	}
	if err := checkSpecs(st.Specs, st.Classes, 0); err != nil {
		return err
	}
	base, err := loadMembers(st.Base, depth)
	if err != nil {
		return err
	}
	for i, l := range base {
		if l == nil {
			return badState("stacking estimator %d is missing", i)
		}
	}
	final, err := unmarshalLearner(st.Final, depth+1)
	if err != nil {
		return errors.WithMessage(err, "the final learner")
	}
	s.fit = &stackFit{specs: st.Specs, base: base, proba: st.Proba, final: final, classes: st.Classes, feature: st.Feature}
	return nil
}
