// Command listops trains three models on ListOps (Nangia and Bowman 2018),
// nested lists of digits under MAX, MIN, MED and SM (sum mod 10) to be
// evaluated, labels 0–9:
//
//   - a sequence model: Embedding → LSTM → Dense over the tokens, brackets
//     included, padding first;
//   - a tree model: TreeLSTM → Dense over the same expressions as trees.
//     By default (-tree binary) the trees are Nangia and Bowman's
//     left-branching parse, every token a leaf, composed by a binary
//     N-ary TreeLSTM; -tree nary composes an operator node from its
//     arguments with a child-sum TreeLSTM. With -supervise nodes (the
//     default) every node is trained on the value read so far (Tai et al.
//     train on every phrase; these targets come from the same
//     expressions), the test accuracy is the roots'.
//   - a transformer encoder (-models transformer, see transformer.go):
//     token and position embeddings, blocks of MultiHeadAttention, Add,
//     LayerNormalization and Dense, a masked mean and Dense, over the same
//     sequences as the LSTM.
//
// All see the same training and test expressions (drawn once, no
// expression twice, split at random); the LSTM and the transformer are
// trained on the roots' values only. It prints each model's test
// accuracy, per nesting depth too, a table of the accuracy by depth of
// every model trained, and, as its last line, one JSON object with the
// results.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/keras/tree"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

type config struct {
	train, test         int
	depth, args, length int
	branch              float64
	epochs, lstmEpochs  int
	batch               int
	units, embed        int
	lr                  float64
	seed                uint64
	verbose             int
	models              string
	form                string
	supervise           string
	trainBranch         float64
	cosine              bool
	forgetBias          bool
	tfLayers, tfDim     int
	tfHeads, tfFF       int
	tfEpochs            int
	tfLR, tfDropout     float64
}

func main() {
	var c config
	flag.IntVar(&c.train, "train", 20000, "training expressions")
	flag.IntVar(&c.test, "test", 2000, "test expressions")
	flag.IntVar(&c.depth, "depth", 6, "maximum nesting depth")
	flag.IntVar(&c.args, "args", 5, "maximum arguments of an operator")
	flag.IntVar(&c.length, "length", 60, "maximum tokens of an expression")
	flag.Float64Var(&c.branch, "branch", 0.25, "chance that an argument is a list (Nangia and Bowman's 0.25)")
	flag.Float64Var(&c.trainBranch, "train-branch", 0, "the same for the training expressions (0: -branch)")
	flag.IntVar(&c.epochs, "epochs", 10, "training epochs of the tree model")
	flag.IntVar(&c.lstmEpochs, "lstm-epochs", 10, "training epochs of the LSTM")
	flag.IntVar(&c.batch, "batch", 64, "batch size")
	flag.IntVar(&c.units, "units", 64, "units of the LSTM and the TreeLSTM")
	flag.IntVar(&c.embed, "embed", 32, "token embedding size of the LSTM")
	flag.Float64Var(&c.lr, "lr", 0.01, "Adam learning rate")
	flag.BoolVar(&c.cosine, "cosine", true, "decay the learning rate to 5% along a cosine over the training")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed (data, weights, shuffling)")
	flag.IntVar(&c.verbose, "verbose", 1, "0 silent, 1 progress bar, 2 one line per epoch")
	flag.StringVar(&c.models, "models", "tree,lstm,transformer", "models to train, separated by commas: tree, lstm, transformer (both: tree,lstm)")
	flag.IntVar(&c.tfLayers, "tf-layers", 2, "transformer encoder blocks")
	flag.IntVar(&c.tfDim, "tf-dim", 64, "transformer width (embedding and attention output)")
	flag.IntVar(&c.tfHeads, "tf-heads", 4, "transformer attention heads (each of width tf-dim/tf-heads)")
	flag.IntVar(&c.tfFF, "tf-ff", 128, "transformer feed-forward units")
	flag.IntVar(&c.tfEpochs, "tf-epochs", 10, "training epochs of the transformer")
	flag.Float64Var(&c.tfLR, "tf-lr", 0.001, "the transformer's Adam learning rate (with -cosine its peak)")
	flag.Float64Var(&c.tfDropout, "tf-dropout", 0.1, "the transformer's dropout after attention and feed-forward")
	flag.StringVar(&c.form, "tree", "binary", "tree form: nary (operator over its arguments, child-sum TreeLSTM) or binary (Nangia and Bowman's parse, N-ary TreeLSTM)")
	flag.StringVar(&c.supervise, "supervise", "nodes", "tree model targets: nodes (every sub-expression's value, as Tai et al. train on all phrases) or root")
	flag.BoolVar(&c.forgetBias, "unit-forget-bias", true, "start the TreeLSTM's forget gates at bias 1 (Keras' unit_forget_bias)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if c.trainBranch == 0 {
		c.trainBranch = c.branch
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}

	start := time.Now()
	train, test := draw(c)
	fmt.Printf("ListOps: %d training and %d test expressions (no test expression among the training ones), depth ≤ %d, ≤ %d arguments, ≤ %d tokens, branching %.2f (training %.2f) (%.1fs)\n",
		c.train, c.test, c.depth, c.args, c.length, c.branch, c.trainBranch, time.Since(start).Seconds())
	fmt.Printf("depths: training %v, test %v\n", depthCounts(train), depthCounts(test))

	results := map[string]any{
		"train": c.train, "test": c.test, "depth": c.depth, "args": c.args, "length": c.length,
		"branch": c.branch, "train_branch": c.trainBranch, "batch": c.batch, "units": c.units, "seed": c.seed, "blas": graph.BLASName,
	}
	want := map[string]bool{}
	for _, m := range strings.Split(c.models, ",") {
		switch m = strings.TrimSpace(m); m {
		case "both":
			want["tree"], want["lstm"] = true, true
		case "tree", "lstm", "transformer":
			want[m] = true
		default:
			check(fmt.Errorf("-models: unknown model %q (want tree, lstm or transformer)", m))
		}
	}
	byDepth := map[string]map[int]float64{}
	overall := map[string]float64{}
	for _, m := range []struct {
		name string
		run  func(config, *set, *set) map[string]any
	}{{"tree", runTree}, {"lstm", runLSTM}, {"transformer", runTransformer}} {
		if !want[m.name] {
			continue
		}
		r := m.run(c, train, test)
		for k, v := range r {
			results[m.name+"_"+k] = v
		}
		byDepth[m.name] = r["accuracy_by_depth"].(map[int]float64)
		overall[m.name] = r["test_accuracy"].(float64)
	}
	printTable(byDepth, overall, depthCounts(test))
	results["seconds"] = round(time.Since(start).Seconds())
	out, err := json.Marshal(results)
	check(err)
	fmt.Println(string(out))
}

