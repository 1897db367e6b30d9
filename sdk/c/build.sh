#!/usr/bin/env bash
# Builds a wasmload user component from C sources and the C SDK:
#
#     sdk/c/build.sh OUT.wasm user.c [more.c ...]
#
# Tools, as scripts/toolchains.sh c installs them: clang, lld and wasi-libc
# (Debian), wit-bindgen and wasm-tools (crates.io) and WASI's proxy
# adapter, in $WASMLOAD_TOOLS. WASM_CC may name another wasm32-wasi C
# compiler (scripts/toolchains.sh zig uses `zig cc`).
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
wit=${WASMLOAD_WIT:-$sdk/../../wit}
cc=${WASM_CC:-clang --target=wasm32-wasi --sysroot=/usr -fuse-ld=lld}
if [ $# -lt 2 ]; then
    echo "usage: $0 OUT.wasm SOURCE.c..." >&2
    exit 2
fi
for tool in bin/wit-bindgen bin/wasm-tools wasi_snapshot_preview1.proxy.wasm; do
    if [ ! -e "$tools/$tool" ]; then
        echo "$0: $tools/$tool is missing: run scripts/toolchains.sh c" >&2
        exit 1
    fi
done
out=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$tools/bin/wit-bindgen" c "$wit" --world user --out-dir "$work" >/dev/null
$cc -O2 -mexec-model=reactor -I"$sdk" -I"$work" -o "$work/core.wasm" \
    "$@" "$sdk"/*.c "$work/user.c" "$work/user_component_type.o"
"$tools/bin/wasm-tools" component new "$work/core.wasm" \
    --adapt "wasi_snapshot_preview1=$tools/wasi_snapshot_preview1.proxy.wasm" -o "$out"
