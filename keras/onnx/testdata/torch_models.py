#!/usr/bin/python3
"""Reference models for keras/onnx and keras/pytorch, written by PyTorch.

For each model below this script writes

  keras/onnx/testdata/<name>.onnx            torch.onnx.export of the model
                                             (opset 13, batch axis dynamic),
                                             which the Go tests import;
  keras/pytorch/testdata/<name>.safetensors  the model's state_dict in the
                                             safetensors format, which
                                             keras/pytorch.LoadStateDict reads;

and one keras/onnx/testdata/torch_models.json (read by both packages' tests) with, for each model, the fixed input (in
PyTorch's layout: NCHW images, batch-first sequences), its shape, and the
model's output in evaluation mode, with full float64 precision.

The models: an MLP (Linear, ReLU, Dropout, exact GELU, LogSoftmax; exported
in training mode so that the Dropout node is kept), a convnet with
BatchNorm (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear; the
BatchNorm nodes kept with TrainingMode.PRESERVE), a second convnet
(asymmetric padding, AvgPool2d, a depthwise Conv2d, global average
pooling, Sigmoid, Softmax), an LSTM classifier (the last step of the
output sequence), a GRU classifier (the final state h_n) and a ReLU RNN
classifier, a bidirectional LSTM tagger (a Linear on every step), a
ResNet-like stem (opset 17, fixed batch size), a 1-D convnet (opset
11), an MLP with LayerNorm (opset 17) and a text classifier (int64 token
ids, Embedding, LSTM), a BatchNorm1d on a flattened image, a residual
block with a squeeze-and-excitation gate (Add, broadcast Mul) and two
branches joined by Concat and Sub.
Weights are random with a fixed seed; BatchNorm statistics
are randomised so that the layer is not an identity.

Run with Debian's Python (torch 1.13, onnx 1.12):

  /usr/bin/python3 keras/onnx/testdata/torch_models.py

The safetensors package is not installed, so write_safetensors below
writes the format itself: an 8-byte little-endian header length, a JSON
header, then the raw little-endian data.
"""

import json
import os
import struct

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
STATE_DICTS = os.path.join(HERE, "..", "..", "pytorch", "testdata")
OPSET = 13


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 4)

    def forward(self, x):
        x = self.drop(torch.relu(self.fc1(x)))
        x = F.gelu(self.fc2(x))
        return torch.log_softmax(self.fc3(x), dim=-1)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2)
        self.bn2 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 2 * 2, 5)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class ConvNet2(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, (3, 2), padding=(2, 0), bias=False)
        self.dw = nn.Conv2d(4, 8, 3, padding=1, groups=4)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.sigmoid(self.conv1(x))
        x = F.avg_pool2d(x, 2)
        x = torch.relu(self.dw(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 8, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1, :])


class GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 6, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


class RNNClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(4, 5, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.fc(h[-1])


class BiLSTMTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 3, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y)


class ResNetStem(nn.Module):
    """Padding that is not "same" (a ZeroPadding2D), a padded max pool
    after a ReLU, global pooling and x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.proj = nn.Conv2d(8, 6, 1)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn(self.conv(x))), 3, stride=2, padding=1)
        x = F.adaptive_avg_pool2d(self.proj(x), 1)
        return self.fc(x.view(x.size(0), -1))


class Conv1DNet(nn.Module):
    """1-D convolutions over (batch, channels, length) with BatchNorm1d."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.fc = nn.Linear(4 * 4, 2)

    def forward(self, x):
        x = F.max_pool1d(torch.tanh(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))


class LayerNormMLP(nn.Module):
    """LayerNorm, which opset 17 exports as one LayerNormalization node."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.norm = nn.LayerNorm(8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


class TextClassifier(nn.Module):
    """Token ids (an int64 input) through an Embedding and an LSTM."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 6)
        self.lstm = nn.LSTM(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 2)

    def forward(self, ids):
        _, (h, _) = self.lstm(self.emb(ids))
        return self.fc(h[-1])


