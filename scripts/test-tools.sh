#!/usr/bin/env bash
# Installs the real servers and drivers the end-to-end tests use, beside
# the guests' toolchains (scripts/toolchains.sh):
#
#   redis-server          (Debian) the RESP example's server
#   nginx-light           (Debian) the target of split runs, counting in its log
#   iproute2              (Debian) `ip netns`: the Kubernetes Job's pods run
#                         each in a network namespace of its own
#   chromium              (Debian) the browser the web UI test drives
#   playwright-core       (npm) drives it, in $WASMLOAD_TOOLS/ui
#   schemathesis          (PyPI) fuzzes the service's API from its OpenAPI
#                         document, in $WASMLOAD_TOOLS/schemathesis
#   kubernetes-validate   (PyPI) checks deploy/kubernetes/ against the API's
#                         schemas offline, in $WASMLOAD_TOOLS/kubernetes-validate
#
# Safe to run again: what is in place at its pinned version is kept.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
TOOLS=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
PLAYWRIGHT=1.65.1
SCHEMATHESIS=4.32.5
KUBERNETES_VALIDATE=1.37.0
mkdir -p "$TOOLS"

apt_install redis-server chromium nginx-light iproute2

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

stamp=$TOOLS/.installed-kubernetes-validate-$KUBERNETES_VALIDATE
if [ ! -e "$stamp" ]; then
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    [ -x "$TOOLS/kubernetes-validate/bin/pip" ] || python3 -m venv "$TOOLS/kubernetes-validate"
    "$TOOLS/kubernetes-validate/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE"
    touch "$stamp"
fi
