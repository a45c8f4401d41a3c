#!/usr/bin/python3
"""Regenerates the tiny-transformer sample: a character-level language model trained on fortune-cookie text.

Run with Debian's interpreter (/usr/bin/python3): it has python3-torch, python3-onnx and python3-numpy
from apt. The text is the three data files of Debian's `fortunes-min` package
(/usr/share/games/fortunes/{fortunes,literature,riddles}; `apt-get install fortunes-min`).

    /usr/bin/python3 samples/tiny-transformer/make_sample.py            # train, export, write data
    /usr/bin/python3 samples/tiny-transformer/make_sample.py --outliers-only   # only model_outliers.onnx

Writes model.onnx, model_outliers.onnx (the same function with a few LayerNorm channels made 20-100x
larger, see make_outlier_weights), data/*.npy, weights.pt (not committed; lets --outliers-only rerun
without training) and metrics.json.

Every seed is fixed and torch runs deterministic algorithms on 1 thread, so a rerun on the same machine
gives the same weights.
"""
import json
import math
import os
import random
import sys
import time

# Debian's python3-torch uses the system libblas.so.3, which is the slow reference BLAS unless OpenBLAS is
# installed and selected (update-alternatives). Training here used OpenBLAS from `libopenblas0-pthread` through
# LD_LIBRARY_PATH, without switching the system alternative: re-exec once with it when it is installed.
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
if os.path.isdir(OPENBLAS_DIR) and OPENBLAS_DIR not in os.environ.get("LD_LIBRARY_PATH", ""):
    os.environ["LD_LIBRARY_PATH"] = OPENBLAS_DIR + ":" + os.environ.get("LD_LIBRARY_PATH", "")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT_FILES = ["/usr/share/games/fortunes/fortunes", "/usr/share/games/fortunes/literature",
              "/usr/share/games/fortunes/riddles"]
SEED = 20240607
D_MODEL = 64
LAYERS = 2
HEADS = 4
SEQ = 64
FFN = 4 * D_MODEL
STEPS = 1400
BATCH = 32
LR = 3e-3
CALIBRATION_COUNT = 256
EVAL_COUNT = 200
TRAIN_FRACTION = 0.85
# Outlier variant: (channel, factor) pairs applied to every LayerNorm's gamma and beta, and undone in the
# input rows of every MatMul reading that LayerNorm.
OUTLIER_CHANNELS = [(3, 50.0), (17, 80.0), (40, 30.0), (58, 60.0)]


def seed_everything():
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # 2 threads were 4x slower on the loaded shared cores (spin-waits)
    torch.use_deterministic_algorithms(True)


def load_text():
    parts = []
    for path in TEXT_FILES:
        with open(path, "rb") as f:
            parts.append(f.read().decode("utf-8", errors="replace"))
    text = "\n".join(parts)
    # The fortune separator line "%" carries no language; keep text only.
    text = "\n".join(line for line in text.split("\n") if line.strip() != "%")
    return text


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.q = nn.Linear(D_MODEL, D_MODEL)
        self.k = nn.Linear(D_MODEL, D_MODEL)
        self.v = nn.Linear(D_MODEL, D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.fc1 = nn.Linear(D_MODEL, FFN)
        self.fc2 = nn.Linear(FFN, D_MODEL)
        self.register_buffer("mask", torch.triu(torch.full((SEQ, SEQ), -1e9), diagonal=1))

    def forward(self, x):
        b = x.shape[0]
        dh = D_MODEL // HEADS
        h = self.ln1(x)
        q = self.q(h).reshape(b, SEQ, HEADS, dh).transpose(1, 2)
        k = self.k(h).reshape(b, SEQ, HEADS, dh).transpose(1, 2)
        v = self.v(h).reshape(b, SEQ, HEADS, dh).transpose(1, 2)
        att = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(dh)) + self.mask
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, SEQ, D_MODEL)
        x = x + self.proj(y)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x


class CharLM(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Parameter(torch.zeros(1, SEQ, D_MODEL))
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, vocab)

    def forward(self, ids):
        x = self.tok(ids) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln_f(x))


def windows(ids, starts):
    x = np.stack([ids[s:s + SEQ] for s in starts]).astype(np.int64)
    y = np.stack([ids[s + 1:s + SEQ + 1] for s in starts]).astype(np.int64)
    return x, y


def accuracy(model, x, y):
    with torch.no_grad():
        logits = model(torch.from_numpy(x))
    return float((logits.argmax(-1).numpy() == y).mean() * 100), logits.numpy()


def train(model, train_ids):
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=STEPS, pct_start=0.1)
    rng = np.random.default_rng(SEED)
    model.train()
    t0 = time.time()
    for step in range(STEPS):
        starts = rng.integers(0, len(train_ids) - SEQ - 1, size=BATCH)
        x, y = windows(train_ids, starts)
        logits = model(torch.from_numpy(x))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == STEPS - 1:
            print(f"step {step:5d} loss {loss.item():.3f} ({time.time() - t0:.0f} s)", flush=True)
    model.eval()
    return time.time() - t0


