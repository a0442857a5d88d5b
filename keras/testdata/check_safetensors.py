#!/usr/bin/python3
"""Check that Keragon's model files are plain safetensors files for PyTorch.

Keragon's Model.Save writes one safetensors file
(https://huggingface.co/docs/safetensors). This script implements the
format's rules itself, in a few lines of Python, because the `safetensors`
package is not installed here (torch 1.13 and numpy are):

  * the first 8 bytes are N, the header length, an unsigned little-endian
    64-bit integer, at most 100,000,000;
  * the next N bytes are UTF-8 JSON: an object mapping each tensor name to
    {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, plus an
    optional "__metadata__" object of string values; spaces may pad it;
  * the rest is the data: offsets count from its first byte; sorted by
    offset, the tensors tile it exactly (each begins where the previous
    ends, the first at 0, the last at the end of the file), and each spans
    numel * dtype-size bytes of little-endian, row-major values.

Run from anywhere:

  /usr/bin/python3 keras/testdata/check_safetensors.py          # check
  /usr/bin/python3 keras/testdata/check_safetensors.py --write  # and rewrite interop_py.*

It checks:
  1. interop_go.safetensors (written by the Go test TestInteropGoWritten with
     -update-safetensors): loads every tensor into torch, checks the metadata,
     rebuilds the model's forward pass in torch from the weights
     (Dense -> BatchNormalization -> Dense) and compares its predictions with
     the ones Go wrote in interop_go.json.
  2. interop_py.safetensors: written by write_safetensors below (with --write)
     as a float64 Keragon model, its header keys in another order than its
     data and "__metadata__" last; interop_py.json holds inputs and torch's
     outputs, which the Go test TestInteropPythonWritten compares with
     keras.Load's predictions.

With the real package (pip install safetensors), the same files can be
checked with the reference implementation; the script does so by itself
when `import safetensors` works:

  from safetensors.torch import load_file, save_file
  from safetensors import safe_open
  tensors = load_file("keras/testdata/interop_go.safetensors")   # dict of torch tensors
  with safe_open("keras/testdata/interop_go.safetensors", "pt") as f:
      print(f.metadata()["format"])                              # "keragon"
  load_file("keras/testdata/interop_py.safetensors")             # the Python-written file

(When this was written neither pip nor PyPI was reachable here; a Go port of
the reference reader, github.com/nlpodyssey/safetensors Deserialize, read
both files and listed the same tensors, dtypes, shapes and metadata.)
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_HEADER = 100_000_000

# dtype name -> (size in bytes, little-endian numpy dtype or None).
DTYPES = {
    "BOOL": (1, "|b1"), "U8": (1, "|u1"), "I8": (1, "|i1"),
    "F8_E5M2": (1, None), "F8_E4M3": (1, None),
    "I16": (2, "<i2"), "U16": (2, "<u2"), "F16": (2, "<f2"), "BF16": (2, None),
    "I32": (4, "<i4"), "U32": (4, "<u4"), "F32": (4, "<f4"),
    "I64": (8, "<i8"), "U64": (8, "<u8"), "F64": (8, "<f8"),
}
TORCH_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}


class FormatError(Exception):
    pass


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise FormatError("the header names %r twice" % k)
        out[k] = v
    return out


def read_safetensors(path):
    """Returns ({name: torch.Tensor}, metadata or None), checking every rule."""
    with open(path, "rb") as f:
        return parse_safetensors(f.read(), path)


def parse_safetensors(data, path="<bytes>"):
    """read_safetensors on the bytes of a file."""
    if len(data) < 8:
        raise FormatError("%s: %d bytes is too short for the header length" % (path, len(data)))
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER:
        raise FormatError("%s: header length %d exceeds %d" % (path, n, MAX_HEADER))
    if 8 + n > len(data):
        raise FormatError("%s: header length %d runs past the end of the file" % (path, n))
    text = data[8:8 + n].decode("utf-8")  # raises on invalid UTF-8
    if not text.startswith("{"):
        raise FormatError("%s: the header does not start with '{'" % path)
    header = json.loads(text, object_pairs_hook=_no_duplicates)
    if not isinstance(header, dict):
        raise FormatError("%s: the header is not a JSON object" % path)
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise FormatError("%s: __metadata__ must map strings to strings" % path)
    body = data[8 + n:]
    entries = []
    for name, info in header.items():
        for key in ("dtype", "shape", "data_offsets"):
            if key not in info:
                raise FormatError("%s: tensor %r has no %r" % (path, name, key))
        if info["dtype"] not in DTYPES:
            raise FormatError("%s: tensor %r has unknown dtype %r" % (path, name, info["dtype"]))
        shape, offsets = info["shape"], info["data_offsets"]
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise FormatError("%s: tensor %r has a bad shape %r" % (path, name, shape))
        if len(offsets) != 2 or not all(isinstance(o, int) and o >= 0 for o in offsets):
            raise FormatError("%s: tensor %r has bad data_offsets %r" % (path, name, offsets))
        entries.append((offsets[0], offsets[1], name, info["dtype"], shape))
    entries.sort(key=lambda e: (e[0], e[1]))
    tensors, pos = {}, 0
    for begin, end, name, dtype, shape in entries:
        if begin != pos or end < begin:
            raise FormatError("%s: tensor %r: data_offsets [%d, %d] do not start where the previous tensor ends (%d)" % (path, name, begin, end, pos))
        if end > len(body):
            raise FormatError("%s: tensor %r runs past the end of the data (%d bytes)" % (path, name, len(body)))
        size, npdtype = DTYPES[dtype]
        numel = math.prod(shape)
        if end - begin != numel * size:
            raise FormatError("%s: tensor %r: %s %r needs %d bytes, not %d" % (path, name, dtype, shape, numel * size, end - begin))
        if npdtype is None:
            raise FormatError("%s: tensor %r: dtype %s has no torch 1.13 equivalent here" % (path, name, dtype))
        array = np.frombuffer(body[begin:end], dtype=np.dtype(npdtype)).reshape(shape)
        tensors[name] = torch.from_numpy(array.astype(array.dtype.newbyteorder("="), copy=True))
        pos = end
    if pos != len(body):
        raise FormatError("%s: the tensors cover %d bytes of data, the file has %d" % (path, pos, len(body)))
    return tensors, metadata


def write_safetensors(path, tensors, metadata, data_order=None):
    """Writes {name: torch.Tensor} and metadata per the spec. The data goes
    in data_order (default: widest dtype first, then by name); the header
    lists the tensors sorted by name with "__metadata__" last, which readers
    must accept, since only the offsets say where the data lies."""
    names = data_order or sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header, chunks, offset = {}, [], 0
    for name in names:
        t = tensors[name].contiguous()
        dtype = TORCH_NAMES[t.dtype]
        raw = t.numpy().astype(np.dtype(DTYPES[dtype][1])).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    ordered = {k: header[k] for k in sorted(header)}
    ordered["__metadata__"] = metadata
    text = json.dumps(ordered, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def forward_go_model(tensors, arch, x):
    """The Keragon model of interop_go: Input -> Dense(relu) ->
    BatchNormalization (inference) -> Dense(softmax), in torch float32.
    Keras' Dense kernel is (inputs, units): y = x @ kernel + bias."""
    classes = [l["class_name"] for l in arch["layers"]]
    assert classes == ["Input", "Dense", "BatchNormalization", "Dense"], classes
    h = x
    for layer in arch["layers"][1:]:
        name, cfg = layer["name"], layer["config"]
        if layer["class_name"] == "Dense":
            h = h @ tensors[name + "/kernel"] + tensors[name + "/bias"]
            act = cfg.get("activation", "")
            if act == "relu":
                h = torch.relu(h)
            elif act == "softmax":
                h = torch.softmax(h, dim=-1)
            else:
                assert act in ("", "linear"), act
        else:
            eps = cfg.get("epsilon") or 1e-3
            mean, var = tensors[name + "/moving_mean"], tensors[name + "/moving_variance"]
            h = tensors[name + "/gamma"] * (h - mean) / torch.sqrt(var + eps) + tensors[name + "/beta"]
    return h


