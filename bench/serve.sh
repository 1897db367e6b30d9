#!/usr/bin/env bash
# `wasmload serve` against `wasmload run`, in one run:
#
# 1. The same test (50 users of http-hammer, no wait, DURATION seconds,
#    default 10) through `run` and through a server (its API, its shared
#    engine), each alone on core 1 with nginx on core 0: req/s and the
#    ratio serve ÷ run (goal ≥ 0.95).
# 2. How many runs of 100 users one server holds at once: RUNS (default
#    10 25 50 80) runs of 100 users each, a request per user per second,
#    started together for HOLD seconds (default 20): how many were running
#    at once, their requests against the expected count, the server's peak
#    RSS.
#
# Installs nginx (Debian) if missing. Everything stays on 127.0.0.1.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
apt_install nginx-light
DURATION="${DURATION:-10}"
HOLD="${HOLD:-20}"
RUNS="${RUNS:-10 25 50 80}"
USERS=50
ADMIN=bench-admin
build_wasmload
start_nginx
work="$(mktemp -d)"

# Starts a server on a free port with data in $work/$1; sets SERVER and SERVER_PID.
start_server() {
    local out="$work/$1.out"
    # Not through on_load_core: $! must be the server itself (taskset execs it).
    WASMLOAD_ADMIN_TOKEN=$ADMIN taskset -c "$LOAD_CORE" "$WASMLOAD" serve --listen 127.0.0.1:0 \
        --data "$work/$1" >"$out" 2>"$work/$1.err" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        SERVER=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out")
        [ -n "$SERVER" ] && return
        sleep 0.1
    done
    echo "the server did not start: $(cat "$work/$1.err")" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null || true
}

# api METHOD PATH [CURL ARGS...]: the answer's body.
api() {
    local method=$1 path=$2
    shift 2
    curl -sf -X "$method" -H "authorization: Bearer $TOKEN" "$@" "$SERVER$path"
}

json_field() {
    python3 -c "import json, sys; print(json.load(sys.stdin)$1)"
}

# Starts a run of the uploaded hammer with these JSON options; prints its id.
start_run() {
    api POST /v1/runs -H 'content-type: application/json' \
        -d "{\"component\": \"$DIGEST\", \"host\": \"$TARGET\", $1}" | json_field "['id']"
}

# Waits on the run's live view for its end: one idle connection, not a
# polling loop taking CPU from the run being measured.
wait_for_end() {
    api GET "/v1/runs/$1/live" -N | grep -q -m1 '^event: end'
}

# A tenant that may reach nginx, with room for many runs.
make_tenant() {
    TOKEN=$(curl -sf -X POST -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
        -d "{\"name\": \"bench\", \"quotas\": {\"allow-host\": [\"127.0.0.1\"], \"concurrent-runs\": 200}}" \
        "$SERVER/v1/tenants" | json_field "['token']")
    DIGEST=$(api POST /v1/components -H 'content-type: application/wasm' --data-binary "@$HAMMER" |
        json_field "['digest']")
}

# 1. The same test through run and through serve, alternating ROUNDS times
# (default 5; this machine's rate drifts by tens of percent over a minute,
# so the ratio is the median of each round's serve ÷ run).
ROUNDS="${ROUNDS:-5}"
start_server throughput
make_tenant
run_all=()
serve_all=()
for round in $(seq "$ROUNDS"); do
    on_load_core "$WASMLOAD" run "$HAMMER" -u "$USERS" -t "${DURATION}s" -H "$TARGET" \
        --json "$work/run.json" >/dev/null 2>&1
    run_all+=("$(json_field "['totals']['rps']" <"$work/run.json")")
    id=$(start_run "\"users\": $USERS, \"run-time\": \"${DURATION}s\"")
    wait_for_end "$id"
    serve_all+=("$(api GET "/v1/runs/$id/report.json" | json_field "['totals']['rps']")")
    echo "round $round: run ${run_all[-1]} req/s, serve ${serve_all[-1]} req/s" >&2
done
stop_server
median() {
    python3 -c 'import statistics, sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"
}
run_rps=$(median "${run_all[@]}")
serve_rps=$(median "${serve_all[@]}")

echo
echo "$(date -u +%F), $USERS users of http-hammer, ${DURATION}s, nginx on core $TARGET_CORE, wasmload on core $LOAD_CORE, median of $ROUNDS alternating rounds"
printf '%-8s %12s   %s\n' how "req/s" rounds
printf '%-8s %12.0f   %s\n' run "$run_rps" "${run_all[*]}" serve "$serve_rps" "${serve_all[*]}"
ratio=$(python3 -c 'import statistics, sys
half = len(sys.argv) // 2
runs, serves = sys.argv[1:half + 1], sys.argv[half + 1:]
print(statistics.median(float(s) / float(r) for r, s in zip(runs, serves)))' "${run_all[@]}" "${serve_all[@]}")
printf 'serve ÷ run, median of the rounds: %.3f\n' "$ratio"

# 2. Many runs of 100 users at once.
echo
echo "runs of 100 users, one request per user per second, ${HOLD}s, started together"
printf '%6s %18s %14s %16s %16s\n' runs "running at once" "requests" "expected ≈" "server peak MiB"
for runs in $RUNS; do
    start_server "hold-$runs"
    make_tenant
    ids=()
    for _ in $(seq "$runs"); do
        ids+=("$(start_run "\"users\": 100, \"run-time\": \"${HOLD}s\", \"param\": {\"PACING_MS\": \"1000\"}")")
    done
    peak_running=0
    peak_kib=0
    deadline=$((SECONDS + HOLD + 60))
    while [ $SECONDS -lt $deadline ]; do
        running=$(api GET /v1/runs | python3 -c 'import json, sys; print(sum(r["state"] == "running" for r in json.load(sys.stdin)))')
        [ "$running" -gt "$peak_running" ] && peak_running=$running
        kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
        [ "${kib:-0}" -gt "$peak_kib" ] && peak_kib=$kib
        left=$(api GET /v1/runs | python3 -c 'import json, sys; print(sum(r["state"] in ("queued", "running") for r in json.load(sys.stdin)))')
        [ "$left" -eq 0 ] && break
        sleep 1
    done
    total=0
    for id in "${ids[@]}"; do
        count=$(api GET "/v1/runs/$id/report.json" | json_field "['totals']['requests']")
        total=$((total + count))
    done
    printf '%6d %18d %14d %16d %16.0f\n' "$runs" "$peak_running" "$total" $((runs * 100 * HOLD)) \
        "$(python3 -c "print($peak_kib / 1024)")"
    stop_server
done
rm -rf "$work"
