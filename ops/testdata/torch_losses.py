"""Reference values for ops/losses_test.go, computed with PyTorch.

Run from the repository root with the system Python (torch 1.13):

    /usr/bin/python3 ops/testdata/torch_losses.py > ops/testdata/torch_losses.json

For fixed inputs (written into the JSON too) each case records the loss per
sample, as Keragon defines it (the mean over every non-batch element, or over
every non-batch row for the cross-entropies), and the gradients of the mean of
those values over the batch with respect to y_pred and, where the loss has one,
y_true. Everything is float64.

Keras semantics that PyTorch lacks are written with torch operations and
autograd: clipping probabilities to [1e-7, 1-1e-7] (torch's BCE clamps the
log at -100 instead, torch has no cross-entropy from probabilities) and hinge
losses with {0, 1} labels mapped to {-1, 1}. Where torch.nn.functional has
the loss, the script checks that the formula agrees with it on unclipped
inputs.
"""

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
EPS = 1e-7
rng = np.random.default_rng(20240611)
cases = []


def uniform(lo, hi, shape):
    return rng.uniform(lo, hi, size=shape)


def per_sample(v):
    """Mean over every axis but the batch axis."""
    return v.reshape(v.shape[0], -1).mean(dim=1)


def add(name, loss, y_true, y_pred, fn, true_grad=True, float64_only=False, **params):
    t = torch.tensor(y_true, requires_grad=true_grad)
    p = torch.tensor(y_pred, requires_grad=True)
    v = fn(t, p)
    assert v.shape == (p.shape[0],), (name, v.shape)
    wrt = [p, t] if true_grad else [p]
    grads = torch.autograd.grad(v.mean(), wrt)
    case = {
        "name": name,
        "loss": loss,
        "y_true": {"shape": list(t.shape), "data": t.detach().flatten().tolist()},
        "y_pred": {"shape": list(p.shape), "data": p.detach().flatten().tolist()},
        "per_sample": v.detach().tolist(),
        "grad_pred": grads[0].flatten().tolist(),
        "grad_true": grads[1].flatten().tolist() if true_grad else None,
        # float64_only: the case clips at a bound that Keras rounds to the
        # dtype (1-1e-7 is 0.99999988 in float32), so float32 differs.
        "float64_only": float64_only,
    }
    case.update(params)
    cases.append(case)


def close(a, b):
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-12), (a, b)


# Regression losses: torch.nn.functional directly.
for shape in [(4, 3), (2, 3, 2)]:
    tag = "x".join(map(str, shape))
    t, p = uniform(-2, 2, shape), uniform(-2, 2, shape)
    add("mse_" + tag, "mse", t, p, lambda t, p: per_sample(F.mse_loss(p, t, reduction="none")))
    add("mae_" + tag, "mae", t, p, lambda t, p: per_sample(F.l1_loss(p, t, reduction="none")))
    for delta in [1.0, 0.5]:
        add("huber%g_%s" % (delta, tag), "huber", t, p,
            lambda t, p: per_sample(F.huber_loss(p, t, reduction="none", delta=delta)), delta=delta)


# Binary cross-entropy.
def bce_prob(smoothing=0.0):
    def f(t, p):
        t = t * (1 - smoothing) + 0.5 * smoothing
        c = p.clamp(EPS, 1 - EPS)
        return per_sample(-(t * torch.log(c) + (1 - t) * torch.log(1 - c)))
    return f


def bce_logits(smoothing=0.0):
    def f(t, x):
        t = t * (1 - smoothing) + 0.5 * smoothing
        return per_sample(F.binary_cross_entropy_with_logits(x, t, reduction="none"))
    return f


for shape in [(4, 3), (2, 3, 2)]:
    tag = "x".join(map(str, shape))
    t = uniform(0, 1, shape)
    t.flat[::3] = np.round(t.flat[::3])  # some hard labels among soft ones
    p, x = uniform(0.02, 0.98, shape), uniform(-4, 4, shape)
    tt, pp, xx = torch.tensor(t), torch.tensor(p), torch.tensor(x)
    close(bce_prob()(tt, pp), per_sample(F.binary_cross_entropy(pp, tt, reduction="none")))
    add("bce_prob_" + tag, "bce", t, p, bce_prob(), from_logits=False)
    add("bce_logits_" + tag, "bce", t, x, bce_logits(), from_logits=True)
    add("bce_prob_smooth_" + tag, "bce", t, p, bce_prob(0.2), from_logits=False, smoothing=0.2)
    add("bce_logits_smooth_" + tag, "bce", t, x, bce_logits(0.2), from_logits=True, smoothing=0.2)

# Probabilities at and beyond the clipping bounds: zero gradient there.
t = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.3]])
p = np.array([[1.0, 0.0, 0.5], [1.0, 1e-9, 0.4]])
add("bce_prob_clipped", "bce", t, p, bce_prob(), from_logits=False, float64_only=True)
# Large logits stay finite.
add("bce_logits_large", "bce", t, np.array([[40.0, -40.0, 700.0], [-700.0, 3.0, 0.0]]), bce_logits(),
    from_logits=True)


