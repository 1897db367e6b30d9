#!/usr/bin/env bash
# Installs the real servers and drivers the end-to-end tests use, beside
# the guests' toolchains (scripts/toolchains.sh):
#
#   redis-server          (Debian) the RESP example's server
#   nginx-light           (Debian) the target of split runs, counting in its log
#   postgresql            (Debian) the postgres protocol's server, each test
#                         making a cluster of its own (pg_stat_statements
#                         counts what it ran); psql comes with it
#   postgresql-contrib    (Debian) names the contrib modules the tests load,
#                         pg_stat_statements (in postgresql-15 on Debian 12)
#   mosquitto             (Debian) the mqtt protocol's broker, started by each
#   mosquitto-clients     test on a port of its own; mosquitto_sub counts
#                         what it delivered
#   iproute2              (Debian) `ip netns`: the Kubernetes Job's pods run
#                         each in a network namespace of its own
#   chromium              (Debian) the browser the web UI test drives
#   playwright-core       (npm) drives it, in $WASMLOAD_TOOLS/ui
#   schemathesis          (PyPI) fuzzes the service's API from its OpenAPI
#                         document, in $WASMLOAD_TOOLS/schemathesis
#   kubernetes-validate   (PyPI) checks deploy/kubernetes/ against the API's
#                         schemas offline, in $WASMLOAD_TOOLS/kubernetes-validate
#   websockets            (PyPI) the WebSocket protocol's echo server, in
#                         $WASMLOAD_TOOLS/websockets
#   locust                (PyPI) writes the CSV files ours are compared with,
#                         in $WASMLOAD_TOOLS/locust
#   prometheus            (Debian's package, unpacked, not installed: no
#                         service) receives remote write, in $WASMLOAD_TOOLS/prometheus
#
# Safe to run again: what is in place at its pinned version is kept.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
TOOLS=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
PLAYWRIGHT=1.65.1
SCHEMATHESIS=4.32.5
KUBERNETES_VALIDATE=1.37.0
LOCUST=2.47.0
WEBSOCKETS=15.0.1
mkdir -p "$TOOLS"

apt_install redis-server chromium nginx-light iproute2 postgresql postgresql-contrib mosquitto \
    mosquitto-clients

stamp=$TOOLS/.installed-playwright-core-$PLAYWRIGHT
if [ ! -e "$stamp" ]; then
    mkdir -p "$TOOLS/ui"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/ui" "playwright-core@$PLAYWRIGHT"
    touch "$stamp"
fi

# Installs PyPI's NAME==VERSION into a venv of its own, $TOOLS/NAME.
pypi_tool() {
    local name=$1 version=$2
    local stamp=$TOOLS/.installed-$name-$version
    [ -e "$stamp" ] && return
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    [ -x "$TOOLS/$name/bin/pip" ] || python3 -m venv "$TOOLS/$name"
    "$TOOLS/$name/bin/pip" install --quiet --disable-pip-version-check "$name==$version"
    touch "$stamp"
}

pypi_tool schemathesis "$SCHEMATHESIS"
pypi_tool kubernetes-validate "$KUBERNETES_VALIDATE"
pypi_tool locust "$LOCUST"
pypi_tool websockets "$WEBSOCKETS"

# Debian's prometheus, unpacked where the tests find it: installing the
# package would also set up a service.
if [ ! -x "$TOOLS/prometheus/usr/bin/prometheus" ]; then
    dir=$(mktemp -d)
    (cd "$dir" && apt-get download prometheus >/dev/null 2>&1) ||
        { as_root apt-get update -qq && (cd "$dir" && apt-get download prometheus >/dev/null); }
    rm -rf "$TOOLS/prometheus"
    dpkg -x "$dir"/prometheus_*.deb "$TOOLS/prometheus"
    rm -rf "$dir"
fi
