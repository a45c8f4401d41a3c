#!/usr/bin/env bash
# Azurite, Microsoft's Azure Storage emulator, for the shared result cache: the tests start it, and you can try
# `cache: remote:` against it before pointing at a real storage account (docs/cache.md).
#
#   eng/azurite.sh install        installs the pinned Azurite once and prints the path of its blob server script
#   eng/azurite.sh start [PORT]   runs the blob service in the foreground, in memory, on PORT (default 10000),
#                                 and prints the connection string to export as QUANTBUILD_CACHE_CONNECTION
#
# Pinned: eng/azurite/package-lock.json holds the version and sha512 of Azurite and of every dependency, and
# `npm ci` refuses a download that does not match. No install scripts run. The install is cached per user (as the
# samples' npm assets are): $QUANTBUILD_SAMPLE_CACHE, else $XDG_CACHE_HOME/quantbuild/samples, else ~/.cache/...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v npm >/dev/null || { echo "error: npm is needed to install Azurite (install Node.js/npm)" >&2; exit 1; }

root=${QUANTBUILD_SAMPLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quantbuild/samples}
pin=$(cat "$here/azurite/package.json" "$here/azurite/package-lock.json" | sha256sum | cut -c1-16)
dir="$root/azurite-$pin"

install() {
  if [[ ! -f "$dir/.complete" ]]; then
    mkdir -p "$root"
    # Test projects run in parallel and may both install: one does, the other waits and reuses it.
    exec 9>"$root/.azurite-install.lock"
    flock 9
    if [[ ! -f "$dir/.complete" ]]; then
      tmp=$(mktemp -d "$root/.tmp-azurite.XXXXXX")
      trap 'rm -rf "$tmp"' EXIT
      echo "installing the pinned Azurite into $dir (npm ci)" >&2
      cp "$here/azurite/package.json" "$here/azurite/package-lock.json" "$tmp/"
      (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
      touch "$tmp/.complete"
      rm -rf "$dir" && mv "$tmp" "$dir"
      trap - EXIT
    fi
    exec 9>&-
  fi
  echo "$dir/node_modules/azurite/dist/src/blob/main.js"
}

case "${1:-}" in
  install)
    install
    ;;
  start)
    port=${2:-10000}
    main=$(install)
    key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    echo "export QUANTBUILD_CACHE_CONNECTION='DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;'" >&2
    # --skipApiVersionCheck: the Azure SDK may speak a newer storage API version than this Azurite knows.
    exec node "$main" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence --extentMemoryLimit 512 \
      --skipApiVersionCheck --disableTelemetry --silent
    ;;
  *)
    echo "usage: $0 install | start [PORT]" >&2
    exit 2
    ;;
esac