class FlatBatchNorm(nn.Module):
    """BatchNorm1d on the features of a flattened image."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.bn = nn.BatchNorm1d(3 * 4 * 4)
        self.fc = nn.Linear(3 * 4 * 4, 2)

    def forward(self, x):
        return self.fc(self.bn(torch.flatten(torch.relu(self.conv(x)), 1)))


class ResidualSE(nn.Module):
    """A residual block (Add) with a squeeze-and-excitation gate (Mul of
    an (N, C, 1, 1) gate and an (N, C, H, W) image)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.se = nn.Conv2d(4, 4, 1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = torch.relu(self.conv1(x))
        y = torch.relu(self.conv2(h) + h)
        gate = torch.sigmoid(self.se(F.adaptive_avg_pool2d(y, 1)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y * gate, 1), 1))


class Branches(nn.Module):
    """Two branches joined by Concat and Sub."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(5, 4)
        self.b = nn.Linear(5, 4)
        self.c = nn.Linear(5, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        ab = torch.cat([torch.tanh(self.a(x)), torch.relu(self.b(x))], dim=1)
        return self.fc(ab - self.c(x))


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


def write_safetensors(path, tensors):
    """Writes a dict of torch tensors as a safetensors file."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    cases = [
        ("mlp", MLP(), (3, 12), torch.onnx.TrainingMode.TRAINING),
        ("convnet", ConvNet(), (2, 2, 10, 10), torch.onnx.TrainingMode.PRESERVE),
        ("convnet2", ConvNet2(), (2, 3, 7, 9), torch.onnx.TrainingMode.EVAL),
        ("lstm", LSTMClassifier(), (3, 6, 5), torch.onnx.TrainingMode.EVAL),
        ("gru", GRUClassifier(), (3, 7, 5), torch.onnx.TrainingMode.EVAL),
        ("rnn", RNNClassifier(), (2, 5, 4), torch.onnx.TrainingMode.EVAL),
        ("bilstm", BiLSTMTagger(), (2, 5, 4), torch.onnx.TrainingMode.EVAL),
        # Opset 17 and a fixed batch size (no dynamic axes).
        ("resnet_stem", ResNetStem(), (2, 3, 16, 16), torch.onnx.TrainingMode.PRESERVE, 17, False),
        # Opset 11: Squeeze and Unsqueeze take attributes.
        ("conv1d", Conv1DNet(), (2, 3, 8), torch.onnx.TrainingMode.PRESERVE, 11, True),
        ("layernorm", LayerNormMLP(), (3, 6), torch.onnx.TrainingMode.EVAL, 17, True),
        ("textclf", TextClassifier(), (3, 7), torch.onnx.TrainingMode.EVAL),
        ("flatbn", FlatBatchNorm(), (2, 2, 6, 6), torch.onnx.TrainingMode.PRESERVE),
        ("residual_se", ResidualSE(), (2, 2, 6, 6), torch.onnx.TrainingMode.EVAL),
        ("branches", Branches(), (3, 5), torch.onnx.TrainingMode.EVAL),
    ]
    out = {}
    for name, model, shape, mode, *rest in cases:
        opset, dynamic = (rest + [OPSET, True])[:2] if rest else (OPSET, True)
        randomise_batchnorm(model, gen)
        model.eval()
        if isinstance(model, TextClassifier):
            x = torch.randint(0, 20, shape, generator=gen)
        else:
            x = torch.randn(*shape, generator=gen)
        with torch.no_grad():
            y = model(x)
        path = os.path.join(HERE, name + ".onnx")
        torch.onnx.export(model, x, path, opset_version=opset, training=mode,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}} if dynamic else None)
        model.eval()  # export in training mode leaves the model as it found it; be sure
        onnx.checker.check_model(onnx.load(path))
        write_safetensors(os.path.join(STATE_DICTS, name + ".safetensors"), model.state_dict())
        out[name] = {
            "input_shape": list(x.shape),
            "input": [float(v) for v in x.flatten().tolist()],
            "output_shape": list(y.shape),
            "output": [float(v) for v in y.flatten().tolist()],
        }
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        print(f"{name}: {os.path.getsize(path)} bytes, ops {ops}")
    with open(os.path.join(HERE, "torch_models.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
