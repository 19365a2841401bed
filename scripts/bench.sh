#!/usr/bin/env bash
# Benchmark (prints figures; asserts nothing):
#   1. converge wall time of playbooks/site.yml on a fresh all-in-one Debian 13 container
#   2. the floor: a plain `apt-get install` of the same packages on another fresh container
#   3. their ratio
#   4. second-run wall time and changed count
#   5. antivirus throughput (scripts/bench_av.py): msg/s with and without clamav-milter
#   6. playbooks/accounts.yml with 10,000 generated accounts: first and second run (scripts/bench_accounts.py)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/lab/containers.conf}"
export ANSIBLE_CONFIG="$here/ansible.cfg" ANSIBLE_NOCOLOR=1
export PATH="$here/.venv/bin:$PATH"
image="${MAIL_IMAGE_DEBIAN13:-localhost/debian13-systemd:latest}"
work=$(mktemp -d)
cleanup() { podman rm -f bench-mail13 bench-floor13 >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
cleanup; work=$(mktemp -d)

start() {
  podman run -d --name "$1" --hostname mail.gialai.gov.vn --systemd=always "$image" /lib/systemd/systemd >/dev/null
  for _ in $(seq 30); do
    case "$(podman exec "$1" systemctl is-system-running 2>/dev/null || true)" in running|degraded) return ;; esac
    sleep 1
  done
}

# The inventory: the lab's data, one fresh host.
cp -r inventories/lab/group_vars "$work/"
cat > "$work/hosts.yml" <<INV
all:
  children:
    mail_mx: {hosts: {bench-mail13: {}}}
    mail_store: {hosts: {bench-mail13: {}}}
  vars: {ansible_connection: podman_pipelined, ansible_python_interpreter: /usr/bin/python3}
INV

now() { date +%s.%N; }
start bench-mail13
t0=$(now); ansible-playbook -i "$work/hosts.yml" playbooks/site.yml > "$work/run1.log"; t1=$(now)
ansible-playbook -i "$work/hosts.yml" playbooks/site.yml > "$work/run2.log"; t2=$(now)
changed2=$(grep -E '^bench-mail13 ' "$work/run2.log" | sed -E 's/.*changed=([0-9]+).*/\1/')

# The floor: the packages the converge installed, with apt-get alone.
packages=$(podman exec bench-mail13 sh -c "apt-mark showmanual" | tr '\n' ' ')
start bench-floor13
t3=$(now)
podman exec bench-floor13 sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages" > "$work/floor.log" 2>&1
t4=$(now)

awk -v c="$(echo "$t1 - $t0" | bc)" -v s="$(echo "$t2 - $t1" | bc)" -v f="$(echo "$t4 - $t3" | bc)" -v ch="$changed2" 'BEGIN {
  printf "fresh Debian 13 all-in-one (base + tls + clamav + postfix + dovecot)\n"
  printf "  converge (first run)          %7.1f s\n", c
  printf "  apt-get install floor         %7.1f s\n", f
  printf "  ratio converge / floor        %7.2f\n", c / f
  printf "  second run                    %7.1f s, changed=%s\n", s, ch
}'

# Antivirus throughput on the converged host (the floor container is no longer needed).
podman rm -f bench-floor13 >/dev/null 2>&1 || true
python3 scripts/bench_av.py --container bench-mail13

# Accounts at scale: playbooks/accounts.yml with 10,000 generated accounts, twice.
python3 scripts/bench_accounts.py --container bench-mail13 --accounts "${BENCH_ACCOUNTS:-10000}"
