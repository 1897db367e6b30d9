#!/usr/bin/env bash
# The seed's failure case, measured: a Python user written as a blocking
# DB-API loop (one lookup by primary key, no wait), with 1 user and with
# USERS (default 1,000), in wasmload (its `postgres` module, the host does
# the I/O) and in Locust with psycopg2 (C that gevent cannot patch), against
# one PostgreSQL: Debian's, on core 0, each generator alone on core 1,
# DURATION seconds each (default 20). Twice: plain lookups, and lookups that
# also spend QUERY_MS (default 10) on the server, where a generator that
# waits for one query at a time is bound to 1000 / QUERY_MS queries/s.
# Prints queries/s and median latency. Run bench/peers.sh first.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DURATION="${DURATION:-20}"
USERS="${USERS:-1000}"
QUERY_MS="${QUERY_MS:-10}"
PG_PORT="${PG_PORT:-8092}"
build_wasmload
work="$(mktemp -d)"
chmod 777 "$work"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# The server refuses to run as root: as root, run it as Debian's postgres user.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
    else
        "$@"
    fi
}

stop_postgres() {
    as_postgres "$pg_bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}

as_postgres "$pg_bin/initdb" -D "$work/data" -U bench --auth=trust -E UTF8 >/dev/null
trap stop_postgres EXIT
as_postgres taskset -c "$TARGET_CORE" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w \
    -o "-p $PG_PORT -h 127.0.0.1 -k $work/data -c max_connections=$((USERS + 50)) -c fsync=off -c shared_buffers=128MB" \
    start >/dev/null
psql() { command psql -q -h 127.0.0.1 -p "$PG_PORT" -U bench "$@"; }
psql -d postgres -c "CREATE DATABASE bench"
psql -d bench -c "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, stock int NOT NULL);
    INSERT INTO items SELECT i, 'item ' || i, 100 FROM generate_series(1, 1000) i; ANALYZE items;"
URL="postgres://bench@127.0.0.1:$PG_PORT/bench"

sdk/python/build.sh "$work/reader.wasm" bench/postgres

# Prints "queries/s median-ms" of one run of $1 users, each query $2 ms on the server.
wasmload_run() {
    on_load_core "$WASMLOAD" run "$work/reader.wasm" -u "$1" -r "$1" -t "${DURATION}s" -H "$URL" -e "QUERY_MS=$2" \
        --max-users "$1" --json "$work/wasmload.json" >/dev/null 2>"$work/wasmload.err" ||
        { cat "$work/wasmload.err" >&2; return 1; }
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
row = [r for r in s["requests"] if r["name"] == "item by id"][0]
print(round(row["rps"], 1), round(row["p50_ms"], 3))' "$work/wasmload.json"
}

locust_run() {
    DATABASE_URL="$URL" QUERY_MS="$2" on_load_core "$PEERS/venv/bin/locust" -f bench/postgres/locustfile.py \
        --headless -u "$1" -r "$1" -t "${DURATION}s" --csv "$work/locust" --only-summary \
        >/dev/null 2>&1
    python3 -c 'import csv, sys
row = [r for r in csv.DictReader(open(sys.argv[1])) if r["Name"] == "item by id"][0]
print(round(float(row["Requests/s"]), 1), round(float(row["Median Response Time"]), 3))' "$work/locust_stats.csv"
}

declare -A result
for query_ms in 0 "$QUERY_MS"; do
    for users in 1 "$USERS"; do
        for tool in wasmload locust; do
            result[$tool-$users-$query_ms]="$("${tool}_run" "$users" "$query_ms")"
            echo "$tool, $users users, +$query_ms ms: ${result[$tool-$users-$query_ms]} (queries/s, median ms)" >&2
        done
    done
done

echo
echo "$(date -u +%F), PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on core $TARGET_CORE, generator on core $LOAD_CORE, ${DURATION}s each, lookups by primary key, no wait"
printf '%-10s %8s %10s %12s %12s\n' tool users "server ms" "queries/s" "median ms"
for query_ms in 0 "$QUERY_MS"; do
    for users in 1 "$USERS"; do
        for tool in wasmload locust; do
            read -r qps median <<<"${result[$tool-$users-$query_ms]}"
            printf '%-10s %8s %10s %12s %12s\n' "$tool" "$users" "$query_ms" "$qps" "$median"
        done
    done
done
