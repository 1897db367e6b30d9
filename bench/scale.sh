#!/usr/bin/env bash
# Scale: USERS users (default 100000) each making one request every 5 s
# for RUN_TIME seconds (default 120) against nginx; prints the requests
# recorded against the USERS * RUN_TIME / 5 expected, and the peak RSS.
# wasmload itself refuses the run, with the sysctl to raise it, when
# vm.max_map_count is too low for USERS. When the open-files limit is
# below one socket per user, each request gets its own connection
# (Connection: close) instead of a kept-alive one.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USERS="${USERS:-100000}"
RUN_TIME="${RUN_TIME:-120}"
build_wasmload
start_nginx
work="$(mktemp -d)"

# Users start over one 5 s period, so their requests spread evenly over
# it instead of arriving together every 5 s.
params=(-e PACING_MS=5000 -r $((USERS / 5)))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((USERS + 1024)) ]; then
    echo "open files are limited to $(ulimit -Hn): one connection per request (Connection: close)"
    params+=(-e CLOSE=1)
fi
/usr/bin/time -f '%M' -o "$work/rss" "$WASMLOAD" run "$HAMMER" -u "$USERS" -t "${RUN_TIME}s" \
    "${params[@]}" -H "$TARGET" --json "$work/scale.json" >/dev/null
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
users, run_time = int(sys.argv[3]), float(sys.argv[4])
expected = users * run_time / 5
requests, failures = s["totals"]["requests"], s["totals"]["failures"]
started, duration, peak = s.get("all_users_started_s", 0), s["duration_s"], s["users"]
rss = int(open(sys.argv[2]).read().split()[-1])
print(f"{peak} users (all started in {started:.1f} s) over {duration:.0f} s:"
      f" {requests} requests ({failures} failed) of {expected:.0f} expected = {requests / expected:.1%};"
      f" peak RSS {rss / 1048576:.2f} GiB ({rss / users:.1f} KiB per user)")' \
    "$work/scale.json" "$work/rss" "$USERS" "$RUN_TIME"
rm -rf "$work"
