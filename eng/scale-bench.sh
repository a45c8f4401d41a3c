#!/usr/bin/env bash
# Scale benchmark: quantizes a model once per target and records, per run, wall time, peak RSS (/usr/bin/time -v),
# the output's size on disk and the run's --json (per-stage seconds and peak RSS), with the machine's load.
#
#   eng/scale-bench.sh <folder with quantize.yaml> [target ...]          (default targets: int8 w4)
#
# Make a model first, e.g. a 2.7 GB one:  /usr/bin/python3 eng/make-llm-model.py --out /tmp/llm --hidden 4096 --layers 20 --mlp 4096
# Results go to <folder>/bench/<target>.{json,time,err} and one Markdown row per target on stdout, with ratios against
# the model's size (the .onnx plus its external data). Numbers taken while the machine is busy are not comparable:
# the load average is printed with each row. Extra CLI options: QB_BENCH_ARGS="--memory-budget 4GB".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
folder="$(cd "$1" && pwd)"
shift
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(int8 w4)
cli="$root/src/QuantBuild.Cli/bin/Release/net10.0/QuantBuild.Cli"
[[ -x "$cli" ]] || { echo "build first: dotnet build src/QuantBuild.Cli -c Release" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }

model_bytes=$(cd "$folder" && stat -c %s model.onnx $(ls model.onnx.data 2>/dev/null) | awk '{s+=$1} END {print s}')
mkdir -p "$folder/bench"
echo "| target | model GB | wall s | peak RSS GB | RSS / model | output MB | output / model | cosine | load (1 min) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for t in "${targets[@]}"; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  (cd "$folder" && /usr/bin/time -v -o "bench/$t.time" "$cli" run --json --no-cache -t "$t" ${QB_BENCH_ARGS:-} \
      > "bench/$t.json" 2> "bench/$t.err") &
  # Resident size sampled every 0.2 s as well: what happens between stages (the result cache's store) has no stage peak.
  polled=0
  while kill -0 $! 2>/dev/null; do
    for pid in $(pgrep -f "QuantBuild.Cli run --json --no-cache -t $t" || true); do
      kb=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
      [[ -n "$kb" && "$kb" -gt "$polled" ]] && polled=$kb
    done
    sleep 0.2
  done
  wait $! || true
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$folder/bench/$t.time")
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$folder/bench/$t.time")
  read -r out cosine stage_peak < <(/usr/bin/python3 - "$folder/bench/$t.json" "$t" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    t = next(x for x in r["targets"] if x["name"] == sys.argv[2])
    # The run resets the kernel's high-water mark per stage (so --json can report each stage's peak), which also
    # resets what /usr/bin/time reads at exit: the run's peak is the largest stage peak.
    peak = max((s.get("peakRssBytes") or 0) for s in r["stages"] + t["stages"])
    print(t.get("quantizedBytes") or 0, t.get("quantizedValue") if t.get("status") == "passed" else t.get("status"), peak)
except (ValueError, StopIteration):
    print(0, "failed", 0)  # see bench/<target>.err
PY
)
  awk -v t="$t" -v m="$model_bytes" -v w="$wall" -v r="$rss_kb" -v p="$stage_peak" -v q="$polled" -v o="$out" -v c="$cosine" -v l="$load" 'BEGIN {
    if (p / 1024 > r) r = p / 1024
    if (q > r) r = q
    printf "| %s | %.2f | %.0f | %.2f | %.2f | %.0f | %.3f | %s | %s |\n", t, m/2^30, w, r*1024/2^30, r*1024/m, o/2^20, o/m, c, l }'
done
