#!/usr/bin/python3
"""Regenerates the Fashion-MNIST sample: trains a small CNN, exports model.onnx, writes the .npy data.

Run with Debian's interpreter (/usr/bin/python3): it is the one that has python3-torch, python3-onnx
and python3-numpy from apt. Data comes from Debian's dataset-fashion-mnist package.

    /usr/bin/python3 samples/fashion-mnist/make_sample.py

Every seed is fixed and torch runs deterministic algorithms on 2 threads, so a rerun on the same
machine gives the same weights.
"""
import gzip
import json
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DATASET_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 20240601
EPOCHS = 3
BATCH = 128
LR = 2e-3
# Fashion-MNIST training-set pixel mean and std (of x/255); the model expects inputs normalised with these.
MEAN, STD = 0.2860, 0.3530
CALIBRATION_COUNT = 256
EVAL_COUNT = 2000
# Widths are below the "textbook" 32/64/128/256 because that variant needs ~4 min per epoch on the
# 2 shared cores here; this one keeps the same layer structure (three convs, two pools, two dense)
# so quantization still has per-channel conv weights, a large Gemm and pooled activations to handle.
C1, C2, C3, HIDDEN = 16, 32, 64, 128


def read_idx(path):
    """Parses an IDX file (big-endian header: magic with type and rank, then the dims, then raw data)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {dims} elements, file holds {data.size}")
    return data.reshape(dims)


def load(split):
    images = read_idx(os.path.join(DATASET_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATASET_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return images, labels.astype(np.int64)


def normalise(images_u8):
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x[:, None, :, :], dtype=np.float32)


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, C1, 3, padding=1), nn.BatchNorm2d(C1), nn.ReLU(),
            nn.Conv2d(C1, C2, 3), nn.BatchNorm2d(C2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(C2, C3, 3), nn.BatchNorm2d(C3), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(C3 * 5 * 5, HIDDEN), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(HIDDEN, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def evaluate_onnx_with_numpy(proto, x):
    """Runs the exported graph with NumPy for the few ops it holds: an independent check on export and BN folding."""
    weights = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    values = dict(weights)
    values[proto.graph.input[0].name] = x
    for node in proto.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        ins = [values[n] for n in node.input]
        if node.op_type == "Conv":
            w = ins[1]
            b = ins[2] if len(ins) > 2 else 0
            p = attrs.get("pads", [0, 0, 0, 0])
            if attrs.get("strides", [1, 1]) != [1, 1] or attrs.get("dilations", [1, 1]) != [1, 1] or attrs.get("group", 1) != 1:
                raise NotImplementedError("only stride 1, dilation 1, group 1 convolutions are checked")
            xi = np.pad(ins[0], ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
            kh, kw = w.shape[2], w.shape[3]
            win = np.lib.stride_tricks.sliding_window_view(xi, (kh, kw), axis=(2, 3))  # n,c,oh,ow,kh,kw
            out = np.einsum("nchwij,ocij->nohw", win, w, optimize=True) + np.asarray(b).reshape(1, -1, 1, 1)
        elif node.op_type == "Relu":
            out = np.maximum(ins[0], 0)
        elif node.op_type == "MaxPool":
            k = attrs["kernel_shape"]
            s = attrs.get("strides", k)
            if k != s or any(attrs.get("pads", [0])) or attrs.get("ceil_mode", 0):
                raise NotImplementedError("only non-overlapping, unpadded max pooling is checked")
            n, c, h, w_ = ins[0].shape
            oh, ow = h // k[0], w_ // k[1]
            out = ins[0][:, :, :oh * k[0], :ow * k[1]].reshape(n, c, oh, k[0], ow, k[1]).max(axis=(3, 5))
        elif node.op_type == "Flatten":
            out = ins[0].reshape(ins[0].shape[0], -1)
        elif node.op_type == "Gemm":
            a, b = ins[0], ins[1]
            if attrs.get("transA", 0):
                a = a.T
            if attrs.get("transB", 0):
                b = b.T
            out = attrs.get("alpha", 1.0) * (a @ b) + attrs.get("beta", 1.0) * (ins[2] if len(ins) > 2 else 0)
        else:
            raise NotImplementedError(node.op_type)
        values[node.output[0]] = out.astype(np.float32)
    return values[proto.graph.output[0].name]


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            logits = model(torch.from_numpy(x[i:i + 500]))
            # argmax breaks ties toward the lowest index, the same rule the gate uses
            correct += int((logits.argmax(dim=1).numpy() == y[i:i + 500]).sum())
    return correct / len(x)


def main():
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)

    train_u8, train_y = load("train")
    test_u8, test_y = load("t10k")
    train_x = normalise(train_u8)
    test_x = normalise(test_u8)

    rng = np.random.default_rng(SEED)
    model = FashionCnn()
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    steps_per_epoch = (len(train_x) + BATCH - 1) // BATCH
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, epochs=EPOCHS, steps_per_epoch=steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()

    start = time.time()
    for epoch in range(EPOCHS):
        model.train()
        order = rng.permutation(len(train_x))
        total = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * BATCH:(step + 1) * BATCH]
            xb = torch.from_numpy(train_x[idx])
            yb = torch.from_numpy(train_y[idx])
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(train_x):.4f}, "
              f"test acc {accuracy(model, test_x, test_y):.4f}, {time.time() - start:.0f}s", flush=True)
    train_seconds = time.time() - start

    model.eval()
    eval_x = test_x[:EVAL_COUNT]
    eval_y = test_y[:EVAL_COUNT]
    torch_eval_acc = accuracy(model, eval_x, eval_y)
    torch_test_acc = accuracy(model, test_x, test_y)

    model_path = os.path.join(HERE, "model.onnx")
    torch.onnx.export(
        model, torch.from_numpy(eval_x[:1]), model_path,
        export_params=True, opset_version=17, do_constant_folding=True,
        training=torch.onnx.TrainingMode.EVAL,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )
    proto = onnx.load(model_path)
    onnx.checker.check_model(proto, full_check=True)
    ops = [n.op_type for n in proto.graph.node]
    if "BatchNormalization" in ops:
        sys.exit("export left BatchNormalization unfolded; the sample is meant to ship it folded into Conv")

    # No ONNX runtime is installed for this Python, so the exported graph is checked by NumPy: same argmax
    # accuracy and logits within float rounding of PyTorch's mean the export and BN folding are right.
    with torch.no_grad():
        torch_logits = np.concatenate([model(torch.from_numpy(eval_x[i:i + 200])).numpy() for i in range(0, EVAL_COUNT, 200)])
    numpy_logits = np.concatenate([evaluate_onnx_with_numpy(proto, eval_x[i:i + 200]) for i in range(0, EVAL_COUNT, 200)])
    numpy_acc = float((numpy_logits.argmax(axis=1) == eval_y).mean())
    max_logit_diff = float(np.abs(numpy_logits - torch_logits).max())

    reference_acc = None
    try:
        from onnx.reference import ReferenceEvaluator  # onnx >= 1.13 only
        session = ReferenceEvaluator(proto)
        preds = np.concatenate([session.run(None, {"input": eval_x[i:i + 200]})[0].argmax(axis=1)
                                for i in range(0, EVAL_COUNT, 200)])
        reference_acc = float((preds == eval_y).mean())
    except ImportError:
        print("onnx.reference is not in this onnx version; skipping the reference-evaluator check")

    data_dir = os.path.join(HERE, "data")
    os.makedirs(data_dir, exist_ok=True)
    calib_idx = np.sort(np.random.default_rng(SEED + 1).choice(len(train_x), CALIBRATION_COUNT, replace=False))
    np.save(os.path.join(data_dir, "calibration.npy"), np.ascontiguousarray(train_x[calib_idx]))
    np.save(os.path.join(data_dir, "eval_images.npy"), np.ascontiguousarray(eval_x))
    np.save(os.path.join(data_dir, "eval_labels.npy"), np.ascontiguousarray(eval_y, dtype=np.int64))

    # Only run-independent numbers go here, so a rerun leaves this file unchanged.
    metrics = {
        "epochs": EPOCHS,
        "parameters": params,
        "onnx_ops": sorted(set(ops)),
        "fp32_accuracy_torch_eval2000": round(torch_eval_acc, 4),
        "fp32_accuracy_torch_test10000": round(torch_test_acc, 4),
        "fp32_accuracy_onnx_numpy_eval2000": round(numpy_acc, 4),
        "fp32_accuracy_onnx_reference_eval2000": None if reference_acc is None else round(reference_acc, 4),
        "calibration_train_indices_seed": SEED + 1,
    }
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")

    print(f"parameters: {params}")
    print(f"training time: {train_seconds:.0f}s for {EPOCHS} epochs")
    print(f"fp32 accuracy (torch) on the {EVAL_COUNT} eval images: {torch_eval_acc:.4f}")
    print(f"fp32 accuracy (torch) on all 10000 test images: {torch_test_acc:.4f}")
    print(f"fp32 accuracy (model.onnx run by NumPy) on the {EVAL_COUNT} eval images: {numpy_acc:.4f}, "
          f"max |logit difference| to torch {max_logit_diff:.2e}")
    if reference_acc is not None:
        print(f"fp32 accuracy (onnx reference evaluator) on the {EVAL_COUNT} eval images: {reference_acc:.4f}")
    print(f"model.onnx: {os.path.getsize(model_path)} bytes, ops {sorted(set(ops))}")


if __name__ == "__main__":
    main()
