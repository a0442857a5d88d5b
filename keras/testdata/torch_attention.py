"""Reference values for keras/attention_test.go, computed with PyTorch 1.13.

Run from the repository root with the system Python, which has torch:

    /usr/bin/python3 keras/testdata/torch_attention.py

It writes keras/testdata/torch_attention.json. Everything is float64;
arrays are {"shape": [...], "data": [...]} flattened row-major, weights in
Keras' layouts:

    query/kernel (dq, H, kd)   query/bias (H, kd)   (key/…, value/… alike)
    attention_output/kernel (H, vd, out)   attention_output/bias (out)

mapped onto torch.nn.MultiheadAttention(batch_first=True): a Keras kernel
(d, H, k) is torch's projection weight (H*k, d) = kernel.reshape(d, H*k).T
(in_proj_weight stacks query, key, value when they share the embedding
size; q_proj_weight, k_proj_weight, v_proj_weight otherwise), the biases
are flattened into in_proj_bias, and out_proj.weight = output
kernel.reshape(H*vd, out).T. The gradients come from autograd on the
Keras-layout weights, so they are in Keras' layouts too.

Each case has query (and value, key), the weights, y (the attention output)
and scores (the attention weights, (B, H, T, S)), and for loss =
sum(y * up) the gradients grad_<input> and grad_<weight>.

- self: self-attention, E = 8, 2 heads of 4; torch's module, no mask.
- cross: query (B, 3, 6), key (B, 4, 5), value (B, 4, 7), 2 heads of 3,
  value_dim 3, output 6; torch's module with kdim and vdim.
- causal_padded: self-attention with the value's Keras mask (padding at the
  end of sample 1) and use_causal_mask: torch's key_padding_mask and a
  boolean attn_mask.
- query_masked: Keras' masking of padded queries (their rows are all
  masked, so Keras gives them uniform weights over the keys, where torch's
  module gives NaN), written with torch ops: the scores of masked pairs
  replaced by -1e9 before the softmax, as Keras' Softmax layer does.
"""
import json
import math
import os

import torch

torch.manual_seed(20240904)
DT = torch.float64


def arr(t):
    t = torch.as_tensor(t, dtype=DT).detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def rand(*shape, scale=1.0):
    return ((torch.rand(*shape, dtype=DT) * 2 - 1) * scale).requires_grad_()


def keras_weights(dq, dk, dv, H, kd, vd, out):
    return {
        "query/kernel": rand(dq, H, kd, scale=0.6), "query/bias": rand(H, kd, scale=0.3),
        "key/kernel": rand(dk, H, kd, scale=0.6), "key/bias": rand(H, kd, scale=0.3),
        "value/kernel": rand(dv, H, vd, scale=0.6), "value/bias": rand(H, vd, scale=0.3),
        "attention_output/kernel": rand(H, vd, out, scale=0.6), "attention_output/bias": rand(out, scale=0.3),
    }


def torch_module(w, E, H, kdim, vdim):
    m = torch.nn.MultiheadAttention(E, H, batch_first=True, kdim=kdim, vdim=vdim, dtype=DT)
    proj = lambda k: w[k].reshape(w[k].shape[0], -1).T
    with torch.no_grad():
        for p in m.parameters():
            p.requires_grad_(False)
    if m._qkv_same_embed_dim:
        m.in_proj_weight = None
        del m.in_proj_weight
        m.in_proj_weight = torch.cat([proj("query/kernel"), proj("key/kernel"), proj("value/kernel")])
    else:
        del m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
        m.q_proj_weight, m.k_proj_weight, m.v_proj_weight = proj("query/kernel"), proj("key/kernel"), proj("value/kernel")
    del m.in_proj_bias
    m.in_proj_bias = torch.cat([w["query/bias"].reshape(-1), w["key/bias"].reshape(-1), w["value/bias"].reshape(-1)])
    del m.out_proj.weight, m.out_proj.bias
    o = w["attention_output/kernel"]
    m.out_proj.weight = o.reshape(-1, o.shape[-1]).T
    m.out_proj.bias = w["attention_output/bias"]
    return m


def keras_attention(w, q, k, v, H, kd, vd, mask):
    """Keras' computation written with torch ops; mask (B, T, S) or None."""
    B, T, S = q.shape[0], q.shape[1], k.shape[1]
    proj = lambda x, n: torch.einsum("bnd,dhk->bnhk", x, w[n + "/kernel"]) + w[n + "/bias"]
    qh = proj(q, "query") / math.sqrt(kd)
    kh, vh = proj(k, "key"), proj(v, "value")
    scores = torch.einsum("bshk,bthk->bhts", kh, qh)
    if mask is not None:
        scores = torch.where(mask[:, None], scores, torch.tensor(-1e9, dtype=DT))
    p = scores.softmax(-1)
    att = torch.einsum("bhts,bshv->bthv", p, vh)
    y = torch.einsum("bthv,hvo->bto", att, w["attention_output/kernel"]) + w["attention_output/bias"]
    return y, p


def finish(case, inputs, w, y, scores):
    up = torch.rand(*y.shape, dtype=DT) * 2 - 1
    (y * up).sum().backward()
    case.update({"y": arr(y), "scores": arr(scores), "up": arr(up)})
    for k, x in list(inputs.items()) + list(w.items()):
        case[k] = arr(x)
        case["grad_" + k] = arr(x.grad)
    return case


cases = {}

# self
B, T, E, H = 2, 5, 8, 2
w = keras_weights(E, E, E, H, 4, 4, E)
x = rand(B, T, E)
m = torch_module(w, E, H, None, None)
y, s = m(x, x, x, need_weights=True, average_attn_weights=False)
cases["self"] = finish({}, {"query": x}, w, y, s)

# cross
w = keras_weights(6, 5, 7, 2, 3, 3, 6)
q, k, v = rand(B, 3, 6), rand(B, 4, 5), rand(B, 4, 7)
m = torch_module(w, 6, 2, 5, 7)
y, s = m(q, k, v, need_weights=True, average_attn_weights=False)
cases["cross"] = finish({}, {"query": q, "key": k, "value": v}, w, y, s)

# causal_padded
w = keras_weights(E, E, E, H, 4, 4, E)
x = rand(B, T, E)
valid = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
causal = torch.ones(T, T, dtype=torch.bool).triu(1)
m = torch_module(w, E, H, None, None)
y, s = m(x, x, x, key_padding_mask=~valid, attn_mask=causal, need_weights=True, average_attn_weights=False)
cases["causal_padded"] = finish({"value_mask": valid}, {"query": x}, w, y, s)
cases["causal_padded"]["value_mask"] = arr(valid)

# query_masked
w = keras_weights(E, E, E, H, 4, 4, E)
x = rand(B, T, E)
qmask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=torch.bool)
mask = qmask[:, :, None] & qmask[:, None, :]
y, s = keras_attention(w, x, x, x, H, 4, 4, mask)
case = finish({}, {"query": x}, w, y, s)
case["query_mask"] = arr(qmask)
cases["query_masked"] = case

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_attention.json")
with open(path, "w") as f:
    json.dump({"generator": "keras/testdata/torch_attention.py", "torch": torch.__version__, "cases": cases}, f)
    f.write("\n")
