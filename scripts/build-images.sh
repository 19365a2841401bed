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

# An image made by another version of this recipe is made again.
recipe=$(sha256sum "$0" | cut -c1-16)

build_one() {  # suite: build (or keep, or pull) its image; its own output, its own exit status
  local suite=$1 image have rootfs
  image=$(image_for "$suite")
  if [ "${REBUILD:-0}" != 1 ] && podman image exists "$image"; then
    have=$(podman image inspect -f '{{ index .Labels "mail.recipe" }}' "$image" 2>/dev/null || true)
    if [ "${image#localhost/}" = "$image" ] || [ "$have" = "$recipe" ]; then
      echo "image $image exists (REBUILD=1 to rebuild)"
      return 0
    fi
    echo "image $image was made by another recipe (${have:-none}): rebuilding"
  fi
  if [ "${image#localhost/}" = "$image" ] && podman pull "$image" 2>/dev/null; then
    echo "pulled $image"; return 0
  fi
  rootfs=$(mktemp -d /var/tmp/mailimg-"$suite".XXXXXX)
  # shellcheck disable=SC2064  # the path is fixed now, on purpose
  trap "rm -rf '$rootfs' '$rootfs.log'" EXIT
  echo "building $image from $mirror ($suite) ..."
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,python3,iproute2,ca-certificates,dbus,procps \
    "$suite" "$rootfs" "$mirror" > "$rootfs.log" 2>&1 || { tail -20 "$rootfs.log"; return 1; }
  # The image's apt points at the same mirror; roles manage sources from there on.
  rm -f "$rootfs/etc/apt/sources.list"
  cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Container-image practice (Docker's official Debian images do the same): dpkg
  # skips its fsync calls, since a container that dies mid-install is thrown away,
  # not repaired; man-db does not rebuild its index after every install. Lab
  # images only: a role never sets either on a real server.
  echo force-unsafe-io > "$rootfs/etc/dpkg/dpkg.cfg.d/lab-unsafe-io"
  chroot "$rootfs" sh -c 'echo "man-db man-db/auto-update boolean false" | debconf-set-selections'
  rm -f "$rootfs/var/lib/man-db/auto-update"
  # No getty on a container console; keep the journal in memory-friendly size.
  rm -f "$rootfs"/etc/systemd/system/getty.target.wants/* 2>/dev/null || true
  echo "$suite-lab" > "$rootfs/etc/hostname"
  rm -f "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/lib/systemd/systemd"]' --change "LABEL mail.recipe=$recipe" - "$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  echo "built $image"
}

# Both releases at once (debootstrap waits on the mirror and on dpkg in turn),
# each in a subshell with its own clean-up; fails if either failed.
pids=()
for suite in "${suites[@]}"; do
  image_for "$suite" >/dev/null
  ( build_one "$suite" ) &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
