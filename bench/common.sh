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

# nginx with one worker pinned to the target core, answering every GET
# with a 12-byte body over keep-alive connections.
start_nginx() {
    local dir="$PEERS/nginx"
    mkdir -p "$dir"
    # nginx's mask has CPU 0 rightmost.
    local mask=1
    for _ in $(seq "$TARGET_CORE"); do mask="${mask}0"; done
    cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity $mask;
worker_rlimit_nofile $(ulimit -Hn);
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 65536; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=65535;
    location / { return 200 "hello world\n"; }
  }
}
CONF
    stop_nginx
    taskset -c "$TARGET_CORE" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
    trap stop_nginx EXIT
    for _ in $(seq 50); do
        curl -sf "$TARGET/" >/dev/null && return
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
