#!/usr/bin/env python3
"""Renders document-like pages and preprocesses them exactly as PaddleOCR feeds its PP-OCRv4 text detector.

Each 320x320 page holds 3 to 7 text lines (the recognizer sample's word list, numbers, prices, dates) in the DejaVu and
Liberation fonts at varied sizes and colours on a lightly textured background, with a fixed seed. Preprocessing
follows PaddleOCR's det pipeline for a page whose sides are already multiples of 32 (DetResizeForTest leaves it as
is): BGR channel order (OpenCV reads BGR), x/255, minus mean [0.485, 0.456, 0.406], divided by std
[0.229, 0.224, 0.225], channel by channel in that BGR order (as PaddleOCR's NormalizeImage does), then CHW.

Writes data/calibration.npy and data/eval_images.npy (float32 [N,3,320,320]) and data/eval_boxes.npy (int32
[N,8,4]: each page's line boxes x0, y0, x1, y1 in pixels, ends exclusive, rows of -1 as padding). Needs only python3-numpy and python3-pil.
"""

import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ocr-recognizer"))
from make_data import FONTS, line_text  # noqa: E402  one word list and font set for both OCR samples

SIZE = 320
CALIBRATION, EVALUATION = 32, 64
MAX_BOXES = 8
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def page(rng):
    background = tuple(rng.randint(200, 255) for _ in range(3))
    pixels = np.asarray(Image.new("RGB", (SIZE, SIZE), background), dtype=np.float32)
    pixels = pixels + np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(0, 6), pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    boxes, y = [], rng.randint(6, 30)
    for _ in range(rng.randint(3, 7)):
        font = ImageFont.truetype(rng.choice(FONTS), rng.randint(14, 30))
        text = line_text(rng)
        left, top, right, bottom = font.getbbox(text)
        if right - left > SIZE - 20 or y + bottom - top > SIZE - 6:
            continue
        x = rng.randint(6, SIZE - 6 - (right - left))
        draw.text((x - left, y - top), text, font=font, fill=tuple(rng.randint(0, 80) for _ in range(3)))
        boxes.append([x, y, x + right - left, y + bottom - top])
        y += bottom - top + rng.randint(8, 30)
    return image, boxes


def preprocess(image):
    bgr = np.asarray(image, dtype=np.float32)[:, :, ::-1] / 255.0
    return ((bgr - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)


def make(rng, count):
    pages, boxes = [], []
    for _ in range(count):
        image, page_boxes = page(rng)
        pages.append(preprocess(image))
        boxes.append(page_boxes)
    return np.stack(pages), boxes


def main():
    data = os.path.join(HERE, "data")
    os.makedirs(data, exist_ok=True)
    rng = random.Random(20261203)
    calibration, _ = make(rng, CALIBRATION)
    images, boxes = make(rng, EVALUATION)
    np.save(os.path.join(data, "calibration.npy"), calibration)
    np.save(os.path.join(data, "eval_images.npy"), images)
    labels = np.full((len(boxes), MAX_BOXES, 4), -1, dtype=np.int32)
    for i, page_boxes in enumerate(boxes):
        labels[i, : len(page_boxes)] = page_boxes
    np.save(os.path.join(data, "eval_boxes.npy"), labels)
    print(f"calibration {calibration.shape}, evaluation {images.shape}, {sum(map(len, boxes))} lines")


if __name__ == "__main__":
    main()
