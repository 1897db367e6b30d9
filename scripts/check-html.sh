#!/usr/bin/env bash
# Renders an HTML report in headless Chromium (Debian's `chromium`, installed
# here if missing) and saves a screenshot, to check that the page opens and
# draws with no network: scripts/check-html.sh REPORT.html [SCREENSHOT.png]
set -euo pipefail
report=$(realpath "$1")
shot=${2:-${report%.html}.png}
if ! command -v chromium >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1000,1400 --screenshot="$shot" "file://$report" 2>/dev/null
test -s "$shot"
echo "rendered $report to $shot"
