#!/usr/bin/env bash
# Build the local Debian systemd images the lab and Molecule boot.
# This script is the only place that knows how test images are made.
#
#   scripts/build-images.sh [trixie|bookworm|trixie-base|trixie-mail ...]   (default: all four)
#
# trixie-mail is the Debian 13 image with the mail system's Debian packages
# already installed (lab/base-packages.txt, lab/mail-packages.txt) and no
# configuration of ours: the edge and backup scenarios' mail hosts start from it,
# the backup host from trixie-base (every host's packages only), so that only
# default and debian12 (and the benchmark) pay for installing every package on a
# bare system. trixie-mail is made from trixie-base, that from the trixie image;
# each is built first when missing.
#
# Environment:
#   MAIL_IMAGE_DEBIAN13 / MAIL_IMAGE_DEBIAN12  image names (default localhost/debian13-systemd:latest,
#                                               localhost/debian12-systemd:latest); set them to use
#                                               your own registry's images; a name that already
#                                               exists locally is not rebuilt.
#   DEBIAN_MIRROR                               apt mirror (default http://deb.debian.org/debian)
#   DEBIAN_SECURITY_MIRROR                      its security suite (default http://deb.debian.org/debian-security)
#   REBUILD=1                                   rebuild even if the image exists
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/lab/containers.conf}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie bookworm trixie-base trixie-mail)

image_for() {
  case "$1" in
    trixie) echo "${MAIL_IMAGE_DEBIAN13:-localhost/debian13-systemd:latest}" ;;
    bookworm) echo "${MAIL_IMAGE_DEBIAN12:-localhost/debian12-systemd:latest}" ;;
    trixie-base) echo "${MAIL_IMAGE_DEBIAN13_BASE:-localhost/debian13-base:latest}" ;;
    trixie-mail) echo "${MAIL_IMAGE_DEBIAN13_MAIL:-localhost/debian13-mail:latest}" ;;
    *) echo "unknown suite: $1 (expected trixie, bookworm, trixie-base or trixie-mail)" >&2; return 1 ;;
  esac
}

# An image made by another version of its recipe (the function that builds it,
# below) is made again; a change elsewhere in this script rebuilds nothing.
recipe_of() { declare -f "$@" | sha256sum | cut -c1-16; }

# Is image $1 usable as it is (made by recipe $2, or a registry image that
# exists or can be pulled)? Says which; false when it must be built.
up_to_date() {
  local image=$1 recipe=$2 have
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
  return 1
}

