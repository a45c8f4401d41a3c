#!/usr/bin/env bash
# Everything quantize.yaml reads: the published model (npm, integrity-checked, cached) and the synthesized audio
# (deterministic for one espeak-ng build). Needs npm, espeak-ng, and python3 with numpy. PYTHON overrides the
# interpreter (for example /usr/bin/python3 under pyenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/fetch_model.sh"
"${PYTHON:-python3}" "$here/make_data.py"
