#!/usr/bin/env bash
# Builds a wasmload user component from a JavaScript module and the JS SDK
# with componentize-qjs (QuickJS):
#
#     sdk/js/build.sh OUT.wasm user.js
#
# The module imports the SDK as "wasmload". A `package.json` (and its
# `package-lock.json`) beside it names npm packages the user imports; they
# are installed from npm (`npm ci`, no install scripts) and bundled in.
#
# esbuild bundles the user, its packages and the SDK into one module, with
# `async`/`await` lowered to generators: componentize-qjs's non-async
# runtime never runs QuickJS's own promise jobs, so the SDK's Promise (see
# web.js) stands in for them, and the SDK's globals (fetch, timers, ...)
# are set before any package's code runs. Tools, as scripts/toolchains.sh js
# installs them: componentize-qjs and esbuild from npm, in $WASMLOAD_TOOLS/js.
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${WASMLOAD_TOOLS:-$HOME/.cache/wasmload-tools}
wit=${WASMLOAD_WIT:-$sdk/../../wit}
componentize=$tools/js/node_modules/.bin/componentize-qjs
esbuild=$tools/js/node_modules/.bin/esbuild
if [ $# -ne 2 ]; then
    echo "usage: $0 OUT.wasm USER.js" >&2
    exit 2
fi
for tool in "$componentize" "$esbuild"; do
    if [ ! -x "$tool" ]; then
        echo "$0: $tool is missing: run scripts/toolchains.sh js" >&2
        exit 1
    fi
done
out=$(realpath "$1")
app=$(cd "$(dirname "$2")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
if [ -e "$app/package.json" ]; then
    if [ ! -e "$app/package-lock.json" ]; then
        echo "$0: $app/package.json has no package-lock.json beside it: run 'npm install --package-lock-only' there" >&2
        exit 1
    fi
    cp "$app/package.json" "$app/package-lock.json" "$root/"
    (cd "$root" && npm ci --silent --ignore-scripts --no-audit --no-fund)
fi
mkdir -p "$root/node_modules"
cp -r "$sdk" "$root/node_modules/wasmload"
# Everything in the user's directory (its own modules), the user as user.js.
cp -r "$app/." "$root/app"
cp "$2" "$root/app/user.js"
printf 'import "./node_modules/wasmload/web.js";\nexport * from "./app/user.js";\n' >"$root/entry.js"
"$esbuild" "$root/entry.js" --bundle --format=esm --platform=neutral --main-fields=module,main \
    --external:'wasmload:*' --supported:async-await=false --supported:async-generator=false \
    --supported:for-await=false --log-level=warning --outfile="$root/bundle.js"
# --sync: wasmload's host calls are plain (not component-model async) calls.
"$componentize" --sync --wit "$wit" --world user --module-root "$root" --js "$root/bundle.js" -o "$out" >/dev/null