build_one() {  # suite: build (or keep, or pull) its image; its own output, its own exit status
  local suite=$1 image rootfs recipe
  image=$(image_for "$suite")
  recipe=$(echo "$mirror $security_mirror" | cat - <(recipe_of build_one) | sha256sum | cut -c1-16)
  up_to_date "$image" "$recipe" && return 0
  rootfs=$(mktemp -d /var/tmp/mailimg-"$suite".XXXXXX)
  # shellcheck disable=SC2064  # the path is fixed now, on purpose
  trap "rm -rf '$rootfs' '$rootfs.log'" EXIT
  echo "building $image from $mirror ($suite) ..."
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,python3,iproute2,ca-certificates,dbus,procps \
    "$suite" "$rootfs" "$mirror" > "$rootfs.log" 2>&1 || { tail -20 "$rootfs.log"; return 1; }
  # The image's apt points at the same mirrors; roles manage sources from there on.
  rm -f "$rootfs/etc/apt/sources.list"
  cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Patched as the Debian installer leaves a server (it installs from the security
  # suite too): debootstrap takes the release's packages only, and the roles install
  # what is missing without upgrading what is there, so the daily unattended-upgrade
  # (06:00 to 07:00 in the hosts' time zone) would otherwise upgrade libssl, krb5 and
  # more in the middle of a test run, holding dpkg's lock and restarting services.
  chroot "$rootfs" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq && apt-get clean && rm -rf /var/lib/apt/lists/*' \
    > "$rootfs.log" 2>&1 || { tail -20 "$rootfs.log"; return 1; }
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

# The Debian 13 images with Debian packages the roles install already installed, as
# apt installs them on a server (recommends included), with no service started while
# building (policy-rc.d) and no apt lists kept (the base role refreshes them):
# trixie-base the packages of every host (lab/base-packages.txt: the base, hardening,
# ssh, fail2ban and firewall roles', and the backup tools): the backup host starts
# from it; trixie-mail, made from trixie-base, adds the mail host's
# (lab/mail-packages.txt; its webmail line without recommends, as the webmail role
# installs it, with the role's answers to roundcube-core's questions). Services that
# only some hosts run are left disabled: their roles enable them. A recipe change, a
# new package list or a new base image makes an image again.
build_layer() {  # suite, the suite it is made from, the package list
  local suite=$1 from=$2 list=$3 image base recipe_layer name
  image=$(image_for "$suite"); base=$(image_for "$from")
  case "$from" in trixie) build_one trixie || return 1 ;; *) build_layer "$from" trixie "$here/lab/base-packages.txt" || return 1 ;; esac
  recipe_layer=$(cat <(recipe_of build_layer) "$list" <(podman image inspect -f '{{.Id}}' "$base") | sha256sum | cut -c1-16)
  up_to_date "$image" "$recipe_layer" && return 0
  name="mail-image-build-$suite-$$"
  echo "building $image from $base with $(sed 's/#.*//; s/^webmail-no-recommends://' "$list" | wc -w) packages ..."
  # shellcheck disable=SC2064  # the name is fixed now, on purpose
  trap "podman rm -f -t 0 '$name' >/dev/null 2>&1 || true" EXIT
  podman run --name "$name" -v "$list:/tmp/packages.txt:ro" "$base" sh -euc '
    printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(sed -e "s/#.*//; /^webmail-no-recommends:/d" /tmp/packages.txt) >/dev/null
    webmail=$(sed -n "s/#.*//; s/^webmail-no-recommends://p" /tmp/packages.txt)
    if [ -n "$webmail" ]; then
      # the webmail role answers these before it installs Roundcube (roles/webmail/tasks/install.yml)
      printf "%s\n" "roundcube-core roundcube/dbconfig-install boolean false" \
        "roundcube-core roundcube/reconfigure-webserver multiselect" \
        "roundcube-core roundcube/restart-webserver boolean false" | debconf-set-selections
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $webmail >/dev/null
    fi
    # Run only where their roles put them, which enable them themselves: not at every boot.
    for unit in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postfix-exporter \
                nginx php8.4-fpm; do
      systemctl disable "$unit" >/dev/null 2>&1 || true
    done
    rm -f /usr/sbin/policy-rc.d; apt-get clean; rm -rf /var/lib/apt/lists/*
  ' > "/var/tmp/$name.log" 2>&1 || { tail -20 "/var/tmp/$name.log"; rm -f "/var/tmp/$name.log"; return 1; }
  rm -f "/var/tmp/$name.log"
  podman commit -q --change 'CMD ["/lib/systemd/systemd"]' --change "LABEL mail.recipe=$recipe_layer" \
    "$name" "$image" >/dev/null
  podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
  echo "built $image"
}

# One build at a time on this machine: `make test` builds the package image beside the
# first scenarios (scripts/molecule-all.sh) while bench-short may ask for it too; the
# second caller waits here, then finds the image made.
exec 9>"${TMPDIR:-/tmp}/mail-build-images.lock"
flock 9

# All at once (debootstrap waits on the mirror and on dpkg in turn), each in a
# subshell with its own clean-up; fails if any failed. trixie-mail builds
# trixie-base and trixie first when they are missing (trixie-base builds trixie),
# so neither is built a second time beside it.
want=" ${suites[*]} "
pids=()
for suite in "${suites[@]}"; do
  image_for "$suite" >/dev/null
  case "$suite" in
    trixie-mail) ( build_layer trixie-mail trixie-base "$here/lab/mail-packages.txt" ) & ;;
    trixie-base) [ "${want/ trixie-mail /}" = "$want" ] || continue
                 ( build_layer trixie-base trixie "$here/lab/base-packages.txt" ) & ;;
    trixie) [ "${want/ trixie-mail /}${want/ trixie-base /}" = "$want$want" ] || continue; ( build_one "$suite" ) & ;;
    *) ( build_one "$suite" ) & ;;
  esac
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
