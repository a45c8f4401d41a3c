#!/usr/bin/env python3
"""NUPES vs uniform round-to-nearest on the two samples, through the real pipeline.

Writes one quantize.yaml per sample (the sample's own calibration and evaluation settings, gate off) with one target
per scheme, runs `quantbuild run --no-cache --json` on it, and prints the Markdown tables of docs/benchmarks.md
("NUPES non-uniform weights vs uniform round-to-nearest"): the whole-model table and the per-layer tables, from the
run's JSON and the pass's per-layer log lines. Standard library only.

    dotnet build -c Release src/QuantBuild.Cli && python3 eng/nupes-bench.py [--runs 2] [--work DIR]

With --runs 2 it runs everything twice and fails unless both runs wrote byte-identical models.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "src", "QuantBuild.Cli", "bin", "Release", "net10.0", "QuantBuild.Cli.dll")

# (target name, bits, group size, label, extra options)
UNIFORM = "exponent: {min: 1, max: 1}\n        optimize_codes: false"
SCHEMES = [
    ("uniform", "uniform RTN", UNIFORM),
    ("free", "NUPES data_free", "mode: data_free"),
    ("driven", "NUPES data_driven (default, ratio {default})", ""),
    ("unbounded", "NUPES data_driven, unbounded (ratio 0)", "max_weight_mse_ratio: 0"),
]
RATIO_SWEEP = {2: ["1", "1.5"], 4: ["0.9", "1"]}  # around each default: 1.2 at 2 bits, 0.95 above
SAMPLES = {
    "fashion-mnist": {"title": "Fashion-MNIST CNN", "groups": [0], "embeddings": False},
    "tiny-transformer": {"title": "Tiny transformer char LM", "groups": [0, 32], "embeddings": True},
}
EMBEDDINGS = "layers: [MatMul, Gather]"
LAYER_LINE = re.compile(
    r"\] (?P<target>\S+) nupes: (?P<node>\S+): (?P<bits>\d)-bit a=(?P<a>[0-9.]+), (?P<objective>[a-z ]+?) "
    r"(?P<err>[0-9.Ee+-]+) \(uniform a=1: (?P<uerr>[0-9.Ee+-]+), after search [0-9.Ee+-]+\); weight MSE "
    r"(?P<mse>[0-9.Ee+-]+) vs uniform (?P<umse>[0-9.Ee+-]+)(?P<note>;[^;]*)?; (?P<before>\d+) → (?P<after>\d+) bytes")


def targets_for(groups, embeddings):
    rows = []
    for bits in (2, 3, 4, 8):
        for group in groups:
            if group and bits != 4:
                continue
            for key, label, options in SCHEMES:
                rows.append((f"{key}{bits}g{group}", bits, group, label.format(default="1.2" if bits == 2 else "0.95"), options))
            if group == 0:
                for ratio in RATIO_SWEEP.get(bits, []):
                    rows.append((f"ratio{ratio.replace('.', '')}-{bits}g{group}", bits, group,
                                 f"NUPES data_driven, ratio {ratio}", f"max_weight_mse_ratio: {ratio}"))
            if embeddings and bits in (4, 8) and group == 0:
                # the token table too (opt-in): uniform and NUPES, each with every MatMul
                rows.append((f"uniemb{bits}g0", bits, 0, "uniform RTN + embedding table", UNIFORM + "\n        " + EMBEDDINGS))
                rows.append((f"emb{bits}g0", bits, 0, "NUPES default + embedding table", EMBEDDINGS))
    return rows


def write_config(sample, work, rows):
    source = os.path.join(ROOT, "samples", sample)
    with open(os.path.join(source, "quantize.yaml"), encoding="utf-8") as f:
        head = f.read().split("\ntargets:")[0]
    head = re.sub(r"^model: .*$", f"model: {os.path.join(source, 'model.onnx')}", head, flags=re.M)
    head = re.sub(r"^output: .*$", f"output: {os.path.join(work, sample + '-out')}", head, flags=re.M)
    head = re.sub(r"(data|labels): data/", lambda m: f"{m.group(1)}: {os.path.join(source, 'data')}/", head)
    head = re.sub(r"max_drop: [0-9.]+", "max_drop: 100", head)
    lines = [head, "", "targets:"]
    for name, bits, group, _, options in rows:
        lines += [f"  {name}:", "    device: cpu-x64-vnni", "    recipe:", "      - pass: nupes",
                  f"        bits: {bits}", f"        group_size: {group}"]
        if options:
            lines.append("        " + options)
    path = os.path.join(work, sample + ".yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run(config):
    proc = subprocess.run(["dotnet", CLI, "run", "-c", config, "--no-cache", "--json"],
                          capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 3):
        sys.exit(f"quantbuild run failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout)
    layers = {}
    for line in proc.stderr.splitlines():
        m = LAYER_LINE.search(line)
        if m:
            layers.setdefault(m["target"], []).append(m)
    return result, layers


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fmt(x, digits=3):
    return f"{x:.{digits}g}"


def report(sample, rows, result, layers):
    title = SAMPLES[sample]["title"]
    targets = {t["name"]: t for t in result["targets"]}
    first = result["targets"][0]
    print(f"### {title} (samples/{sample}; fp32 {first['metric']} {first['fp32Value']:.3f} %, file {first['fp32Bytes']:,} B)\n")
    print("| bits | grouping | scheme | top-1 % | agreement % | output SQNR dB | weight MSE / uniform (overall) | worst layer | "
          "file bytes | file / fp32 | coded weights / fp32 | search s |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, bits, group, label, _ in rows:
        t = targets[name]
        ls = layers[name]
        se = sum(float(m["mse"]) * int(m["before"]) / 4 for m in ls)
        use = sum(float(m["umse"]) * int(m["before"]) / 4 for m in ls)
        worst = max(float(m["mse"]) / float(m["umse"]) for m in ls)
        before = sum(int(m["before"]) for m in ls)
        after = sum(int(m["after"]) for m in ls)
        search = next(s["seconds"] for s in t["stages"] if s["stage"] == "passes")
        print(f"| {bits} | {'channel' if group == 0 else group} | {label} | {t['quantizedValue']:.3f} | {t['agreement']:.2f} | "
              f"{t['outputSqnrDb']:.2f} | {se / use:.3f} | {worst:.3f} | {t['quantizedBytes']:,} | "
              f"{t['quantizedBytes'] / t['fp32Bytes']:.3f} | {after / before:.3f} | {search:.1f} |")
    print()
    for key in ("driven4g0", "unbounded4g0"):
        label = next(r[3] for r in rows if r[0] == key)
        print(f"**{label}, 4-bit, per channel** (objective: output squared error Σ dᵀHd)\n")
        print("| layer | a | weight MSE NUPES | weight MSE uniform | ratio | objective NUPES | objective uniform | bytes fp32 → coded |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        se = use = before = after = 0.0
        for m in layers[key]:
            n = int(m["before"]) / 4
            se += float(m["mse"]) * n
            use += float(m["umse"]) * n
            before += int(m["before"])
            after += int(m["after"])
            print(f"| {m['node']} | {float(m['a']):.3f} | {fmt(float(m['mse']))} | {fmt(float(m['umse']))} | "
                  f"{float(m['mse']) / float(m['umse']):.3f} | {fmt(float(m['err']))} | {fmt(float(m['uerr']))} | "
                  f"{m['before']} → {m['after']} |")
        n = before / 4
        print(f"| **overall** | | {fmt(se / n)} | {fmt(use / n)} | {se / use:.3f} | | | {int(before)} → {int(after)} |\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    if not os.path.exists(CLI):
        sys.exit(f"{CLI} is missing: run `dotnet build -c Release src/QuantBuild.Cli` first")
    work = args.work or tempfile.mkdtemp(prefix="nupes-bench-")
    os.makedirs(work, exist_ok=True)
    for sample, spec in SAMPLES.items():
        rows = targets_for(spec["groups"], spec["embeddings"])
        config = write_config(sample, work, rows)
        hashes = None
        for attempt in range(args.runs):
            result, layers = run(config)
            now = {t["name"]: sha(t["outputPath"]) for t in result["targets"]}
            if hashes is not None and now != hashes:
                sys.exit(f"{sample}: run {attempt + 1} wrote different bytes than run 1")
            hashes = now
        report(sample, rows, result, layers)
    if args.runs > 1:
        print(f"Deterministic: {args.runs} runs wrote byte-identical models for every target.")


if __name__ == "__main__":
    main()