def channel_absmax_ratios(model, x):
    """max/median of the per-channel abs-max of every LayerNorm output that feeds linears."""
    outs = {}
    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.LayerNorm):
            hooks.append(mod.register_forward_hook(
                lambda m, i, o, name=name: outs.__setitem__(name, o.detach().abs().amax(dim=(0, 1)).numpy())))
    with torch.no_grad():
        model(torch.from_numpy(x))
    for h in hooks:
        h.remove()
    result = {}
    for name, amax in outs.items():
        med = float(np.median(amax))
        result[name] = {"max": round(float(amax.max()), 3), "median": round(med, 3),
                        "max_over_median": round(float(amax.max()) / med, 2),
                        "top3_channels": [int(c) for c in np.argsort(-amax)[:3]]}
    return result


def make_outlier_weights(model):
    """Same function, genuine outliers: a few LayerNorm channels x factor, consumers' input rows / factor."""
    with torch.no_grad():
        for blk in model.blocks:
            for ln, consumers in ((blk.ln1, (blk.q, blk.k, blk.v)), (blk.ln2, (blk.fc1,))):
                for c, f in OUTLIER_CHANNELS:
                    ln.weight[c] *= f
                    ln.bias[c] *= f
                    for lin in consumers:
                        lin.weight[:, c] /= f  # torch Linear weight is [out, in]: column c = input channel c
        for c, f in OUTLIER_CHANNELS:
            model.ln_f.weight[c] *= f
            model.ln_f.bias[c] *= f
            model.head.weight[:, c] /= f


def export(model, path):
    dummy = torch.zeros(2, SEQ, dtype=torch.int64)
    torch.onnx.export(model, dummy, path, opset_version=17, input_names=["tokens"], output_names=["logits"],
                      dynamic_axes={"tokens": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    if "Gemm" in ops or ops.get("LayerNormalization", 0) != 2 * LAYERS + 1:
        raise SystemExit(f"unexpected export: {ops}")
    return ops


def main():
    seed_everything()
    outliers_only = "--outliers-only" in sys.argv
    text = load_text()
    vocab_chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(vocab_chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(len(ids) * TRAIN_FRACTION)
    train_ids, held_ids = ids[:split], ids[split:]
    vocab = len(vocab_chars)

    model = CharLM(vocab)
    weights = os.path.join(HERE, "weights.pt")
    if outliers_only:
        model.load_state_dict(torch.load(weights))
        model.eval()
        train_seconds = None
    else:
        train_seconds = train(model, train_ids)
        torch.save(model.state_dict(), weights)

    # Calibration: random training windows (fixed seed), eval: non-overlapping held-out windows in order.
    rng = np.random.default_rng(SEED + 1)
    cal_x, _ = windows(train_ids, np.sort(rng.integers(0, len(train_ids) - SEQ - 1, size=CALIBRATION_COUNT)))
    eval_starts = np.arange(EVAL_COUNT) * SEQ
    if eval_starts[-1] + SEQ + 1 > len(held_ids):
        raise SystemExit("held-out text too short for the evaluation windows")
    eval_x, eval_y = windows(held_ids, eval_starts)

    fp32_acc, ref_logits = accuracy(model, eval_x, eval_y)
    ratios = channel_absmax_ratios(model, cal_x)
    metrics = {"vocab": vocab, "text_chars": len(text), "train_chars": int(split), "held_out_chars": int(len(held_ids)),
               "parameters": sum(p.numel() for p in model.parameters()), "fp32_top1_torch": round(fp32_acc, 3),
               "layernorm_absmax_ratio": ratios}

    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    if not outliers_only:
        metrics["train_seconds"] = round(train_seconds, 1)
        metrics["ops"] = export(model, os.path.join(HERE, "model.onnx"))
        np.save(os.path.join(HERE, "data", "calibration.npy"), cal_x)
        np.save(os.path.join(HERE, "data", "eval_inputs.npy"), eval_x)
        np.save(os.path.join(HERE, "data", "eval_labels.npy"), eval_y)
        with open(os.path.join(HERE, "data", "vocab.json"), "w", encoding="utf-8") as f:
            json.dump("".join(vocab_chars), f, ensure_ascii=False)

    make_outlier_weights(model)
    out_acc, out_logits = accuracy(model, eval_x, eval_y)
    metrics["outliers"] = {"channels": OUTLIER_CHANNELS, "fp32_top1_torch": round(out_acc, 3),
                           "max_abs_logit_diff_vs_model": float(np.abs(out_logits - ref_logits).max()),
                           "layernorm_absmax_ratio": channel_absmax_ratios(model, cal_x)}
    export(model, os.path.join(HERE, "model_outliers.onnx"))

    path = os.path.join(HERE, "metrics.json")
    if outliers_only and os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        old["outliers"] = metrics["outliers"]
        metrics = old
    with open(path, "w") as f:
        json.dump(metrics, f, indent=2)
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
