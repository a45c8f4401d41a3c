#!/usr/bin/env bash
# The shared cache's three cases on the fashion-mnist sample (all three targets), as docs/benchmarks.md reports them:
#   cold        agent A: empty local cache, empty remote prefix: quantizes, uploads behind the run
#   remote hit  agent B: empty local cache, same prefix: downloads the three entries
#   local hit   agent B again: everything in its local cache
# Each is a separate `quantbuild run --json` process (wall time, process start included; the tool's own totalSeconds
# beside it). Azurite is started in memory on a free port and stopped at the end. Run on a quiet machine.
#
#   eng/cache-bench.sh [REPEATS]     (default 5; build first: dotnet build src/QuantBuild.Cli -c Release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
repeats=${1:-5}
cli="$root/src/QuantBuild.Cli/bin/Release/net10.0/QuantBuild.Cli.dll"
[[ -f "$cli" ]] || { echo "error: build the CLI first: dotnet build src/QuantBuild.Cli -c Release" >&2; exit 1; }

work=$(mktemp -d)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$root/eng/azurite.sh" start "$port" >/dev/null 2>&1 &
azurite=$!
trap 'kill $azurite 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done

key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export QUANTBUILD_CACHE_CONNECTION="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
sample="$root/samples/fashion-mnist"

run() { # agent, prefix -> "wall total cached-count"
  local agent=$1 prefix=$2 yaml="$work/$1-$2.yaml" start end json
  sed -e "s|model: model.onnx|model: $sample/model.onnx|" -e "s| data/| $sample/data/|" -e "s|output: quantized|output: $work/$agent-out|" \
    "$sample/quantize.yaml" >"$yaml"
  printf 'cache:\n  remote: {kind: azure-blob, container: bench, prefix: %s/}\n' "$prefix" >>"$yaml"
  start=$(date +%s.%N)
  json=$(dotnet "$cli" run --json -v q -c "$yaml" --cache "$work/$agent-cache" 2>"$work/log")
  end=$(date +%s.%N)
  grep -q warning "$work/log" && { cat "$work/log" >&2; exit 1; }
  echo "$(awk "BEGIN{printf \"%.2f\", $end - $start}") $(echo "$json" | node -e 'const r=JSON.parse(require("fs").readFileSync(0));console.log(r.totalSeconds.toFixed(2),r.targets.filter(t=>t.cached).length)')"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-24s %-24s %-24s\n' rep "cold (wall tool cached)" "remote hit" "local hit"
for i in $(seq "$repeats"); do
  rm -rf "$work"/*-cache
  cold=$(run a "rep$i"); remote=$(run b "rep$i"); local=$(run b "rep$i")
  printf '%-4s %-24s %-24s %-24s\n' "$i" "$cold" "$remote" "$local"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
