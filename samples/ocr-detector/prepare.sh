#!/usr/bin/env bash
# Everything quantize.yaml reads: the published model (npm, integrity-checked, cached) and the
# rendered pages (deterministic). Needs npm, python3 with numpy and PIL, and the fonts-dejavu-core and
# fonts-liberation packages. PYTHON overrides the interpreter (for example /usr/bin/python3 under pyenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/fetch_model.sh"
python=${PYTHON:-python3}
# Under pyenv the first python3 often lacks the apt numpy/PIL; Debian's own interpreter has them.
if ! "$python" -c 'import numpy, PIL' 2>/dev/null && [[ -z "${PYTHON:-}" && -x /usr/bin/python3 ]]; then python=/usr/bin/python3; fi
"$python" "$here/make_data.py"
