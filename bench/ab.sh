#!/usr/bin/env bash
# Two wasmload builds side by side in one run, alternating: requests per
# second beside wrk's (bench/throughput.sh's load: 50 users, no wait, nginx
# on one core, the generator on the other), then resident memory per user
# (bench/memory.sh's load: USERS keep-alive users, one request a second).
#
#     bench/ab.sh BASE_BINARY NEW_BINARY
#
# Build the base from another commit in a worktree, e.g.
#     git worktree add /tmp/base COMMIT
#     (cd /tmp/base && cargo build --release -p wasmload &&
#         cp "${CARGO_TARGET_DIR:-target}/release/wasmload" /tmp/base-wasmload)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -eq 2 ] || { echo "usage: $0 BASE_BINARY NEW_BINARY" >&2; exit 2; }
base=$1 new=$2
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
USERS="${USERS:-10000}"
SECONDS_EACH="${SECONDS_EACH:-15}"
ensure_wasm_target
build_examples -q
HAMMER="$GUESTS/http_hammer.wasm"
start_nginx
work="$(mktemp -d)"

rps() {
    on_load_core "$1" run "$HAMMER" -u 50 -t "${DURATION}s" -H "$TARGET" --json "$work/run.json" >/dev/null
    python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["totals"]["rps"]))' "$work/run.json"
}

echo "$(date -u +%F): base $base, new $new"
echo "round    wrk req/s   base req/s    new req/s   base/wrk   new/wrk   new/base"
for round in $(seq "$ROUNDS"); do
    wrk=$(on_load_core wrk -t1 -c50 -d"${DURATION}s" "$TARGET/" | awk '/^Requests\/sec/ {print $2}')
    a=$(rps "$base")
    b=$(rps "$new")
    python3 -c "import sys; w, a, b = map(float, sys.argv[1:]); print(f'{$round:5d} {w:12.0f} {a:12.0f} {b:12.0f} {a/w:10.2f} {b/w:9.2f} {b/a:10.2f}')" "$wrk" "$a" "$b"
done
for binary in "$base" "$new"; do
    few=$(hammer_resident_kb "$binary" 100)
    many=$(hammer_resident_kb "$binary" "$USERS")
    echo "$binary: RSS peak, settled: $few KiB at 100 users, $many KiB at $USERS:" \
        "$(per_user_kb 100 "$USERS" "$few" "$many") KiB per user"
done
rm -rf "$work"
