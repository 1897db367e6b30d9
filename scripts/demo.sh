#!/usr/bin/env bash
# Builds wasmload, the demo target and the example users, starts the demo
# target on a free loopback port, and load-tests it with the http-basic
# example user. Extra arguments go to `wasmload run`.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_wasm_target
cargo build --release -p wasmload -p wasmload-testkit
build_examples

url_file=$(mktemp)
"$BIN/demo-target" 127.0.0.1:0 >"$url_file" &
target_pid=$!
trap 'kill $target_pid 2>/dev/null; rm -f "$url_file"' EXIT
for _ in $(seq 50); do
    [ -s "$url_file" ] && break
    sleep 0.1
done
host=$(head -n 1 "$url_file")
echo "demo target at $host; running 20 users for 15 s" >&2

"$BIN/wasmload" run "$GUESTS/http_basic.wasm" \
    --host "$host" -u 20 -r 10 -t 15s -e WAIT_MS=100-500 "$@"
