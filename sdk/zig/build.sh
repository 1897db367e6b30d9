#!/usr/bin/env bash
# Builds a wasmload user component from a Zig source and the Zig SDK (which
# wraps the C SDK):
#
#     sdk/zig/build.sh OUT.wasm user.zig
#
# Tools, as scripts/toolchains.sh zig installs them: Zig (PyPI's ziglang),
# and wit-bindgen, wasm-tools and WASI's proxy adapter in $WASMLOAD_TOOLS.
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
c_sdk=${WASMLOAD_C_SDK:-$sdk/../c}
tools=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
wit=${WASMLOAD_WIT:-$sdk/../../wit}
if [ $# -ne 2 ]; then
    echo "usage: $0 OUT.wasm USER.zig" >&2
    exit 2
fi
for tool in bin/zig bin/wit-bindgen bin/wasm-tools wasi_snapshot_preview1.proxy.wasm; do
    if [ ! -e "$tools/$tool" ]; then
        echo "$0: $tools/$tool is missing: run scripts/toolchains.sh zig" >&2
        exit 1
    fi
done
out=$(realpath "$1")
user=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$tools/bin/wit-bindgen" c "$wit" --world user --out-dir "$work" >/dev/null
(
    cd "$work"
    "$tools/bin/zig" translate-c -target wasm32-wasi -lc -I"$c_sdk" -I"$work" "$c_sdk/wasmload.h" >wasmload_c.zig
    "$tools/bin/zig" build-exe -target wasm32-wasi -mexec-model=reactor -fno-entry -O ReleaseSmall -lc \
        --name core -I"$c_sdk" -I"$work" \
        "$c_sdk"/*.c "$work/user.c" "$work/user_component_type.o" \
        --dep wasmload -Mroot="$user" \
        --dep wasmload_c -Mwasmload="$sdk/wasmload.zig" \
        -Mwasmload_c=wasmload_c.zig
)
"$tools/bin/wasm-tools" component new "$work/core.wasm" \
    --adapt "wasi_snapshot_preview1=$tools/wasi_snapshot_preview1.proxy.wasm" -o "$out"
