#!/usr/bin/env bash
# Builds the Switchyard image without an image registry: the release binary on the host, the
# Debian base by debootstrap (deploy/base-image.sh, cached), then `docker build`.
#
#   deploy/build-image.sh [TAG]     # default tag: switchyard:latest
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${1:-switchyard:latest}"
BASE="${SWITCHYARD_BASE_IMAGE:-switchyard-base:bookworm}"

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  deploy/base-image.sh
fi

echo "cargo build --release -p switchyard"
cargo build --release -q -p switchyard
target="${CARGO_TARGET_DIR:-target}"
binary="$target/release/switchyard"
[ -x "$binary" ] || { echo "FATAL: no binary at $binary" >&2; exit 1; }

# The Dockerfile copies target/release/switchyard: with another target directory, build from a
# staged context of the same shape.
context=.
if [ "$(realpath "$binary")" != "$(realpath -m target/release/switchyard)" ]; then
  context=$(mktemp -d)
  trap 'rm -rf "$context"' EXIT
  mkdir -p "$context/target/release" "$context/deploy"
  cp "$binary" "$context/target/release/switchyard"
  cp -r deploy/docker "$context/deploy/docker"
  cp .dockerignore "$context/"
fi
# The classic builder: it needs no buildx plugin and works with the distribution's engine.
DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$BASE" -f Dockerfile -t "$TAG" "$context" >/dev/null
echo "image $TAG built ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
