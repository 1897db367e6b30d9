# Shared by the benchmark scripts: where the peers live, the nginx target,
# pinning. Every load here is bounded in time and stays on 127.0.0.1.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PEERS="${WASMLOAD_BENCH_DIR:-$HOME/.cache/wasmload-bench}"
NGINX_PORT="${NGINX_PORT:-8091}"
TARGET="http://127.0.0.1:$NGINX_PORT"
# The target on one core, every generator on the other.
TARGET_CORE=0
LOAD_CORE=1

# The wasmload binary and the benchmark guest, built if needed.
build_wasmload() {
    ensure_wasm_target
    cargo build --release -q -p wasmload
    build_examples -q
    WASMLOAD="$BIN/wasmload"
    HAMMER="$GUESTS/http_hammer.wasm"
}

# nginx answering every GET with a 12-byte body over keep-alive
# connections: one worker pinned to the target core, or with
# NGINX_WORKERS=N, N workers on any core sharing the port (reuseport).
# NGINX_LOG=PATH logs every request there, one line each.
start_nginx() {
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
    if [ -f "$pid" ]; then
        kill "$(cat "$pid")" 2>/dev/null || rm -f "$pid"
        # nginx removes its pid file as it exits.
        for _ in $(seq 50); do
            [ -f "$pid" ] || return 0
            sleep 0.1
        done
    fi
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
