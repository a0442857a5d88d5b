"""Reference values for keras/rnn_torch_test.go, computed with PyTorch 1.13.

Run from the repository root with the system Python, which has torch:

    /usr/bin/python3 keras/testdata/torch_rnn.py

It writes keras/testdata/torch_rnn.json. Everything is float64; arrays are
{"shape": [...], "data": [...]} flattened row-major, in Keras' layouts.

Weights are drawn in Keras' layouts and mapped onto torch's modules:

- kernel (features, G*units), recurrent_kernel (units, G*units), each a
  row of G gate blocks of `units` columns; torch's weight_ih is
  (G*units, features) with the gates as blocks of rows, so
  weight_ih = kernel^T, weight_hh = recurrent_kernel^T, block by block.
- LSTM: Keras' gate order i, f, c, o is torch's i, f, g, o: the blocks map
  one to one. Keras has one bias: bias_ih = bias, bias_hh = 0.
- GRU: Keras' order is z, r, h, torch's r, z, n: the first two blocks swap.
  Keras' default GRU (reset_after=True) is torch's GRU: its bias (2, 3u)
  holds the input bias (torch's bias_ih) and the recurrent bias (bias_hh,
  which torch also puts inside r * (W_hn h + b_hn)).
- SimpleRNN: torch.nn.RNN with tanh; bias_ih = bias, bias_hh = 0.

Each case has x, the weights, optional initial states h0 (and c0), the
outputs (y: the sequence or the last output; h, c: the final states, as
Keras' return_state gives them), and, for loss = sum(y*up_y) + sum(h*up_h)
(+ sum(c*up_c)), the gradients with respect to x, the initial states and
every weight, in Keras' layouts (grad_<name>).

Cases:
- <cell>: return_sequences, initial states; torch.nn.<RNN|LSTM|GRU>.
- <cell>_backwards: go_backwards, return_sequences, zero initial state:
  torch on the reversed sequence; the output sequence stays in the order
  processed (reversed), as Keras returns it.
- <cell>_bidirectional: Bidirectional(merge_mode="concat",
  return_sequences, return_state): torch's bidirectional module; y is
  [forward_t, backward_t] at each input position t; the states are
  forward h (c), then backward h (c). Weight names are prefixed forward_ or
  backward_.
- <cell>_masked and <cell>_masked_backwards_last: Keras' masking, which
  torch has no module for, computed step by step with torch's cells (the
  same weights): at a padded step the states keep their values and the
  output repeats the previous output (zeros before the first real step);
  the first case returns the sequence, the second goes backwards and
  returns the last output. The mask has a hole and a padded start.
- lstm_bidirectional_masked_sum: Bidirectional(merge_mode="sum") over the
  same mask, return_sequences: Keras then outputs zeros at padded steps
  in both directions (zero_output_for_mask), the backward sequence being
  flipped back to input order before the sum.
"""
import json
import os

import torch

torch.manual_seed(20240611)
DT = torch.float64
B, T, F, U = 3, 5, 4, 3
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def arr(t):
    t = torch.as_tensor(t, dtype=DT).detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def perm_blocks(w, cell):
    """Keras gate blocks (last axis) to torch's order, and back (an involution)."""
    if cell != "gru":
        return w
    u = w.shape[-1] // 3
    return torch.cat([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], dim=-1)


def keras_weights(cell, prefix=""):
    g = GATES[cell]
    w = {
        prefix + "kernel": (torch.rand(F, g * U, dtype=DT) * 2 - 1) * 0.7,
        prefix + "recurrent_kernel": (torch.rand(U, g * U, dtype=DT) * 2 - 1) * 0.7,
    }
    if cell == "gru":
        w[prefix + "bias"] = torch.randn(2, g * U, dtype=DT) * 0.3
    else:
        w[prefix + "bias"] = torch.randn(g * U, dtype=DT) * 0.3
    return w


def module(cell, bidirectional=False):
    cls = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    return cls(F, U, batch_first=True, bidirectional=bidirectional).double()


