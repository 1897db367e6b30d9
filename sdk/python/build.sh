#!/usr/bin/env bash
# Builds a wasmload user component from a Python app and the Python SDK
# with componentize-py:
#
#     sdk/python/build.sh OUT.wasm APP_DIR
#
# APP_DIR holds app.py, which sets `Behaviour = users(...)`, and may hold a
# requirements.txt of pure-Python packages from PyPI, pinned, every one
# listed (installed with --no-deps): they go into the component. `requests`
# is the SDK's own, so libraries written for it need not list it. Tools, as
# scripts/toolchains.sh python installs them: componentize-py from PyPI, in
# $WASMLOAD_TOOLS/python.
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
wit=${WASMLOAD_WIT:-$sdk/../../wit}
componentize=$tools/python/bin/componentize-py
if [ $# -ne 2 ]; then
    echo "usage: $0 OUT.wasm APP_DIR" >&2
    exit 2
fi
if [ ! -x "$componentize" ]; then
    echo "$0: $componentize is missing: run scripts/toolchains.sh python" >&2
    exit 1
fi
paths=(-p "$sdk" -p "$2")
if [ -f "$2/requirements.txt" ]; then
    libs=$(mktemp -d)
    trap 'rm -rf "$libs"' EXIT
    "$tools/python/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        --target "$libs" -r "$2/requirements.txt"
    paths+=(-p "$libs")
fi
"$componentize" -d "$wit" -w user componentize "${paths[@]}" app -o "$1" >/dev/null
