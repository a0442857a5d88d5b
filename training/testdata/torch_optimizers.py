"""Reference values for Keragon's optimizers (training/*_test.go).

Run with /usr/bin/python3 (torch 1.13, numpy) from this directory:

    /usr/bin/python3 torch_optimizers.py   # writes torch_optimizers.json

Two weights ("dense/kernel" (3, 2), "dense/bias" (2,)) take three steps with
fixed gradients; every case records the weights after each step. The Go test
rebuilds each optimizer from (optimizer, config) with OptimizerFromConfig, so
config uses Keras' get_config names.

Where PyTorch and Keras 3 differ, this script says so per optimizer:

- SGD (momentum, nesterov): torch's buffer b = momentum*b + g with
  w -= lr*b is Keras' velocity = momentum*velocity - lr*g, w += velocity,
  times -lr, when lr is constant (and nesterov likewise). TORCH.
  With a schedule only plain SGD (no momentum) is equivalent. TORCH.
- Adam, AdamW: torch divides by sqrt(v)/sqrt(bc2) + eps, Keras multiplies by
  lr*sqrt(bc2)/bc1 and divides by sqrt(v) + eps. That is exactly torch with
  eps_torch = eps_keras/sqrt(1 - beta_2^t), which changes every step: the
  script sets param_group["eps"] before each step. AMSGrad (max of v) and
  AdamW's decoupled decay (w *= 1 - lr*wd before the Adam step) are the same
  in both. TORCH (with per-step eps), cross-checked against the explicit
  Keras rule.
- RMSprop: torch adds eps outside the square root, Keras inside
  (sqrt(v + eps)); no constant torch eps is equivalent. KERAS RULE, written
  out below; its momentum/centered structure is checked against torch with
  eps = 0, where the two agree.
- Adagrad: eps placement differs the same way (torch sqrt(acc) + eps, Keras
  sqrt(acc + eps)); the initial accumulator (Keras 0.1, torch 0 by default)
  is passed to torch. KERAS RULE, checked against torch with eps = 0.
- Adadelta: torch's rule is Keras' rule (eps inside both square roots). TORCH.

Numbers are written with repr (shortest round-trip, full float64 precision).
"""

import json
import math

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

STEPS = 3
rng = np.random.RandomState(20240611)
SHAPES = [("dense/kernel", (3, 2)), ("dense/bias", (2,))]
INIT = {n: rng.randn(*s) for n, s in SHAPES}
# The middle step's gradients are smaller, so second moments fall somewhere
# and AMSGrad's running maximum matters.
GRADS = [{n: rng.randn(*s) * scale for n, s in SHAPES} for scale in (1.0, 0.3, 1.0)]


# ---- Keras 3 learning-rate schedules (keras/src/optimizers/schedules) ----

def exponential_decay(c, step):
    p = step / c["decay_steps"]
    if c.get("staircase"):
        p = math.floor(p)
    return c["initial_learning_rate"] * c["decay_rate"] ** p


def cosine_decay(c, step):
    alpha = c.get("alpha", 0.0)

    def decayed(t, lr0):
        cosine = 0.5 * (1.0 + math.cos(math.pi * (t / c["decay_steps"])))
        return lr0 * ((1 - alpha) * cosine + alpha)

    if not c.get("warmup_target"):
        return decayed(min(step, c["decay_steps"]), c["initial_learning_rate"])
    warm = c.get("warmup_steps", 0)
    t = min(step, c["decay_steps"] + warm)
    if t < warm:
        return (c["warmup_target"] - c["initial_learning_rate"]) * (t / warm) + c["initial_learning_rate"]
    return decayed(t - warm, c["warmup_target"])


SCHEDULES = {"ExponentialDecay": exponential_decay, "CosineDecay": cosine_decay}


def lr_at(config, default):
    """The learning rate of step t (0-based), as Keras' optimizer sees it."""
    lr = config.get("learning_rate", default)
    if isinstance(lr, dict):
        return lambda t: SCHEDULES[lr["class_name"]](lr["config"], t)
    return lambda t: lr


# ---- PyTorch runs ----

def torch_run(make, lr=None, eps=None):
    params = [torch.tensor(INIT[n], requires_grad=True) for n, _ in SHAPES]
    opt = make(params)
    out = []
    for t in range(STEPS):
        for p, (n, _) in zip(params, SHAPES):
            p.grad = torch.tensor(GRADS[t][n])
        for g in opt.param_groups:
            if lr is not None:
                g["lr"] = lr(t)
            if eps is not None:
                g["eps"] = eps(t)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


# ---- Keras 3 update rules, written out (keras/src/optimizers/*.py) ----

def keras_run(update, slots, lr):
    w = {n: INIT[n].copy() for n, _ in SHAPES}
    s = {n: slots(INIT[n]) for n, _ in SHAPES}
    out = []
    for t in range(STEPS):
        for n, _ in SHAPES:
            w[n] = update(w[n], GRADS[t][n], s[n], lr(t), t)
        out.append([w[n].copy() for n, _ in SHAPES])
    return out


