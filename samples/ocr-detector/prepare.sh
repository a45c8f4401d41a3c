#!/usr/bin/env bash
# Everything quantize.yaml reads: the published model (npm, integrity-checked, cached) and the
# rendered pages (deterministic). Needs npm, python3 with numpy and PIL, and the fonts-dejavu-core and
# fonts-liberation packages. PYTHON overrides the interpreter (for example /usr/bin/python3 under pyenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/fetch_model.sh"
"${PYTHON:-python3}" "$here/make_data.py"
