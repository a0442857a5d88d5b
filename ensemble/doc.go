// Package ensemble combines learners — Keras models, decision trees,
// linear models, other ensembles — into bagging, boosting, voting and
// stacking ensembles with scikit-learn's features and defaults.
//
// # Overview
//
// A Learner fits x, y with optional sample weights and predicts; a
// Classifier also gives class probabilities. Ensembles build their members
// with a Factory, func(seed uint64) (Learner, error), so that every member
// gets a fresh learner with its own seed:
//
//   - KerasLearner adapts any Keras model factory: each Fit builds a new
//     model (one graph per member, safe in its own goroutine) and trains it
//     with keras' Fit, sample weights included.
//   - Tree is a CART decision tree (Stump is a tree of depth 1);
//     LogisticRegression and Ridge are the linear models scikit-learn's
//     stacking ends with.
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
//   - CrossValidate scores a learner on folds made with
//     keras/datasets' KFold and StratifiedKFold.
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
// takes. Classification labels are class indices 0, 1, …, K−1 (the class
// count is the largest label + 1), regression targets numbers, in a float
// or integer tensor (n) or (n, 1). Predictions come back as float64
// tensors: (n) classes or values, (n, K) probabilities.
//
// # Repeatability, parallelism, cancellation, progress
//
// An ensemble's Seed fixes all its randomness: member i's samples and its
// learner's seed derive from (Seed, i) alone, so the result does not
// depend on Workers, the number of members trained at once (0 means 1, as
// scikit-learn's n_jobs=None; −1 all processors). FitContext stops
// training when its context is done. Progress, an io.Writer, receives one
// line per member or round (nil is silent).
//
// # Errors
//
// Bad configurations wrap ErrConfig, bad labels ErrLabels, bad samples
// ErrInput, all-zero sample weights ErrZeroWeights. When some members fail
// and others train, Fit returns a *FitError listing each *MemberError (the
// member, the fold, the cause) and the ensemble keeps and predicts with the
// members that trained.
package ensemble
