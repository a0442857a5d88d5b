"""Reference values for LinearSVC, HistGradientBoosting and preprocessing.

Run with Debian's scikit-learn 1.2.1 on one thread (HistGradientBoosting
sums gradients per thread):
    OMP_NUM_THREADS=1 /usr/bin/python3 sklearn_new.py > sklearn_new.json

x has 300 training and 60 test rows of 5 float32 features: three
continuous (more than 255 distinct values, so binned by percentiles), one
with 12 distinct values (binned by midpoints) and one categorical code
0-3 (for OneHotEncoder).
"""
import json
import warnings

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

warnings.simplefilter("ignore")
rng = np.random.RandomState(1)
n = 360
X = np.column_stack([rng.randn(n), 3 * rng.rand(n) - 1, rng.randn(n) * 10 + 5,
                     rng.randint(0, 12, n) * 0.5, rng.randint(0, 4, n)]).astype(np.float32).astype(np.float64)
score = X[:, 0] + 0.5 * X[:, 1] - 0.05 * X[:, 2] + 0.3 * X[:, 3] + (X[:, 4] == 2) + 0.7 * rng.randn(n)
y2 = (score > 0.8).astype(int)
y3 = np.digitize(score, [0.2, 1.4])
yr = score + 0.1 * X[:, 2]
sw = rng.uniform(0.2, 3.0, n)
tr, te = slice(0, 300), slice(300, n)
out = {"sklearn_version": sklearn.__version__, "x": X.tolist(), "y2": y2.tolist(), "y3": y3.tolist(),
       "yr": yr.tolist(), "sw": sw.tolist()}

cases = {}
for name, model, y, w in (
        ("hgb2", HistGradientBoostingClassifier(), y2, None),
        ("hgb3", HistGradientBoostingClassifier(max_iter=30, l2_regularization=1.0, max_leaf_nodes=15), y3, None),
        ("hgb3_weighted", HistGradientBoostingClassifier(max_iter=20, max_depth=3, min_samples_leaf=10), y3, sw),
        ("hgbr", HistGradientBoostingRegressor(max_iter=40, max_bins=64), yr, None),
        ("hgbr_weighted", HistGradientBoostingRegressor(max_iter=25, learning_rate=0.3), yr, sw)):
    model.fit(X[tr], y[tr], sample_weight=None if w is None else w[tr])
    if hasattr(model, "predict_proba"):
        cases[name] = model.predict_proba(X[te]).tolist()
    else:
        cases[name] = model.predict(X[te]).tolist()
out["hgb"] = cases

svc = {}
for name, model, y, w in (
        ("binary", LinearSVC(random_state=0), y2, None),
        ("three", LinearSVC(C=0.1, random_state=3), y3, None),
        ("hinge_weighted", LinearSVC(loss="hinge", C=2.0, random_state=1, max_iter=5000), y2, sw),
        ("no_intercept", LinearSVC(fit_intercept=False, random_state=2), y3, None)):
    model.fit(X[tr], y[tr], sample_weight=None if w is None else w[tr])
    svc[name] = {"coef": model.coef_.tolist(), "intercept": np.atleast_1d(model.intercept_).tolist(),
                 "decision": model.decision_function(X[te]).tolist(), "n_iter": int(model.n_iter_)}
out["svc"] = svc

out["standard"] = StandardScaler().fit(X[tr]).transform(X[te]).tolist()
out["minmax"] = MinMaxScaler(feature_range=(-1, 2)).fit(X[tr]).transform(X[te]).tolist()
onehot = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [4, 3])], remainder="passthrough",
                           sparse_threshold=0)
out["onehot"] = onehot.fit(X[tr]).transform(X[te]).tolist()
pipe = make_pipeline(StandardScaler(), LinearSVC(random_state=0)).fit(X[tr], y3[tr])
out["pipeline_decision"] = pipe.decision_function(X[te]).tolist()
print(json.dumps(out))