def keras_sgd(c):
    mom, nesterov = c.get("momentum", 0.0), c.get("nesterov", False)

    def update(w, g, s, lr, t):
        if mom == 0:
            return w - lr * g
        s["m"] = s["m"] * mom - g * lr
        if nesterov:
            return w + (s["m"] * mom - g * lr)
        return w + s["m"]
    return keras_run(update, lambda w: {"m": np.zeros_like(w)}, lr_at(c, 0.01))


def keras_adam(c, adamw=False):
    b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.999)
    eps, ams = c.get("epsilon", 1e-7), c.get("amsgrad", False)
    wd = c.get("weight_decay", 0.004) if adamw else None

    def update(w, g, s, lr, t):
        if wd is not None:  # BaseOptimizer._apply_weight_decay, before update_step
            w = w - w * wd * lr
        step = t + 1
        alpha = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
        s["m"] = s["m"] + (g - s["m"]) * (1 - b1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - b2)
        v = s["v"]
        if ams:
            s["vhat"] = np.maximum(s["vhat"], v)
            v = s["vhat"]
        return w - s["m"] * alpha / (np.sqrt(v) + eps)
    zeros = lambda w: {"m": np.zeros_like(w), "v": np.zeros_like(w), "vhat": np.zeros_like(w)}
    return keras_run(update, zeros, lr_at(c, 0.001))


def keras_rmsprop(c, eps=None):
    rho, mom = c.get("rho", 0.9), c.get("momentum", 0.0)
    centered = c.get("centered", False)
    eps = c.get("epsilon", 1e-7) if eps is None else eps

    def update(w, g, s, lr, t):
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        if centered:
            s["a"] = rho * s["a"] + (1 - rho) * g
            den = s["v"] - s["a"] * s["a"] + eps
        else:
            den = s["v"] + eps
        inc = lr * g / np.sqrt(den)
        if mom > 0:
            s["m"] = mom * s["m"] + inc
            return w - s["m"]
        return w - inc
    zeros = lambda w: {"v": np.zeros_like(w), "a": np.zeros_like(w), "m": np.zeros_like(w)}
    return keras_run(update, zeros, lr_at(c, 0.001))


def keras_adagrad(c, eps=None):
    init = c.get("initial_accumulator_value", 0.1)
    eps = c.get("epsilon", 1e-7) if eps is None else eps

    def update(w, g, s, lr, t):
        s["acc"] = s["acc"] + g * g
        return w - lr * g / np.sqrt(s["acc"] + eps)
    return keras_run(update, lambda w: {"acc": np.full_like(w, init)}, lr_at(c, 0.001))


def keras_adadelta(c):
    rho, eps = c.get("rho", 0.95), c.get("epsilon", 1e-7)

    def update(w, g, s, lr, t):
        s["ag"] = rho * s["ag"] + (1 - rho) * g * g
        delta = -(np.sqrt(s["ad"] + eps) * g) / np.sqrt(s["ag"] + eps)
        s["ad"] = rho * s["ad"] + (1 - rho) * delta * delta
        return w + lr * delta
    return keras_run(update, lambda w: {"ag": np.zeros_like(w), "ad": np.zeros_like(w)}, lr_at(c, 0.001))


# ---- the cases ----

def torch_sgd(c):
    return torch_run(lambda p: torch.optim.SGD(p, lr=1.0, momentum=c.get("momentum", 0.0),
                                               nesterov=c.get("nesterov", False)),
                     lr=lr_at(c, 0.01))


def torch_adam(c, adamw=False):
    b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.999)
    eps, ams = c.get("epsilon", 1e-7), c.get("amsgrad", False)
    keras_eps = lambda t: eps / math.sqrt(1 - b2 ** (t + 1))  # exact equivalent, see top
    if adamw:
        make = lambda p: torch.optim.AdamW(p, lr=1.0, betas=(b1, b2), eps=eps, amsgrad=ams,
                                           weight_decay=c.get("weight_decay", 0.004))
    else:
        make = lambda p: torch.optim.Adam(p, lr=1.0, betas=(b1, b2), eps=eps, amsgrad=ams)
    return torch_run(make, lr=lr_at(c, 0.001), eps=keras_eps)


def torch_rmsprop(c, eps):
    return torch_run(lambda p: torch.optim.RMSprop(p, lr=1.0, alpha=c.get("rho", 0.9), eps=eps,
                                                   momentum=c.get("momentum", 0.0),
                                                   centered=c.get("centered", False)),
                     lr=lr_at(c, 0.001))


def torch_adagrad(c, eps):
    return torch_run(lambda p: torch.optim.Adagrad(p, lr=1.0, eps=eps,
                                                   initial_accumulator_value=c.get("initial_accumulator_value", 0.1)),
                     lr=lr_at(c, 0.001))


def torch_adadelta(c):
    return torch_run(lambda p: torch.optim.Adadelta(p, lr=1.0, rho=c.get("rho", 0.95), eps=c.get("epsilon", 1e-7)),
                     lr=lr_at(c, 0.001))


