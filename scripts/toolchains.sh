#!/usr/bin/env bash
# Installs what builds users in C, Zig, Python and JavaScript, from the
# package registries, into $WASMLOAD_TOOLS (default ~/.cache/wasmload-tools):
#
#     scripts/toolchains.sh [c] [zig] [python] [js]     (none: all four)
#
#   c       clang, lld and wasi-libc (Debian); wit-bindgen and wasm-tools
#           (crates.io); WASI's proxy adapter (crates.io, sdk/c/adapter)
#   zig     Zig (PyPI's ziglang) and the C tools but clang
#   python  componentize-py (PyPI)
#   js      componentize-qjs (npm)
#
# Safe to run again: a tool already at its pinned version is kept.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
TOOLS=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
WIT_BINDGEN=0.63.0
WASM_TOOLS=1.263.0
ZIG=0.17.1
COMPONENTIZE_PY=0.25.1
COMPONENTIZE_QJS=0.4.5
mkdir -p "$TOOLS/bin"

# Runs `install` unless `stamp` says this version is in place already.
once() {
    local stamp=$TOOLS/.installed-$1
    [ -e "$stamp" ] && return
    "${@:2}"
    touch "$stamp"
}

cargo_tool() {
    cargo install --locked --quiet --root "$TOOLS" "$@"
}

component_tools() {
    once "wit-bindgen-$WIT_BINDGEN" cargo_tool "wit-bindgen-cli@$WIT_BINDGEN" --no-default-features --features c
    once "wasm-tools-$WASM_TOOLS" cargo_tool "wasm-tools@$WASM_TOOLS" --no-default-features --features component
    if [ ! -e "$TOOLS/wasi_snapshot_preview1.proxy.wasm" ]; then
        cargo run --quiet --release --manifest-path sdk/c/adapter/Cargo.toml \
            --target-dir "$CARGO_TARGET_DIR/tools" -- "$TOOLS/wasi_snapshot_preview1.proxy.wasm"
    fi
}

python_venv() {
    [ -x "$TOOLS/python/bin/pip" ] || python3 -m venv "$TOOLS/python"
}

pip_tool() {
    python_venv
    "$TOOLS/python/bin/pip" install --quiet --disable-pip-version-check "$@"
}

install_zig() {
    pip_tool "ziglang==$ZIG"
    printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$TOOLS/python/bin/python" >"$TOOLS/bin/zig"
    chmod +x "$TOOLS/bin/zig"
}

install_c() {
    apt_install clang lld wasi-libc
    component_tools
}

install_js() {
    mkdir -p "$TOOLS/js"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/js" "componentize-qjs@$COMPONENTIZE_QJS"
}

languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(c zig python js)
for language in "${languages[@]}"; do
    case $language in
        c) install_c ;;
        zig) component_tools && once "zig-$ZIG" install_zig ;;
        python) once "componentize-py-$COMPONENTIZE_PY" pip_tool "componentize-py==$COMPONENTIZE_PY" ;;
        js) once "componentize-qjs-$COMPONENTIZE_QJS" install_js ;;
        *)
            echo "$0: no toolchain for '$language' (choose from c, zig, python, js)" >&2
            exit 2
            ;;
    esac
done