# Categorical cross-entropy.
def cce_prob(smoothing=0.0):
    def f(t, p):
        k = p.shape[-1]
        t = t * (1 - smoothing) + smoothing / k
        q = (p / p.sum(dim=-1, keepdim=True)).clamp(EPS, 1 - EPS)
        return per_sample(-(t * torch.log(q)).sum(dim=-1))
    return f


def cce_logits(smoothing=0.0):
    def f(t, x):
        # cross_entropy wants the class axis second.
        xs, ts = x, t
        if x.dim() > 2:
            xs, ts = x.movedim(-1, 1), t.movedim(-1, 1)
        return per_sample(F.cross_entropy(xs, ts, reduction="none", label_smoothing=smoothing))
    return f


def sparse_prob(t, p):
    q = (p / p.sum(dim=-1, keepdim=True)).clamp(EPS, 1 - EPS)
    lq = torch.log(q)
    if p.dim() > 2:
        lq = lq.movedim(-1, 1)
    return per_sample(F.nll_loss(lq, t.long(), reduction="none"))


def sparse_logits(t, x):
    if x.dim() > 2:
        x = x.movedim(-1, 1)
    return per_sample(F.cross_entropy(x, t.long(), reduction="none"))


def soft_rows(shape):
    t = uniform(0, 1, shape)
    return t / t.sum(axis=-1, keepdims=True)


for shape in [(4, 3), (2, 3, 4)]:
    tag = "x".join(map(str, shape))
    t = soft_rows(shape)
    onehot = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
    t.reshape(-1, shape[-1])[::2] = onehot.reshape(-1, shape[-1])[::2]  # half one-hot
    x = uniform(-3, 3, shape)
    p = soft_rows(shape)
    p_raw = uniform(0.1, 2, shape)  # rows not summing to 1: Keras normalises them
    add("cce_prob_" + tag, "cce", t, p, cce_prob(), from_logits=False)
    add("cce_prob_unnormalised_" + tag, "cce", t, p_raw, cce_prob(), from_logits=False)
    add("cce_logits_" + tag, "cce", t, x, cce_logits(), from_logits=True)
    add("cce_prob_smooth_" + tag, "cce", t, p, cce_prob(0.1), from_logits=False, smoothing=0.1)
    add("cce_logits_smooth_" + tag, "cce", t, x, cce_logits(0.1), from_logits=True, smoothing=0.1)

    labels = rng.integers(0, shape[-1], size=shape[:-1]).astype(np.float64)
    lt = torch.tensor(labels)
    close(sparse_prob(lt, torch.tensor(p_raw)),
          cce_prob()(F.one_hot(lt.long(), shape[-1]).double(), torch.tensor(p_raw)))
    add("sparse_prob_" + tag, "sparse", labels, p_raw, sparse_prob, true_grad=False, from_logits=False)
    add("sparse_logits_" + tag, "sparse", labels, x, sparse_logits, true_grad=False, from_logits=True)

# A probability below the clipping bound (its gradient is zero) and large
# logits.
t = np.array([[0.0, 1.0, 0.0], [0.2, 0.5, 0.3]])
add("cce_prob_clipped", "cce", t, np.array([[1e-9, 0.5, 0.5], [0.6, 0.4, 1e-12]]), cce_prob(),
    from_logits=False)
add("cce_logits_large", "cce", t, np.array([[800.0, -800.0, 0.0], [50.0, 51.0, -700.0]]), cce_logits(),
    from_logits=True)


# Hinge losses, by formula (Keras maps {0, 1} labels to {-1, 1}).
def hinge(squared):
    def f(t, p):
        if bool(((t == 0) | (t == 1)).all()):
            t = 2 * t - 1
        m = torch.clamp(1 - t * p, min=0)
        return per_sample(m * m if squared else m)
    return f


def away_from_margin(t, p):
    """Moves predictions off the kink of max(1 - t*p, 0)."""
    s = np.where(t == 0, -1.0, t)
    m = 1 - s * p
    p[np.abs(m) < 0.05] += 0.1
    return p


for shape in [(4, 3), (2, 3, 2)]:
    tag = "x".join(map(str, shape))
    pm = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    zo = (pm + 1) / 2
    p = away_from_margin(pm, uniform(-2, 2, shape))
    q = away_from_margin(zo, uniform(-2, 2, shape))
    for sq in [False, True]:
        name = "squared_hinge" if sq else "hinge"
        add("%s_pm1_%s" % (name, tag), name, pm, p, hinge(sq), true_grad=False)
        add("%s_01_%s" % (name, tag), name, zo, q, hinge(sq), true_grad=False)

json.dump({"generator": "ops/testdata/torch_losses.py", "torch": torch.__version__, "cases": cases},
          sys.stdout, indent=1)
sys.stdout.write("\n")
