#!/usr/bin/env bash
# Build the local Debian systemd images the lab and Molecule boot.
# This script is the only place that knows how test images are made.
#
#   scripts/build-images.sh [trixie|bookworm ...]   (default: both)
#
# Environment:
#   MAIL_IMAGE_DEBIAN13 / MAIL_IMAGE_DEBIAN12  image names (default localhost/debian13-systemd:latest,
#                                               localhost/debian12-systemd:latest); set them to use
#                                               your own registry's images; a name that already
#                                               exists locally is not rebuilt.
#   DEBIAN_MIRROR                               apt mirror (default http://deb.debian.org/debian)
#   REBUILD=1                                   rebuild even if the image exists
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/lab/containers.conf}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie bookworm)

image_for() {
  case "$1" in
    trixie) echo "${MAIL_IMAGE_DEBIAN13:-localhost/debian13-systemd:latest}" ;;
    bookworm) echo "${MAIL_IMAGE_DEBIAN12:-localhost/debian12-systemd:latest}" ;;
    *) echo "unknown suite: $1 (expected trixie or bookworm)" >&2; return 1 ;;
  esac
}

for suite in "${suites[@]}"; do
  image=$(image_for "$suite")
  if [ "${REBUILD:-0}" != 1 ] && podman image exists "$image"; then
    echo "image $image exists (REBUILD=1 to rebuild)"
    continue
  fi
  if [ "${image#localhost/}" = "$image" ] && podman pull "$image" 2>/dev/null; then
    echo "pulled $image"; continue
  fi
  rootfs=$(mktemp -d /var/tmp/mailimg-"$suite".XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "building $image from $mirror ($suite) ..."
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,python3,iproute2,ca-certificates,dbus,procps \
    "$suite" "$rootfs" "$mirror" > "$rootfs.log" 2>&1 || { tail -20 "$rootfs.log"; exit 1; }
  # The image's apt points at the same mirror; roles manage sources from there on.
  rm -f "$rootfs/etc/apt/sources.list"
  cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # No getty on a container console; keep the journal in memory-friendly size.
  rm -f "$rootfs"/etc/systemd/system/getty.target.wants/* 2>/dev/null || true
  echo "$suite-lab" > "$rootfs/etc/hostname"
  rm -f "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/lib/systemd/systemd"]' - "$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"; trap - EXIT
  echo "built $image"
done
