#!/bin/bash
# GRU/RNN: fp32 against each int8 candidate and against QuantBuild's own output, at batch 1 on one thread with the ONNX
# Runtime QuantBuild binds (docs/benchmarks.md, "GRU and RNN"). Needs /usr/bin/python3 with torch and onnx, a Release
# build of src/QuantBuild.Cli and onnxruntime-node 1.30.0 in /tmp/ortnode. Usage: eng/gru-bench.sh [OUTDIR] [RUNS]
# Run the timing under `quiet` (eng/gru-bench.sh prepares with `heavy` itself when PREPARE=1).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/gru-cand}
runs=${2:-1000}
export NODE_PATH=/tmp/ortnode/node_modules
if [ "${PREPARE:-0}" = 1 ]; then
  /usr/bin/python3 "$repo/eng/gru-candidates.py" "$out" 2>/dev/null
  for s in $(ls "$out" | sed -n 's/\.batchfirst\.onnx$//p'); do
    cat > "$out/$s.yaml" <<YAML
model: $s.batchfirst.onnx
output: out-$s
calibration: { data: $s.cal.npy }
evaluation: { data: $s.eval.npy, metric: cosine, batch_size: 20 }
gate: { min: 0.99 }
targets:
  x64: { device: cpu-x64-vnni }
YAML
    "$repo/src/QuantBuild.Cli/bin/Release/net10.0/QuantBuild.Cli" run -c "$out/$s.yaml" --no-cache -v q >/dev/null
  done
  exit 0
fi
echo "load $(cat /proc/loadavg)"
for s in $(ls "$out" | sed -n 's/\.batchfirst\.onnx$//p'); do
  shape=$(/usr/bin/python3 -c "import onnx,sys; d=onnx.load('$out/$s.fp32.onnx').graph.input[0].type.tensor_type.shape.dim; print(','.join(str(x.dim_value) for x in d))")
  bshape=$(echo "$shape" | awk -F, '{print 1","$1","$3}')
  for v in cast wonly wonly1 hoist; do
    [ -f "$out/$s.$v.onnx" ] || continue
    echo "$s $v | $(node "$repo/eng/ort-cosine.js" "$out/$s.fp32.onnx" "$out/$s.$v.onnx" "$shape") | $(node "$repo/eng/ort-latency.js" "$out/$s.fp32.onnx" "$out/$s.$v.onnx" "$runs" "$shape")"
  done
  q="$out/out-$s/model.x64.onnx"
  echo "$s quantbuild | $(node "$repo/eng/ort-cosine.js" "$out/$s.batchfirst.onnx" "$q" "$bshape") | $(node "$repo/eng/ort-latency.js" "$out/$s.batchfirst.onnx" "$q" "$runs" "$bshape") | $(stat -c %s "$out/$s.batchfirst.onnx") -> $(stat -c %s "$q") bytes"
done
echo "load $(cat /proc/loadavg)"
