"""Reference values for trees and tree ensembles on data full of ties.

Run with Debian's scikit-learn 1.2.1 (apt-get install python3-sklearn):
    /usr/bin/python3 sklearn_ties.py > sklearn_ties.json

The data are the first 300 of scikit-learn's 8x8 digits (integer pixels
0-16, so many splits tie exactly): rows 0-239 train, 240-299 test. With
integer sample weights every sum is exact, so a tree that visits the
features in scikit-learn's random order (random_state) must make the same
choice among equally good splits: the tests compare whole trees.
"""
import json
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.ensemble import (AdaBoostClassifier, AdaBoostRegressor,
                              BaggingClassifier, BaggingRegressor)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
X, y = X[:300], y[:300]
Xtr, ytr, Xte = X[:240], y[:240], X[240:]
yr = (ytr % 5) * 1.5 + (ytr > 6)  # a regression target with ties
out = {"sklearn_version": sklearn.__version__, "x": X.astype(int).tolist(), "y": y.tolist()}


def tree(t):
    t = t.tree_
    return {"feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
            "samples": t.n_node_samples.tolist()}


trees = []
for kw in ({"random_state": 0}, {"random_state": 1}, {"random_state": 7},
           {"random_state": 3, "criterion": "entropy", "max_depth": 5},
           {"random_state": 4, "max_features": 8},
           {"random_state": 5, "min_samples_leaf": 3, "min_samples_split": 7}):
    trees.append({"params": kw, "tree": tree(DecisionTreeClassifier(**kw).fit(Xtr, ytr))})
for kw in ({"random_state": 2}, {"random_state": 6, "criterion": "friedman_mse", "max_depth": 4}):
    trees.append({"params": kw, "regression": True, "tree": tree(DecisionTreeRegressor(**kw).fit(Xtr, yr))})
out["trees"] = trees
out["yr"] = yr.tolist()

b = BaggingClassifier(DecisionTreeClassifier(), n_estimators=7, max_samples=0.7, max_features=0.5,
                      oob_score=True, random_state=5).fit(Xtr, ytr)
out["bagging"] = {"proba": b.predict_proba(Xte).tolist(), "oob_score": b.oob_score_,
                  "features": [f.tolist() for f in b.estimators_features_]}
b = BaggingClassifier(DecisionTreeClassifier(), n_estimators=5, max_samples=0.5, bootstrap=False,
                      random_state=2).fit(Xtr, ytr)
out["pasting"] = {"proba": b.predict_proba(Xte).tolist()}
b = BaggingRegressor(DecisionTreeRegressor(), n_estimators=6, bootstrap_features=True, max_features=20,
                     random_state=8).fit(Xtr, yr)
out["bagging_regression"] = {"pred": b.predict(Xte).tolist()}

a = AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=15, algorithm="SAMME",
                       random_state=3).fit(Xtr, ytr)
out["adaboost"] = {"estimator_weights": a.estimator_weights_.tolist(),
                   "decision": a.decision_function(Xte).tolist()}
a = AdaBoostRegressor(DecisionTreeRegressor(max_depth=3), n_estimators=10, random_state=4).fit(Xtr, yr)
out["adaboost_r2"] = {"estimator_weights": a.estimator_weights_.tolist(), "pred": a.predict(Xte).tolist()}

# Gradient boosting is left out: its residuals are real numbers, so splits
# that tie mathematically (mirror images, on these integer pixels) are told
# apart by rounding, which depends on the order scikit-learn's introsort
# leaves the rows in. sklearn_ensembles.py checks it on continuous data.
print(json.dumps(out))
