# Shared by the scripts: repository root, target dir, wasm target.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
GUEST_TARGET_DIR="$CARGO_TARGET_DIR/guests"
GUESTS="$GUEST_TARGET_DIR/wasm32-wasip2/release"
BIN="$CARGO_TARGET_DIR/release"

ensure_wasm_target() {
    rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
}

build_examples() {
    cargo build --release --target wasm32-wasip2 \
        --manifest-path guest-examples/rust/Cargo.toml --target-dir "$GUEST_TARGET_DIR" "$@"
}

# Real servers some end-to-end tests talk to, from Debian's packages.
ensure_test_servers() {
    command -v redis-server >/dev/null && return
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq redis-server >/dev/null
    fi
}
