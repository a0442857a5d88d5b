"""Reference values for the ensemble package's tests.

Run with Debian's scikit-learn 1.2.1 (apt-get install python3-sklearn):
    /usr/bin/python3 sklearn_ensembles.py > sklearn_ensembles.json

The features are float32 numbers (scikit-learn's trees work in float32),
continuous, so that no two splits tie.
"""
import json
import warnings

import numpy as np
import sklearn
from sklearn.ensemble import (AdaBoostClassifier, GradientBoostingClassifier,
                              GradientBoostingRegressor, StackingClassifier,
                              VotingClassifier)
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
n, d = 60, 3
X = rng.randn(n, d).astype(np.float32).astype(np.float64)
Xt = rng.randn(20, d).astype(np.float32).astype(np.float64)
noise = rng.randn(n)
W = np.array([[1.0, -1.0, 0.0], [0.5, 0.5, -1.0], [0.0, 1.0, 1.0]])
y3 = np.argmax(X @ W + 0.5 * rng.randn(n, 3), axis=1)
y2 = (X[:, 0] + X[:, 1] ** 2 + 0.5 * noise > 0.5).astype(int)
yr = 2 * X[:, 0] + np.sin(3 * X[:, 1]) + 0.1 * noise
sw = rng.uniform(0.1, 2.0, n)

out = {"sklearn_version": sklearn.__version__, "x": X.tolist(), "xt": Xt.tolist(),
       "y3": y3.tolist(), "y2": y2.tolist(), "yr": yr.tolist(), "sw": sw.tolist()}

t = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y3)
out["tree3_proba"] = t.predict_proba(Xt).tolist()
t = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y3, sample_weight=sw)
out["tree3_weighted_proba"] = t.predict_proba(Xt).tolist()
t = DecisionTreeClassifier(criterion="entropy", max_depth=2, min_samples_leaf=5, random_state=0).fit(X, y3)
out["tree3_entropy_proba"] = t.predict_proba(Xt).tolist()
t = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, yr, sample_weight=sw)
out["treer_weighted_pred"] = t.predict(Xt).tolist()

for name, y in (("2", y2), ("3", y3)):
    a = AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=10,
                           algorithm="SAMME", learning_rate=0.5, random_state=0).fit(X, y)
    out["ada" + name] = {
        "estimator_weights": a.estimator_weights_.tolist(),
        "estimator_errors": a.estimator_errors_.tolist(),
        "decision": a.decision_function(Xt).tolist(),
        "proba": a.predict_proba(Xt).tolist(),
        "staged_train_score": list(a.staged_score(X, y)),
    }
    g = GradientBoostingClassifier(n_estimators=20, max_depth=2, learning_rate=0.2,
                                   random_state=0).fit(X, y, sample_weight=sw)
    out["gb" + name] = {"proba": g.predict_proba(Xt).tolist(), "decision": g.decision_function(Xt).tolist()}
    lr = LogisticRegression(C=0.5, solver="newton-cg", tol=1e-10, max_iter=10000).fit(X, y, sample_weight=sw)
    out["logreg" + name] = {"proba": lr.predict_proba(Xt).tolist()}

g = GradientBoostingRegressor(n_estimators=20, max_depth=2, learning_rate=0.2,
                              random_state=0).fit(X, yr)
out["gbr"] = {"pred": g.predict(Xt).tolist(), "train_score": g.train_score_.tolist()}

r = Ridge(alpha=2.0).fit(X, yr, sample_weight=sw)
out["ridge"] = {"intercept": r.intercept_, "coef": r.coef_.tolist()}
r = RidgeCV(alphas=(0.1, 1.0, 10.0)).fit(X, yr)
out["ridgecv"] = {"alpha": r.alpha_, "intercept": r.intercept_, "coef": r.coef_.tolist()}
# A target of pure noise: the largest penalty wins.
Xs, ys = X[:12], rng.randn(12)
r = RidgeCV(alphas=(0.1, 1.0, 10.0)).fit(Xs, ys)
out["ridgecv_small"] = {"y": ys.tolist(), "alpha": r.alpha_, "intercept": r.intercept_, "coef": r.coef_.tolist()}


# Newton-CG converges much further than the default L-BFGS (whose gradient
# stays near 1e-5 here), to compare with the Go Newton solver's optimum.
def lr(c):
    return LogisticRegression(C=c, solver="newton-cg", tol=1e-10, max_iter=10000)


s = StackingClassifier(estimators=[("a", lr(1.0)), ("b", lr(0.01))], final_estimator=lr(1.0), cv=5).fit(X, y3)
out["stack3_proba"] = s.predict_proba(Xt).tolist()
s = StackingClassifier(estimators=[("a", lr(1.0)), ("b", lr(0.01))], final_estimator=lr(1.0), cv=5).fit(X, y2)
out["stack2_proba"] = s.predict_proba(Xt).tolist()
v = VotingClassifier(estimators=[("a", lr(1.0)), ("b", lr(0.01))], voting="soft", weights=[1, 3]).fit(X, y3)
out["vote3_soft_proba"] = v.predict_proba(Xt).tolist()

print(json.dumps(out))
