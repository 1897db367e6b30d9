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

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages unless every one of them is installed already.
apt_install() {
    dpkg -s "$@" >/dev/null 2>&1 && return
    as_root apt-get update -qq
    as_root apt-get install -y -qq "$@" >/dev/null
}

# Starts demo-target on a free loopback port (pinned with `taskset -c CORE`
# when a core is given), sets DEMO_HOST to its URL and stops it on exit.
start_demo_target() {
    local url_file pinning=()
    url_file=$(mktemp)
    [ $# -gt 0 ] && pinning=(taskset -c "$1")
    "${pinning[@]}" "$BIN/demo-target" 127.0.0.1:0 >"$url_file" &
    DEMO_TARGET_PID=$!
    trap 'kill $DEMO_TARGET_PID 2>/dev/null' EXIT
    for _ in $(seq 50); do
        [ -s "$url_file" ] && break
        sleep 0.1
    done
    DEMO_HOST=$(head -n 1 "$url_file")
    rm -f "$url_file"
}
