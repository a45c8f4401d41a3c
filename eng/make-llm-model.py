#!/usr/bin/python3
"""Writes a synthetic LLM-shaped ONNX model for scale benchmarks, with its weights in one external .data file.

The graph is a stack of pre-norm blocks on a [batch, tokens, hidden] float input:
  x = x + MLP(LayerNorm(x))              MLP = MatMul(hidden->mlp) -> Relu -> MatMul(mlp->hidden)
  x = x + Attn(LayerNorm(x))             (with --attention) Q,K,V,O projections; softmax(Q.K^T / sqrt(d)).V
It is shaped like a transformer decoder (what weight-only and int8 quantization of LLMs are about) but has no
tokenizer or embedding, so calibration and evaluation data are plain float arrays (also written, as .npy).

Weights are drawn from a seeded generator (same arguments, same bytes) and written tensor by tensor, so the script
never holds more than one weight matrix in memory: a 8 GB model needs well under 1 GB here.

  python3 eng/make-llm-model.py --out /tmp/llm --hidden 4096 --layers 40 --mlp 4096      # ~2.7 GB
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder to write model.onnx, model.onnx.data, calibration.npy, eval.npy and quantize.yaml into")
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--mlp", type=int, default=None, help="MLP width (default 4 x hidden)")
    p.add_argument("--attention", action="store_true", help="add Q/K/V/O projections and the attention MatMuls")
    p.add_argument("--tokens", type=int, default=16, help="tokens per sample in the data files")
    p.add_argument("--samples", type=int, default=32, help="calibration and evaluation samples")
    p.add_argument("--seed", type=int, default=1234)
    a = p.parse_args()
    mlp = a.mlp or 4 * a.hidden
    os.makedirs(a.out, exist_ok=True)
    model_path = os.path.join(a.out, "model.onnx")
    data_name = "model.onnx.data"
    rng = np.random.default_rng(a.seed)

    nodes, inits = [], []
    data = open(os.path.join(a.out, data_name), "wb")

    def weight(name, shape, scale):
        # Written straight to the side file at a page-aligned offset (so ONNX Runtime can map it), then dropped.
        w = (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(np.float32)
        pad = (-data.tell()) % 4096
        data.write(b"\0" * pad)
        offset = data.tell()
        data.write(w.tobytes())
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.FLOAT
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", data_name), ("offset", str(offset)), ("length", str(w.nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        inits.append(t)
        return name

    def small(name, values):
        inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.float32), name))
        return name

    def layer_norm(x, prefix):
        g = small(prefix + ".g", np.ones(a.hidden))
        b = small(prefix + ".b", np.zeros(a.hidden))
        nodes.append(helper.make_node("LayerNormalization", [x, g, b], [prefix + ".out"], axis=-1, epsilon=1e-5, name=prefix))
        return prefix + ".out"

    def matmul(x, w, out, name):
        nodes.append(helper.make_node("MatMul", [x, w], [out], name=name))
        return out

    x = "x"
    for i in range(a.layers):
        p_ = f"l{i}"
        if a.attention:
            h = layer_norm(x, p_ + ".ln_attn")
            s = 1.0 / np.sqrt(a.hidden)
            q = matmul(h, weight(p_ + ".wq", [a.hidden, a.hidden], s), p_ + ".q", p_ + ".q_proj")
            k = matmul(h, weight(p_ + ".wk", [a.hidden, a.hidden], s), p_ + ".k", p_ + ".k_proj")
            v = matmul(h, weight(p_ + ".wv", [a.hidden, a.hidden], s), p_ + ".v", p_ + ".v_proj")
            nodes.append(helper.make_node("Transpose", [k], [p_ + ".kt"], perm=[0, 2, 1], name=p_ + ".kt"))
            scores = matmul(q, p_ + ".kt", p_ + ".scores", p_ + ".qk")
            scale = small(p_ + ".scale", np.array(1.0 / np.sqrt(a.hidden)))
            nodes.append(helper.make_node("Mul", [scores, scale], [p_ + ".scaled"], name=p_ + ".scale_mul"))
            nodes.append(helper.make_node("Softmax", [p_ + ".scaled"], [p_ + ".probs"], axis=-1, name=p_ + ".softmax"))
            ctx = matmul(p_ + ".probs", v, p_ + ".ctx", p_ + ".pv")
            o = matmul(ctx, weight(p_ + ".wo", [a.hidden, a.hidden], s), p_ + ".o", p_ + ".o_proj")
            nodes.append(helper.make_node("Add", [x, o], [p_ + ".res_attn"], name=p_ + ".res_attn"))
            x = p_ + ".res_attn"
        h = layer_norm(x, p_ + ".ln_mlp")
        up = matmul(h, weight(p_ + ".w_up", [a.hidden, mlp], 1.0 / np.sqrt(a.hidden)), p_ + ".up", p_ + ".up_proj")
        nodes.append(helper.make_node("Relu", [up], [p_ + ".act"], name=p_ + ".relu"))
        down = matmul(p_ + ".act", weight(p_ + ".w_down", [mlp, a.hidden], 1.0 / np.sqrt(mlp)), p_ + ".down", p_ + ".down_proj")
        nodes.append(helper.make_node("Add", [x, down], [p_ + ".res_mlp"], name=p_ + ".res_mlp"))
        x = p_ + ".res_mlp"
    data.close()
    y = layer_norm(x, "final_ln")
    nodes.append(helper.make_node("Identity", [y], ["y"], name="out"))

    graph = helper.make_graph(
        nodes, "llm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", a.tokens, a.hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", a.tokens, a.hidden])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="quantbuild-make-llm-model")
    model.ir_version = 8
    with open(model_path, "wb") as f:
        f.write(model.SerializeToString())

    data_rng = np.random.default_rng(a.seed + 1)
    np.save(os.path.join(a.out, "calibration.npy"), data_rng.standard_normal((a.samples, a.tokens, a.hidden), dtype=np.float32))
    np.save(os.path.join(a.out, "eval.npy"), data_rng.standard_normal((a.samples, a.tokens, a.hidden), dtype=np.float32))
    with open(os.path.join(a.out, "quantize.yaml"), "w") as f:
        f.write(f"""model: model.onnx
output: quantized
calibration:
  data: calibration.npy
  method: minmax
evaluation:
  data: eval.npy
  metric: cosine
  batch_size: 4
gate:
  min: 0.99
targets:
  int8:
    device: cpu-x64-vnni
  w4:
    device: cpu-x64-vnni
    weights: {{bits: 4, granularity: block, block_size: 32}}
    # Random Gaussian weights are 4-bit's worst case (no structure to exploit): ~0.98 cosine after 20 blocks.
    gate: {{min: 0.97}}
""")
    size = os.path.getsize(model_path) + os.path.getsize(os.path.join(a.out, data_name))
    print(f"wrote {model_path} ({size} bytes with its data file)")


if __name__ == "__main__":
    main()