// runTree trains TreeLSTM → Dense on the trees. With node
// supervision the TreeLSTM returns every node, the Dense layer reads each
// node's value, and the loss covers every sub-expression (padding slots
// masked out); the test accuracy is the roots'.
func runTree(c config, train, test *set) map[string]any {
	arity := 2
	trees := func(s *set) []*tree.Tree { return s.binary }
	switch c.form {
	case "nary":
		arity = 0
		trees = func(s *set) []*tree.Tree { return s.trees }
	case "binary":
	default:
		check(fmt.Errorf("-tree must be nary or binary, got %q", c.form))
	}
	nodes := c.supervise == "nodes"
	if !nodes && c.supervise != "root" {
		check(fmt.Errorf("-supervise must be nodes or root, got %q", c.supervise))
	}
	enc, err := tree.EncoderFor(append(append([]*tree.Tree(nil), trees(train)...), trees(test)...), arity)
	check(err)
	encode := func(s *set) ([]*tensor.Dense, *tensor.Dense) {
		tok, st, err := enc.Encode(trees(s))
		check(err)
		if !nodes {
			return []*tensor.Dense{tok, st}, s.labels
		}
		y, err := enc.EncodeLabels(trees(s))
		check(err)
		return []*tensor.Dense{tok, st}, y
	}
	xTrain, yTrain := encode(train)
	xTest, yTest := encode(test)
	fmt.Printf("\nTreeLSTM (%s trees, %s supervised): encoded in %d node slots, %d levels of %d slots, ≤ %d children\n",
		c.form, c.supervise, enc.MaxNodes, enc.MaxHeight, enc.MaxWidth, enc.MaxChildren)

	tok := keras.NewInput(enc.MaxNodes)
	st := keras.NewInput(enc.StructureShape()...)
	// The token ids go to the TreeLSTM itself (VocabSize): its kernel is a
	// table of input pre-activations, an Embedding and the kernel in one.
	h := keras.Apply(&keras.TreeLSTM{Units: c.units, Arity: arity, ReturnNodes: nodes, VocabSize: datasets.ListOpsVocabSize,
		NoUnitForgetBias: !c.forgetBias}, tok, st)
	y := keras.Apply(&keras.Dense{Units: 10, Activation: "softmax"}, h)
	model, err := keras.NewModel([]*keras.Tensor{tok, st}, []*keras.Tensor{y})
	check(err)
	roots := func(p *tensor.Dense) *tensor.Dense { return p }
	if nodes {
		roots = func(p *tensor.Dense) *tensor.Dense {
			fmt.Printf("inner-node accuracy by height: %v\n", nodeAccuracy(p, trees(test)))
			return rootRows(p, trees(test))
		}
	}
	return fitAndEvaluate(c, model, c.epochs, xTrain, yTrain, xTest, yTest, roots, test)
}

