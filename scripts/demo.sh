#!/usr/bin/env bash
# Builds wasmload, the demo target and the example users, starts the demo
# target on a free loopback port, and load-tests it with the http-basic
# example user. Extra arguments go to `wasmload run`.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_wasm_target
cargo build --release -p wasmload -p wasmload-testkit
build_examples

start_demo_target
echo "demo target at $DEMO_HOST; running 20 users for 15 s" >&2

"$BIN/wasmload" run "$GUESTS/http_basic.wasm" \
    --host "$DEMO_HOST" -u 20 -r 10 -t 15s -e WAIT_MS=100-500 "$@"
