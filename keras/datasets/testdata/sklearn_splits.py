"""Reference values for split_test.go and generators_test.go.

Run with Debian's scikit-learn (apt-get install python3-sklearn):
    /usr/bin/python3 sklearn_splits.py > sklearn_splits.json
"""
import json

import numpy as np
import sklearn
from sklearn.datasets import make_circles, make_moons
from sklearn.model_selection import KFold, StratifiedKFold

out = {"sklearn_version": sklearn.__version__, "kfold": [], "stratified": [], "moons": {}, "circles": {}}

for n, k in [(10, 3), (7, 5), (150, 5), (12, 4)]:
    folds = [t.tolist() for _, t in KFold(n_splits=k).split(np.zeros(n))]
    out["kfold"].append({"n": n, "splits": k, "test": folds})

labels = [
    [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2],
    [2, 0, 1, 1, 0, 2, 2, 1, 0, 0, 0, 1, 2, 2, 1, 0, 1],
    [1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1],
    [0] * 50 + [1] * 50 + [2] * 50,
]
for y in labels:
    for k in (2, 3, 5):
        counts = np.bincount(y)
        if np.all(k > counts):
            continue
        skf = StratifiedKFold(n_splits=k)
        folds = [t.tolist() for _, t in skf.split(np.zeros(len(y)), y)]
        out["stratified"].append({"y": y, "splits": k, "test": folds})

for n in (7, 10):
    x, y = make_moons(n_samples=n, shuffle=False)
    out["moons"][str(n)] = {"x": x.tolist(), "y": y.tolist()}
    x, y = make_circles(n_samples=n, shuffle=False)
    out["circles"][str(n)] = {"x": x.tolist(), "y": y.tolist()}

print(json.dumps(out))
