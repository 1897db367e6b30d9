#!/usr/bin/env bash
# Resident memory per user: each user holds a keep-alive connection to
# nginx and makes one request a second. Per user is
# (RSS at USERS - RSS at 100) / (USERS - 100), for the peak RSS and for the
# settled one (the median over the run's second half; see resident_kb).
# wasmload's users all start at once, so its peak is while they start.
# wasmload at USERS (default 10000); Locust and Goose at PEER_USERS
# (default 1000, where the issue's peer figures were taken).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USERS="${USERS:-10000}"
PEER_USERS="${PEER_USERS:-1000}"
SECONDS_EACH="${SECONDS_EACH:-15}"
build_wasmload
start_nginx

wasmload_kb() {
    hammer_resident_kb "$WASMLOAD" "$1"
}

locust_kb() {
    WAIT_S=1 resident_kb "$PEERS/venv/bin/locust" -f bench/locust/hammer.py --headless -u "$1" -r 1000 \
        -t "${SECONDS_EACH}s" -H "$TARGET" --only-summary
}

goose_kb() {
    WAIT_MS=1000 resident_kb "$PEERS/goose-target/release/goose-hammer" -H "$TARGET" -u "$1" -r 1000 \
        -t "${SECONDS_EACH}s" --no-telnet --no-websocket -q
}

echo "$(date -u +%F), one request a second per user on a keep-alive connection, ${SECONDS_EACH}s each"
printf '%-10s %6s %22s %6s %22s %22s\n' tool users "KiB peak, settled" users \
    "KiB peak, settled" "KiB/user peak, settled"
for tool in wasmload locust goose; do
    many="$PEER_USERS"
    [ "$tool" = wasmload ] && many="$USERS"
    few_kb="$("${tool}_kb" 100)"
    many_kb="$("${tool}_kb" "$many")"
    printf '%-10s %6d %22s %6d %22s %22s\n' "$tool" 100 "$few_kb" "$many" "$many_kb" \
        "$(per_user_kb 100 "$many" "$few_kb" "$many_kb")"
done
