#!/usr/bin/env bash
# The images quantize.yaml reads (images/calibration, images/eval): samples/fashion-mnist's arrays written as PGM
# files by make_images.py (plain python3, deterministic). Skipped when they are already there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ -d "$here/images/calibration" && -d "$here/images/eval" ]] && exit 0
python=${PYTHON:-python3}
"$python" "$here/make_images.py"
