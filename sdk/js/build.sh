#!/usr/bin/env bash
# Builds a wasmload user component from a JavaScript module and the JS SDK
# with componentize-qjs (QuickJS):
#
#     sdk/js/build.sh OUT.wasm user.js
#
# The module imports the SDK as "wasmload". Tools, as scripts/toolchains.sh
# js installs them: componentize-qjs from npm, in $WASMLOAD_TOOLS/js.
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
wit=${WASMLOAD_WIT:-$sdk/../../wit}
componentize=$tools/js/node_modules/.bin/componentize-qjs
if [ $# -ne 2 ]; then
    echo "usage: $0 OUT.wasm USER.js" >&2
    exit 2
fi
if [ ! -x "$componentize" ]; then
    echo "$0: $componentize is missing: run scripts/toolchains.sh js" >&2
    exit 1
fi
out=$(realpath "$1")
# A module root where the bare import "wasmload" finds the SDK.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/node_modules"
cp -r "$sdk" "$root/node_modules/wasmload"
cp "$2" "$root/user.js"
# --sync: wasmload's host calls are plain (not component-model async) calls.
"$componentize" --sync --wit "$wit" --world user --module-root "$root" --js "$root/user.js" -o "$out" >/dev/null
