"""Reference values for ops/normalization_torch_test.go (PyTorch 1.13).

Run with /usr/bin/python3 ops/testdata/torch_norm.py from the repository
root; it writes ops/testdata/torch_norm.json. Everything is float64.
Arrays are flattened row-major in Keragon's channel-last layout: torch's
NCHW tensors are permuted so that 4-D cases are NHWC in the JSON.

Each case gives the inputs, a fixed upstream gradient G and, for
loss = sum(y * G), the output y and the gradients of loss with respect to
x, weight (gamma) and bias (beta).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240607)
DT = torch.float64


def flat(t):
    return [float(v) for v in t.detach().contiguous().reshape(-1).tolist()]


def nhwc_to_torch(t):
    """A channel-last tensor as torch wants it (channels second)."""
    if t.dim() == 4:
        return t.permute(0, 3, 1, 2)
    return t


def torch_to_nhwc(t):
    if t.dim() == 4:
        return t.permute(0, 2, 3, 1)
    return t


def batch_case(name, shape, eps, training, affine=True):
    c = shape[-1]
    # Inputs with a per-channel offset and scale, so the statistics matter.
    x = (torch.randn(shape, dtype=DT) * torch.linspace(0.5, 2.0, c, dtype=DT)
         + torch.linspace(-1.0, 3.0, c, dtype=DT)).requires_grad_()
    g = torch.randn(shape, dtype=DT)
    w = (torch.rand(c, dtype=DT) + 0.5).requires_grad_() if affine else None
    b = torch.randn(c, dtype=DT).requires_grad_() if affine else None
    rm = torch.randn(c, dtype=DT)
    rv = torch.rand(c, dtype=DT) + 0.5
    y = F.batch_norm(nhwc_to_torch(x), rm.clone(), rv.clone(), w, b,
                     training=training, momentum=0.1, eps=eps)
    y = torch_to_nhwc(y)
    (y * g).sum().backward()
    case = {
        "name": name, "kind": "batch_train" if training else "batch_infer",
        "shape": list(shape), "eps": eps,
        "x": flat(x), "upstream": flat(g), "y": flat(y), "dx": flat(x.grad),
        "gamma": flat(w) if affine else None, "beta": flat(b) if affine else None,
        "dgamma": flat(w.grad) if affine else None,
        "dbeta": flat(b.grad) if affine else None,
    }
    axes = tuple(range(len(shape) - 1))
    if training:
        case["mean"] = flat(x.mean(dim=axes))
        case["variance"] = flat(x.var(dim=axes, unbiased=False))
    else:
        case["mean"] = flat(rm)
        case["variance"] = flat(rv)
    return case


def layer_case(name, shape, eps, affine=True):
    c = shape[-1]
    x = (torch.randn(shape, dtype=DT) * 1.5 + 0.7).requires_grad_()
    g = torch.randn(shape, dtype=DT)
    w = (torch.rand(c, dtype=DT) + 0.5).requires_grad_() if affine else None
    b = torch.randn(c, dtype=DT).requires_grad_() if affine else None
    y = F.layer_norm(x, (c,), w, b, eps=eps)
    (y * g).sum().backward()
    return {
        "name": name, "kind": "layer", "shape": list(shape), "eps": eps,
        "x": flat(x), "upstream": flat(g), "y": flat(y), "dx": flat(x.grad),
        "gamma": flat(w) if affine else None, "beta": flat(b) if affine else None,
        "dgamma": flat(w.grad) if affine else None,
        "dbeta": flat(b.grad) if affine else None,
    }


cases = [
    batch_case("batch_train_2d", (8, 3), 1e-3, True),
    batch_case("batch_train_4d_nhwc", (2, 3, 4, 5), 1e-3, True),
    batch_case("batch_train_4d_nhwc_eps1e-5_no_affine", (3, 2, 2, 4), 1e-5, True, affine=False),
    batch_case("batch_infer_2d", (6, 4), 1e-3, False),
    batch_case("batch_infer_4d_nhwc", (2, 3, 3, 4), 1e-3, False),
    layer_case("layer_2d", (4, 6), 1e-3),
    layer_case("layer_3d", (2, 3, 5), 1e-5),
    layer_case("layer_3d_no_affine", (3, 2, 4), 1e-3, affine=False),
]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_norm.json")
with open(out, "w") as f:
    # One case a line; json writes floats with repr, which round-trips.
    f.write('{"generator": "ops/testdata/torch_norm.py", "torch": %s, "cases": [\n'
            % json.dumps(torch.__version__))
    f.write(",\n".join(json.dumps(c) for c in cases))
    f.write("\n]}\n")
print("wrote", out, len(cases), "cases")
