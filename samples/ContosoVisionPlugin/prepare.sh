#!/usr/bin/env bash
# The images quantize.yaml reads (images/calibration, images/eval): samples/fashion-mnist's arrays written as PGM
# files by make_images.py (plain python3, deterministic). Skipped when they are already there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../prepare-lib.sh"
scripts=("$here/make_images.py")
prepare_up_to_date "$here/images/.prepared" "${scripts[@]}" && exit 0
"${PYTHON:-python3}" "$here/make_images.py"
prepare_stamp "$here/images/.prepared" "${scripts[@]}"
