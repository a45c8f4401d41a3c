#!/usr/bin/env python3
"""Renders text lines and preprocesses them exactly as PaddleOCR feeds its PP-OCRv4 recognizer.

Lines are words, numbers, prices, dates and codes drawn from a fixed word list with a fixed seed, rendered with the
DejaVu and Liberation fonts (Debian packages fonts-dejavu-core and fonts-liberation) at varied sizes, weights,
colours, skews of the baseline and noise, then cropped to the text like a detector's box. Preprocessing follows
PaddleOCR's `resize_norm_img` for rec_image_shape 3,48,320: BGR channel order (PaddleOCR reads with OpenCV), resize to
height 48 keeping the aspect ratio (width capped at 320), (x/255 - 0.5)/0.5, zero padding on the right to width 320.

Writes data/calibration.npy, data/eval_images.npy (float32 [N,3,48,320]), data/eval_labels.npy (int32 [N,40]: each
label's Unicode code points, zero-padded, which is numpy's own '<U40' layout read as int32) and data/eval_labels.txt
(the same labels, one per line, for people). Needs only python3-numpy and python3-pil.
"""

import math
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
HEIGHT, WIDTH, MAX_LABEL = 48, 320, 40
CALIBRATION, EVALUATION = 96, 300

FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf",
]

WORDS = """
time year people way day man thing woman life child world school state family student group country problem hand
part place case week company system program question work government number night point home water room mother
area money story fact month lot right study book eye job word business issue side kind head house service friend
father power hour game line end member law car city community name president team minute idea kid body information
back parent face others level office door health person art war history party result change morning reason research
girl guy moment air teacher force education order price total invoice receipt address phone street road station
ticket coffee market bank account balance payment number date open closed exit entrance north south east west
""".split()

SHAPES = ["words", "words", "words", "title", "upper", "number", "price", "date", "code", "mixed"]


def line_text(rng):
    shape = rng.choice(SHAPES)
    if shape == "number":
        return f"{rng.randint(0, 999999)}"
    if shape == "price":
        return f"{rng.choice(['$', 'EUR ', 'Total: $'])}{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}"
    if shape == "date":
        return f"{rng.randint(2000, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if shape == "code":
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        return "".join(rng.choice(letters) for _ in range(3)) + "-" + str(rng.randint(100, 9999))
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
    if shape == "title":
        words = [w.capitalize() for w in words]
    elif shape == "upper":
        words = [w.upper() for w in words]
    elif shape == "mixed":
        words.append(str(rng.randint(1, 99)))
    return " ".join(words)


def render(rng, text):
    """One text line as an RGB crop, or None when it would be squeezed narrower than PaddleOCR's 320 width cap."""
    font = ImageFont.truetype(rng.choice(FONTS), rng.randint(22, 40))
    left, top, right, bottom = font.getbbox(text)
    margin_x, margin_y = rng.randint(2, 10), rng.randint(2, 8)
    w, h = right - left + 2 * margin_x, bottom - top + 2 * margin_y
    background = tuple(rng.randint(190, 255) for _ in range(3))
    ink = tuple(rng.randint(0, 70) for _ in range(3))
    image = Image.new("RGB", (w, h), background)
    ImageDraw.Draw(image).text((margin_x - left, margin_y - top), text, font=font, fill=ink)
    if rng.random() < 0.5:
        # A slight rotation, like a crop from a photographed page.
        image = image.rotate(rng.uniform(-1.5, 1.5), resample=Image.BILINEAR, expand=False, fillcolor=background)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    pixels = np.asarray(image).astype(np.float32)
    pixels += np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(0, 8), pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if math.ceil(HEIGHT * w / h) > WIDTH:
        return None
    return image


def preprocess(image):
    """PaddleOCR's resize_norm_img: BGR, height 48, aspect kept, (x/255-0.5)/0.5, zero-padded to width 320."""
    w, h = image.size
    resized_w = min(WIDTH, int(math.ceil(HEIGHT * w / h)))
    bgr = np.asarray(image.resize((resized_w, HEIGHT), Image.BILINEAR), dtype=np.float32)[:, :, ::-1]
    chw = (bgr.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    out = np.zeros((3, HEIGHT, WIDTH), dtype=np.float32)
    out[:, :, :resized_w] = chw
    return out


def make(rng, count):
    images, labels = [], []
    while len(images) < count:
        text = line_text(rng)
        image = render(rng, text)
        if image is None:
            continue
        images.append(preprocess(image))
        labels.append(text)
    return np.stack(images), labels


def main():
    data = os.path.join(HERE, "data")
    os.makedirs(data, exist_ok=True)
    rng = random.Random(20261202)
    calibration, _ = make(rng, CALIBRATION)
    images, labels = make(rng, EVALUATION)
    codes = np.zeros((len(labels), MAX_LABEL), dtype=np.int32)
    for i, text in enumerate(labels):
        assert len(text) <= MAX_LABEL, text
        codes[i, : len(text)] = [ord(c) for c in text]
    np.save(os.path.join(data, "calibration.npy"), calibration)
    np.save(os.path.join(data, "eval_images.npy"), images)
    np.save(os.path.join(data, "eval_labels.npy"), codes)
    with open(os.path.join(data, "eval_labels.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(labels) + "\n")
    print(f"calibration {calibration.shape}, evaluation {images.shape}, labels {codes.shape}")


if __name__ == "__main__":
    main()
