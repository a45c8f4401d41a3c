#!/usr/bin/env bash
# Everything quantize.yaml reads: the published model and dictionary (npm, integrity-checked, cached) and the
# rendered lines (deterministic). Needs npm, python3 with numpy and PIL, and the fonts-dejavu-core and
# fonts-liberation packages. PYTHON overrides the interpreter (for example /usr/bin/python3 under pyenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../prepare-lib.sh"
scripts=("$here/fetch_model.sh" "$here/make_data.py" "$here/../npm-asset.sh")
prepare_up_to_date "$here/data/.prepared" "${scripts[@]}" && [[ -d "$here/model" ]] && exit 0
"$here/fetch_model.sh"
"$(prepare_python)" "$here/make_data.py"
prepare_stamp "$here/data/.prepared" "${scripts[@]}"
