#!/usr/bin/env bash
# Sourced by samples/*/prepare.sh. A sample's prepared files are stamped with the SHA-256 of the scripts that
# made them, so a prepare that already ran with the same scripts does nothing, an interrupted one (no stamp)
# runs again, and a changed script makes its files again.
#
#   prepare_up_to_date <stamp-file> <script>...   exit 0 when the stamp matches the scripts
#   prepare_stamp <stamp-file> <script>...        write the stamp (call last, after everything succeeded)
#   prepare_python                                the interpreter with numpy and PIL: $PYTHON, python3, /usr/bin/python3

prepare_digest() {
  cat "$@" | sha256sum | cut -d' ' -f1
}

prepare_up_to_date() {
  local stamp=$1
  shift
  [[ -f "$stamp" && "$(cat "$stamp")" == "$(prepare_digest "$@")" ]]
}

prepare_stamp() {
  local stamp=$1
  shift
  prepare_digest "$@" > "$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
}

prepare_python() {
  local python=${PYTHON:-python3}
  # Under pyenv the first python3 often lacks the apt numpy/PIL; Debian's own interpreter has them.
  if ! "$python" -c 'import numpy, PIL' 2>/dev/null && [[ -z "${PYTHON:-}" && -x /usr/bin/python3 ]]; then python=/usr/bin/python3; fi
  echo "$python"
}