def load(mod, cell, w, suffix="", prefix=""):
    """Copies Keras-layout weights into a torch module (or cell)."""
    with torch.no_grad():
        getattr(mod, "weight_ih" + suffix).copy_(perm_blocks(w[prefix + "kernel"], cell).t())
        getattr(mod, "weight_hh" + suffix).copy_(perm_blocks(w[prefix + "recurrent_kernel"], cell).t())
        b = w[prefix + "bias"]
        if cell == "gru":
            getattr(mod, "bias_ih" + suffix).copy_(perm_blocks(b[0], cell))
            getattr(mod, "bias_hh" + suffix).copy_(perm_blocks(b[1], cell))
        else:
            getattr(mod, "bias_ih" + suffix).copy_(b)
            getattr(mod, "bias_hh" + suffix).zero_()


def grads(mod, cell, suffix="", prefix=""):
    """The gradients of a module's parameters in Keras' layouts."""
    gk = perm_blocks(getattr(mod, "weight_ih" + suffix).grad.t(), cell)
    gr = perm_blocks(getattr(mod, "weight_hh" + suffix).grad.t(), cell)
    bi, bh = getattr(mod, "bias_ih" + suffix).grad, getattr(mod, "bias_hh" + suffix).grad
    if cell == "gru":
        gb = torch.stack([perm_blocks(bi, cell), perm_blocks(bh, cell)])
    else:
        # Keras' one bias feeds both of torch's: d/db = d/db_ih (= d/db_hh).
        assert torch.allclose(bi, bh)
        gb = bi
    return {"grad_" + prefix + "kernel": gk, "grad_" + prefix + "recurrent_kernel": gr, "grad_" + prefix + "bias": gb}


def upstream(case, outs):
    """Random upstream gradients for the outputs, the loss, and its backward."""
    loss = 0
    for name, t in outs.items():
        up = torch.randn(t.shape, dtype=DT)
        case["up_" + name] = arr(up)
        case[name] = arr(t)
        loss = loss + (t * up).sum()
    loss.backward()


def full_case(cell, backwards=False):
    w = keras_weights(cell)
    x = torch.randn(B, T, F, dtype=DT, requires_grad=True)
    case = {"x": x}
    case.update(w)
    mod = module(cell)
    load(mod, cell, w, "_l0")
    lstm = cell == "lstm"
    init = None
    if not backwards:
        h0 = torch.randn(B, U, dtype=DT, requires_grad=True)
        case["h0"] = h0
        init = h0.unsqueeze(0)
        if lstm:
            c0 = torch.randn(B, U, dtype=DT, requires_grad=True)
            case["c0"] = c0
            init = (h0.unsqueeze(0), c0.unsqueeze(0))
    xin = torch.flip(x, [1]) if backwards else x
    y, st = mod(xin, init)
    outs = {"y": y}
    if lstm:
        outs["h"], outs["c"] = st[0][0], st[1][0]
    else:
        outs["h"] = st[0]
    upstream(case, outs)
    out = {k: arr(v) if torch.is_tensor(v) else v for k, v in case.items()}
    out["grad_x"] = arr(x.grad)
    for k in ("h0", "c0"):
        if k in case:
            out["grad_" + k] = arr(case[k].grad)
    out.update({k: arr(v) for k, v in grads(mod, cell, "_l0").items()})
    return out


def bidirectional_case(cell):
    wf, wb = keras_weights(cell, "forward_"), keras_weights(cell, "backward_")
    x = torch.randn(B, T, F, dtype=DT, requires_grad=True)
    mod = module(cell, bidirectional=True)
    load(mod, cell, wf, "_l0", "forward_")
    load(mod, cell, wb, "_l0_reverse", "backward_")
    y, st = mod(x)
    case = {"x": x}
    case.update(wf)
    case.update(wb)
    outs = {"y": y}
    if cell == "lstm":
        outs.update({"forward_h": st[0][0], "forward_c": st[1][0], "backward_h": st[0][1], "backward_c": st[1][1]})
    else:
        outs.update({"forward_h": st[0], "backward_h": st[1]})
    upstream(case, outs)
    out = {k: arr(v) if torch.is_tensor(v) else v for k, v in case.items()}
    out["grad_x"] = arr(x.grad)
    out.update({k: arr(v) for k, v in grads(mod, cell, "_l0", "forward_").items()})
    out.update({k: arr(v) for k, v in grads(mod, cell, "_l0_reverse", "backward_").items()})
    return out


