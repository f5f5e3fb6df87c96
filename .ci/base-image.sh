#!/usr/bin/env bash
# Builds the local base image studio/base:bookworm from Debian packages (no registry is reachable
# here, so nothing can be pulled). The root filesystem tarball is cached between runs.
set -euo pipefail
IMAGE="${STUDIO_BASE_IMAGE:-studio/base:bookworm}"
CACHE_DIR="${STUDIO_CACHE_DIR:-/var/cache/studio}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE present"
  exit 0
fi
mkdir -p "$CACHE_DIR"
TARBALL="$CACHE_DIR/base-bookworm.tar"
if [ ! -s "$TARBALL" ]; then
  MIRROR="$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | awk '{print $2}' | grep -E '/debian/?$' | head -1 || true)"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
  ROOT="$(mktemp -d)"
  debootstrap --variant=minbase --include=python3-minimal,python3-venv,python3-pip,ca-certificates \
    bookworm "$ROOT" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1
  tar -C "$ROOT" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$ROOT"
fi
docker import "$TARBALL" "$IMAGE" >/dev/null
echo "base image $IMAGE imported"
