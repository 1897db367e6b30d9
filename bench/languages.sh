#!/usr/bin/env bash
# The http-basic example in each language, side by side: component size,
# compile time, start-up of USERS users, memory per user and requests a
# second on one core. The target is demo-target (which http-basic is
# written for) pinned to one core, wasmload to the other.
#
#   size        the .wasm file
#   compile     `wasmload inspect` with no compile cache, minus the same
#               from the cache: the time compiling takes
#   start       USERS users (default 1000) all instantiated and through
#               on-start (one login request each): `all_users_started_s`
#   KiB/user    (peak RSS at USERS - peak RSS at 100) / (USERS - 100), each
#               user doing one task a second for SECONDS_EACH seconds
#   PSS/user    the same with the proportional set size, sampled twice a
#               second: RSS counts a page of a mapped memory image once
#               per user that reads it, PSS once in all (it is one page of
#               the page cache, shared)
#   req/s       50 users with no wait for SECONDS_EACH seconds, wasmload on
#               one core; and its ratio to the Rust user's
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USERS="${USERS:-1000}"
SECONDS_EACH="${SECONDS_EACH:-10}"
LANGUAGES=(rust c zig python js go)
ensure_wasm_target
./scripts/toolchains.sh
cargo build --release -q -p wasmload -p wasmload-testkit
./scripts/guests.sh "${LANGUAGES[@]}" 2>/dev/null
work="$(mktemp -d)"
start_demo_target "$TARGET_CORE"
trap 'kill $DEMO_TARGET_PID 2>/dev/null; rm -rf "$work"' EXIT
host=$DEMO_HOST

component_of() {
    if [ "$1" = rust ]; then echo "$GUESTS/http_basic.wasm"; else echo "$GUEST_TARGET_DIR/$1/http-basic.wasm"; fi
}

# Peak RSS and peak PSS of a run of `users` users waiting a second after
# each task, KiB.
peak_memory() {
    /usr/bin/time -f '%M' -o "$work/rss" taskset -c "$LOAD_CORE" "$BIN/wasmload" run "$1" -H "$host" \
        -u "$2" -t "${SECONDS_EACH}s" -e WAIT_MS=1000-1000 --cache-dir "$work/cache" >/dev/null 2>&1 &
    # time's child: taskset, which becomes wasmload.
    local timer=$! pss=0 now
    sleep 0.2
    while now=$(awk '/^Pss:/ { print $2 }' "/proc/$(pgrep -n -P "$timer")/smaps_rollup" 2>/dev/null); do
        [ "${now:-0}" -gt "$pss" ] && pss=$now
        sleep 0.5
    done
    wait "$timer"
    echo "$(cat "$work/rss") $pss"
}

json_field() {
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {}, {"s": s}))' "$@"
}

echo "$(date -u +%F), demo-target on core $TARGET_CORE, wasmload on core $LOAD_CORE, ${SECONDS_EACH}s runs"
printf '%-8s %10s %10s %12s %10s %10s %10s %8s\n' language "size KiB" "compile s" "start ${USERS} s" KiB/user PSS/user req/s "÷ Rust"
rust_rate=
for language in "${LANGUAGES[@]}"; do
    component="$(component_of "$language")"
    size=$(($(stat -c %s "$component") / 1024))
    cold=$(seconds_of "$BIN/wasmload" inspect --no-cache "$component")
    "$BIN/wasmload" inspect --cache-dir "$work/cache" "$component" >/dev/null
    warm=$(seconds_of "$BIN/wasmload" inspect --cache-dir "$work/cache" "$component")
    compile=$(python3 -c "print(f'{$cold - $warm:.2f}')")

    taskset -c "$LOAD_CORE" "$BIN/wasmload" run "$component" -H "$host" -u "$USERS" -i "$USERS" \
        -e WAIT_MS=60000-60000 --cache-dir "$work/cache" --json "$work/start.json" >/dev/null 2>&1
    start=$(json_field "$work/start.json" 'round(s["all_users_started_s"], 2)')

    read -r few_rss few_pss < <(peak_memory "$component" 100)
    read -r many_rss many_pss < <(peak_memory "$component" "$USERS")
    per_user=$(python3 -c "print(f'{($many_rss - $few_rss) / ($USERS - 100):.1f}')")
    pss_per_user=$(python3 -c "print(f'{($many_pss - $few_pss) / ($USERS - 100):.1f}')")

    taskset -c "$LOAD_CORE" "$BIN/wasmload" run "$component" -H "$host" -u 50 -t "${SECONDS_EACH}s" \
        -e WAIT_MS=0-0 --cache-dir "$work/cache" --json "$work/rate.json" >/dev/null 2>&1
    rate=$(json_field "$work/rate.json" 'round(s["totals"]["requests"] / s["duration_s"])')
    [ -n "$rust_rate" ] || rust_rate=$rate
    ratio=$(python3 -c "print(f'{$rate / $rust_rate:.2f}')")
    printf '%-8s %10d %10s %12s %10s %10s %10d %8s\n' "$language" "$size" "$compile" "$start" "$per_user" "$pss_per_user" "$rate" "$ratio"
done
