#!/usr/bin/env bash
# Scale: USERS users (default 100000), each holding a keep-alive
# connection and making one request every 5 s for RUN_TIME seconds
# (default 60), against nginx. wasmload spreads the users over as many
# worker processes as this machine's limits ask (open files,
# vm.max_map_count; `--processes auto`) and their connections over 8
# loopback addresses (`--local-ips`: one source address has about 28,000
# ports to reach one target with). Prints the requests recorded against
# those expected and against nginx's own log, the peak resident memory of
# all wasmload processes together, and once every user runs, the CPU time
# wasmload's processes and nginx's each spend per request.
#
# Both run as batch processes (SCHED_BATCH, `chrt -b`). They share two
# cores, and a normal process woken by the other's send preempts it: 1.8
# context switches a request at 100,000 users. As batch processes neither
# preempts the other on wake-up and each serves every connection ready in
# its slice: 0.3 switches a request (docs/BENCHMARKS.md, Scale: beside
# runs that made 62% and 66% of the expected requests, this made 87%).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USERS="${USERS:-100000}"
RUN_TIME="${RUN_TIME:-60}"
build_wasmload
work="$(mktemp -d)"
# nginx too holds one connection per user: enough workers for that many
# open files each.
NGINX_WORKERS=$((USERS / ($(ulimit -Hn) - 1000) + 1)) NGINX_LOG="$work/access.log" start_nginx
master="$(cat "$PEERS/nginx/nginx.pid")"
for nginx in "$master" $(pgrep -P "$master"); do
    chrt --batch --pid 0 "$nginx"
done

# Users start over one 5 s period, so their requests spread evenly over
# it instead of arriving together every 5 s.
chrt --batch 0 "$WASMLOAD" run "$HAMMER" -u "$USERS" -t "${RUN_TIME}s" -r $((USERS / 5)) -e PACING_MS=5000 \
    -H "$TARGET" --local-ips 127.0.0.1-127.0.0.8 --processes auto \
    --json "$work/scale.json" >"$work/table" 2>"$work/stderr" &
run=$!
# The peak of the coordinator's and its workers' resident memory, summed;
# each second, the CPU ticks wasmload's processes and nginx's have used.
peak=$(python3 "$(dirname "${BASH_SOURCE[0]}")/sample.py" "$run" "$PEERS/nginx/nginx.pid" "$work/cpu")
wait "$run" || { grep -v "^\[ " "$work/stderr" | head -40 >&2; exit 1; }
stop_nginx
grep -v '^\[' "$work/stderr" | head -3 || true
python3 -c 'import json, os, sys
s = json.load(open(sys.argv[1]))
users, run_time, peak_kib = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
served = sum(1 for line in open(sys.argv[2]) if line.rstrip() == "GET /")
expected = users * run_time / 5
requests, failures = s["totals"]["requests"], s["totals"]["failures"]
started, duration, peak = s.get("all_users_started_s") or 0, s["duration_s"], s["users"]
matched = "the same" if served == requests else f"{served - requests:+d}"
print(f"{peak} users (all started in {started:.1f} s) over {duration:.0f} s:"
      f" {requests} requests ({failures} failed) of {expected:.0f} expected = {requests / expected:.1%};"
      f" nginx logged {served} ({matched});"
      f" peak RSS of all processes {peak_kib / 1048576:.2f} GiB ({peak_kib / users:.1f} KiB per user)")
# Steady state: from 5 s after the last user started to 2 s before the
# run time ends (not the stop that follows), with every user running;
# requests from the run'"'"'s per-second totals, CPU from the samples (taken
# apart from the run'"'"'s, so up to a second off each end).
rows = [row for row in s["history"] if row["type"] == "" and row["name"] == "Aggregated"]
cpu = {int(t): (int(ours), int(theirs)) for t, ours, theirs in (line.split() for line in open(sys.argv[6]))}
# The first row is taken a second into the run.
first = rows[0]["timestamp"] + started + 5 if rows else 0
last = rows[0]["timestamp"] + run_time - 3 if rows else 0
window = [row for row in rows
          if first <= row["timestamp"] <= last and row["users"] == users and row["timestamp"] in cpu]
if not s.get("all_users_started_s") or len(window) < 2:
    print("no steady state: not every user started, or the run time ended within 8 s of it")
else:
    begin, end = window[0], window[-1]
    seconds = end["timestamp"] - begin["timestamp"]
    count = end["total_requests"] - begin["total_requests"]
    ticks = [cpu[end["timestamp"]][i] - cpu[begin["timestamp"]][i] for i in (0, 1)]
    per_request = [t / os.sysconf("SC_CLK_TCK") / max(count, 1) * 1e6 for t in ticks]
    print(f"steady state, {seconds} s with every user running: {count / seconds:.0f} requests/s"
          f" of {users / 5:.0f} asked; CPU per request: wasmload {per_request[0]:.0f} µs, nginx {per_request[1]:.0f} µs")' \
    "$work/scale.json" "$work/access.log" "$USERS" "$RUN_TIME" "$peak" "$work/cpu"
[ -n "${KEEP_JSON:-}" ] && cp "$work/scale.json" "$KEEP_JSON"
rm -rf "$work"
