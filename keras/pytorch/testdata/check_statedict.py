#!/usr/bin/python3
"""Check that PyTorch loads the state dicts Keragon's SaveStateDict writes.

  /usr/bin/python3 keras/pytorch/testdata/check_statedict.py DIR

DIR holds <name>.safetensors files written by keras/pytorch.SaveStateDict
and cases.json, which maps each name to an input (in PyTorch's layout) and
the output Keragon predicted for it:

  {"mlp": {"input_shape": [3, 12], "input": [...],
           "output_shape": [3, 4], "output": [...]}, ...}

For each name the script builds the PyTorch model of the same name from
keras/onnx/testdata/torch_models.py, loads the file into it with
load_state_dict(strict=True) (so every parameter and buffer must be there,
with PyTorch's names and shapes), runs it in evaluation mode and compares
its output with Keragon's. The safetensors package is not installed here;
read_safetensors implements the format (8-byte little-endian header
length, JSON header, raw little-endian data). The Go test
TestSavedStateDictLoadsInTorch runs this script when /usr/bin/python3 can
import torch.
"""

import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = 1e-5


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        a = np.frombuffer(body[b:e], dtype=np.dtype(dtypes[info["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(a.reshape(info["shape"]).astype(a.dtype.newbyteorder("=")).copy())
    return out


def torch_models():
    path = os.path.join(HERE, "..", "..", "onnx", "testdata", "torch_models.py")
    spec = importlib.util.spec_from_file_location("torch_models", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {
        "mlp": mod.MLP, "convnet": mod.ConvNet, "convnet2": mod.ConvNet2, "lstm": mod.LSTMClassifier,
        "gru": mod.GRUClassifier, "rnn": mod.RNNClassifier, "bilstm": mod.BiLSTMTagger,
        "resnet_stem": mod.ResNetStem, "conv1d": mod.Conv1DNet, "layernorm": mod.LayerNormMLP,
        "textclf": mod.TextClassifier, "flatbn": mod.FlatBatchNorm,
        "residual_se": mod.ResidualSE, "branches": mod.Branches,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_statedict.py DIR")
    d = sys.argv[1]
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)
    classes = torch_models()
    failed = 0
    for name, c in sorted(cases.items()):
        model = classes[name]()
        try:
            model.load_state_dict(read_safetensors(os.path.join(d, name + ".safetensors")), strict=True)
        except Exception as e:  # noqa: BLE001 - report any loading failure
            print(f"FAIL {name}: load_state_dict: {e}")
            failed += 1
            continue
        model.eval()
        x = torch.tensor(c["input"], dtype=torch.float32).reshape(c["input_shape"])
        if name == "textclf":
            x = x.long()  # token ids
        with torch.no_grad():
            y = model(x).numpy()
        want = np.array(c["output"]).reshape(c["output_shape"])
        worst = float(np.max(np.abs(y - want)))
        if y.shape != want.shape or not worst <= TOLERANCE:
            print(f"FAIL {name}: PyTorch's output differs from Keragon's by up to {worst:.3g}")
            failed += 1
        else:
            print(f"ok   {name}: load_state_dict(strict=True) and PyTorch matches Keragon to {worst:.2g}")
    if failed:
        sys.exit(f"{failed} of {len(cases)} state dicts failed")


if __name__ == "__main__":
    main()
