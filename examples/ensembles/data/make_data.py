"""Writes the tables the ensembles example compares Keragon and
scikit-learn on, and the folds both sides use.

    cd examples/ensembles/data && /usr/bin/python3 make_data.py

breast_cancer.csv: scikit-learn's bundled Wisconsin diagnostic breast
cancer data (569 rows, 30 features, label 0 malignant / 1 benign).
digits.csv: scikit-learn's bundled 8x8 handwritten digits (1797 rows, 64
pixel intensities 0-16, label the digit 0-9). Both have a header row and
the label in the last column; numbers are written with repr, which reads
back to the same float64.

folds.json: for each table, the test fold (0-4) of every row, from
StratifiedKFold(n_splits=5, shuffle=True, random_state=0).
"""
import csv
import json

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import StratifiedKFold

folds = {"sklearn_version": sklearn.__version__,
         "splitter": "StratifiedKFold(n_splits=5, shuffle=True, random_state=0)"}
for name, loader in (("breast_cancer", load_breast_cancer), ("digits", load_digits)):
    data = loader()
    X, y = data.data, data.target
    with open(name + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([str(c).replace(" ", "_") for c in data.feature_names] + ["label"])
        for row, label in zip(X, y):
            w.writerow([repr(float(v)) if name == "breast_cancer" else str(int(v)) for v in row] + [str(int(label))])
    fold = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)):
        fold[test] = k
    folds[name] = fold.tolist()
with open("folds.json", "w") as f:
    json.dump(folds, f)
    f.write("\n")
