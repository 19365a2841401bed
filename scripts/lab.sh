#!/usr/bin/env bash
# The local lab: all-in-one mail hosts on Debian 13 and 12 in podman containers.
#
#   scripts/lab.sh up       start (or keep) the containers, deploy playbooks/site.yml,
#                           send a test mail through each host and read it back over IMAPS
#   scripts/lab.sh destroy  remove the containers and their network (and lab-mail13's mail file system)
#
# lab-mail13 (the drill's host and the lab's monitor host) keeps its mail, /var/vmail, on
# a file system of its own: an ext4 image of $LAB_VMAIL_SIZE (default 2G, sparse) under
# /var/lib/mail-lab, loop-mounted on the machine and bound into the container. The drill
# fills it to the disk alert's threshold and frees it again; the machine's own file system
# (the containers' overlay, which the alert rules leave out) is never filled.
#
# Re-running `up` converges: containers are reused, the playbook changes nothing new.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/lab/containers.conf}"
export ANSIBLE_CONFIG="$here/ansible.cfg"
# Mitogen (plugins/strategy/mail_mitogen_linear.py); MAIL_ANSIBLE_STRATEGY=linear for the plain strategy.
export ANSIBLE_STRATEGY="${MAIL_ANSIBLE_STRATEGY:-mail_mitogen_linear}"
export PATH="$here/.venv/bin:$PATH"
network=mail-lab
vmail_host=lab-mail13
vmail_dir=/var/lib/mail-lab/$vmail_host-vmail
vmail_image=$vmail_dir.img
declare -A images=(
  [lab-mail13]="${MAIL_IMAGE_DEBIAN13:-localhost/debian13-systemd:latest}"
  [lab-mail12]="${MAIL_IMAGE_DEBIAN12:-localhost/debian12-systemd:latest}"
)

# lab-mail13's mail file system: made once (mkfs.ext4 on a sparse image), mounted again
# after the machine restarted (the container binds the mount point, not the image).
vmail_fs() {
  mountpoint -q "$vmail_dir" && return 0
  mkdir -p "$vmail_dir"
  local made=false
  if [ ! -f "$vmail_image" ]; then
    echo "lab: making $vmail_host's mail file system ($vmail_image, ${LAB_VMAIL_SIZE:-2G}, ext4)"
    truncate -s "${LAB_VMAIL_SIZE:-2G}" "$vmail_image"
    mkfs.ext4 -q -F -L lab-vmail "$vmail_image"
    made=true
  fi
  mount -o loop "$vmail_image" "$vmail_dir"
  # the dovecot role owns /var/vmail: no foreign directory in it
  if $made; then rmdir "$vmail_dir/lost+found"; fi
}

up() {
  podman network exists "$network" || podman network create "$network" >/dev/null
  vmail_fs
  for name in lab-mail13 lab-mail12; do
    if ! podman container exists "$name"; then
      echo "lab: creating $name from ${images[$name]}"
      mounts=()
      [ "$name" = "$vmail_host" ] && mounts=(--volume "$vmail_dir:/var/vmail")
      # NET_ADMIN: the firewall role loads nftables (and fail2ban bans) in the
      # container's own network namespace.
      podman run -d --name "$name" --hostname mail.gialai.gov.vn --network "$network" "${mounts[@]}" \
        --cap-add NET_ADMIN --systemd=always "${images[$name]}" /lib/systemd/systemd >/dev/null
    elif [ "$(podman inspect -f '{{.State.Running}}' "$name")" != true ]; then
      podman start "$name" >/dev/null
    fi
  done
  for name in lab-mail13 lab-mail12; do
    for _ in $(seq 30); do
      state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
      case "$state" in running|degraded) break ;; esac
      sleep 1
    done
  done
  echo "lab: deploying playbooks/site.yml"
  ansible-playbook -i inventories/lab/hosts.yml playbooks/site.yml
  echo "lab: checking that mail flows"
  python scripts/lab_smoke.py lab-mail13 lab-mail12
}

destroy() {
  podman rm -f lab-mail13 lab-mail12 >/dev/null 2>&1 || true
  podman network rm "$network" >/dev/null 2>&1 || true
  if mountpoint -q "$vmail_dir"; then umount "$vmail_dir"; fi
  rm -rf "$vmail_dir" "$vmail_image"
  echo "lab: removed (the lab CA stays in inventories/lab/tls-ca)"
}

case "${1:-up}" in
  up) up ;;
  destroy) destroy ;;
  *) echo "usage: $0 up|destroy" >&2; exit 2 ;;
esac
