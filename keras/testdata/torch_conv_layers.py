"""Reference values for keras/convnet_test.go, computed with PyTorch 1.13.

Run from the repository root with the system Python, which has torch:

    /usr/bin/python3 keras/testdata/torch_conv_layers.py

It writes keras/testdata/torch_conv_layers.json. Everything is float64.

Each case is a small Keras model, written out below layer by layer in
torch, with fixed inputs, labels and weights. Arrays are
{"shape": [...], "data": [...]} flattened row-major in Keras' layouts:
images NHWC and sequences NLC (torch's NCHW / NCL are made inside), Conv2D
kernels (kh, kw, in, out), Conv1D kernels (k, in, out), DepthwiseConv2D
kernels (kh, kw, in, multiplier), Dense kernels (in, units). The weights
are the leaves of torch's graph in those layouts, so their gradients come
out in them too. Weights are keyed by their Keragon names ("conv2d/kernel",
"batch_normalization/gamma"), the same layer names Keras would give.

Per case:
  x, labels         inputs and sparse labels (class indices, as floats)
  <layer>/<weight>  every weight, moving averages included
  probs             the model's softmax output in inference mode (Predict)
  loss_eval         sparse categorical cross-entropy in inference mode
                    (Evaluate): torch's cross_entropy on the logits, mean
                    over the batch (and over steps for per-step labels),
                    which is Keras' sum_over_batch_size
  loss_fit          the same in training mode (BatchNormalization on batch
                    statistics), as the Fit program computes it
  grad/<weight>     gradient of loss_fit with respect to each trainable
                    weight
  <bn>/moving_mean_after, <bn>/moving_variance_after
                    moving averages after one training step, Keras' rule
                    with momentum 0.99 and the BIASED batch variance
                    (torch's running_var uses the unbiased one)

Padding follows TensorFlow/Keras, written out with F.pad: "same" pads
max((out-1)*stride + (k-1)*dilation + 1 - in, 0) in total with
out = ceil(in/stride), the odd one at the bottom/right (torch's own
padding='same' does not allow strides); "causal" pads (k-1)*dilation on
the left. Max pooling pads with -inf; average pooling with "same" divides
each window's sum by the number of its entries inside the input.
"""
import json
import math
import os
import warnings

import torch
import torch.nn.functional as F

# torch warns that padding="same" with an even kernel copies the input.
warnings.filterwarnings("ignore", message="Using padding='same'")
torch.manual_seed(20240620)
DT = torch.float64
EPS = 1e-3  # Keras' BatchNormalization epsilon
MOMENTUM = 0.99  # Keras' BatchNormalization momentum


def arr(t):
    t = torch.as_tensor(t, dtype=DT).detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


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


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def pad2d(x, k, strides, dilation, padding, value=0.0):
    """Pads an NCHW tensor as Keras would for a window of size k."""
    top, bottom = pads(x.shape[2], k[0], strides[0], dilation[0], padding)
    left, right = pads(x.shape[3], k[1], strides[1], dilation[1], padding)
    return F.pad(x, (left, right, top, bottom), value=value)


