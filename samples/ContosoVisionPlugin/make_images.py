#!/usr/bin/env python3
"""Writes samples/fashion-mnist's calibration and evaluation arrays as 28x28 PGM images (images/calibration, images/eval).

The arrays hold the model's normalised inputs, (pixel/255 - 0.2860) / 0.3530; this undoes that to the original 8-bit
pixels, so the reader's preprocessing (quantize.yaml) gives the arrays back. No numpy needed: .npy float32 is a short
header and raw little-endian floats.
"""
import ast
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "fashion-mnist", "data")
MEAN, STD = 0.2860, 0.3530


def read_npy(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:6] != b"\x93NUMPY":
        sys.exit(f"{path} is not a .npy file")
    header_len = struct.unpack("<H", raw[8:10])[0] if raw[6] == 1 else struct.unpack("<I", raw[8:12])[0]
    start = 10 + header_len if raw[6] == 1 else 12 + header_len
    header = ast.literal_eval(raw[start - header_len:start].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian float32 in C order, got {header}")
    shape = header["shape"]
    count = 1
    for d in shape:
        count *= d
    return shape, struct.unpack(f"<{count}f", raw[start:start + 4 * count])


def write(name, folder):
    shape, values = read_npy(os.path.join(DATA, name))
    n, plane = shape[0], shape[-1] * shape[-2]
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        pixels = bytes(max(0, min(255, round((v * STD + MEAN) * 255))) for v in values[i * plane:(i + 1) * plane])
        with open(os.path.join(folder, f"{i:05d}.pgm"), "wb") as f:
            f.write(b"P5\n28 28\n255\n" + pixels)
    print(f"{folder}: {n} images")


write("calibration.npy", os.path.join(HERE, "images", "calibration"))
write("eval_images.npy", os.path.join(HERE, "images", "eval"))
