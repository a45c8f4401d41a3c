#!/usr/bin/python3
"""Writes torch-exported GRU/RNN models and the int8 candidates ONNX Runtime could run for them, to choose how
QuantBuild quantizes GRU and RNN (docs/benchmarks.md, "GRU and RNN"). Run with Debian's interpreter:
    /usr/bin/python3 eng/gru-candidates.py OUTDIR
For each shape NAME it writes OUTDIR/NAME.fp32.onnx and
  NAME.wonly.onnx    W and R stored int8 (symmetric, one scale per gate row and direction), DequantizeLinear (axis 0
                     on [directions·rows, size], then Reshape) in front of the unchanged fp32 GRU/RNN;
  NAME.wonly1.onnx   (unidirectional) the same with DequantizeLinear on axis 1 of the 3-D weight, no Reshape;
  NAME.cast.onnx     the same int8 codes expanded by Cast → Mul (scales [directions, rows, 1]), which ONNX Runtime
                     folds at load: what QuantBuild writes;
  NAME.hoist.onnx    (unidirectional GRU only) X·Wᵀ+Wb for every step as one com.microsoft DynamicQuantizeMatMul
                     (int8 W), feeding a GRU whose W is the 3H×3H identity and whose Wb is 0: exact, because GRU adds
                     X·Wᵀ+Wb outside the reset gate in both linear_before_reset modes;
  NAME.batchfirst.onnx  the same weights exported batch_first with a dynamic batch axis, x [batch, steps, input],
                     with NAME.cal.npy (64 sequences) and NAME.eval.npy (100) of sines plus noise, for `quantbuild run`;
and prints NAME and the input shape, one line each, for eng/ort-latency.js and eng/ort-cosine.js.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper, TensorProto

SHAPES = [  # name, op, input, hidden, steps, bidirectional
    ("gru_i40_h64_t100", "GRU", 40, 64, 100, False),
    ("gru_i80_h128_t200", "GRU", 80, 128, 200, False),
    ("gru_i128_h256_t100", "GRU", 128, 256, 100, False),
    ("gru_i256_h64_t50", "GRU", 256, 64, 50, False),
    ("gru_i64_h128_t100_bi", "GRU", 64, 128, 100, True),
    ("rnn_i80_h256_t100", "RNN", 80, 256, 100, False),
]


class Recurrent(nn.Module):
    def __init__(self, op, i, h, bi, batch_first=False):
        super().__init__()
        self.rnn = (nn.GRU if op == "GRU" else nn.RNN)(i, h, bidirectional=bi, batch_first=batch_first)

    def forward(self, x):
        return self.rnn(x)[0]


def quantize_rows(w):
    """[dirs, rows, cols] float → int8 codes and one symmetric scale per (dir, row), flattened to [dirs·rows]."""
    flat = w.reshape(-1, w.shape[2])
    scale = np.maximum(np.abs(flat).max(axis=1), 1e-12) / 127.0
    codes = np.clip(np.round(flat / scale[:, None]), -127, 127).astype(np.int8)
    return codes, scale.astype(np.float32)


def weight_only(model, node):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    for pos in (1, 2):
        name = node.input[pos]
        w = numpy_helper.to_array(inits[name])
        codes, scale = quantize_rows(w)
        g.initializer.remove(inits[name])
        g.initializer.extend([numpy_helper.from_array(codes, name + "_q"), numpy_helper.from_array(scale, name + "_scale"),
                              numpy_helper.from_array(np.array(w.shape, np.int64), name + "_shape")])
        g.node.insert(0, helper.make_node("Reshape", [name + "_dq2", name + "_shape"], [name], name=name + "_reshape"))
        g.node.insert(0, helper.make_node("DequantizeLinear", [name + "_q", name + "_scale"], [name + "_dq2"], name=name + "_dq", axis=0))


def stored_int8(model, node):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    for pos in (1, 2):
        name = node.input[pos]
        w = numpy_helper.to_array(inits[name])
        codes, scale = quantize_rows(w)
        g.initializer.remove(inits[name])
        g.initializer.extend([numpy_helper.from_array(codes.reshape(w.shape), name + "_q"),
                              numpy_helper.from_array(scale.reshape(w.shape[0], w.shape[1], 1), name + "_scale")])
        g.node.insert(0, helper.make_node("Mul", [name + "_float", name + "_scale"], [name], name=name + "_scale_mul"))
        g.node.insert(0, helper.make_node("Cast", [name + "_q"], [name + "_float"], name=name + "_cast", to=TensorProto.FLOAT))


def weight_only_axis1(model, node):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    for pos in (1, 2):
        name = node.input[pos]
        w = numpy_helper.to_array(inits[name])
        codes, scale = quantize_rows(w)
        g.initializer.remove(inits[name])
        g.initializer.extend([numpy_helper.from_array(codes.reshape(w.shape), name + "_q"), numpy_helper.from_array(scale, name + "_scale")])
        g.node.insert(0, helper.make_node("DequantizeLinear", [name + "_q", name + "_scale"], [name], name=name + "_dq", axis=1))


def hoist(model, node, hidden):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    w = numpy_helper.to_array(inits[node.input[1]])[0]  # [3H, I]
    b = numpy_helper.to_array(inits[node.input[3]])[0]  # [6H]
    codes, scale = quantize_rows(w[None])
    g.initializer.remove(inits[node.input[1]])
    g.initializer.remove(inits[node.input[3]])
    g.initializer.extend([
        numpy_helper.from_array(np.ascontiguousarray(codes.T), "Wt_q"), numpy_helper.from_array(scale, "Wt_scale"),
        numpy_helper.from_array(np.zeros(3 * hidden, np.int8), "Wt_zero"), numpy_helper.from_array(b[:3 * hidden].copy(), "Wb"),
        numpy_helper.from_array(np.eye(3 * hidden, dtype=np.float32)[None], "W_identity"),
        numpy_helper.from_array(np.concatenate([np.zeros(3 * hidden, np.float32), b[3 * hidden:]])[None], "B_recurrent")])
    x = node.input[0]
    mm = helper.make_node("DynamicQuantizeMatMul", [x, "Wt_q", "Wt_scale", "Wt_zero", "Wb"], ["x_projected"],
                          name="input_projection", domain="com.microsoft")
    node.input[0] = "x_projected"
    node.input[1] = "W_identity"
    node.input[3] = "B_recurrent"
    g.node.insert(list(g.node).index(node), mm)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1234)
    for name, op, i, h, t, bi in SHAPES:
        m = Recurrent(op, i, h, bi).eval()
        path = os.path.join(out, name + ".fp32.onnx")
        with torch.no_grad():
            torch.onnx.export(m, torch.randn(t, 1, i), path, opset_version=17, input_names=["x"], output_names=["y"],
                              do_constant_folding=True)
        base = onnx.load(path)
        for variant in ("wonly", "wonly1", "cast", "hoist"):
            if variant == "hoist" and (op != "GRU" or bi) or variant == "wonly1" and bi:
                continue
            model = onnx.load(path)
            node = next(n for n in model.graph.node if n.op_type == op)
            {"wonly": lambda: weight_only(model, node), "wonly1": lambda: weight_only_axis1(model, node),
             "cast": lambda: stored_int8(model, node), "hoist": lambda: hoist(model, node, h)}[variant]()
            onnx.checker.check_model(model)
            onnx.save(model, os.path.join(out, f"{name}.{variant}.onnx"))
        bf = Recurrent(op, i, h, bi, batch_first=True).eval()
        bf.load_state_dict(m.state_dict())
        with torch.no_grad():
            torch.onnx.export(bf, torch.randn(2, t, i), os.path.join(out, name + ".batchfirst.onnx"), opset_version=17,
                              input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                              do_constant_folding=True)
        rng = np.random.default_rng(7)
        for split, n in (("cal", 64), ("eval", 100)):
            steps = np.arange(t)[None, :, None]
            x = np.sin(steps * rng.uniform(0.05, 0.8, (n, 1, i)) + rng.uniform(0, 6, (n, 1, i))) + 0.3 * rng.standard_normal((n, t, i))
            np.save(os.path.join(out, f"{name}.{split}.npy"), x.astype(np.float32))
        print(name, f"{t},1,{i}", os.path.getsize(path))


if __name__ == "__main__":
    main()
