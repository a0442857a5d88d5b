// Package ensemble combines learners — Keras models, decision trees,
// linear models, other ensembles — into bagging, boosting, voting and
// stacking ensembles with scikit-learn's features, defaults and, for a
// given seed, scikit-learn's results.
//
// # Overview
//
// A Learner fits x, y with optional sample weights and predicts; a
// Classifier also gives class probabilities. Ensembles build their members
// with a Factory, func(seed uint64) (Learner, error), so that every member
// gets a fresh learner with its own seed:
//
//   - Tree is a CART decision tree (Stump is a tree of depth 1) that grows,
//     for a seed, the tree scikit-learn grows for that random_state, ties
//     included; LogisticRegression and Ridge are the linear models
//     scikit-learn's stacking ends with; LinearSVC is liblinear's exact
//     linear SVM; HistGradientBoosting is scikit-learn's histogram gradient
//     boosting; MLP is a Keras perceptron described by data and
//     KerasLearner adapts any Keras model factory.
//   - Bagging (BaggingClassifier/Regressor): bootstrap or pasting,
//     MaxSamples, MaxFeatures, out-of-bag score, soft or hard voting,
//     members trained in parallel.
//   - AdaBoost: SAMME for classification, AdaBoost.R2 for regression,
//     learning rate, weighted fits or weighted resampling, staged
//     predictions.
//   - GradientBoosting: squared error or log-loss (softmax for more than
//     two classes), shrinkage, subsampling, tree or neural-network stages.
//   - Voting and Stacking (VotingClassifier/Regressor,
//     StackingClassifier/Regressor with out-of-fold predictions).
//   - StandardScaler, MinMaxScaler and OneHotEncoder are Transformers; a
//     Pipeline of transformers and a learner is itself a Learner, so
//     cross-validation and bagging fit the transformers on their own rows.
//   - CrossValidate scores a learner on folds made with keras/datasets'
//     KFold and StratifiedKFold; GridSearch cross-validates every point
//     of a grid of parameter values (GridSearchCV).
//
// Each built-in learner and ensemble has a Clone method that is a Factory,
// so ensembles nest:
//
//	bag := &ensemble.Bagging{New: (&ensemble.Tree{}).Clone, Members: 10, OOBScore: true, Seed: 1}
//	if err := bag.Fit(x, y, nil); err != nil {
//		return err
//	}
//	oob, _, err := bag.OutOfBag()
//	boost := &ensemble.AdaBoost{New: ensemble.Stump().Clone, Rounds: 50}
//
// # Data
//
// x is a float32 or float64 tensor with the samples on its first axis —
// (n, features) for trees and linear models, any shape a Keras model
// takes. Classification labels are treated as scikit-learn treats them:
// any finite numbers, the classes being the sorted distinct labels seen at
// Fit (ClassLabels), PredictProba's columns in that order, Predict
// returning the labels themselves. Ensembles train their members on class
// indices into their own classes, so a member that never saw a class (a
// bootstrap sample, a fold) predicts 0 for it. Regression targets are
// finite numbers. Predictions come back as float64 tensors: (n) labels or
// values, (n, K) probabilities.
//
// # Members as data
//
// An ensemble is also a list of member specs: Bagging.Plan, Voting.Plan,
// Stacking.Plan and CVPlan turn a configuration and the data into
// MemberSpecs (index, seed, rows, features, fold, test rows, classes);
// TrainMember trains one member from its spec and the caller's data;
// PredictMember, StackFeatures and ScoreMember give what it contributes;
// SumOutputs, CVResult.Mean and GridSearch.Results combine contributions
// in member order, whatever order they arrive in; Bagging.Assemble,
// Voting.Assemble and Stacking.Assemble (which fits the final learner)
// make an ensemble of members trained elsewhere; GridSearch.Plan makes
// one member per (grid point, fold). The in-process ensembles run these same
// pieces on goroutines. A learner travels as a Spec — a registered kind
// and its JSON parameters (Describe, Spec.New, Register) — and a fitted
// learner as Save's JSON, which Load reads back (every built-in learner,
// ensembles with their members).
//
// # Repeatability, parallelism, cancellation, progress
//
// An ensemble's Seed fixes all its randomness: member i's samples and its
// learner's seed are drawn from the Seed alone, in member order, before
// any member trains, so the result does not depend on Workers, the number
// of members trained at once (0 means 1, as scikit-learn's n_jobs=None;
// −1 all processors). Trees, bagging, AdaBoost and gradient boosting draw
// from numpy's RandomState(Seed) exactly as scikit-learn does for
// random_state=Seed. FitContext stops training when its context is done.
// Progress, an io.Writer, receives one line per member or round (nil is
// silent).
//
// # Errors
//
// Bad configurations wrap ErrConfig, bad labels ErrLabels, bad samples
// ErrInput (naming the row in the caller's data), all-zero sample weights
// ErrZeroWeights, unreadable saved learners ErrFormat. When some members
// of a bagging or voting ensemble fail and others train, Fit returns a
// *FitError listing each *MemberError (the member, the fold, the cause)
// and the ensemble keeps and predicts with the members that trained;
// Stacking fails as a whole instead, since leaving an estimator out would
// change its final learner's inputs.
package ensemble
