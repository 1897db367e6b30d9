#!/usr/bin/env bash
# Start-up: compiling the benchmark component vs loading it from the
# compile cache, then USERS users (default 10000) instantiated, through
# on-start and into their first task (a GET on a new connection to nginx),
# as the run's `all_users_started_s` reports it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USERS="${USERS:-10000}"
build_wasmload
start_nginx
work="$(mktemp -d)"

one_iteration_seconds() {
    seconds_of "$WASMLOAD" run "$HAMMER" -i 1 -H "$TARGET" --cache-dir "$work/cache"
}

echo "$(date -u +%F), $(du -k "$HAMMER" | cut -f1) KiB component"
echo "one iteration, compiling:          $(one_iteration_seconds) s"
echo "one iteration, from compile cache: $(one_iteration_seconds) s"
# Each user does one task, then would wait a minute: the run ends with
# the last first task.
"$WASMLOAD" run "$HAMMER" -u "$USERS" -i "$USERS" -e WAIT_MS=60000 -H "$TARGET" \
    --cache-dir "$work/cache" --json "$work/start.json" >/dev/null
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
users, started, duration = s["users"], s["all_users_started_s"], s["duration_s"]
requests = s["totals"]["requests"]
print(f"{users} users all started in {started:.2f} s;"
      f" their {requests} first requests done in {duration:.2f} s")' \
    "$work/start.json"
rm -rf "$work"
