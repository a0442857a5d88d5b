"""Reference values for keras/merge_test.go, computed with PyTorch 1.13.

Run from the repository root with the system Python, which has torch:

    /usr/bin/python3 keras/testdata/torch_merge.py

It writes keras/testdata/torch_merge.json. Everything is float64; arrays
are {"shape": [...], "data": [...]} flattened row-major.

Each case applies one of Keras' merge layers, written with the torch
function that is the same thing, to inputs x0, x1 (, x2), and gives its
output y and, for loss = sum(y * up), the gradients grad_x0, grad_x1, ...
(ties between Maximum's inputs do not occur in random data).

- add, subtract, multiply, average, maximum, minimum: torch's elementwise
  +, -, *, mean of a stack, torch.maximum, torch.minimum over 3 inputs
  (subtract: 2) of shape (2, 3, 4).
- add_broadcast: (2, 3, 4) + (2, 1, 4) + (2, 4): Keras broadcasts NumPy's
  way after putting axes of size 1 after the batch axis for lower ranks.
- concatenate_<axis>: torch.cat of (2, 3, 4) and (2, 3, 2) (axis -1),
  (2, 3, 4) and (2, 1, 4) (axis 1).
- dot_<name>: Keras' batch_dot with the given axes (batch axis counted),
  written with torch.einsum; dot_cosine normalises both inputs first
  (torch.nn.functional.normalize, whose max(norm, eps) equals Keras'
  rsqrt(max(sum(x^2), eps^2)) away from zero vectors).
"""
import json
import os

import torch

torch.manual_seed(20240901)
DT = torch.float64


def arr(t):
    t = torch.as_tensor(t, dtype=DT).detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def case(fn, shapes, axes=None):
    xs = [(torch.rand(*s, dtype=DT) * 2 - 1).requires_grad_() for s in shapes]
    y = fn(*xs)
    up = torch.rand(*y.shape, dtype=DT) * 2 - 1
    (y * up).sum().backward()
    out = {"y": arr(y), "up": arr(up)}
    for i, x in enumerate(xs):
        out["x%d" % i] = arr(x)
        out["grad_x%d" % i] = arr(x.grad)
    return out


def bcast(*xs):
    rank = max(x.dim() for x in xs)
    out = []
    for x in xs:
        while x.dim() < rank:
            x = x.unsqueeze(1)
        out.append(x)
    return out


S = (2, 3, 4)
cases = {
    "add": case(lambda a, b, c: a + b + c, [S, S, S]),
    "subtract": case(lambda a, b: a - b, [S, S]),
    "multiply": case(lambda a, b, c: a * b * c, [S, S, S]),
    "average": case(lambda a, b, c: torch.stack([a, b, c]).mean(0), [S, S, S]),
    "maximum": case(lambda a, b, c: torch.maximum(torch.maximum(a, b), c), [S, S, S]),
    "minimum": case(lambda a, b, c: torch.minimum(torch.minimum(a, b), c), [S, S, S]),
    "add_broadcast": case(lambda *xs: sum(bcast(*xs)), [S, (2, 1, 4), (2, 4)]),
    "concatenate_last": case(lambda a, b: torch.cat([a, b], dim=-1), [S, (2, 3, 2)]),
    "concatenate_1": case(lambda a, b: torch.cat([a, b], dim=1), [S, (2, 1, 4)]),
    # axes (2, 1): (2, 5, 3)·(2, 3, 4) -> (2, 5, 4)
    "dot_2_1": case(lambda a, b: torch.einsum("bik,bkj->bij", a, b), [(2, 5, 3), (2, 3, 4)]),
    # axes 1 on vectors: inner products, shape (2, 1)
    "dot_vectors": case(lambda a, b: (a * b).sum(1, keepdim=True), [(2, 4), (2, 4)]),
    # axes (1, 1): (2, 3, 5)·(2, 3, 4) -> (2, 5, 4)
    "dot_1_1": case(lambda a, b: torch.einsum("bki,bkj->bij", a, b), [(2, 3, 5), (2, 3, 4)]),
    # axes (1, 2): (2, 4)·(2, 3, 4) -> (2, 3)
    "dot_vector_matrix": case(lambda a, b: torch.einsum("bk,bjk->bj", a, b), [(2, 4), (2, 3, 4)]),
    "dot_cosine": case(lambda a, b: (torch.nn.functional.normalize(a, dim=-1, eps=1e-7)
                                     * torch.nn.functional.normalize(b, dim=-1, eps=1e-7)).sum(-1, keepdim=True),
                       [(2, 6), (2, 6)]),
}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_merge.json")
with open(path, "w") as f:
    json.dump({"generator": "keras/testdata/torch_merge.py", "torch": torch.__version__, "cases": cases}, f)
    f.write("\n")
