#!/usr/bin/env bash
# Resident memory per user: each user holds a keep-alive connection to
# nginx and makes one request a second. Per user is
# (peak RSS at USERS - peak RSS at 100) / (USERS - 100).
# wasmload at USERS (default 10000); Locust and Goose at PEER_USERS
# (default 1000, where the issue's peer figures were taken).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USERS="${USERS:-10000}"
PEER_USERS="${PEER_USERS:-1000}"
SECONDS_EACH="${SECONDS_EACH:-15}"
build_wasmload
start_nginx

# Peak RSS of a command, in KiB.
peak_kb() {
    /usr/bin/time -f '%M' -o /dev/fd/3 "$@" 3>&1 >/dev/null 2>/dev/null | tail -1
}

wasmload_kb() {
    peak_kb "$WASMLOAD" run "$HAMMER" -u "$1" -t "${SECONDS_EACH}s" -e WAIT_MS=1000 -H "$TARGET"
}

locust_kb() {
    WAIT_S=1 peak_kb "$PEERS/venv/bin/locust" -f bench/locust/hammer.py --headless -u "$1" -r 1000 \
        -t "${SECONDS_EACH}s" -H "$TARGET" --only-summary
}

goose_kb() {
    WAIT_MS=1000 peak_kb "$PEERS/goose-target/release/goose-hammer" -H "$TARGET" -u "$1" -r 1000 \
        -t "${SECONDS_EACH}s" --no-telnet --no-websocket -q
}

echo "$(date -u +%F), one request a second per user on a keep-alive connection, ${SECONDS_EACH}s each"
printf '%-10s %8s %14s %8s %14s %10s\n' tool users "peak RSS KiB" users "peak RSS KiB" "KiB/user"
for tool in wasmload locust goose; do
    many="$PEER_USERS"
    [ "$tool" = wasmload ] && many="$USERS"
    few_kb="$("${tool}_kb" 100)"
    many_kb="$("${tool}_kb" "$many")"
    printf '%-10s %8d %14d %8d %14d %10.1f\n' "$tool" 100 "$few_kb" "$many" "$many_kb" \
        "$(python3 -c "print(($many_kb - $few_kb) / ($many - 100))")"
done