def check_go_file():
    path = os.path.join(HERE, "interop_go.safetensors")
    tensors, metadata = read_safetensors(path)
    assert metadata["format"] == "keragon" and metadata["version"] == "1", metadata
    arch = json.loads(metadata["model"])
    compile_cfg = json.loads(metadata["compile"])
    want_weights = {"dense/kernel": (4, 5), "dense/bias": (5,), "batch_normalization/gamma": (5,),
                    "batch_normalization/beta": (5,), "batch_normalization/moving_mean": (5,),
                    "batch_normalization/moving_variance": (5,), "dense_1/kernel": (5, 3), "dense_1/bias": (3,)}
    for name, shape in want_weights.items():
        assert tensors[name].dtype == torch.float32 and tuple(tensors[name].shape) == shape, (name, tensors[name].shape)
    state = sorted(k for k in tensors if k.startswith("optimizer/"))
    assert compile_cfg["optimizer"]["name"] == "adam", compile_cfg
    assert len(state) == 1 + 2 * 6, state  # iterations, m and v of the 6 trainable weights
    case = json.load(open(os.path.join(HERE, "interop_go.json")))
    assert int(tensors["optimizer/iterations"].item()) == case["iterations"]
    x = torch.tensor(case["x"], dtype=torch.float32)
    y = forward_go_model(tensors, arch, x)
    want = torch.tensor(case["y"], dtype=torch.float32)
    diff = (y - want).abs().max().item()
    print("interop_go.safetensors: %d tensors, model %r; torch vs Go predictions: max |diff| = %.3g" % (len(tensors), arch["name"], diff))
    assert diff < 1e-6, diff
    cross_check(path, tensors, metadata)


