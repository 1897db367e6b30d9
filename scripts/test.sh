#!/usr/bin/env bash
# Runs every test: unit tests, and end-to-end tests that build the guests
# (Rust, C, Zig, Python and JavaScript) from source and run them against
# servers on 127.0.0.1.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_wasm_target
ensure_test_servers
./scripts/toolchains.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --release --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary.
awk '/^test result:/ {
        for (i = 2; i <= NF; i++) {
            if ($i == "passed;") passed += $(i - 1)
            if ($i == "failed;") failed += $(i - 1)
        }
     }
     END { printf "total: %d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
