#!/usr/bin/env bash
# Requests per second of each load tester against the same nginx, in one
# run: nginx (1 worker) on core 0, each generator alone on core 1, 50
# connections (users), no wait, DURATION seconds each (default 10).
# Prints each figure and wasmload's ratio to it. Run bench/peers.sh first.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DURATION="${DURATION:-10}"
USERS=50
build_wasmload
start_nginx
work="$(mktemp -d)"

wrk_rps() {
    on_load_core wrk -t1 -c"$USERS" -d"${DURATION}s" "$TARGET/" | awk '/^Requests\/sec/ {print $2}'
}

oha_rps() {
    on_load_core "$PEERS/oha/bin/oha" -c "$USERS" -z "${DURATION}s" --no-tui "$TARGET/" |
        awk '/Requests\/sec/ {print $2}'
}

goose_rps() {
    on_load_core "$PEERS/goose-target/release/goose-hammer" -H "$TARGET" -u "$USERS" -r 1000 \
        -t "${DURATION}s" --no-telnet --no-websocket -q --report-file "$work/goose.json" >/dev/null
    python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["raw_metrics"]
print(round(sum(r["raw_data"]["counter"] for r in m["requests"].values()) / m["duration"], 1))' \
        "$work/goose.json"
}

locust_rps() {
    on_load_core "$PEERS/venv/bin/locust" -f bench/locust/hammer.py --headless -u "$USERS" -r 1000 \
        -t "${DURATION}s" -H "$TARGET" --csv "$work/locust" --only-summary >/dev/null 2>&1
    python3 -c 'import csv, sys
row = [r for r in csv.DictReader(open(sys.argv[1])) if r["Name"] == "Aggregated"][0]
print(round(float(row["Requests/s"]), 1))' "$work/locust_stats.csv"
}

wasmload_rps() {
    on_load_core "$WASMLOAD" run "$HAMMER" -u "$USERS" -t "${DURATION}s" -H "$TARGET" \
        --json "$work/wasmload.json" >/dev/null
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["totals"]["rps"])' \
        "$work/wasmload.json"
}

declare -A rps
for tool in wasmload wrk oha goose locust; do
    rps[$tool]="$("${tool}_rps")"
    echo "$tool: ${rps[$tool]} req/s" >&2
done

echo
echo "$(date -u +%F), $USERS users/connections, ${DURATION}s each, nginx on core $TARGET_CORE, generator on core $LOAD_CORE"
printf '%-10s %12s %14s\n' tool "req/s" "wasmload ÷"
for tool in wrk oha wasmload goose locust; do
    printf '%-10s %12.0f %14.2f\n' "$tool" "${rps[$tool]}" \
        "$(python3 -c "print(${rps[wasmload]} / ${rps[$tool]})")"
done
rm -rf "$work"
