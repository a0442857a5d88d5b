"""Reference values for keras/torch_test.go, computed with PyTorch 1.13.

Run from the repository root with the system Python, which has torch:

    /usr/bin/python3 keras/testdata/torch_layers.py

It writes keras/testdata/torch_layers.json. Everything is float64. Each
case maps names to arrays {"shape": [...], "data": [...]} flattened
row-major in Keras' layout: kernels are (inputs, units), so torch's
Linear.weight is kernel transposed; images and sequences are channels last.

Conventions, so the Go test can rebuild each computation:

- dense, dense_rank3: y = x @ kernel + bias (torch.nn.Linear with
  weight = kernel^T); loss = mean squared error against target, which is
  Keras' "mse" with its sum_over_batch_size reduction; gradients of that
  loss with respect to kernel and bias.
- batchnorm_train*: training mode, epsilon 1e-3 (Keras' default), for
  loss = sum(y * upstream): y and the gradients with respect to x, gamma
  and beta (through the batch statistics); loss_mse and the gradients of
  gamma and beta for mse against target; and the moving averages after one
  step with Keras' rule, momentum 0.99:
      moving_mean     = 0.99 * moving_mean     + 0.01 * batch mean
      moving_variance = 0.99 * moving_variance + 0.01 * BIASED batch variance
  computed explicitly here, because torch's running_var is updated with the
  UNBIASED variance (torch_running_var is recorded to show the difference).
- batchnorm_infer: inference mode, on the moving averages.
- layernorm*: torch.nn.functional.layer_norm over the last axis, epsilon
  1e-3 (Keras' default), for loss = sum(y * upstream).
- mlp: relu(x @ w1 + b1) @ w2 + b2 gives logits; the Keras model ends in
  softmax (probs) and is compiled with sparse_categorical_crossentropy,
  which equals torch's cross_entropy on the logits (loss, mean over the
  batch); the gradients of w1, b1, w2, b2; loss_weighted is the same loss
  with sample weights, Keras' sum_over_batch_size: sum(w_i * l_i) / n.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240608)
DT = torch.float64
EPS = 1e-3
MOMENTUM = 0.99


def arr(t):
    t = torch.as_tensor(t, dtype=DT).detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def dense_case(shape, units):
    x = torch.randn(shape, dtype=DT)
    kernel = (torch.rand(shape[-1], units, dtype=DT) * 2 - 1).requires_grad_()
    bias = torch.randn(units, dtype=DT).requires_grad_()
    target = torch.randn(*shape[:-1], units, dtype=DT)
    lin = torch.nn.Linear(shape[-1], units).double()
    with torch.no_grad():
        lin.weight.copy_(kernel.detach().t())
        lin.bias.copy_(bias.detach())
    y = lin(x)
    loss = F.mse_loss(y, target)
    loss.backward()
    # The same with the kernel itself, to check weight = kernel^T.
    assert torch.allclose(y, x @ kernel + bias)
    return {
        "x": arr(x), "kernel": arr(kernel), "bias": arr(bias), "target": arr(target),
        "y": arr(y), "loss": arr(loss),
        "grad_kernel": arr(lin.weight.grad.t()), "grad_bias": arr(lin.bias.grad),
    }


def channels_first(t):
    """(N, ..., C) to torch's (N, C, ...)."""
    return t if t.dim() == 2 else t.movedim(-1, 1)


def channels_last(t):
    return t if t.dim() == 2 else t.movedim(1, -1)


def batchnorm_train_case(shape):
    c = shape[-1]
    # Per-channel offsets and scales, so that the statistics matter.
    x = (torch.randn(shape, dtype=DT) * torch.linspace(0.5, 2.0, c, dtype=DT)
         + torch.linspace(-1.0, 3.0, c, dtype=DT)).requires_grad_()
    gamma = (torch.rand(c, dtype=DT) + 0.5).requires_grad_()
    beta = torch.randn(c, dtype=DT).requires_grad_()
    moving_mean = torch.randn(c, dtype=DT)
    moving_var = torch.rand(c, dtype=DT) + 0.5
    upstream = torch.randn(shape, dtype=DT)
    target = torch.randn(shape, dtype=DT)
    running_var = moving_var.clone()
    # torch's momentum is Keras' 1 - momentum.
    y = channels_last(F.batch_norm(channels_first(x), moving_mean.clone(), running_var, gamma, beta,
                                   training=True, momentum=1 - MOMENTUM, eps=EPS))
    (y * upstream).sum().backward()
    case = {
        "x": arr(x), "gamma": arr(gamma), "beta": arr(beta),
        "moving_mean": arr(moving_mean), "moving_variance": arr(moving_var),
        "upstream": arr(upstream), "target": arr(target),
        "y": arr(y), "grad_x": arr(x.grad), "grad_gamma": arr(gamma.grad), "grad_beta": arr(beta.grad),
    }
    axes = tuple(range(len(shape) - 1))
    xd = x.detach()
    mean = xd.mean(dim=axes)
    biased = xd.var(dim=axes, unbiased=False)
    case["moving_mean_after"] = arr(MOMENTUM * moving_mean + (1 - MOMENTUM) * mean)
    case["moving_variance_after"] = arr(MOMENTUM * moving_var + (1 - MOMENTUM) * biased)
    case["torch_running_var"] = arr(running_var)
    assert not torch.allclose(running_var, MOMENTUM * moving_var + (1 - MOMENTUM) * biased)
    # The mse against target, as Keras' Fit computes it.
    gamma.grad, beta.grad = None, None
    y = channels_last(F.batch_norm(channels_first(xd), None, None, gamma, beta, training=True, eps=EPS))
    loss = F.mse_loss(y, target)
    loss.backward()
    case["loss_mse"] = arr(loss)
    case["grad_gamma_mse"] = arr(gamma.grad)
    case["grad_beta_mse"] = arr(beta.grad)
    return case


