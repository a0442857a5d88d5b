"""Reference values for keras/conv_more_test.go, computed with PyTorch 1.13.

Run from the repository root with the system Python, which has torch:

    /usr/bin/python3 keras/testdata/torch_conv_more.py

It writes keras/testdata/torch_conv_more.json. Everything is float64,
arrays {"shape": [...], "data": [...]} flattened row-major, images NHWC
and weights in Keras' layouts; each case has x, the weights, y, up and,
for loss = sum(y * up), grad_x and grad_<weight>.

- separable_<name>: SeparableConv2D: torch's depthwise conv2d (groups =
  channels; Keras' depthwise kernel (kh, kw, c, m) is torch's weight
  (c*m, 1, kh, kw), output channel c*m + j) then a 1x1 conv2d (pointwise
  kernel (1, 1, c*m, f)) and the bias.
- transpose_<name>: Conv2DTranspose and Conv1DTranspose as TensorFlow
  (Keras' TensorFlow backend) computes them: the gradient with respect to
  its input of a convolution whose input has the transposed output's size
  (Keras' deconv_output_length, output_padding included) and
  TensorFlow's padding ("same": total max((n-1)*s + k' - L, 0), the odd row
  at the end), taken with torch.autograd. Kernel (kh, kw, filters, c).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240905)
DT = torch.float64


def arr(t):
    t = torch.as_tensor(t, dtype=DT).detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def rand(*shape, scale=1.0):
    return ((torch.rand(*shape, dtype=DT) * 2 - 1) * scale).requires_grad_()


def finish(tensors, y):
    up = torch.rand(*y.shape, dtype=DT) * 2 - 1
    (y * up).sum().backward()
    case = {"y": arr(y), "up": arr(up)}
    for k, t in tensors.items():
        case[k] = arr(t)
        case["grad_" + k] = arr(t.grad)
    return case


def tf_same(n, L, k, s, d):
    span = (k - 1) * d + 1
    total = max((n - 1) * s + span - L, 0)
    return total // 2, total - total // 2


def deconv_length(n, k, s, d, padding, op):
    span = (k - 1) * d + 1
    if op is None:
        return n * s + max(span - s, 0) if padding == "valid" else n * s
    pad = span // 2 if padding == "same" else 0
    return (n - 1) * s + span - 2 * pad + op


cases = {}

# SeparableConv2D
for name, (H, W, C, M, Fo, k, s, pad, d) in {
    "valid": (6, 5, 3, 2, 4, (3, 2), (1, 1), "valid", (1, 1)),
    "same_strided": (7, 6, 2, 1, 3, (3, 3), (2, 2), "same", (1, 1)),
    "dilated": (7, 7, 2, 3, 2, (2, 3), (1, 1), "valid", (2, 1)),
}.items():
    x = rand(2, H, W, C)
    dk = rand(k[0], k[1], C, M, scale=0.7)
    pk = rand(1, 1, C * M, Fo, scale=0.7)
    b = rand(Fo, scale=0.3)
    xt = x.permute(0, 3, 1, 2)
    if pad == "same":
        ph = tf_same((H + s[0] - 1) // s[0], H, k[0], s[0], d[0])
        pw = tf_same((W + s[1] - 1) // s[1], W, k[1], s[1], d[1])
        xt = F.pad(xt, (pw[0], pw[1], ph[0], ph[1]))
    wd = dk.permute(2, 3, 0, 1).reshape(C * M, 1, k[0], k[1])
    h = F.conv2d(xt, wd, stride=s, dilation=d, groups=C)
    y = F.conv2d(h, pk.permute(3, 2, 0, 1)) + b[None, :, None, None]
    cases["separable_" + name] = finish({"x": x, "depthwise_kernel": dk, "pointwise_kernel": pk, "bias": b},
                                        y.permute(0, 2, 3, 1))

# Conv2DTranspose
for name, (H, W, C, Fo, k, s, pad, d, op) in {
    "valid": (3, 4, 2, 3, (3, 2), (2, 2), "valid", (1, 1), None),
    "same": (3, 3, 2, 2, (3, 3), (2, 2), "same", (1, 1), None),
    "same_output_padding": (3, 4, 2, 3, (3, 3), (2, 3), "same", (1, 1), (1, 2)),
    "valid_output_padding": (2, 3, 3, 2, (2, 3), (3, 2), "valid", (1, 1), (2, 0)),
    "dilated_output_padding": (3, 3, 2, 2, (2, 2), (2, 2), "valid", (2, 1), (1, 1)),
}.items():
    x = rand(2, H, W, C)
    kern = rand(k[0], k[1], Fo, C, scale=0.7)
    b = rand(Fo, scale=0.3)
    Lh = deconv_length(H, k[0], s[0], d[0], pad, None if op is None else op[0])
    Lw = deconv_length(W, k[1], s[1], d[1], pad, None if op is None else op[1])
    ph = tf_same(H, Lh, k[0], s[0], d[0]) if pad == "same" else (0, 0)
    pw = tf_same(W, Lw, k[1], s[1], d[1]) if pad == "same" else (0, 0)
    z = torch.zeros(2, Fo, Lh, Lw, dtype=DT, requires_grad=True)
    fwd = F.conv2d(F.pad(z, (pw[0], pw[1], ph[0], ph[1])), kern.permute(3, 2, 0, 1), stride=s, dilation=d)
    assert fwd.shape[2:] == (H, W), (name, fwd.shape)
    (yt,) = torch.autograd.grad(fwd, z, grad_outputs=x.permute(0, 3, 1, 2), create_graph=True)
    y = yt.permute(0, 2, 3, 1) + b
    cases["transpose_" + name] = finish({"x": x, "kernel": kern, "bias": b}, y)

# Conv1DTranspose
x = rand(2, 4, 3)
kern = rand(3, 2, 3, scale=0.7)
b = rand(2, scale=0.3)
L = deconv_length(4, 3, 3, 1, "same", 2)
p = tf_same(4, L, 3, 3, 1)
z = torch.zeros(2, 2, L, dtype=DT, requires_grad=True)
fwd = F.conv1d(F.pad(z, p), kern.permute(2, 1, 0), stride=3)
(yt,) = torch.autograd.grad(fwd, z, grad_outputs=x.permute(0, 2, 1), create_graph=True)
cases["transpose1d_same_output_padding"] = finish({"x": x, "kernel": kern, "bias": b}, yt.permute(0, 2, 1) + b)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_conv_more.json")
with open(path, "w") as f:
    json.dump({"generator": "keras/testdata/torch_conv_more.py", "torch": torch.__version__, "cases": cases}, f)
    f.write("\n")
