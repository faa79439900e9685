#!/usr/bin/env bash
# Builds the Debian base image the Switchyard image starts from, without an image registry:
# debootstrap makes a minimal Debian 12 (bookworm) root file system from the Debian mirror apt
# already uses, and `docker import` turns it into the image `switchyard-base:bookworm`
# (the equivalent of debian:bookworm-slim; with a registry you can use that instead, see
# docs/deployment.md).
#
# The root file system is cached as a tarball ($SWITCHYARD_BASE_CACHE, by default
# /var/cache/switchyard/debian-bookworm-minbase.tar): a second run imports it again without
# downloading. Needs root, debootstrap and a running Docker engine.
#
#   deploy/base-image.sh            # build (or re-import) switchyard-base:bookworm
#   deploy/base-image.sh --rebuild  # ignore the cache: debootstrap afresh
set -euo pipefail

IMAGE="${SWITCHYARD_BASE_IMAGE:-switchyard-base:bookworm}"
CACHE="${SWITCHYARD_BASE_CACHE:-/var/cache/switchyard/debian-bookworm-minbase.tar}"
SUITE=bookworm

if [ "${1:-}" = "--rebuild" ]; then rm -f "$CACHE"; fi

if [ ! -s "$CACHE" ]; then
  command -v debootstrap >/dev/null || { echo "FATAL: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  # The mirror apt is configured with (deb822 or one-line sources), else Debian's own.
  mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
  root=$(mktemp -d /var/tmp/switchyard-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "debootstrap $SUITE (minbase) from $mirror"
  debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$root.log" 2>&1 || {
    tail -n 30 "$root.log" >&2; echo "FATAL: debootstrap failed (log above)" >&2; exit 1; }
  rm -f "$root.log"
  # Slim it like debian:*-slim: no package lists, caches, documentation or manuals.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log \
    "$root"/var/log/apt/* "$root"/tmp/*
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE" >"$root/etc/apt/sources.list"
  mkdir -p "$(dirname "$CACHE")"
  tar --numeric-owner -C "$root" -cf "$CACHE.tmp" .
  mv "$CACHE.tmp" "$CACHE"
  echo "root file system cached in $CACHE ($(du -h "$CACHE" | cut -f1))"
fi

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' \
  "$CACHE" "$IMAGE" >/dev/null
echo "base image $IMAGE imported"
