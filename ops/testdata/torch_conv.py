"""Reference values for ops/conv_torch_test.go (PyTorch 1.13).

Run with /usr/bin/python3 ops/testdata/torch_conv.py from the repository
root; it writes ops/testdata/torch_conv.json. Everything is float64.

Keragon is channel-last with Keras' kernel layouts; torch is channels-first
(NCHW, NCL) with kernels (out, in, kh, kw). The script permutes on the way
in and out, so the JSON holds, flattened row-major:

  x        NHWC (2-D ops) or NLC (1-D ops)
  kernel   Conv2D (kh, kw, in, out), Conv1D (k, in, out),
           DepthwiseConv2D (kh, kw, in, multiplier)
  y        the op's output, channel-last
  dx, dk   gradients of sum(y * upstream) with respect to x and kernel

Padding follows TensorFlow/Keras, written out explicitly with F.pad:
"same" pads max((out-1)*stride + (k-1)*dilation + 1 - in, 0) in total with
out = ceil(in/stride), the odd one at the bottom/right (torch's own
padding='same' allows stride 1 only; for those cases the script checks it
agrees). "causal" pads (k-1)*dilation on the left. Max pooling pads with
-inf; average pooling with "same" divides each window's sum by the number
of its entries inside the input (TensorFlow), computed as a sum over the
zero-padded input divided by the same sum over padded ones.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240614)
DT = torch.float64
cases = []


def flat(t):
    return [float(v) for v in t.detach().contiguous().reshape(-1).tolist()]


def to_torch(x):
    """Channel-last to channels-first."""
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x.permute(0, 2, 1)


def from_torch(y):
    return y.permute(0, 2, 3, 1) if y.dim() == 4 else y.permute(0, 2, 1)


def pads(size, k, stride, dilation, padding):
    """(before, after) padding along one axis, Keras semantics."""
    span = (k - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def torch_pad(xt, spatial, ks, strides, dilation, padding, value=0.0):
    """F.pad of a channels-first tensor; spatial are its spatial sizes."""
    amounts = []
    for size, k, s, d in reversed(list(zip(spatial, ks, strides, dilation))):
        amounts += list(pads(size, k, s, d, padding))
    return F.pad(xt, amounts, value=value)


def record(name, op, x, y, upstream, kernel=None, **params):
    grads = torch.autograd.grad((y * upstream).sum(), [x] + ([kernel] if kernel is not None else []))
    case = {
        "name": name, "op": op,
        "x_shape": list(x.shape), "x": flat(x),
        "kernel_shape": list(kernel.shape) if kernel is not None else None,
        "kernel": flat(kernel) if kernel is not None else None,
        "y_shape": list(y.shape), "y": flat(y),
        "upstream": flat(upstream),
        "dx": flat(grads[0]),
        "dk": flat(grads[1]) if kernel is not None else None,
    }
    case.update(params)
    cases.append(case)


def randn(*shape):
    return torch.randn(*shape, dtype=DT).requires_grad_()


def conv2d(name, xs, ks, strides=(1, 1), padding="valid", dilation=(1, 1)):
    x, k = randn(*xs), randn(*ks)
    xt = torch_pad(to_torch(x), xs[1:3], ks[:2], strides, dilation, padding)
    y = from_torch(F.conv2d(xt, k.permute(3, 2, 0, 1), stride=strides, dilation=dilation))
    if padding == "same" and strides == (1, 1):
        ref = F.conv2d(to_torch(x), k.permute(3, 2, 0, 1), padding="same", dilation=dilation)
        assert torch.allclose(from_torch(ref), y, rtol=1e-12, atol=1e-12), name
    record(name, "conv2d", x, y, torch.randn(y.shape, dtype=DT), k,
           strides=list(strides), padding=padding, dilation=list(dilation))


def conv1d(name, xs, ks, stride=1, padding="valid", dilation=1):
    x, k = randn(*xs), randn(*ks)
    xt = torch_pad(to_torch(x), xs[1:2], ks[:1], (stride,), (dilation,), padding)
    y = from_torch(F.conv1d(xt, k.permute(2, 1, 0), stride=stride, dilation=dilation))
    record(name, "conv1d", x, y, torch.randn(y.shape, dtype=DT), k,
           strides=[stride], padding=padding, dilation=[dilation])


def depthwise(name, xs, ks, strides=(1, 1), padding="valid", dilation=(1, 1)):
    x, k = randn(*xs), randn(*ks)
    c, m = ks[2], ks[3]
    # Output channel c*m + j comes from input channel c, as in TensorFlow.
    w = k.permute(2, 3, 0, 1).reshape(c * m, 1, ks[0], ks[1])
    xt = torch_pad(to_torch(x), xs[1:3], ks[:2], strides, dilation, padding)
    y = from_torch(F.conv2d(xt, w, stride=strides, dilation=dilation, groups=c))
    record(name, "depthwise", x, y, torch.randn(y.shape, dtype=DT), k,
           strides=list(strides), padding=padding, dilation=list(dilation))


def conv_transpose(name, xs, ks, strides, padding="valid", dilation=None):
    """Keras' Conv{1,2}DTranspose: the adjoint of the forward convolution
    on an output of size in*stride (+ max(span - stride, 0) for "valid"),
    padded as that convolution is. torch's full transposed convolution
    covers the padded input from its start; the script zero-extends it to
    the padded size and cuts the padding off."""
    rank = len(xs) - 2
    dilation = dilation or (1,) * rank
    x, k = randn(*xs), randn(*ks)
    # Keras (kh, kw, filters, in) -> torch (in, filters, kh, kw).
    w = k.permute(3, 2, 0, 1) if rank == 2 else k.permute(2, 1, 0)
    f = F.conv_transpose2d if rank == 2 else F.conv_transpose1d
    y = f(to_torch(x), w, stride=strides, dilation=dilation)
    for axis in range(rank):
        size, kk, s, d = xs[1 + axis], ks[axis], strides[axis], dilation[axis]
        span = (kk - 1) * d + 1
        out = size * s + (max(span - s, 0) if padding == "valid" else 0)
        before, after = pads(out, kk, s, d, padding)
        dim = 2 + axis
        extra = out + before + after - y.shape[dim]
        assert extra >= 0, name
        amounts = [0, 0] * (rank - 1 - axis) + [0, extra]
        y = F.pad(y, amounts).narrow(dim, before, out)
    y = from_torch(y)
    record(name, "conv%ddtranspose" % rank, x, y, torch.randn(y.shape, dtype=DT), k,
           strides=list(strides), padding=padding, dilation=list(dilation))


def pool(name, kind, xs, size, strides, padding):
    rank = len(xs) - 2
    x = randn(*xs)
    ones = (1,) * rank
    if kind == "max":
        xt = torch_pad(to_torch(x), xs[1:-1], size, strides, ones, padding, value=-math.inf)
        f = F.max_pool2d if rank == 2 else F.max_pool1d
        y = f(xt, size, strides)
    else:
        f = F.avg_pool2d if rank == 2 else F.avg_pool1d
        window = math.prod(size)
        total = f(torch_pad(to_torch(x), xs[1:-1], size, strides, ones, padding), size, strides) * window
        count = f(torch_pad(torch.ones_like(to_torch(x)), xs[1:-1], size, strides, ones, padding), size, strides) * window
        y = total / count
        if padding == "valid":
            assert torch.allclose(y, f(to_torch(x), size, strides), rtol=1e-12, atol=1e-12), name
    y = from_torch(y)
    record(name, "%spool%dd" % (kind, rank), x, y, torch.randn(y.shape, dtype=DT),
           size=list(size), strides=list(strides), padding=padding)


def global_pool(name, kind, xs):
    rank = len(xs) - 2
    x = randn(*xs)
    xt = to_torch(x)
    if kind == "max":
        y = (F.adaptive_max_pool2d if rank == 2 else F.adaptive_max_pool1d)(xt, 1)
    else:
        y = (F.adaptive_avg_pool2d if rank == 2 else F.adaptive_avg_pool1d)(xt, 1)
    y = y.reshape(xs[0], xs[-1])
    record(name, "global%s%dd" % (kind, rank), x, y, torch.randn(y.shape, dtype=DT))


def upsample(name, xs, size):
    x = randn(*xs)
    y = from_torch(F.interpolate(to_torch(x), scale_factor=tuple(float(s) for s in size), mode="nearest"))
    record(name, "upsample%dd" % (len(xs) - 2), x, y, torch.randn(y.shape, dtype=DT), size=list(size))


def zeropad(name, xs, amounts):
    """amounts: (top, bottom, left, right) for 2-D, (left, right) for 1-D."""
    x = randn(*xs)
    torch_amounts = list(amounts[2:]) + list(amounts[:2]) if len(xs) == 4 else list(amounts)
    y = from_torch(F.pad(to_torch(x), torch_amounts))
    record(name, "zeropad%dd" % (len(xs) - 2), x, y, torch.randn(y.shape, dtype=DT), pad=list(amounts))


conv2d("conv2d_valid", (2, 6, 7, 3), (3, 3, 3, 4))
conv2d("conv2d_same", (2, 6, 7, 3), (3, 3, 3, 4), padding="same")
conv2d("conv2d_same_stride2_odd", (2, 7, 9, 3), (3, 3, 3, 4), (2, 2), "same")
conv2d("conv2d_same_stride2_even_kernel", (1, 8, 7, 2), (4, 4, 2, 3), (2, 2), "same")
conv2d("conv2d_same_even_kernel", (1, 5, 6, 2), (2, 2, 2, 3), padding="same")
conv2d("conv2d_valid_stride2", (2, 9, 8, 2), (3, 2, 2, 3), (2, 2))
conv2d("conv2d_valid_dilation2", (1, 9, 8, 2), (3, 3, 2, 3), dilation=(2, 2))
conv2d("conv2d_same_dilation2", (1, 8, 9, 2), (3, 3, 2, 2), padding="same", dilation=(2, 2))
conv2d("conv2d_same_stride2x1", (2, 7, 6, 3), (3, 3, 3, 2), (2, 1), "same")
conv2d("conv2d_pointwise", (2, 4, 5, 6), (1, 1, 6, 3))
conv2d("conv2d_pointwise_stride2", (2, 5, 5, 4), (1, 1, 4, 3), (2, 2))
conv2d("conv2d_mnist_like", (2, 12, 12, 1), (3, 3, 1, 8))

conv1d("conv1d_valid", (2, 9, 3), (3, 3, 4))
conv1d("conv1d_same_stride2", (2, 9, 3), (3, 3, 4), 2, "same")
conv1d("conv1d_causal_dilation2", (2, 9, 3), (3, 3, 2), 1, "causal", 2)
conv1d("conv1d_causal_stride2", (2, 10, 2), (2, 2, 3), 2, "causal")
conv1d("conv1d_valid_stride2_dilation2", (1, 11, 2), (3, 2, 2), 2, "valid", 2)

conv_transpose("conv2dtranspose_valid", (2, 3, 4, 3), (3, 3, 2, 3), (1, 1))
conv_transpose("conv2dtranspose_valid_stride2", (2, 3, 4, 3), (3, 3, 2, 3), (2, 2))
conv_transpose("conv2dtranspose_same_stride2", (2, 3, 4, 3), (3, 3, 2, 3), (2, 2), "same")
conv_transpose("conv2dtranspose_same_stride2_even_kernel", (1, 3, 3, 2), (4, 2, 3, 2), (2, 2), "same")
conv_transpose("conv2dtranspose_kernel_below_stride", (1, 2, 3, 2), (2, 1, 2, 2), (3, 3))
conv_transpose("conv2dtranspose_same_dilation2", (1, 3, 4, 2), (3, 3, 2, 2), (1, 1), "same", (2, 2))
conv_transpose("conv1dtranspose_same_stride2", (2, 4, 3), (3, 2, 3), (2,), "same")
conv_transpose("conv1dtranspose_valid_stride2_dilation2", (2, 4, 3), (3, 2, 3), (2,), "valid", (2,))

depthwise("depthwise_valid", (2, 6, 7, 3), (3, 3, 3, 1))
depthwise("depthwise_same_multiplier2", (2, 6, 7, 3), (3, 3, 3, 2), padding="same")
depthwise("depthwise_same_stride2", (1, 7, 8, 2), (3, 3, 2, 2), (2, 2), "same")
depthwise("depthwise_valid_dilation2", (1, 8, 8, 2), (3, 3, 2, 3), dilation=(2, 2))

for kind in ("max", "avg"):
    pool("%spool2d_valid" % kind, kind, (2, 6, 7, 3), (2, 2), (2, 2), "valid")
    pool("%spool2d_valid_3x3_stride2" % kind, kind, (1, 7, 7, 2), (3, 3), (2, 2), "valid")
    pool("%spool2d_same" % kind, kind, (2, 5, 7, 3), (2, 2), (2, 2), "same")
    pool("%spool2d_same_3x3_stride2" % kind, kind, (1, 7, 8, 2), (3, 3), (2, 2), "same")
    pool("%spool2d_same_3x3_stride1" % kind, kind, (1, 5, 5, 2), (3, 3), (1, 1), "same")
    pool("%spool1d_valid" % kind, kind, (2, 7, 3), (2,), (2,), "valid")
    pool("%spool1d_same_3_stride2" % kind, kind, (2, 8, 3), (3,), (2,), "same")
    pool("%spool1d_valid_3_stride1" % kind, kind, (2, 6, 2), (3,), (1,), "valid")
    global_pool("global%s2d" % kind, kind, (2, 4, 5, 3))
    global_pool("global%s1d" % kind, kind, (2, 6, 3))

upsample("upsample2d_2x3", (2, 3, 4, 2), (2, 3))
upsample("upsample2d_2x2", (1, 2, 2, 3), (2, 2))
upsample("upsample1d_3", (2, 3, 2), (3,))
zeropad("zeropad2d", (2, 3, 4, 2), (1, 2, 0, 3))
zeropad("zeropad1d", (2, 4, 3), (2, 1))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_conv.json")
with open(out, "w") as f:
    f.write('{"generator": "ops/testdata/torch_conv.py", "torch": %s, "cases": [\n' % json.dumps(torch.__version__))
    f.write(",\n".join(json.dumps(c) for c in cases))
    f.write("\n]}\n")
print("wrote %d cases to %s" % (len(cases), out))
