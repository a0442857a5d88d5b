"""Reference values for Keras' GRU with reset_after=False (keras/gru_test.go).

PyTorch's GRU is only the reset_after=True formulation, so this script
writes Keras' equations (keras/src/layers/rnn/gru.py, GRUCell.call with
reset_after=False) once, for an array module, and runs them with NumPy for
the values and with torch (as an autodiff engine, float64) for the
gradients, checking that both agree. Run from the repository root:

    /usr/bin/python3 keras/testdata/numpy_gru.py

It writes keras/testdata/numpy_gru.json: arrays {"shape", "data"} in
Keras' layouts: kernel (F, 3U), recurrent_kernel (U, 3U), bias (3U), gates
z, r, h in that order, with

    z = sigmoid(x K_z + b_z + h R_z)     r = sigmoid(x K_r + b_r + h R_r)
    hh = tanh(x K_h + b_h + (r * h) R_h)
    h' = z * h + (1 - z) * hh

Keras' masking: at a padded step the state keeps its value and the output
repeats the previous output (zeros before the first real step). Each case
has x, the weights, h0 (or none), the outputs y (the sequence or the last
output) and h (the final state), and for loss = sum(y * up_y) +
sum(h * up_h) the gradients grad_x, grad_h0, grad_<weight>.

- sequences: return_sequences, an initial state.
- masked_backwards: go_backwards, the last output, a mask with a hole and a
  padded start, zero initial state.
"""
import json
import os

import numpy as np
import torch

rng = np.random.default_rng(20240906)
B, T, F, U = 3, 5, 4, 3


def arr(t):
    t = np.asarray(t, dtype=np.float64)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def run(xp, x, K, R, b, h0, mask, backwards, sequences):
    sig = lambda v: 1 / (1 + xp.exp(-v))
    h = h0
    out = h0 * 0
    outs = []
    steps = range(T - 1, -1, -1) if backwards else range(T)
    for t in steps:
        xt = x[:, t, :] @ K + b
        rec = h @ R[:, :2 * U]
        z = sig(xt[:, :U] + rec[:, :U])
        r = sig(xt[:, U:2 * U] + rec[:, U:])
        hh = xp.tanh(xt[:, 2 * U:] + (r * h) @ R[:, 2 * U:])
        nh = z * h + (1 - z) * hh
        if mask is None:
            h, out = nh, nh
        else:
            m = mask[:, t:t + 1]
            h = m * nh + (1 - m) * h
            out = m * nh + (1 - m) * out
        outs.append(out)
    y = (xp.stack(outs, 1) if xp is np else torch.stack(outs, 1)) if sequences else out
    return y, h


cases = {}
for name, sequences, backwards, masked, initial in [("sequences", True, False, False, True),
                                                     ("masked_backwards", False, True, True, False)]:
    x = rng.uniform(-1, 1, (B, T, F))
    K = rng.uniform(-0.7, 0.7, (F, 3 * U))
    R = rng.uniform(-0.7, 0.7, (U, 3 * U))
    b = rng.uniform(-0.3, 0.3, (3 * U,))
    h0 = rng.uniform(-1, 1, (B, U)) if initial else np.zeros((B, U))
    mask = np.array([[1, 1, 1, 1, 1], [0, 1, 1, 0, 1], [1, 1, 0, 0, 0]], dtype=np.float64) if masked else None
    y, h = run(np, x, K, R, b, h0, mask, backwards, sequences)
    up_y, up_h = rng.uniform(-1, 1, y.shape), rng.uniform(-1, 1, h.shape)
    tt = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
          {"x": x, "kernel": K, "recurrent_kernel": R, "bias": b, "h0": h0}.items()}
    ty, th = run(torch, tt["x"], tt["kernel"], tt["recurrent_kernel"], tt["bias"], tt["h0"],
                 None if mask is None else torch.tensor(mask), backwards, sequences)
    assert np.allclose(ty.detach().numpy(), y, rtol=0, atol=1e-14)
    ((ty * torch.tensor(up_y)).sum() + (th * torch.tensor(up_h)).sum()).backward()
    case = {"y": arr(y), "h": arr(h), "up_y": arr(up_y), "up_h": arr(up_h)}
    for k, v in tt.items():
        case[k] = arr(v.detach())
        case["grad_" + k] = arr(v.grad)
    if mask is not None:
        case["mask"] = arr(mask)
    cases[name] = case

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy_gru.json")
with open(path, "w") as f:
    json.dump({"generator": "keras/testdata/numpy_gru.py", "numpy": np.__version__, "cases": cases}, f)
    f.write("\n")