def batchnorm_infer_case(shape):
    c = shape[-1]
    x = (torch.randn(shape, dtype=DT) * 2 + 1).requires_grad_()
    gamma = (torch.rand(c, dtype=DT) + 0.5).requires_grad_()
    beta = torch.randn(c, dtype=DT).requires_grad_()
    moving_mean = torch.randn(c, dtype=DT)
    moving_var = torch.rand(c, dtype=DT) + 0.5
    upstream = torch.randn(shape, dtype=DT)
    y = channels_last(F.batch_norm(channels_first(x), moving_mean, moving_var, gamma, beta,
                                   training=False, eps=EPS))
    (y * upstream).sum().backward()
    return {
        "x": arr(x), "gamma": arr(gamma), "beta": arr(beta),
        "moving_mean": arr(moving_mean), "moving_variance": arr(moving_var),
        "upstream": arr(upstream), "y": arr(y),
        "grad_x": arr(x.grad), "grad_gamma": arr(gamma.grad), "grad_beta": arr(beta.grad),
    }


def layernorm_case(shape):
    c = shape[-1]
    x = (torch.randn(shape, dtype=DT) * 1.5 + 0.5).requires_grad_()
    gamma = (torch.rand(c, dtype=DT) + 0.5).requires_grad_()
    beta = torch.randn(c, dtype=DT).requires_grad_()
    upstream = torch.randn(shape, dtype=DT)
    y = F.layer_norm(x, (c,), gamma, beta, eps=EPS)
    (y * upstream).sum().backward()
    return {
        "x": arr(x), "gamma": arr(gamma), "beta": arr(beta), "upstream": arr(upstream),
        "y": arr(y), "grad_x": arr(x.grad), "grad_gamma": arr(gamma.grad), "grad_beta": arr(beta.grad),
    }


def mlp_case(n=6, d=4, h=5, classes=3):
    x = torch.randn(n, d, dtype=DT)
    labels = torch.randint(0, classes, (n,))
    sample_weight = torch.rand(n, dtype=DT) * 2
    w1 = ((torch.rand(d, h, dtype=DT) * 2 - 1)).requires_grad_()
    b1 = (torch.randn(h, dtype=DT) * 0.1).requires_grad_()
    w2 = ((torch.rand(h, classes, dtype=DT) * 2 - 1)).requires_grad_()
    b2 = (torch.randn(classes, dtype=DT) * 0.1).requires_grad_()
    logits = torch.relu(x @ w1 + b1) @ w2 + b2
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    case = {
        "x": arr(x), "labels": arr(labels.to(DT)), "sample_weight": arr(sample_weight),
        "w1": arr(w1), "b1": arr(b1), "w2": arr(w2), "b2": arr(b2),
        "probs": arr(torch.softmax(logits, dim=1)), "loss": arr(loss),
        "grad_w1": arr(w1.grad), "grad_b1": arr(b1.grad), "grad_w2": arr(w2.grad), "grad_b2": arr(b2.grad),
    }
    per = F.cross_entropy(logits.detach(), labels, reduction="none")
    case["loss_weighted"] = arr((per * sample_weight).sum() / n)
    return case


def main():
    cases = {
        "dense": dense_case((5, 4), 3),
        "dense_rank3": dense_case((2, 3, 4), 2),
        "batchnorm_train": batchnorm_train_case((6, 3)),
        "batchnorm_train_rank3": batchnorm_train_case((4, 2, 3)),
        "batchnorm_infer": batchnorm_infer_case((5, 4)),
        "layernorm": layernorm_case((4, 5)),
        "layernorm_rank3": layernorm_case((2, 3, 4)),
        "mlp": mlp_case(),
    }
    out = {
        "generator": "keras/testdata/torch_layers.py, torch " + torch.__version__,
        "note": "float64; Keras layout (kernels are (in, units), channels last); "
                "moving averages use Keras' rule with the biased variance (torch's running_var is unbiased)",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_layers.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
