#!/usr/bin/env bash
# Installs the load testers wasmload is compared with, from the package
# registries: wrk and nginx (Debian), oha (crates.io), Locust (PyPI) and
# Goose (crates.io, built from bench/goose); for bench/postgres.sh, Debian's
# PostgreSQL and psycopg2 (PyPI) beside Locust. k6 is not in any registry we
# reach, so it is left out. Safe to run again: what is there is kept.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mkdir -p "$PEERS"

apt_install wrk nginx-light postgresql

if [ ! -x "$PEERS/oha/bin/oha" ]; then
    cargo install --locked --quiet oha@1.16.0 --root "$PEERS/oha"
fi

if [ ! -x "$PEERS/venv/bin/locust" ]; then
    python3 -m venv "$PEERS/venv"
    "$PEERS/venv/bin/pip" install -q locust==2.47.0
fi
"$PEERS/venv/bin/python" -c 'import psycopg2' 2>/dev/null ||
    "$PEERS/venv/bin/pip" install -q psycopg2-binary==2.9.10

CARGO_TARGET_DIR="$PEERS/goose-target" cargo build --release -q --manifest-path bench/goose/Cargo.toml

echo "peers: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1), $("$PEERS/oha/bin/oha" --version)," \
    "$("$PEERS/venv/bin/locust" --version 2>&1 | cut -d' ' -f1-2), goose $(grep -A1 '^name = "goose"' bench/goose/Cargo.lock | tail -1 | cut -d'"' -f2)"
