#!/usr/bin/env bash
# Builds the example users of the given languages from source:
#
#     scripts/guests.sh [rust] [c] [zig] [python] [js] [go]     (none: all)
#
# Rust examples land in $CARGO_TARGET_DIR/guests/wasm32-wasip2/release, the
# others in $CARGO_TARGET_DIR/guests/LANGUAGE/EXAMPLE.wasm. The toolchains
# come from scripts/toolchains.sh.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

build_language() {
    local language=$1 out=$GUEST_TARGET_DIR/$1 example name
    if [ "$language" = rust ]; then
        ensure_wasm_target
        build_examples
        return
    fi
    mkdir -p "$out"
    for example in guest-examples/"$language"/*/; do
        name=$(basename "$example")
        case $language in
            c) sdk/c/build.sh "$out/$name.wasm" "$example/user.c" ;;
            zig) sdk/zig/build.sh "$out/$name.wasm" "$example/user.zig" ;;
            python) sdk/python/build.sh "$out/$name.wasm" "$example" ;;
            js) sdk/js/build.sh "$out/$name.wasm" "$example/user.js" ;;
            go) sdk/go/build.sh "$out/$name.wasm" "$example" ;;
            *)
                echo "$0: no examples in '$language' (choose from rust, c, zig, python, js, go)" >&2
                exit 2
                ;;
        esac
        echo "built $out/$name.wasm" >&2
    done
}

languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(rust c zig python js go)
for language in "${languages[@]}"; do
    build_language "$language"
done
