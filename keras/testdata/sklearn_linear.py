"""Reference values for keras/linear_models_test.go: scikit-learn's
Perceptron and LinearSVC on small fixed data sets.

Run with Debian's python3-sklearn: /usr/bin/python3 sklearn_linear.py >
sklearn_linear.json. The tests read the JSON, so CI needs no Python.
"""
import json
import warnings

import numpy as np
import scipy.optimize
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron
from sklearn.svm import LinearSVC

warnings.simplefilter("ignore", ConvergenceWarning)
rng = np.random.RandomState(0)


def blobs(centers, per, spread):
    x, y = [], []
    for k, c in enumerate(centers):
        x.append(np.asarray(c) + spread * rng.randn(per, len(c)))
        y += [k] * per
    x = np.round(np.concatenate(x), 3)
    y = np.asarray(y, dtype=float)
    order = rng.permutation(len(y))
    return x[order], y[order]


def floats(a):
    return [float(v) for v in np.ravel(a)]


cases = []

# Perceptron: online updates in the order of the data (shuffle=False) for
# exactly max_iter epochs (tol=None).
xb, yb = blobs([[0, 0, 0], [1.5, 1, -0.5]], 8, 1.0)  # overlapping: updates every epoch
x3, y3 = blobs([[0, 0], [2, 2], [-2, 2]], 6, 1.2)
for name, x, y, eta0, intercept, epochs in [
    ("perceptron_binary", xb, yb, 1.0, True, 5),
    ("perceptron_binary_eta_nointercept", xb, yb, 0.5, False, 3),
    ("perceptron_ovr", x3, y3, 1.0, True, 4),
]:
    p = Perceptron(shuffle=False, max_iter=epochs, tol=None, eta0=eta0, fit_intercept=intercept)
    p.fit(x, y)
    cases.append({
        "name": name, "model": "perceptron", "x": floats(x), "features": x.shape[1], "y": floats(y),
        "classes": len(np.unique(y)), "eta0": eta0, "fit_intercept": intercept, "epochs": epochs,
        "coef": floats(p.coef_), "intercept": floats(p.intercept_) if intercept else [],
        "decision": floats(p.decision_function(x)), "score": float(p.score(x, y)),
    })

# LinearSVC: ½‖w‖² + ½b² + C·Σ loss (the intercept penalised through
# intercept_scaling=1). liblinear's dual coordinate descent stops at
# max_iter short of tol=1e-12 and depends on its random order, so the
# squared hinge is solved in the primal (dual=False, Newton's method) and
# every solution is checked against the quadratic program solved by SciPy.


def check_qp(x, y, loss, c, coef, intercept):
    """Solve min ½(‖w‖² + b²) + C·Σ ξ^p, ξ ≥ 0, ξ ≥ 1 − y(w·x + b) with
    SLSQP (p = 1 hinge, 2 squared hinge) for each one-vs-rest column and
    fail unless liblinear's solution agrees."""
    classes = np.unique(y)
    cols = [classes[1]] if len(classes) == 2 else classes
    n, d = x.shape
    p = 1 if loss == "hinge" else 2
    for k, cls in enumerate(cols):
        yk = np.where(y == cls, 1.0, -1.0)
        obj = lambda v: 0.5 * v[: d + 1] @ v[: d + 1] + c * np.sum(v[d + 1:] ** p)
        cons = [{"type": "ineq", "fun": lambda v: v[d + 1:]},
                {"type": "ineq", "fun": lambda v: v[d + 1:] - (1 - yk * (x @ v[:d] + v[d]))}]
        v0 = np.concatenate([coef[k], [intercept[k]], np.maximum(0, 1 - yk * (x @ coef[k] + intercept[k]))])
        r = scipy.optimize.minimize(obj, v0, constraints=cons, method="SLSQP", options={"ftol": 1e-14, "maxiter": 1000})
        diff = np.max(np.abs(r.x[: d + 1] - np.concatenate([coef[k], [intercept[k]]])))
        assert r.success and diff < 1e-6, (loss, c, k, r.message, diff)
xs, ys = blobs([[0, 0], [1.5, 1]], 10, 1.0)
x3s, y3s = blobs([[0, 0], [2, 2], [-2, 2]], 7, 1.2)
for name, x, y, loss, c in [
    ("svm_binary_hinge", xs, ys, "hinge", 1.0),
    ("svm_binary_squared_hinge", xs, ys, "squared_hinge", 0.5),
    ("svm_ovr_hinge", x3s, y3s, "hinge", 0.5),
    ("svm_ovr_squared_hinge", x3s, y3s, "squared_hinge", 2.0),
]:
    s = LinearSVC(loss=loss, C=c, tol=1e-12, max_iter=1000000, dual=(loss == "hinge"), random_state=0)
    s.fit(x, y)
    check_qp(x, y, loss, c, s.coef_, s.intercept_)
    cases.append({
        "name": name, "model": "svm", "x": floats(x), "features": x.shape[1], "y": floats(y),
        "classes": len(np.unique(y)), "loss": loss, "C": c,
        "coef": floats(s.coef_), "intercept": floats(s.intercept_),
        "decision": floats(s.decision_function(x)), "score": float(s.score(x, y)),
    })

print(json.dumps({"sklearn": sklearn.__version__, "cases": cases}, indent=1))