def write_py_file():
    """A float64 Keragon model: Input(3) -> Dense(4, tanh) "hidden" ->
    Dense(2) "out", compiled with SGD(momentum 0.9) after 5 steps."""
    g = torch.Generator().manual_seed(0)
    w = {
        "hidden/kernel": torch.randn(3, 4, generator=g, dtype=torch.float64),
        "hidden/bias": torch.randn(4, generator=g, dtype=torch.float64) * 0.1,
        "out/kernel": torch.randn(4, 2, generator=g, dtype=torch.float64),
        "out/bias": torch.randn(2, generator=g, dtype=torch.float64) * 0.1,
    }
    tensors = dict(w)
    tensors["optimizer/iterations"] = torch.tensor([5.0], dtype=torch.float64)
    for name, t in w.items():
        tensors["optimizer/" + name + "/momentum"] = torch.randn(t.shape, generator=g, dtype=torch.float64) * 0.01
    ref = lambda name: [name, 0]
    arch = {
        "name": "from_python", "sequential": True, "dtype": "float64",
        "layers": [
            {"class_name": "Input", "name": "input_layer", "config": {"shape": [3], "dtype": "float64"}, "inbound": [[]]},
            {"class_name": "Dense", "name": "hidden", "config": {"units": 4, "activation": "tanh"}, "inbound": [[ref("input_layer")]]},
            {"class_name": "Dense", "name": "out", "config": {"units": 2}, "inbound": [[ref("hidden")]]},
        ],
        "inputs": [ref("input_layer")], "outputs": [ref("out")],
    }
    compile_cfg = {"optimizer": {"name": "sgd", "config": {"learning_rate": 0.1, "momentum": 0.9, "nesterov": False}},
                   "loss": [{"name": "mean_squared_error"}], "loss_weights": [1.0], "metrics": ["mae"]}
    metadata = {"format": "keragon", "version": "1", "model": json.dumps(arch), "compile": json.dumps(compile_cfg)}
    # Data in reverse name order: unlike the header's order or Go's.
    path = os.path.join(HERE, "interop_py.safetensors")
    write_safetensors(path, tensors, metadata, data_order=sorted(tensors, reverse=True))
    x = torch.randn(4, 3, generator=g, dtype=torch.float64)
    y = torch.tanh(x @ w["hidden/kernel"] + w["hidden/bias"]) @ w["out/kernel"] + w["out/bias"]
    with open(os.path.join(HERE, "interop_py.json"), "w") as f:
        # json writes the shortest repr that reads back the same float64.
        json.dump({"x": x.tolist(), "y": y.tolist(), "iterations": 5}, f, indent=1)
        f.write("\n")
    print("wrote interop_py.safetensors and interop_py.json")


