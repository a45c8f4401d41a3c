#!/usr/bin/env bash
# The README's first command: build everything, show what the bundled sample model holds, then quantize it
# for every target in samples/fashion-mnist/quantize.yaml (evaluated, gated, written with manifests and a report).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "error: npm is needed once, to fetch ONNX Runtime's native library (install Node.js/npm)" >&2; exit 1; }

dotnet build QuantBuild.sln -c Release --nologo -v quiet
cli=(dotnet run --project src/QuantBuild.Cli -c Release --no-build --)
"${cli[@]}" inspect samples/fashion-mnist/model.onnx
"${cli[@]}" run -c samples/fashion-mnist/quantize.yaml
