#!/usr/bin/env bash
# The local lab: all-in-one mail hosts on Debian 13 and 12 in podman containers.
#
#   scripts/lab.sh up       start (or keep) the containers, deploy playbooks/site.yml,
#                           send a test mail through each host and read it back over IMAPS
#   scripts/lab.sh destroy  remove the containers and their network
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
declare -A images=(
  [lab-mail13]="${MAIL_IMAGE_DEBIAN13:-localhost/debian13-systemd:latest}"
  [lab-mail12]="${MAIL_IMAGE_DEBIAN12:-localhost/debian12-systemd:latest}"
)

up() {
  podman network exists "$network" || podman network create "$network" >/dev/null
  for name in lab-mail13 lab-mail12; do
    if ! podman container exists "$name"; then
      echo "lab: creating $name from ${images[$name]}"
      # NET_ADMIN: the firewall role loads nftables (and fail2ban bans) in the
      # container's own network namespace.
      podman run -d --name "$name" --hostname mail.gialai.gov.vn --network "$network" \
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
  echo "lab: removed (the lab CA stays in inventories/lab/tls-ca)"
}

case "${1:-up}" in
  up) up ;;
  destroy) destroy ;;
  *) echo "usage: $0 up|destroy" >&2; exit 2 ;;
esac