def check_py_file():
    path = os.path.join(HERE, "interop_py.safetensors")
    tensors, metadata = read_safetensors(path)
    case = json.load(open(os.path.join(HERE, "interop_py.json")))
    x = torch.tensor(case["x"], dtype=torch.float64)
    y = torch.tanh(x @ tensors["hidden/kernel"] + tensors["hidden/bias"]) @ tensors["out/kernel"] + tensors["out/bias"]
    diff = (y - torch.tensor(case["y"], dtype=torch.float64)).abs().max().item()
    print("interop_py.safetensors: %d tensors read back; max |diff| = %.3g" % (len(tensors), diff))
    assert diff == 0, diff
    cross_check(path, tensors, metadata)


def check_rejections():
    """The reader refuses corrupt variants of a valid file."""
    good = open(os.path.join(HERE, "interop_py.safetensors"), "rb").read()
    (n,) = struct.unpack("<Q", good[:8])
    header = json.loads(good[8:8 + n])

    def with_header(h, body=good[8 + n:]):
        text = json.dumps(h).encode()
        return struct.pack("<Q", len(text)) + text + body

    def edited(name, key, value):
        h = json.loads(json.dumps(header))
        h[name][key] = value
        return with_header(h)

    b, e = header["out/bias"]["data_offsets"]
    cases = {
        "too short": good[:5],
        "header length past the end": struct.pack("<Q", len(good)) + good[8:],
        "header too large": struct.pack("<Q", MAX_HEADER + 1) + good[8:],
        "not JSON": struct.pack("<Q", 4) + b"{x}]",
        "truncated data": good[:-8],
        "trailing data": good + b"\0" * 8,
        "unknown dtype": edited("out/bias", "dtype", "F17"),
        "size mismatch": edited("out/bias", "shape", [3]),
        "overlap": edited("out/bias", "data_offsets", [b - 8, e - 8]),
        "out of range": edited("out/bias", "data_offsets", [b + 10**6, e + 10**6]),
        "duplicate name": struct.pack("<Q", 16) + b'{"a":1,"a":2}   ',
    }
    for name, data in cases.items():
        try:
            parse_safetensors(data, name)
        except (FormatError, ValueError) as err:  # json and UTF-8 errors are ValueErrors
            continue
        raise AssertionError("the reader accepted a corrupt file: " + name)
    print("the reader rejects %d kinds of corrupt file" % len(cases))


def cross_check(path, tensors, metadata):
    """Compares with the reference implementation when it is installed."""
    try:
        from safetensors import safe_open
        from safetensors.torch import load_file
    except ImportError:
        print("  (the safetensors package is not installed: reference check skipped)")
        return
    ref = load_file(path)
    assert sorted(ref) == sorted(tensors), (sorted(ref), sorted(tensors))
    for k in ref:
        assert torch.equal(ref[k], tensors[k]), k
    with safe_open(path, "pt") as f:
        assert f.metadata() == metadata
    print("  safetensors.torch.load_file agrees")


def main():
    if "--write" in sys.argv[1:]:
        write_py_file()
    check_go_file()
    check_py_file()
    check_rejections()
    print("ok")


if __name__ == "__main__":
    main()