def conv2d(x, kernel, bias, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Keras Conv2D on NHWC x with a (kh, kw, in, out) kernel."""
    k = kernel.shape[:2]
    y = F.conv2d(pad2d(nchw(x), k, strides, dilation, padding), kernel.permute(3, 2, 0, 1), bias,
                 stride=strides, dilation=dilation)
    return nhwc(y)


def depthwise2d(x, kernel, bias, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Keras DepthwiseConv2D: output channel c*multiplier + m is input
    channel c convolved with kernel[:, :, c, m]."""
    kh, kw, c, m = kernel.shape
    w = kernel.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
    y = F.conv2d(pad2d(nchw(x), (kh, kw), strides, dilation, padding), w, bias,
                 stride=strides, dilation=dilation, groups=c)
    return nhwc(y)


def conv1d(x, kernel, bias, stride=1, padding="valid", dilation=1):
    """Keras Conv1D on NLC x with a (k, in, out) kernel."""
    k = kernel.shape[0]
    before, after = pads(x.shape[1], k, stride, dilation, padding)
    y = F.conv1d(F.pad(x.permute(0, 2, 1), (before, after)), kernel.permute(2, 1, 0), bias,
                 stride=stride, dilation=dilation)
    return y.permute(0, 2, 1)


def max_pool2d(x, size, strides, padding):
    p = pad2d(nchw(x), size, strides, (1, 1), padding, value=-math.inf)
    return nhwc(F.max_pool2d(p, size, strides))


def avg_pool2d(x, size, strides, padding):
    xs = pad2d(nchw(x), size, strides, (1, 1), padding)
    ones = pad2d(torch.ones_like(nchw(x)), size, strides, (1, 1), padding)
    total = F.avg_pool2d(xs, size, strides, divisor_override=1)
    count = F.avg_pool2d(ones, size, strides, divisor_override=1)
    return nhwc(total / count)


def max_pool1d(x, size, stride, padding):
    before, after = pads(x.shape[1], size, stride, 1, padding)
    p = F.pad(x.permute(0, 2, 1), (before, after), value=-math.inf)
    return F.max_pool1d(p, size, stride).permute(0, 2, 1)


def avg_pool1d(x, size, stride, padding):
    before, after = pads(x.shape[1], size, stride, 1, padding)
    xs = F.pad(x.permute(0, 2, 1), (before, after))
    ones = F.pad(torch.ones_like(x).permute(0, 2, 1), (before, after))
    # avg_pool1d has no divisor_override: the mean over the explicitly
    # padded windows, times their size, is their sum.
    total = F.avg_pool1d(xs, size, stride) * size
    count = F.avg_pool1d(ones, size, stride) * size
    return (total / count).permute(0, 2, 1)


def batch_norm(x, w, name, training):
    """Keras BatchNormalization over the last axis of x."""
    c = x.shape[-1]
    xt = x.reshape(-1, c)  # channels last: every other axis is a sample
    if training:
        y = F.batch_norm(xt, None, None, w[name + "/gamma"], w[name + "/beta"], training=True, eps=EPS)
    else:
        y = F.batch_norm(xt, w[name + "/moving_mean"], w[name + "/moving_variance"],
                         w[name + "/gamma"], w[name + "/beta"], training=False, eps=EPS)
    return y.reshape(x.shape)


def dense_logits(x, w, name):
    return x @ w[name + "/kernel"] + w[name + "/bias"]


def uniform(*shape, scale=1.0):
    return (torch.rand(*shape, dtype=DT) * 2 - 1) * scale


def glorot(*shape):
    """A Glorot-uniform-like draw for a kernel of Keras shape."""
    fan_in = math.prod(shape[:-1])
    fan_out = math.prod(shape[:-2]) * shape[-1]
    return uniform(*shape, scale=math.sqrt(6 / (fan_in + fan_out)))


def run_case(x, labels, weights, forward, batchnorms=()):
    """Evaluates forward (x, weights, training) -> logits; returns the case."""
    case = {"x": arr(x), "labels": arr(labels.to(DT))}
    for k, v in weights.items():
        case[k] = arr(v)
    with torch.no_grad():
        logits = forward(x, weights, False)
    case["probs"] = arr(torch.softmax(logits, dim=-1))
    c = logits.shape[-1]
    case["loss_eval"] = arr(F.cross_entropy(logits.reshape(-1, c), labels.reshape(-1)))
    trainable = {k: v.clone().requires_grad_(not k.endswith("moving_mean") and not k.endswith("moving_variance"))
                 for k, v in weights.items()}
    logits = forward(x, trainable, True)
    loss = F.cross_entropy(logits.reshape(-1, c), labels.reshape(-1))
    loss.backward()
    case["loss_fit"] = arr(loss)
    for k, v in trainable.items():
        if v.requires_grad:
            case["grad/" + k] = arr(v.grad)
    for name, inputs in batchnorms:
        xs = inputs(x, weights).detach()
        xs = xs.reshape(-1, xs.shape[-1])
        mean, biased = xs.mean(dim=0), xs.var(dim=0, unbiased=False)
        case[name + "/moving_mean_after"] = arr(MOMENTUM * weights[name + "/moving_mean"] + (1 - MOMENTUM) * mean)
        case[name + "/moving_variance_after"] = arr(
            MOMENTUM * weights[name + "/moving_variance"] + (1 - MOMENTUM) * biased)
    return case


def convnet_case(n=6):
    """Input(10, 10, 2) -> Conv2D(4, 3x3, same, relu) -> MaxPooling2D ->
    Conv2D(6, 3x3, strides 2) -> BatchNormalization ->
    GlobalAveragePooling2D -> Dense(3, softmax)."""
    x = torch.randn(n, 10, 10, 2, dtype=DT)
    labels = torch.randint(0, 3, (n,))
    w = {
        "conv2d/kernel": glorot(3, 3, 2, 4), "conv2d/bias": uniform(4, scale=0.1),
        "conv2d_1/kernel": glorot(3, 3, 4, 6), "conv2d_1/bias": uniform(6, scale=0.1),
        "batch_normalization/gamma": torch.rand(6, dtype=DT) + 0.5,
        "batch_normalization/beta": uniform(6, scale=0.5),
        "batch_normalization/moving_mean": uniform(6, scale=0.3),
        "batch_normalization/moving_variance": torch.rand(6, dtype=DT) + 0.5,
        "dense/kernel": glorot(6, 3), "dense/bias": uniform(3, scale=0.1),
    }

    def to_bn(x, w):
        h = torch.relu(conv2d(x, w["conv2d/kernel"], w["conv2d/bias"], padding="same"))
        h = max_pool2d(h, (2, 2), (2, 2), "valid")
        return conv2d(h, w["conv2d_1/kernel"], w["conv2d_1/bias"], strides=(2, 2))

    def forward(x, w, training):
        h = batch_norm(to_bn(x, w), w, "batch_normalization", training)
        return dense_logits(h.mean(dim=(1, 2)), w, "dense")

    return run_case(x, labels, w, forward, [("batch_normalization", to_bn)])


def conv1d_case(n=5):
    """Input(8, 2) -> Conv1D(4, 3, same, strides 2, relu) ->
    Conv1D(3, 2, causal, dilation 2, softmax), with a label per step."""
    x = torch.randn(n, 8, 2, dtype=DT)
    labels = torch.randint(0, 3, (n, 4))
    w = {
        "conv1d/kernel": glorot(3, 2, 4), "conv1d/bias": uniform(4, scale=0.1),
        "conv1d_1/kernel": glorot(2, 4, 3), "conv1d_1/bias": uniform(3, scale=0.1),
    }

    def forward(x, w, training):
        h = torch.relu(conv1d(x, w["conv1d/kernel"], w["conv1d/bias"], stride=2, padding="same"))
        return conv1d(h, w["conv1d_1/kernel"], w["conv1d_1/bias"], padding="causal", dilation=2)

    return run_case(x, labels, w, forward)


def conv1d_pool_case(n=5):
    """Input(10, 2) -> Conv1D(4, 3, dilation 2, relu) ->
    MaxPooling1D(2, same) -> AveragePooling1D(2, same) ->
    GlobalMaxPooling1D -> Dense(3, softmax)."""
    x = torch.randn(n, 10, 2, dtype=DT)
    labels = torch.randint(0, 3, (n,))
    w = {
        "conv1d/kernel": glorot(3, 2, 4), "conv1d/bias": uniform(4, scale=0.1),
        "dense/kernel": glorot(4, 3), "dense/bias": uniform(3, scale=0.1),
    }

    def forward(x, w, training):
        h = torch.relu(conv1d(x, w["conv1d/kernel"], w["conv1d/bias"], dilation=2))  # (6, 4)
        h = max_pool1d(h, 2, 2, "same")  # (3, 4)
        h = avg_pool1d(h, 2, 2, "same")  # (2, 4): the last window holds one step
        return dense_logits(h.amax(dim=1), w, "dense")

    return run_case(x, labels, w, forward)


def depthwise_case(n=4):
    """Input(6, 5, 2) -> DepthwiseConv2D(3x3, depth_multiplier 2, same,
    strides 2, tanh) -> Flatten -> Dense(3, softmax). Along the height,
    "same" pads 0 rows above and 1 below; along the width 1 and 1."""
    x = torch.randn(n, 6, 5, 2, dtype=DT)
    labels = torch.randint(0, 3, (n,))
    w = {
        "depthwise_conv2d/kernel": glorot(3, 3, 2, 2), "depthwise_conv2d/bias": uniform(4, scale=0.1),
        "dense/kernel": glorot(3 * 3 * 4, 3), "dense/bias": uniform(3, scale=0.1),
    }

    def forward(x, w, training):
        h = torch.tanh(depthwise2d(x, w["depthwise_conv2d/kernel"], w["depthwise_conv2d/bias"],
                                   strides=(2, 2), padding="same"))
        return dense_logits(h.reshape(h.shape[0], -1), w, "dense")  # NHWC flattened, as Keras

    return run_case(x, labels, w, forward)


def conv2d_misc_case(n=4):
    """Input(5, 6, 2) -> ZeroPadding2D((0, 1), (2, 1)) -> Conv2D(3, (3, 2),
    same, dilation (2, 1), no bias, tanh) -> AveragePooling2D(2, same) ->
    UpSampling2D((1, 2)) -> GlobalMaxPooling2D -> Dense(3, softmax)."""
    x = torch.randn(n, 5, 6, 2, dtype=DT)
    labels = torch.randint(0, 3, (n,))
    w = {
        "conv2d/kernel": glorot(3, 2, 2, 3),
        "dense/kernel": glorot(3, 3), "dense/bias": uniform(3, scale=0.1),
    }

    def forward(x, w, training):
        h = nhwc(F.pad(nchw(x), (2, 1, 0, 1)))  # (6, 9): left 2, right 1, top 0, bottom 1
        h = conv2d(h, w["conv2d/kernel"], None, padding="same", dilation=(2, 1))
        h = torch.tanh(h)
        h = avg_pool2d(h, (2, 2), (2, 2), "same")  # (3, 5)
        h = h.repeat_interleave(2, dim=2)  # (3, 10)
        return dense_logits(h.amax(dim=(1, 2)), w, "dense")

    # With stride 1, torch's own padding="same" agrees with the explicit
    # padding (the odd row or column at the end).
    h = torch.randn(2, 6, 9, 2, dtype=DT)
    k = w["conv2d/kernel"]
    ours = conv2d(h, k, None, padding="same", dilation=(2, 1))
    theirs = nhwc(F.conv2d(nchw(h), k.permute(3, 2, 0, 1), None, padding="same", dilation=(2, 1)))
    assert torch.allclose(ours, theirs), "explicit 'same' padding differs from torch's"
    return run_case(x, labels, w, forward)


def main():
    cases = {
        "convnet": convnet_case(),
        "conv1d": conv1d_case(),
        "conv1d_pool": conv1d_pool_case(),
        "depthwise": depthwise_case(),
        "conv2d_misc": conv2d_misc_case(),
    }
    out = {
        "generator": "keras/testdata/torch_conv_layers.py, torch " + torch.__version__,
        "note": "float64; Keras layouts (NHWC/NLC, kernels (kh, kw, in, out)); TF's 'same' padding; "
                "moving averages use Keras' rule with the biased variance",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_conv_layers.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
