#!/usr/bin/env bash
# Builds the image the Kubernetes manifests (deploy/kubernetes/) run: a
# statically linked wasmload (Rust's x86_64-unknown-linux-musl target) in
# an otherwise empty image (deploy/Containerfile), with podman.
#
#   deploy/build-image.sh                      # the image wasmload:VERSION
#   IMAGE=registry.example.com/wasmload:0.1.0 deploy/build-image.sh
#
# Installs what it needs when missing: the musl target (rustup), and from
# Debian musl-tools (musl-gcc compiles the C in ring, SQLite and zstd),
# binutils (readelf, strip) and podman. The binary is left at
# $CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/wasmload.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
TARGET=x86_64-unknown-linux-musl

rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
apt_install musl-tools binutils podman

# cc picks musl-gcc for this target by itself; rustc links with its own
# musl crt objects, so the result needs no library at run time.
cargo build --release --locked -p wasmload --target "$TARGET"
binary=$CARGO_TARGET_DIR/$TARGET/release/wasmload
if readelf --program-headers "$binary" | grep -q INTERP; then
    echo "$binary is dynamically linked: it would not run in an empty image" >&2
    exit 1
fi
version=$("$binary" --version | awk '{ print $2 }')
IMAGE=${IMAGE:-wasmload:$version}

# The build context is the binary alone, not the repository and its target
# dir; without its debug info (200 MB to 40 MB), keeping the symbols that
# name functions in a backtrace.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
strip --strip-debug -o "$context/wasmload" "$binary"
# vfs works where overlay cannot (in a container, without fuse-overlayfs).
podman build --storage-driver vfs -f deploy/Containerfile -t "$IMAGE" "$context"
echo "built $IMAGE ($(du -h "$context/wasmload" | cut -f1)); push it where your cluster pulls from:"
echo "  podman push --storage-driver vfs $IMAGE"
