#!/usr/bin/python3
"""PyTorch side of Keragon's benchmark (bench/main.go runs it).

Runs one workload and prints one JSON line with its result. The workloads
are the ones bench/workloads.go runs on the Keragon side, with the same
shapes, batch size, optimizers (Keras' defaults) and synthetic data:

  mlp_epoch     784-512-512-10 MLP, ReLU, Dropout 0.2, RMSprop: s/epoch
  cnn_epoch     Conv32-Pool-Conv64-Pool-Dense128-Dropout 0.5-Dense10, Adam
  cnn_bn_epoch  the CNN with BatchNorm after each convolution (no conv bias)
  lstm_epoch    an image's 28 rows as a sequence: LSTM 128, Dense 10, Adam
  mlp_infer     the MLP's forward pass, no dropout: images/s
  cnn_infer     the CNN's forward pass: images/s
  gemm          a 1024^3 float32 matrix product: GFLOP/s

Use Debian's interpreter (/usr/bin/python3, python3-torch 1.13). Thread
counts come from the command line (torch.set_num_threads) and the
environment (OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE), which bench sets
identically for both sides; the JSON line echoes them.
"""

import argparse
import ctypes
import json
import os
import sys
import time

import torch
import torch.nn as nn

WORKLOADS = ("mlp_epoch", "cnn_epoch", "cnn_bn_epoch", "lstm_epoch", "mlp_infer", "cnn_infer", "gemm")


def mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(512, 10),
    )


def cnn(batchnorm=False):
    layers = []
    for cin, cout in ((1, 32), (32, 64)):
        if batchnorm:
            # Keras' BatchNormalization defaults: momentum 0.99, epsilon 1e-3.
            layers += [nn.Conv2d(cin, cout, 3, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)]
        else:
            layers += [nn.Conv2d(cin, cout, 3)]
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
    layers += [nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10)]
    return nn.Sequential(*layers)


class LSTM(nn.Module):
    """Keras' LSTM(128) then Dense(10): the last step's output."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.out(y[:, -1])


def data(samples, shape, seed=1):
    g = torch.Generator().manual_seed(seed)
    shape = (samples,) + shape
    x = torch.rand(shape, generator=g)
    y = torch.randint(0, 10, (samples,), generator=g)
    return x, y


def train_epoch(model, opt, x, y, batch):
    """One epoch as Keras' fit runs it: shuffle, step per batch, track the
    mean loss and the accuracy."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(x.shape[0])
    total, correct = 0.0, 0
    for i in range(0, x.shape[0], batch):
        idx = perm[i:i + batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
        correct += (out.argmax(1) == yb).sum().item()
    return total / x.shape[0], correct / x.shape[0]


def run_epoch(args, build, shape, optimizer):
    torch.manual_seed(args.seed)
    x, y = data(args.samples, shape)
    # Warm up: one step's worth of samples, so that allocators and thread
    # pools are ready, as on the Go side; the model's construction and
    # this first step are timed as the first step.
    t = time.perf_counter()
    model = build()
    opt = optimizer(model.parameters())
    train_epoch(model, opt, x[:args.batch], y[:args.batch], args.batch)
    first = time.perf_counter() - t
    t = time.perf_counter()
    train_epoch(model, opt, x, y, args.batch)
    secs = time.perf_counter() - t
    steps = (args.samples + args.batch - 1) // args.batch
    return {"seconds": secs, "steps": steps, "seconds_per_epoch": secs * 60000 / args.samples, "first_step_seconds": first}


def run_infer(args, build, shape):
    torch.manual_seed(args.seed)
    x, _ = data(args.samples, shape)
    with torch.no_grad():
        t = time.perf_counter()
        model = build().eval()
        model(x[:args.batch])
        first = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(0, x.shape[0], args.batch):
            model(x[i:i + args.batch])
        secs = time.perf_counter() - t
    return {"seconds": secs, "images_per_second": args.samples / secs, "first_step_seconds": first}


def time_gemm(n, reps, seed):
    """The sorted times of reps n^3 products, after two warm-up ones."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.rand(n, n, generator=g), torch.rand(n, n, generator=g)
    c = torch.empty(n, n)
    for _ in range(2):
        torch.mm(a, b, out=c)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        times.append(time.perf_counter() - t)
    return sorted(times)


def run_gemm(args):
    """Median (and best) of a 1024^3 product; peak_gflops is the best 2048^3 run."""
    times = time_gemm(1024, args.reps, args.seed)
    secs = times[len(times) // 2]
    best = time_gemm(2048, max(3, args.reps // 3), args.seed)[0]
    return {"seconds": secs, "gflops": 2 * 1024 ** 3 / secs / 1e9, "best_gflops": 2 * 1024 ** 3 / times[0] / 1e9,
            "peak_gflops": 2 * 2048 ** 3 / best / 1e9}


def rmsprop(params):
    # Keras' RMSprop defaults (PyTorch adds eps outside the square root;
    # the difference does not matter for speed).
    return torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7)


def adam(params):
    return torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)


def blas_info():
    """What does the work: the BLAS torch was built against (Debian links
    the system's libblas, OpenBLAS here) and whether oneDNN (mkldnn), which
    runs its convolutions, is on."""
    cfg = torch.__config__.show()
    blas = next((f.split("=", 1)[1] for f in cfg.replace(",", " ").split() if f.startswith("BLAS_INFO=")), "?")
    core = "?"
    try:  # Debian's libblas.so.3 is OpenBLAS, already loaded by torch
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_config.restype = lib.openblas_get_corename.restype = ctypes.c_char_p
        core = "%s, core %s" % (lib.openblas_get_config().decode(), lib.openblas_get_corename().decode())
    except (OSError, AttributeError):
        pass
    return "torch %s, BLAS_INFO=%s: %s; mkldnn=%s, %d intra-op threads" % (
        torch.__version__, blas, core, torch.backends.mkldnn.is_available(), torch.get_num_threads())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", required=True, choices=WORKLOADS)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--samples", type=int, default=60000, help="training (or inference) samples")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--reps", type=int, default=9, help="GEMM repetitions (median)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    w = args.workload
    flat, image, rows = (784,), (1, 28, 28), (28, 28)
    if w == "mlp_epoch":
        res = run_epoch(args, mlp, flat, rmsprop)
    elif w == "cnn_epoch":
        res = run_epoch(args, cnn, image, adam)
    elif w == "cnn_bn_epoch":
        res = run_epoch(args, lambda: cnn(True), image, adam)
    elif w == "lstm_epoch":
        res = run_epoch(args, LSTM, rows, adam)
    elif w == "mlp_infer":
        res = run_infer(args, mlp, flat)
    elif w == "cnn_infer":
        res = run_infer(args, cnn, image)
    else:
        res = run_gemm(args)
    res.update({
        "side": "pytorch",
        "workload": w,
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "blas_info": blas_info(),
        "batch": args.batch,
        "samples": args.samples,
    })
    print(json.dumps(res))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
