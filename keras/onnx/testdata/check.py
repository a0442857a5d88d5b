#!/usr/bin/python3
"""Check ONNX files that Keragon's Export wrote, without Keragon.

  /usr/bin/python3 keras/onnx/testdata/check.py DIR

DIR holds <name>.onnx files and cases.json, which maps each name to the
model's inputs and the outputs Keragon predicted for them:

  {"mlp": {"inputs":  [{"shape": [3, 6], "data": [...]}],
           "outputs": [{"shape": [3, 4], "data": [...]}]}, ...}

For each model the script runs python3-onnx's checker (with full_check,
which includes shape inference), then evaluates the graph with the small
numpy reference below, written from the ONNX operator specifications
(opset 13, 17 with LayerNormalization), and compares its outputs with Keragon's. onnxruntime is not
packaged in Debian and onnx 1.12 has no onnx.reference, hence the
evaluator; it covers the operators Export writes (and those of the
PyTorch-written files in this directory: `check.py --torch` evaluates them
and compares with PyTorch's outputs in torch_models.json, which checks the
evaluator itself). It exits non-zero if a check fails. The Go test TestExportPassesONNXChecker runs it when
/usr/bin/python3 can import onnx.
"""

import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

TOLERANCE = 1e-5


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {
    "Sigmoid": sigmoid,
    "Tanh": np.tanh,
    "Relu": lambda x: np.maximum(x, 0),
    "Softsign": lambda x: x / (1 + np.abs(x)),
}


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def windows(x, kernel, strides, pads, fill):
    """Pads x (N, C, spatial...) and returns the padded array."""
    n = len(kernel)
    width = [(0, 0), (0, 0)] + [(pads[i], pads[n + i]) for i in range(n)]
    return np.pad(x, width, constant_values=fill)


