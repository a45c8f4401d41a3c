#!/usr/bin/env bash
# Times the plugin passes on one random LLM-shaped MatMul layer per shape (tests/QuantBuild.Plugins.ScaleBench):
# nupes 4-bit data-driven with its defaults, smoothquant with the alpha search, adaquant W4 per channel (AdaRound
# with few iterations at 1024/2048; the GPTQ solver that `solver: auto` picks at 4096).
# Prints each pass's log lines and "RESULT pass shape: seconds, load"; docs/benchmarks.md records the numbers.
#
#   eng/plugin-scale-bench.sh                        # the shapes and passes of docs/benchmarks.md
#   eng/plugin-scale-bench.sh 4096x4096 nupes        # one shape and pass (shapes are IN×OUT, comma-separated)
#
# On the shared 2-core machine wrap it in `heavy`, and read the load next to every number.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/QuantBuild.Plugins.ScaleBench -c Release -v q -nologo >/dev/null
bench=(dotnet tests/QuantBuild.Plugins.ScaleBench/bin/Release/net10.0/QuantBuild.Plugins.ScaleBench.dll)
uptime
if [[ $# -gt 0 ]]; then
  "${bench[@]}" "$@"
  exit
fi
"${bench[@]}" 1024x1024,2048x2048,4096x4096,4096x11008 nupes
"${bench[@]}" 4096x4096,4096x11008 smoothquant
# AdaRound's step costs out × in² whatever the iterations: a few iterations give the setup and the per-step cost.
"${bench[@]}" 1024x1024 adaquant adaquant-iterations=20
"${bench[@]}" 2048x2048 adaquant adaquant-iterations=4
# With the default 1000 iterations solver: auto gives these layers the GPTQ solver (one pass).
"${bench[@]}" 4096x4096,4096x11008 adaquant
uptime
