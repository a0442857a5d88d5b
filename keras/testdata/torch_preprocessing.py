"""Reference values for keras/preprocessing_test.go.

Run from the repository root with the system Python (PyTorch 1.13, NumPy):

    /usr/bin/python3 keras/testdata/torch_preprocessing.py

It writes keras/testdata/torch_preprocessing.json: arrays as
{"shape": [...], "data": [...]} flattened row-major.

- discretization_adapt_<n>: Keras 3's Discretization.adapt on one NumPy
  array (keras/src/layers/preprocessing/discretization.py: summarize,
  merge_summaries with an empty summary, compress_summary,
  get_bin_boundaries), written again here in NumPy, since Keras is not
  installed: x, num_bins, epsilon and the boundaries it gives. Keras works
  in float32.
- bucketize: torch.bucketize(x, boundaries, right=True), which is Keras'
  Discretization (NumPy's digitize): the number of boundaries <= x.
- one_hot, multi_hot, count: torch.nn.functional.one_hot of ids, summed or
  maxed over each sample's ids for multi_hot and count (Keras'
  CategoryEncoding).
- normalization: torch's mean and biased variance over every axis but the
  last (Keras' Normalization.adapt), and (x - mean) / sqrt(variance).
"""
import json
import os

import numpy as np
import torch

rng = np.random.default_rng(20240902)


def arr(t):
    t = np.asarray(t, dtype=np.float64)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def summarize(values, epsilon):
    values = np.reshape(values, [-1])
    values = np.sort(values)
    elements = np.size(values)
    num_buckets = 1.0 / epsilon
    increment = elements / num_buckets
    step = max(increment, 1)
    start = step - 1
    boundaries = values[int(start)::int(step)]
    weights = np.ones_like(boundaries)
    weights = weights * step
    return np.stack([boundaries, weights])


def compress_summary(summary, epsilon):
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    summary = np.stack((new_bins, new_weights))
    return summary.astype("float32")


def merge_summaries(prev_summary, next_summary, epsilon):
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def adapt(data, num_bins, epsilon):
    data = np.array(data).astype("float32")
    summary = merge_summaries(summarize(data, epsilon), np.array([[], []], dtype="float32"), epsilon)
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


cases = {}
for name, shape, num_bins, eps in [("small", (7,), 3, 0.01), ("large", (500, 2), 4, 0.01),
                                   ("coarse", (1000,), 5, 0.1)]:
    x = rng.normal(size=shape) * 3
    cases["discretization_adapt_" + name] = {
        "x": arr(x), "num_bins": arr(num_bins), "epsilon": arr(eps), "boundaries": arr(adapt(x, num_bins, eps))}

b = torch.tensor([-1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
x = torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float64)
x[0, 0] = 0.5  # on a boundary
cases["bucketize"] = {"x": arr(x), "boundaries": arr(b), "y": arr(torch.bucketize(x, b, right=True))}

ids = torch.tensor([[0, 3], [2, 2], [1, 0]])
oh = torch.nn.functional.one_hot(ids, 4).double()
cases["encoding"] = {"ids": arr(ids), "one_hot": arr(oh), "multi_hot": arr(oh.amax(1)), "count": arr(oh.sum(1))}

x = torch.tensor(rng.normal(size=(6, 2, 3)) * 2 + 1, dtype=torch.float64)
mean = x.mean(dim=(0, 1))
var = x.var(dim=(0, 1), unbiased=False)
cases["normalization"] = {"x": arr(x), "mean": arr(mean), "variance": arr(var), "y": arr((x - mean) / var.sqrt())}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_preprocessing.json")
with open(path, "w") as f:
    json.dump({"generator": "keras/testdata/torch_preprocessing.py", "torch": torch.__version__,
               "numpy": np.__version__, "cases": cases}, f)
    f.write("\n")
