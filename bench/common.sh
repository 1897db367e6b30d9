# Shared by the benchmark scripts: where the peers live, the nginx target,
# pinning. Every load here is bounded in time and stays on 127.0.0.1.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PEERS="${WASMLOAD_BENCH_DIR:-$HOME/.cache/wasmload-bench}"
NGINX_PORT="${NGINX_PORT:-8091}"
TARGET="http://127.0.0.1:$NGINX_PORT"
# The target on one core, every generator on the other.
TARGET_CORE=0
LOAD_CORE=1

# The wasmload binary and the benchmark guest, built if needed; WASMLOAD
# names another build to measure instead (one from bench/ab.sh's recipe).
build_wasmload() {
    ensure_wasm_target
    cargo build --release -q -p wasmload
    build_examples -q
    WASMLOAD="${WASMLOAD:-$BIN/wasmload}"
    HAMMER="$GUESTS/http_hammer.wasm"
}

# nginx answering every GET with a 12-byte body over keep-alive
# connections: one worker pinned to the target core, or with
# NGINX_WORKERS=N, N workers on any core sharing the port (reuseport).
# NGINX_LOG=PATH logs every request there, one line each.
start_nginx() {
    command -v nginx >/dev/null || { echo "nginx is not installed: run ./bench/peers.sh first" >&2; return 1; }
    local dir="$PEERS/nginx"
    local workers="${NGINX_WORKERS:-1}"
    mkdir -p "$dir"
    # nginx's mask has CPU 0 rightmost.
    local mask=1 pinning=(taskset -c "$TARGET_CORE") reuse=""
    for _ in $(seq "$TARGET_CORE"); do mask="${mask}0"; done
    local affinity="worker_cpu_affinity $mask;"
    if [ "$workers" -gt 1 ]; then
        affinity="" pinning=() reuse=" reuseport"
    fi
    local log="access_log off;"
    [ -n "${NGINX_LOG:-}" ] && log="log_format counted '\$request_method \$uri'; access_log $NGINX_LOG counted buffer=256k;"
    cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
$affinity
worker_rlimit_nofile $(ulimit -Hn);
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections $(( $(ulimit -Hn) - 64 )); }
http {
  $log
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=65535$reuse;
    location / { return 200 "hello world\n"; }
  }
}
CONF
    stop_nginx
    "${pinning[@]}" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
    trap stop_nginx EXIT
    for _ in $(seq 50); do
        curl -sf "$TARGET/ready" >/dev/null && return
        sleep 0.1
    done
    echo "nginx did not answer on $TARGET" >&2
    return 1
}

stop_nginx() {
    local pid="$PEERS/nginx/nginx.pid"
    [ -f "$pid" ] || return 0
    local master
    master="$(cat "$pid")"
    kill "$master" 2>/dev/null || { rm -f "$pid"; return 0; }
    # The master exits once its workers have. With 100,000 connections to
    # close that takes seconds, and a worker still exiting would take a
    # share of the next run's connections (reuseport) into the old log.
    for _ in $(seq 300); do
        kill -0 "$master" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "nginx ($master) has not exited after 30 s" >&2
    return 1
}

# Seconds a command takes, its output discarded.
seconds_of() {
    local start end
    start="$(date +%s.%N)"
    "$@" >/dev/null 2>&1
    end="$(date +%s.%N)"
    python3 -c "print(f'{$end - $start:.3f}')"
}

on_load_core() {
    taskset -c "$LOAD_CORE" "$@"
}

# Resident memory of a command, in KiB, as "PEAK SETTLED": its high-water
# mark, and the median of its resident size sampled twice a second over the
# second half of its run (once its users have all started).
resident_kb() {
    local out samples=() pid="" timer
    out="$(mktemp)"
    /usr/bin/time -f '%M' -o "$out" "$@" >/dev/null 2>&1 &
    timer=$!
    while kill -0 "$timer" 2>/dev/null; do
        pid="${pid:-$(pgrep -n -P "$timer")}"
        [ -n "$pid" ] && samples+=("$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null)")
        sleep 0.5
    done
    wait "$timer" || true
    python3 - "$(tail -1 "$out")" "${samples[@]}" <<'PY'
import statistics, sys
peak = int(sys.argv[1])
samples = [int(s) for s in sys.argv[2:] if s]
print(peak, int(statistics.median(samples[len(samples) // 2:] or [peak])))
PY
    rm -f "$out"
}

# resident_kb of wasmload build BINARY running USERS users of the memory
# load: each holds a keep-alive connection and makes a request a second,
# for SECONDS_EACH seconds.
hammer_resident_kb() {
    resident_kb "$1" run "$HAMMER" -u "$2" -t "${SECONDS_EACH}s" -e WAIT_MS=1000 -H "$TARGET"
}

# KiB per user between two "PEAK SETTLED" measurements at FEW and MANY
# users, as "PEAK SETTLED".
per_user_kb() {
    python3 -c 'import sys
few, many = int(sys.argv[1]), int(sys.argv[2])
a, b = sys.argv[3].split(), sys.argv[4].split()
print(" ".join(f"{(int(y) - int(x)) / (many - few):.1f}" for x, y in zip(a, b)))' "$@"
}
