#!/usr/bin/env bash
# Runs every test: unit tests, and end-to-end tests that build the guests
# (Rust, C, Zig, Python, JavaScript and Go) from source and run them against
# servers on 127.0.0.1. Every test binary runs even when another fails;
# the last line totals them all.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_wasm_target
./scripts/test-tools.sh
./scripts/toolchains.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --release --workspace --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary, naming those that failed (or
# did not build or crashed, which no `test result:` line reports).
awk 'function note(target) { if (!(target in seen)) { seen[target]; broken = broken (broken ? ", " : "") target } }
     /^test result:/ {
        for (i = 2; i <= NF; i++) {
            if ($i == "passed;") passed += $(i - 1)
            if ($i == "failed;") failed += $(i - 1)
        }
     }
     /to rerun pass `/ { split($0, quoted, "`"); note(quoted[2]) }
     /^    `-p / { split($0, quoted, "`"); note(quoted[2]) }
     END {
        printf "total: %d passed, %d failed", passed, failed
        if (broken) printf "; failing binaries: %s", broken
        printf "\n"
     }' "$log"
exit "$status"