def keras_masked(cell, cellmod, x, mask, h0, c0, backwards, zero_output):
    """Keras' backend rnn with a mask, step by step; returns the outputs in
    the order processed, and the final states."""
    h, c = h0, c0
    prev = torch.zeros(B, U, dtype=DT)
    outs = []
    for s in range(T):
        t = T - 1 - s if backwards else s
        m = mask[:, t:t + 1] != 0
        if cell == "lstm":
            nh, nc = cellmod(x[:, t], (h, c))
            c = torch.where(m, nc, c)
        else:
            nh = cellmod(x[:, t], h)
        h = torch.where(m, nh, h)
        out = torch.where(m, nh, torch.zeros_like(nh) if zero_output else prev)
        prev = out
        outs.append(out)
    return outs, h, c


def cell_module(cell):
    cls = {"simple_rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell]
    return cls(F, U).double()


# Sample 0 is right-padded, sample 1 has a hole, sample 2 a padded start.
MASK = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1], [0, 0, 1, 1, 0]], dtype=DT)


def masked_case(cell, backwards):
    w = keras_weights(cell)
    x = torch.randn(B, T, F, dtype=DT, requires_grad=True)
    h0 = torch.randn(B, U, dtype=DT, requires_grad=True)
    c0 = torch.randn(B, U, dtype=DT, requires_grad=True) if cell == "lstm" else None
    cm = cell_module(cell)
    load(cm, cell, w)
    # The step loop agrees with torch's own module without a mask.
    full = module(cell)
    load(full, cell, w, "_l0")
    ref_outs, _, _ = keras_masked(cell, cm, x, torch.ones(B, T, dtype=DT), h0, c0, False, False)
    init = (h0.unsqueeze(0), c0.unsqueeze(0)) if cell == "lstm" else h0.unsqueeze(0)
    assert torch.allclose(torch.stack(ref_outs, 1), full(x, init)[0])
    outs, h, c = keras_masked(cell, cm, x, MASK, h0, c0, backwards, False)
    y = outs[-1] if backwards else torch.stack(outs, 1)
    case = {"x": x, "mask": MASK, "h0": h0}
    if c0 is not None:
        case["c0"] = c0
    case.update(w)
    o = {"y": y, "h": h}
    if cell == "lstm":
        o["c"] = c
    upstream(case, o)
    out = {k: arr(v) if torch.is_tensor(v) else v for k, v in case.items()}
    out["grad_x"] = arr(x.grad)
    out["grad_h0"] = arr(h0.grad)
    if c0 is not None:
        out["grad_c0"] = arr(c0.grad)
    out.update({k: arr(v) for k, v in grads(cm, cell).items()})
    return out


def bidirectional_masked_sum():
    cell = "lstm"
    wf, wb = keras_weights(cell, "forward_"), keras_weights(cell, "backward_")
    x = torch.randn(B, T, F, dtype=DT, requires_grad=True)
    fm, bm = cell_module(cell), cell_module(cell)
    load(fm, cell, wf, prefix="forward_")
    load(bm, cell, wb, prefix="backward_")
    z = torch.zeros(B, U, dtype=DT)
    fo, _, _ = keras_masked(cell, fm, x, MASK, z, z, False, True)
    bo, _, _ = keras_masked(cell, bm, x, MASK, z, z, True, True)
    y = torch.stack(fo, 1) + torch.flip(torch.stack(bo, 1), [1])
    case = {"x": x, "mask": MASK}
    case.update(wf)
    case.update(wb)
    upstream(case, {"y": y})
    out = {k: arr(v) if torch.is_tensor(v) else v for k, v in case.items()}
    out["grad_x"] = arr(x.grad)
    out.update({k: arr(v) for k, v in grads(fm, cell, prefix="forward_").items()})
    out.update({k: arr(v) for k, v in grads(bm, cell, prefix="backward_").items()})
    return out


def main():
    cases = {}
    for cell in ("simple_rnn", "lstm", "gru"):
        cases[cell] = full_case(cell)
        cases[cell + "_backwards"] = full_case(cell, backwards=True)
        cases[cell + "_bidirectional"] = bidirectional_case(cell)
        cases[cell + "_masked"] = masked_case(cell, False)
        cases[cell + "_masked_backwards_last"] = masked_case(cell, True)
    cases["lstm_bidirectional_masked_sum"] = bidirectional_masked_sum()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_rnn.json")
    with open(path, "w") as f:
        json.dump({"generator": "keras/testdata/torch_rnn.py", "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
