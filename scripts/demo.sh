#!/usr/bin/env bash
# Builds wasmload, the demo target and the example users, starts the demo
# target on a free loopback port, and load-tests it with the http-basic
# example user. Extra arguments go to `wasmload run`.
#
# DEMO_LANGUAGE=c|zig|python|js|go runs that language's http-basic instead of
# the Rust one, installing its toolchain first (scripts/toolchains.sh).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
language=${DEMO_LANGUAGE:-rust}

ensure_wasm_target
cargo build --release -p wasmload -p wasmload-testkit
if [ "$language" = rust ]; then
    build_examples
    component="$GUESTS/http_basic.wasm"
else
    ./scripts/toolchains.sh "$language"
    ./scripts/guests.sh "$language"
    component="$GUEST_TARGET_DIR/$language/http-basic.wasm"
fi

start_demo_target
echo "demo target at $DEMO_HOST; running 20 $language users for 15 s" >&2

"$BIN/wasmload" run "$component" \
    --host "$DEMO_HOST" -u 20 -r 10 -t 15s -e WAIT_MS=100-500 "$@"