def max_diff(a, b):
    return max(float(np.max(np.abs(x - y))) for sa, sb in zip(a, b) for x, y in zip(sa, sb))


def agree(name, a, b, tol=1e-13):
    d = max_diff(a, b)
    assert d < tol, f"{name}: torch and the Keras rule differ by {d}"
    return d


cases = []


def case(name, optimizer, config, reference, steps):
    cases.append({"name": name, "optimizer": optimizer, "config": config,
                  "reference": reference,
                  "steps": [[w.ravel().tolist() for w in s] for s in steps]})


exp_decay = {"class_name": "ExponentialDecay",
             "config": {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5, "staircase": False}}
cosine = {"class_name": "CosineDecay",
          "config": {"initial_learning_rate": 0.005, "decay_steps": 4, "alpha": 0.1,
                     "warmup_target": 0.02, "warmup_steps": 1}}

for name, c in [("sgd_default", {}),
                ("sgd", {"learning_rate": 0.1}),
                ("sgd_momentum", {"learning_rate": 0.1, "momentum": 0.9}),
                ("sgd_nesterov", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
                ("sgd_exponential_decay", {"learning_rate": exp_decay})]:
    t = torch_sgd(c)
    agree(name, t, keras_sgd(c))
    case(name, "sgd", c, "torch", t)

for name, opt, c in [("adam_default", "adam", {}),
                     ("adam", "adam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 0.1}),
                     ("adam_amsgrad", "adam", {"learning_rate": 0.01, "beta_2": 0.5, "epsilon": 1e-3, "amsgrad": True}),
                     ("adam_cosine_decay", "adam", {"learning_rate": cosine}),
                     ("adamw_default", "adamw", {}),
                     ("adamw", "adamw", {"learning_rate": 0.01, "weight_decay": 0.1, "epsilon": 0.01}),
                     ("adamw_amsgrad", "adamw", {"learning_rate": 0.01, "weight_decay": 0.1, "beta_2": 0.5,
                                                 "amsgrad": True})]:
    t = torch_adam(c, adamw=opt == "adamw")
    agree(name, t, keras_adam(c, adamw=opt == "adamw"))
    case(name, opt, c, "torch", t)

for name, c in [("rmsprop_default", {}),
                ("rmsprop", {"learning_rate": 0.01, "rho": 0.8, "epsilon": 0.1}),
                ("rmsprop_momentum", {"learning_rate": 0.01, "momentum": 0.9}),
                ("rmsprop_centered", {"learning_rate": 0.01, "centered": True, "epsilon": 0.01}),
                ("rmsprop_centered_momentum", {"learning_rate": 0.01, "centered": True, "momentum": 0.5})]:
    agree(name + " (eps=0)", torch_rmsprop(c, eps=0.0), keras_rmsprop(c, eps=0.0))
    case(name, "rmsprop", c, "keras-rule", keras_rmsprop(c))

for name, c in [("adagrad_default", {}),
                ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 0.1})]:
    agree(name + " (eps=0)", torch_adagrad(c, eps=0.0), keras_adagrad(c, eps=0.0))
    case(name, "adagrad", c, "keras-rule", keras_adagrad(c))

for name, c in [("adadelta_default", {}),
                ("adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-3})]:
    t = torch_adadelta(c)
    agree(name, t, keras_adadelta(c))
    case(name, "adadelta", c, "torch", t)

# The data must tell the rules apart: AMSGrad's maximum has to bite, and
# torch's own eps placement has to miss the Keras numbers.
for name, opt, c in [("adam_amsgrad", "adam", {"learning_rate": 0.01, "beta_2": 0.5, "epsilon": 1e-3}),
                     ("adamw_amsgrad", "adamw", {"learning_rate": 0.01, "weight_decay": 0.1, "beta_2": 0.5})]:
    ams = next(x for x in cases if x["name"] == name)["steps"]
    plain = keras_adam(c, adamw=opt == "adamw")
    assert max_diff([[np.array(w) for w in s] for s in ams], [[w.ravel() for w in s] for s in plain]) > 1e-6, name + ": AMSGrad changes nothing"
c = {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 0.1}
assert max_diff(torch_run(lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=0.1)), keras_adam(c)) > 1e-4
c = {"learning_rate": 0.01, "rho": 0.8, "epsilon": 0.1}
assert max_diff(torch_rmsprop(c, eps=0.1), keras_rmsprop(c)) > 1e-4
c = {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 0.1}
assert max_diff(torch_adagrad(c, eps=0.1), keras_adagrad(c)) > 1e-4

out = {
    "torch_version": torch.__version__,
    "weights": [{"name": n, "shape": list(s), "value": INIT[n].ravel().tolist()} for n, s in SHAPES],
    "grads": [[GRADS[t][n].ravel().tolist() for n, _ in SHAPES] for t in range(STEPS)],
    "cases": cases,
}
with open("torch_optimizers.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases")
