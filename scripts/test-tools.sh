#!/usr/bin/env bash
# Installs the real servers and drivers the end-to-end tests use, beside
# the guests' toolchains (scripts/toolchains.sh):
#
#   redis-server          (Debian) the RESP example's server
#   nginx-light           (Debian) the target of split runs, counting in its log
#   chromium              (Debian) the browser the web UI test drives
#   playwright-core       (npm) drives it, in $WASMLOAD_TOOLS/ui
#   schemathesis          (PyPI) fuzzes the service's API from its OpenAPI
#                         document, in $WASMLOAD_TOOLS/schemathesis
#
# Safe to run again: what is in place at its pinned version is kept.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
TOOLS=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
PLAYWRIGHT=1.65.1
SCHEMATHESIS=4.32.5
mkdir -p "$TOOLS"

apt_install redis-server chromium nginx-light

stamp=$TOOLS/.installed-playwright-core-$PLAYWRIGHT
if [ ! -e "$stamp" ]; then
    mkdir -p "$TOOLS/ui"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/ui" "playwright-core@$PLAYWRIGHT"
    touch "$stamp"
fi

stamp=$TOOLS/.installed-schemathesis-$SCHEMATHESIS
if [ ! -e "$stamp" ]; then
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    [ -x "$TOOLS/schemathesis/bin/pip" ] || python3 -m venv "$TOOLS/schemathesis"
    "$TOOLS/schemathesis/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS"
    touch "$stamp"
fi
