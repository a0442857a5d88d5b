"""Run scikit-learn on the folds the Go example used and print both.

    go run ./examples/ensembles -out /tmp/ensembles.json
    /usr/bin/python3 examples/ensembles/sklearn_compare.py /tmp/ensembles.json [--markdown]

Needs Debian's scikit-learn (apt-get install -y python3-sklearn), run by
/usr/bin/python3 from the repository's root.

The Go example writes, for every data set, the data as Keragon read it,
the CSV file it came from, the test fold of every row (scikit-learn's own
StratifiedKFold folds for breast_cancer and digits, data/folds.json), and
its per-fold scores and CPU seconds. This script re-reads each CSV with
numpy and checks it holds the same numbers, then trains the scikit-learn
counterpart of every model on exactly those folds, with the same settings
and random_state = the example's -seed, one thread (OMP_NUM_THREADS=1 and
friends, set before numpy loads), timing each fit with
time.process_time(). It prints accuracies side by side and the median CPU
seconds per fold of both, and with --markdown a table for the README.
"""
import csv
import json
import os
import sys
import time
import warnings

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
# Quiet the MLP's "maximum iterations reached" warnings.
os.environ["PYTHONWARNINGS"] = "ignore"

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.ensemble import (AdaBoostClassifier, AdaBoostRegressor,  # noqa: E402
                              BaggingClassifier, BaggingRegressor,
                              GradientBoostingClassifier,
                              GradientBoostingRegressor,
                              HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor)
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

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
    if all(number(label) for label in labels):
        y = np.array([float(label) for label in labels])
    else:
        names = sorted(set(labels))
        y = np.array([names.index(label) for label in labels], dtype=float)
    return x, y


def models(cfg, task):
    seed = cfg["seed"] % (2**32)
    m = cfg["mlp"]
    mlp_kw = dict(hidden_layer_sizes=(m["hidden"],), activation="relu", solver="adam", alpha=0.0,
                  learning_rate_init=m["lr"], batch_size=m["batch"], max_iter=m["epochs"],
                  n_iter_no_change=m["epochs"] + 1, random_state=seed)
    if task == "regression":
        return {
            "ridge": Ridge(),
            "tree": DecisionTreeRegressor(random_state=seed),
            "bagging (50 trees)": BaggingRegressor(DecisionTreeRegressor(), n_estimators=cfg["members"],
                                                   random_state=seed),
            "adaboost.R2 (depth 3)": AdaBoostRegressor(DecisionTreeRegressor(max_depth=3),
                                                       n_estimators=cfg["rounds"], random_state=seed),
            "gradient boosting": GradientBoostingRegressor(n_estimators=cfg["gb_rounds"], random_state=seed),
            "hist gradient boosting": HistGradientBoostingRegressor(random_state=seed),
            "mlp": MLPRegressor(**mlp_kw),
        }
    return {
        "mlp": MLPClassifier(**mlp_kw),
        "bagging (10 mlp)": BaggingClassifier(MLPClassifier(**mlp_kw), n_estimators=m["members"],
                                              random_state=seed),
        "tree": DecisionTreeClassifier(random_state=seed),
        "bagging (50 trees)": BaggingClassifier(DecisionTreeClassifier(), n_estimators=cfg["members"],
                                                random_state=seed),
        "stump": DecisionTreeClassifier(max_depth=1, random_state=seed),
        "adaboost (200 stumps)": AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=cfg["rounds"],
                                                    algorithm="SAMME", random_state=seed),
        "gradient boosting": GradientBoostingClassifier(n_estimators=cfg["gb_rounds"], random_state=seed),
        "hist gradient boosting": HistGradientBoostingClassifier(random_state=seed),
        "linear svm": LinearSVC(random_state=seed),
        "linear svm (scaled)": make_pipeline(StandardScaler(), LinearSVC(random_state=seed)),
    }


def cross_validate(model, x, y, test_fold, task):
    scores, cpu = [], []
    for k in range(test_fold.max() + 1):
        train, test = test_fold != k, test_fold == k
        est = clone(model)
        start = time.process_time()
        est.fit(x[train], y[train])
        cpu.append(time.process_time() - start)
        pred = est.predict(x[test])
        scores.append(r2_score(y[test], pred) if task == "regression" else accuracy_score(y[test], pred))
    return np.array(scores), np.array(cpu)


def main(path, markdown):
    with open(path) as f:
        cfg = json.load(f)
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, one thread, folds from {path}\n")
    head = (f"{'data':<14} {'model':<24} {'keragon':>16} {'scikit-learn':>16} {'diff':>7}   "
            f"{'CPU s/fold (median) go / py':>28} {'ratio':>6}")
    print(head)
    print("-" * len(head))
    summary, table = {}, []
    for s in cfg["sets"]:
        x = np.array(s["x"], dtype=np.float32)
        y = np.array(s["y"])
        if s.get("file"):
            fx, fy = read_csv(s["file"])
            if fx.shape != x.shape or not np.array_equal(fx, x) or not np.array_equal(fy, y):
                sys.exit(f"{s['file']} does not hold the data Keragon used for {s['name']}")
        test_fold = np.array(s["test_fold"])
        available = models(cfg, s["task"])
        for name, go in s["results"].items():
            if name not in available:
                print(f"{s['name']:<14} {name:<24} {np.mean(go['scores']):>8.4f}   (no scikit-learn counterpart)")
                continue
            py, py_cpu = cross_validate(available[name], x, y, test_fold, s["task"])
            go_score, go_cpu = np.mean(go["scores"]), np.median(go["cpu_seconds"])
            ratio = go_cpu / np.median(py_cpu)
            print(f"{s['name']:<14} {name:<24} {go_score:>8.4f} ± {np.std(go['scores']):.3f} "
                  f"{py.mean():>8.4f} ± {py.std():.3f} {go_score - py.mean():>+7.4f}   "
                  f"{go_cpu:>13.4f} / {np.median(py_cpu):<12.4f} {ratio:>6.2f}")
            summary.setdefault(s["name"], {})[name] = {
                "keragon": round(go_score, 4), "sklearn": round(py.mean(), 4),
                "keragon_cpu": round(go_cpu, 4), "sklearn_cpu": round(float(np.median(py_cpu)), 4)}
            table.append((s["name"], name, go_score, py.mean(), go_cpu, np.median(py_cpu)))
    if markdown:
        print("\n| data | model | accuracy Keragon | scikit-learn | CPU s/fold Keragon | scikit-learn | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for data, name, a, b, c, d in table:
            print(f"| {data} | {name} | {a:.4f} | {b:.4f} | {c:.4f} | {d:.4f} | {c / d:.2f} |")
    print(json.dumps({"sklearn_version": sklearn.__version__, "results": summary}))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0] if args else "/tmp/ensembles.json", "--markdown" in sys.argv)