// rootRows picks each tree's root from per-node probabilities (n, nodes,
// 10): the root is the last node in the encoder's post-order.
func rootRows(p *tensor.Dense, trees []*tree.Tree) *tensor.Dense {
	s := p.Shape()
	data := p.Data().([]float32)
	out := make([]float32, s[0]*s[2])
	for i, t := range trees {
		r := t.Size() - 1
		copy(out[i*s[2]:(i+1)*s[2]], data[(i*s[1]+r)*s[2]:(i*s[1]+r+1)*s[2]])
	}
	return tensor.New(tensor.WithShape(s[0], s[2]), tensor.WithBacking(out))
}

// nodeAccuracy is the accuracy on the inner nodes of the trees by the
// nodes' heights, from per-node probabilities (n, nodes, 10).
func nodeAccuracy(p *tensor.Dense, trees []*tree.Tree) map[int]float64 {
	s := p.Shape()
	data := p.Data().([]float32)
	right, total := map[int]int{}, map[int]int{}
	for i, t := range trees {
		j := 0
		var visit func(n *tree.Tree) int
		visit = func(n *tree.Tree) int {
			h := 0
			for _, c := range n.Children {
				h = max(h, visit(c)+1)
			}
			if h > 0 {
				row := data[(i*s[1]+j)*s[2] : (i*s[1]+j+1)*s[2]]
				best := 0
				for k, v := range row {
					if v > row[best] {
						best = k
					}
				}
				total[h]++
				if best == n.Label {
					right[h]++
				}
			}
			j++
			return h
		}
		visit(t)
	}
	out := map[int]float64{}
	for h, n := range total {
		out[h] = round(float64(right[h]) / float64(n))
	}
	return out
}

// fitAndEvaluate trains a model and reports its test accuracy on the
// roots (roots maps its predictions to (n, 10)), overall, by depth and by
// operator.
func fitAndEvaluate(c config, model *keras.Model, epochs int, xTrain []*tensor.Dense, yTrain *tensor.Dense,
	xTest []*tensor.Dense, yTest *tensor.Dense, roots func(*tensor.Dense) *tensor.Dense, test *set) map[string]any {
	model.SetSeed(c.seed)
	check(model.Summary(os.Stdout))
	opt := &training.Adam{LearningRate: c.lr}
	if c.cosine {
		steps := (yTrain.Shape()[0] + c.batch - 1) / c.batch * epochs
		opt.Schedule = training.CosineDecay{InitialLearningRate: c.lr, DecaySteps: steps, Alpha: 0.05}
	}
	check(model.Compile(keras.CompileConfig{
		Optimizer: opt,
		Loss:      "sparse_categorical_crossentropy",
		Metrics:   []string{"accuracy"},
	}))
	start := time.Now()
	hist, err := model.FitMulti(xTrain, []*tensor.Dense{yTrain}, keras.FitConfig{
		Epochs: epochs, BatchSize: c.batch, Verbose: c.verbose,
		ValidationData: &keras.Data{X: xTest, Y: []*tensor.Dense{yTest}},
	})
	check(err)
	seconds := time.Since(start).Seconds()
	probs, err := model.PredictMulti(xTest, keras.EvalConfig{BatchSize: 256})
	check(err)
	acc, byDepth, byOp := accuracy(roots(probs[0]), test)
	perEpoch := seconds / float64(len(hist.Epoch))
	fmt.Printf("test accuracy %.4f; by depth %v; by root operator %v; %.1fs per epoch\n", acc, byDepth, byOp, perEpoch)
	return map[string]any{
		"test_accuracy": round(acc), "accuracy_by_depth": byDepth, "accuracy_by_operator": byOp,
		"epochs": len(hist.Epoch), "seconds_per_epoch": round(perEpoch),
	}
}

