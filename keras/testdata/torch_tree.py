"""Reference values for keras/tree_torch_test.go, computed with PyTorch 1.13.

Run from the repository root with the system Python, which has torch:

    /usr/bin/python3 keras/testdata/torch_tree.py

It writes keras/testdata/torch_tree.json. Everything is float64.

Each case is one tree layer on a few fixed trees, each tree computed alone
by recursion over its nodes, written out from the papers' equations (not
from Keragon's kernels):

- treernn: h = tanh(x W + (sum of the children's h) U + b)
  (Socher et al. 2011, the children summed).
- treelstm_childsum: the child-sum TreeLSTM of Tai, Socher and Manning
  (2015), section 3.1:
      h~  = sum_k h_k
      i   = sigmoid(x W_i + h~ U_i + b_i)
      f_k = sigmoid(x W_f + h_k U_f + b_f)      one forget gate per child
      o   = sigmoid(x W_o + h~ U_o + b_o)
      u   = tanh(x W_u + h~ U_u + b_u)
      c   = i * u + sum_k f_k * c_k,   h = o * tanh(c)
- treelstm_nary: the N-ary TreeLSTM (section 3.2), N = 2:
      g   = sigmoid/tanh(x W_g + sum_l h_l U_g^l + b_g) for g in i, o, u
      f_k = sigmoid(x W_f + sum_l h_l U_fk^l + b_f)
  with the same c and h.

Keragon's layouts: W is (F, 4d) with gate columns i, o, u, f; b is (4d);
the child-sum U is (d, 4d) likewise; the N-ary U is (N*d, (3+N)*d), row
block l for child position l, column blocks i, o, u, f_1 ... f_N. A leaf
has no children (h_k = c_k = 0).

Trees are lists of child lists in post-order (children before parents, root
last), which is the node order of keras/tree.Encoder. For each case: the
weights, the trees and their node features, every node's h, the roots' h
stacked (trees, d), an upstream gradient and the gradients of
loss = sum(root_h * upstream) with respect to the weights and features.
"""
import json
import os

import torch

torch.manual_seed(20240611)
DT = torch.float64
F, D = 3, 2


def arr(t):
    t = torch.as_tensor(t, dtype=DT).detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def gates(z, d):
    return z[..., 0:d], z[..., d:2 * d], z[..., 2 * d:3 * d], z[..., 3 * d:]


def tree_rnn(x, children, W, U, b):
    h = [None] * len(children)
    for j, cs in enumerate(children):
        s = torch.zeros(D, dtype=DT)
        for c in cs:
            s = s + h[c]
        h[j] = torch.tanh(x[j] @ W + s @ U + b)
    return h


def childsum(x, children, W, U, b):
    h, c = [None] * len(children), [None] * len(children)
    for j, cs in enumerate(children):
        xw = x[j] @ W + b
        xi, xo, xu, xf = gates(xw, D)
        ui, uo, uu, uf = gates(U, D)
        hsum = torch.zeros(D, dtype=DT)
        for k in cs:
            hsum = hsum + h[k]
        i = torch.sigmoid(xi + hsum @ ui)
        o = torch.sigmoid(xo + hsum @ uo)
        u = torch.tanh(xu + hsum @ uu)
        cj = i * u
        for k in cs:
            f = torch.sigmoid(xf + h[k] @ uf)
            cj = cj + f * c[k]
        c[j], h[j] = cj, o * torch.tanh(cj)
    return h


def nary(x, children, W, U, b, n):
    h, c = [None] * len(children), [None] * len(children)
    for j, cs in enumerate(children):
        assert len(cs) in (0, n)
        xi, xo, xu, xf = gates(x[j] @ W + b, D)
        z = torch.zeros((3 + n) * D, dtype=DT)
        for l, k in enumerate(cs):
            z = z + h[k] @ U[l * D:(l + 1) * D]
        i = torch.sigmoid(xi + z[0:D])
        o = torch.sigmoid(xo + z[D:2 * D])
        u = torch.tanh(xu + z[2 * D:3 * D])
        cj = i * u
        for l, k in enumerate(cs):
            f = torch.sigmoid(xf + z[(3 + l) * D:(4 + l) * D])
            cj = cj + f * c[k]
        c[j], h[j] = cj, o * torch.tanh(cj)
    return h


def case(trees, weights, run):
    feats = [torch.randn(len(t), F, dtype=DT).requires_grad_() for t in trees]
    hs = [run(x, t) for x, t in zip(feats, trees)]
    roots = torch.stack([h[-1] for h in hs])
    upstream = torch.randn(roots.shape, dtype=DT)
    (roots * upstream).sum().backward()
    out = {
        "trees": [[list(cs) for cs in t] for t in trees],
        "features": [arr(x) for x in feats],
        "node_h": [arr(torch.stack(h)) for h in hs],
        "root_h": arr(roots),
        "upstream": arr(upstream),
        "grad_features": [arr(x.grad) for x in feats],
    }
    for name, w in weights.items():
        out[name] = arr(w)
        out["grad_" + name] = arr(w.grad)
    return out


def rand(*shape):
    return (torch.rand(*shape, dtype=DT) * 2 - 1).requires_grad_()


# Post-order child lists. Child-sum trees: a root with a three-child node
# and a leaf; a lone leaf; an unbalanced tree with a one-child node.
SUM_TREES = [
    [[], [], [], [0, 1, 2], [], [3, 4]],
    [[]],
    [[], [], [0, 1], [], [3], [2, 4]],
]
# Binary trees for the N-ary cell.
BIN_TREES = [
    [[], [], [0, 1], [], [2, 3]],
    [[]],
    [[], [], [0, 1], [], [], [3, 4], [2, 5]],
]

cases = {}
W, U, b = rand(F, D), rand(D, D), rand(D)
cases["treernn"] = case(SUM_TREES, {"kernel": W, "recurrent_kernel": U, "bias": b},
                        lambda x, t: tree_rnn(x, t, W, U, b))
W2, U2, b2 = rand(F, 4 * D), rand(D, 4 * D), rand(4 * D)
cases["treelstm_childsum"] = case(SUM_TREES, {"kernel": W2, "recurrent_kernel": U2, "bias": b2},
                                  lambda x, t: childsum(x, t, W2, U2, b2))
W3, U3, b3 = rand(F, 4 * D), rand(2 * D, 5 * D), rand(4 * D)
cases["treelstm_nary"] = case(BIN_TREES, {"kernel": W3, "recurrent_kernel": U3, "bias": b3},
                              lambda x, t: nary(x, t, W3, U3, b3, 2))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_tree.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
print("wrote", path)
