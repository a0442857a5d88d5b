"""Run scikit-learn on the folds the Go example used and print both.

    go run ./examples/ensembles -out /tmp/ensembles.json
    /usr/bin/python3 examples/ensembles/sklearn_compare.py /tmp/ensembles.json

Needs Debian's scikit-learn (apt-get install -y python3-sklearn), run by
/usr/bin/python3 from the repository's root.

The Go example writes, for every data set, the data as Keragon read it,
the CSV file it came from (for golearn's tables), the test fold of every
row (datasets.StratifiedKFold or KFold, shuffled with -seed), and its own
per-fold scores and fit times. This script re-reads each CSV with numpy
and checks that it holds the same numbers and labels, then scores the
scikit-learn counterpart of every model on exactly those folds
(PredefinedSplit) with the same settings: the MLP has the same layer
sizes, Adam learning rate, batch size and epochs (no L2 penalty, no early
stopping); bagging, AdaBoost (SAMME / R2) and gradient boosting have the
same numbers of members and rounds and scikit-learn's other defaults.
Random draws (initial weights, bootstrap samples) come from numpy, so
scores of randomised models agree in distribution, not digit by digit.
"""
import csv
import json
import os
import sys
import time
import warnings

# Quiet the MLP's "maximum iterations reached" warnings, also in joblib's
# worker processes (which read this variable).
os.environ["PYTHONWARNINGS"] = "ignore"

import numpy as np
import sklearn
from sklearn.ensemble import (AdaBoostClassifier, AdaBoostRegressor,
                              BaggingClassifier, BaggingRegressor,
                              GradientBoostingClassifier,
                              GradientBoostingRegressor, StackingClassifier)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import PredefinedSplit, cross_validate
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

warnings.simplefilter("ignore")


def read_csv(path):
    """Reads a table as keras/datasets.CSV does: the last column is the
    label, a first row without numbers is a header, string labels become
    indices into their sorted distinct values."""
    with open(path, newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f) if r]

    def number(s):
        try:
            float(s)
            return True
        except ValueError:
            return False

    if not any(number(c) for c in rows[0][:-1]):
        rows = rows[1:]
    x = np.array([[float(c) for c in r[:-1]] for r in rows], dtype=np.float32)
    labels = [r[-1] for r in rows]
    if all(number(l) for l in labels):
        y = np.array([float(l) for l in labels])
    else:
        names = sorted(set(labels))
        y = np.array([names.index(l) for l in labels], dtype=float)
    return x, y


def models(cfg, task):
    seed = cfg["seed"] % (2**32)
    m = cfg["mlp"]

    def mlp():
        return MLPClassifier(hidden_layer_sizes=(m["hidden"],), activation="relu", solver="adam",
                             alpha=0.0, learning_rate_init=m["lr"], batch_size=m["batch"],
                             max_iter=m["epochs"], n_iter_no_change=m["epochs"] + 1, random_state=seed)

    stump = DecisionTreeClassifier(max_depth=1)
    if task == "regression":
        return {
            "ridge": Ridge(),
            "tree (depth 3)": DecisionTreeRegressor(max_depth=3),
            "tree": DecisionTreeRegressor(),
            "bagging (trees)": BaggingRegressor(DecisionTreeRegressor(), n_estimators=cfg["members"],
                                                n_jobs=cfg.get("workers", 1), random_state=seed),
            "adaboost.R2 (depth 3)": AdaBoostRegressor(DecisionTreeRegressor(max_depth=3),
                                                       n_estimators=cfg["rounds"], random_state=seed),
            "gradient boosting": GradientBoostingRegressor(n_estimators=cfg["gb_rounds"], random_state=seed),
        }
    return {
        "mlp": mlp(),
        "bagging (mlp)": BaggingClassifier(mlp(), n_estimators=cfg["members"], n_jobs=cfg.get("workers", 1),
                                           random_state=seed),
        "stump": stump,
        "adaboost (stumps)": AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=cfg["rounds"],
                                                algorithm="SAMME", random_state=seed),
        "tree": DecisionTreeClassifier(random_state=seed),
        "gradient boosting": GradientBoostingClassifier(n_estimators=cfg["gb_rounds"], random_state=seed),
        "stacking (mlp, tree, logreg)": StackingClassifier(
            [("mlp", mlp()), ("tree", DecisionTreeClassifier(max_depth=4)), ("logreg", LogisticRegression())],
            n_jobs=cfg.get("workers", 1)),
    }


def main(path):
    with open(path) as f:
        cfg = json.load(f)
    print(f"scikit-learn {sklearn.__version__}, {cfg['folds']} folds from {path}\n")
    head = f"{'data':<8} {'model':<30} {'keragon':>16} {'scikit-learn':>16} {'diff':>7}   {'fit s/fold (go / py)':>20}"
    print(head)
    print("-" * len(head))
    summary = {}
    for s in cfg["sets"]:
        x = np.array(s["x"], dtype=np.float32)
        y = np.array(s["y"])
        if s.get("file"):
            fx, fy = read_csv(s["file"])
            if fx.shape != x.shape or not np.array_equal(fx, x) or not np.array_equal(fy, y):
                sys.exit(f"{s['file']} does not hold the data Keragon used for {s['name']}")
        cv = PredefinedSplit(np.array(s["test_fold"]))
        scoring = "r2" if s["task"] == "regression" else "accuracy"
        for name, model in models(cfg, s["task"]).items():
            go = s["results"].get(name)
            if go is None:
                continue
            start = time.time()
            r = cross_validate(model, x, y, cv=cv, scoring=scoring)
            py, go_score = r["test_score"].mean(), np.mean(go["scores"])
            print(f"{s['name']:<8} {name:<30} {go_score:>8.4f} ± {np.std(go['scores']):.3f} "
                  f"{py:>8.4f} ± {r['test_score'].std():.3f} {go_score - py:>+7.4f}   "
                  f"{np.mean(go['fit_seconds']):>9.3f} / {r['fit_time'].mean():<9.3f}")
            summary.setdefault(s["name"], {})[name] = {"keragon": round(go_score, 4), "sklearn": round(py, 4)}
        for name in s["results"]:
            if name not in models(cfg, s["task"]):
                print(f"{s['name']:<8} {name:<30} {np.mean(s['results'][name]['scores']):>8.4f}   (no scikit-learn counterpart)")
    print(json.dumps({"sklearn_version": sklearn.__version__, "results": summary}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ensembles.json")