// accuracy compares the arg-max of probs with the labels, overall, by
// nesting depth and by the root's operator.
func accuracy(probs *tensor.Dense, s *set) (float64, map[int]float64, map[string]float64) {
	p := probs.Data().([]float32)
	y := s.labels.Data().([]float32)
	right, total := map[int]int{}, map[int]int{}
	opRight, opTotal := map[string]int{}, map[string]int{}
	all := 0
	for i := range y {
		row := p[i*10 : (i+1)*10]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		d, op := s.depths[i], datasets.ListOpsVocab[s.trees[i].Token]
		total[d]++
		opTotal[op]++
		if best == int(y[i]) {
			right[d]++
			opRight[op]++
			all++
		}
	}
	byOp := map[string]float64{}
	for op, n := range opTotal {
		byOp[op] = round(float64(opRight[op]) / float64(n))
	}
	byDepth := map[int]float64{}
	for d, n := range total {
		byDepth[d] = round(float64(right[d]) / float64(n))
	}
	return float64(all) / float64(len(y)), byDepth, byOp
}

// set is one side of the split.
type set struct {
	sequences *tensor.Dense
	trees     []*tree.Tree
	binary    []*tree.Tree
	labels    *tensor.Dense
	depths    []int
}

// draw draws the training and the test expressions, each set without
// repeats and no test expression among the training ones.
func draw(c config) (train, test *set) {
	cfg := datasets.ListOpsConfig{
		Samples: c.train, MaxDepth: c.depth, MaxArgs: c.args, MaxLength: c.length,
		BranchProb: c.trainBranch, Unique: true, Seed: c.seed,
	}
	tr, err := datasets.ListOps(cfg)
	check(err)
	cfg.Samples, cfg.BranchProb, cfg.Seed = 2*c.test, c.branch, c.seed+1<<32
	te, err := datasets.ListOps(cfg)
	check(err)
	seen := map[string]bool{}
	for _, e := range tr.Exprs {
		seen[e] = true
	}
	var keep []int
	for i, e := range te.Exprs {
		if !seen[e] && len(keep) < c.test {
			keep = append(keep, i)
		}
	}
	if len(keep) < c.test {
		check(fmt.Errorf("only %d test expressions differ from the training ones; lower -test", len(keep)))
	}
	all := make([]int, c.train)
	for i := range all {
		all[i] = i
	}
	return subset(tr, all), subset(te, keep)
}

// subset takes the expressions idx of d.
func subset(d *datasets.ListOpsData, idx []int) *set {
	width := d.Sequences.Shape()[1]
	seq := d.Sequences.Data().([]float32)
	lab := d.Labels.Data().([]float32)
	s := &set{}
	var sq, lb []float32
	for _, i := range idx {
		sq = append(sq, seq[i*width:(i+1)*width]...)
		lb = append(lb, lab[i])
		s.trees = append(s.trees, d.Trees[i])
		s.binary = append(s.binary, d.BinaryTrees[i])
		s.depths = append(s.depths, d.Depths[i])
	}
	s.sequences = tensor.New(tensor.WithShape(len(idx), width), tensor.WithBacking(sq))
	s.labels = tensor.New(tensor.WithShape(len(idx)), tensor.WithBacking(lb))
	return s
}

// printTable prints the test accuracy by depth of every model trained.
func printTable(byDepth map[string]map[int]float64, overall map[string]float64, counts map[int]int) {
	names := []string{"lstm", "tree", "transformer"}
	titles := map[string]string{"lstm": "LSTM", "tree": "TreeLSTM", "transformer": "Transformer"}
	fmt.Printf("\nTest accuracy by nesting depth\n%-8s %9s", "depth", "expr.")
	for _, n := range names {
		if byDepth[n] != nil {
			fmt.Printf(" %12s", titles[n])
		}
	}
	fmt.Println()
	var depths []int
	for d := range counts {
		depths = append(depths, d)
	}
	sort.Ints(depths)
	total := 0
	for _, d := range depths {
		total += counts[d]
		fmt.Printf("%-8d %9d", d, counts[d])
		for _, n := range names {
			if byDepth[n] != nil {
				fmt.Printf(" %12.4f", byDepth[n][d])
			}
		}
		fmt.Println()
	}
	fmt.Printf("%-8s %9d", "all", total)
	for _, n := range names {
		if byDepth[n] != nil {
			fmt.Printf(" %12.4f", overall[n])
		}
	}
	fmt.Println()
}

func depthCounts(s *set) map[int]int {
	m := map[int]int{}
	for _, d := range s.depths {
		m[d]++
	}
	return m
}

func round(x float64) float64 { return float64(int64(x*1e4+0.5)) / 1e4 }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "listops: %+v\n", err)
		os.Exit(1)
	}
}