def conv(x, w, b, a):
    n = x.ndim - 2
    k = a.get("kernel_shape", list(w.shape[2:]))
    s = a.get("strides", [1] * n)
    d = a.get("dilations", [1] * n)
    p = a.get("pads", [0] * (2 * n))
    g = a.get("group", 1)
    xp = windows(x, k, s, p, 0.0)
    out_sp = [(xp.shape[2 + i] - ((k[i] - 1) * d[i] + 1)) // s[i] + 1 for i in range(n)]
    N, C = x.shape[:2]
    M = w.shape[0]
    y = np.zeros([N, M] + out_sp)
    cg, mg = C // g, M // g
    for gi in range(g):
        xg = xp[:, gi * cg:(gi + 1) * cg]
        wg = w[gi * mg:(gi + 1) * mg]
        for idx in np.ndindex(*k):
            sl = tuple(slice(idx[i] * d[i], idx[i] * d[i] + (out_sp[i] - 1) * s[i] + 1, s[i]) for i in range(n))
            patch = xg[(slice(None), slice(None)) + sl]  # N, cg, out...
            tap = wg[(slice(None), slice(None)) + idx]  # mg, cg
            y[:, gi * mg:(gi + 1) * mg] += np.einsum("nc...,mc->nm...", patch, tap)
    if b is not None:
        y += b.reshape([1, M] + [1] * n)
    return y


def pool(x, a, kind):
    n = x.ndim - 2
    k = a["kernel_shape"]
    s = a.get("strides", [1] * n)
    p = a.get("pads", [0] * (2 * n))
    fill = -np.inf if kind == "max" else np.nan
    xp = windows(x, k, s, p, fill)
    out_sp = [(xp.shape[2 + i] - k[i]) // s[i] + 1 for i in range(n)]
    stack = []
    for idx in np.ndindex(*k):
        sl = tuple(slice(idx[i], idx[i] + (out_sp[i] - 1) * s[i] + 1, s[i]) for i in range(n))
        stack.append(xp[(slice(None), slice(None)) + sl])
    stack = np.stack(stack)
    if kind == "max":
        return stack.max(axis=0)
    if a.get("count_include_pad", 0):
        return np.nan_to_num(stack, nan=0.0).mean(axis=0)
    return np.nanmean(stack, axis=0)


def recurrent(op, ins, a):
    x, W, R = ins[0], ins[1], ins[2]
    B = ins[3] if len(ins) > 3 and ins[3] is not None else None
    if len(ins) > 4 and ins[4] is not None:
        raise ValueError("sequence_lens is not supported by this evaluator")
    H = a["hidden_size"]
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    dirs = 2 if direction == "bidirectional" else 1
    acts = [s.decode() if isinstance(s, bytes) else s for s in a.get("activations", [])]
    per = {"LSTM": 3, "GRU": 2, "RNN": 1}[op]
    if not acts:
        acts = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}[op] * dirs
    T, N = x.shape[0], x.shape[1]
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    Y = np.zeros((T, dirs, N, H))
    Yh = np.zeros((dirs, N, H))
    Yc = np.zeros((dirs, N, H))
    for d in range(dirs):
        f = [ACTIVATIONS[n] for n in acts[d * per:(d + 1) * per]]
        Wd, Rd = W[d], R[d]
        Wb = B[d][:G * H] if B is not None else np.zeros(G * H)
        Rb = B[d][G * H:] if B is not None else np.zeros(G * H)
        h = ins[5][d] if len(ins) > 5 and ins[5] is not None else np.zeros((N, H))
        c = ins[6][d] if len(ins) > 6 and ins[6] is not None else np.zeros((N, H))
        reverse = direction == "reverse" or d == 1
        steps = range(T - 1, -1, -1) if reverse else range(T)
        for t in steps:
            xt = x[t]
            if op == "LSTM":
                z = xt @ Wd.T + h @ Rd.T + Wb + Rb
                i, o, fg, cc = (z[:, q * H:(q + 1) * H] for q in range(4))
                c = f[0](fg) * c + f[0](i) * f[1](cc)
                h = f[0](o) * f[2](c)
            elif op == "GRU":
                xw = xt @ Wd.T + Wb
                hr = h @ Rd.T + Rb
                zg = f[0](xw[:, :H] + hr[:, :H])
                rg = f[0](xw[:, H:2 * H] + hr[:, H:2 * H])
                if not a.get("linear_before_reset", 0):
                    raise ValueError("only linear_before_reset=1 is evaluated")
                hh = f[1](xw[:, 2 * H:] + rg * hr[:, 2 * H:])
                h = (1 - zg) * hh + zg * h
            else:
                h = f[0](xt @ Wd.T + h @ Rd.T + Wb + Rb)
            Y[t, d] = h
        Yh[d], Yc[d] = h, c
    return [Y, Yh, Yc]


def run_node(node, ins):
    op, a = node.op_type, attrs(node)
    x = ins[0] if ins else None
    if op == "Identity" or op == "Dropout":
        return [x]
    if op == "Constant":
        return [numpy_helper.to_array(a["value"]).astype(np.float64) if a["value"].data_type in (1, 11) else numpy_helper.to_array(a["value"])]
    if op == "Cast":
        return [x.astype({1: np.float64, 6: np.int32, 7: np.int64, 11: np.float64}[a["to"]])]
    if op == "Shape":
        return [np.array(x.shape, dtype=np.int64)]
    if op == "ConstantOfShape":
        v = numpy_helper.to_array(a["value"]).item() if "value" in a else 0.0
        return [np.full([int(d) for d in x], v, dtype=np.float64)]
    if op == "Concat":
        return [np.concatenate([np.atleast_1d(i) for i in ins], axis=a.get("axis", 0))]
    if op == "Transpose":
        return [np.transpose(x, a.get("perm"))]
    if op == "Gemm":
        A = x.T if a.get("transA", 0) else x
        Bm = ins[1].T if a.get("transB", 0) else ins[1]
        y = a.get("alpha", 1.0) * A @ Bm
        if len(ins) > 2 and ins[2] is not None:
            y = y + a.get("beta", 1.0) * ins[2]
        return [y]
    if op == "MatMul":
        return [x @ ins[1]]
    if op in ("Add", "Sub", "Mul", "Div"):
        return [{"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](x, ins[1])]
    if op in ("Max", "Min", "Mean"):
        f = {"Max": np.maximum, "Min": np.minimum, "Mean": np.add}[op]
        y = ins[0]
        for v in ins[1:]:
            y = f(y, v)
        return [y / len(ins) if op == "Mean" else y]
    if op == "Erf":
        return [np.vectorize(math.erf)(x)]
    if op in ACTIVATIONS:
        return [ACTIVATIONS[op](x)]
    if op == "Softplus":
        return [np.log1p(np.exp(x))]
    if op == "Exp":
        return [np.exp(x)]
    if op == "Elu":
        al = a.get("alpha", 1.0)
        return [np.where(x > 0, x, al * (np.exp(x) - 1))]
    if op == "Selu":
        al, g = a.get("alpha", 1.67326319217681884765625), a.get("gamma", 1.05070102214813232421875)
        return [g * np.where(x > 0, x, al * (np.exp(x) - 1))]
    if op == "LeakyRelu":
        return [np.where(x > 0, x, a.get("alpha", 0.01) * x)]
    if op == "HardSigmoid":
        return [np.clip(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0, 1)]
    if op == "Clip":
        lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
        hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
        return [np.clip(x, lo, hi)]
    if op == "Softmax":
        return [softmax(x, a.get("axis", -1))]
    if op == "LogSoftmax":
        return [np.log(softmax(x, a.get("axis", -1)))]
    if op == "Conv":
        return [conv(x, ins[1], ins[2] if len(ins) > 2 else None, a)]
    if op == "MaxPool":
        return [pool(x, a, "max")]
    if op == "AveragePool":
        return [pool(x, a, "avg")]
    if op == "GlobalAveragePool":
        return [x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)]
    if op == "GlobalMaxPool":
        return [x.max(axis=tuple(range(2, x.ndim)), keepdims=True)]
    if op == "Flatten":
        ax = a.get("axis", 1)
        return [x.reshape(int(np.prod(x.shape[:ax])), -1)]
    if op == "Reshape":
        shape = [x.shape[i] if v == 0 else int(v) for i, v in enumerate(ins[1])]
        return [x.reshape(shape)]
    if op == "Squeeze":
        return [np.squeeze(x, axis=tuple(int(v) for v in ins[1]))]
    if op == "Unsqueeze":
        return [np.expand_dims(x, axis=tuple(int(v) for v in ins[1]))]
    if op == "Gather":
        return [np.take(x, ins[1], axis=a.get("axis", 0))]
    if op == "Pad":
        p = [int(v) for v in ins[1]]
        n = x.ndim
        return [np.pad(x, [(p[i], p[n + i]) for i in range(n)])]
    if op == "BatchNormalization":
        scale, bias, mean, var = ins[1:5]
        shape = [1, -1] + [1] * (x.ndim - 2)
        eps = a.get("epsilon", 1e-5)
        return [(x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * scale.reshape(shape) + bias.reshape(shape)]
    if op == "LayerNormalization":
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        y = (x - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * ins[1]
        if len(ins) > 2 and ins[2] is not None:
            y = y + ins[2]
        return [y]
    if op in ("LSTM", "GRU", "RNN"):
        return recurrent(op, ins, a)
    raise ValueError(f"operator {op} is not in this evaluator")


def evaluate(model, inputs):
    vals = {t.name: numpy_helper.to_array(t).astype(np.float64) if t.data_type in (1, 11) else numpy_helper.to_array(t)
            for t in model.graph.initializer}
    for vi, x in zip(model.graph.input, inputs):
        if vi.type.tensor_type.elem_type in (6, 7):  # token ids
            x = x.astype(np.int64)
        vals[vi.name] = x
    for node in model.graph.node:
        ins = [vals[n] if n else None for n in node.input]
        outs = run_node(node, ins)
        for name, v in zip(node.output, outs):
            if name:
                vals[name] = v
    return [vals[o.name] for o in model.graph.output]


def torch_cases(d):
    """The PyTorch-written models of torch_models.json, as cases."""
    with open(os.path.join(d, "torch_models.json")) as f:
        ref = json.load(f)
    return {name: {"inputs": [{"shape": c["input_shape"], "data": c["input"]}],
                   "outputs": [{"shape": c["output_shape"], "data": c["output"]}]}
            for name, c in ref.items()}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check.py DIR, or check.py --torch to check the evaluator on PyTorch's files")
    d = sys.argv[1]
    if d == "--torch":
        d = os.path.dirname(os.path.abspath(__file__))
        cases = torch_cases(d)
    else:
        with open(os.path.join(d, "cases.json")) as f:
            cases = json.load(f)
    failed = 0
    for name, c in sorted(cases.items()):
        model = onnx.load(os.path.join(d, name + ".onnx"))
        try:
            onnx.checker.check_model(model, full_check=True)
        except Exception as e:  # noqa: BLE001 - report any checker failure
            print(f"FAIL {name}: the ONNX checker rejects the model: {e}")
            failed += 1
            continue
        opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
        inputs = [np.array(i["data"], dtype=np.float64).reshape(i["shape"]) for i in c["inputs"]]
        try:
            outs = evaluate(model, inputs)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {name}: evaluating: {e!r}")
            failed += 1
            continue
        worst = 0.0
        ok = True
        for got, want in zip(outs, c["outputs"]):
            w = np.array(want["data"]).reshape(want["shape"])
            if got.shape != w.shape:
                print(f"FAIL {name}: output shape {got.shape}, Keragon's {w.shape}")
                ok = False
                break
            worst = max(worst, float(np.max(np.abs(got - w))) if w.size else 0.0)
        if ok and not worst <= TOLERANCE:
            print(f"FAIL {name}: outputs differ from Keragon's by up to {worst:.3g}")
            ok = False
        if ok:
            print(f"ok   {name}: checker passed (opset {opset[0]}), numpy matches the expected outputs to {worst:.2g}")
        else:
            failed += 1
    if failed:
        sys.exit(f"{failed} of {len(cases)} models failed")


if __name__ == "__main__":
    main()
