#!/usr/bin/env bash
# Benchmark (prints figures; asserts nothing). Against fresh all-in-one Debian 13
# containers made from the lab image, with the lab inventory's data:
#
#   scripts/bench.sh          (make bench) for each strategy, Mitogen
#                             (mail_mitogen_linear) and the plain one (linear),
#                             side by side in one run:
#                               - the first converge of playbooks/site.yml,
#                               - an idle second run (changed count, seconds per task),
#                             then the floor: a plain `apt-get install` of the same
#                             packages on another fresh container, and converge/floor;
#                             then the antivirus throughput (scripts/bench_av.py) and
#                             accounts at scale (scripts/bench_accounts.py) on the
#                             Mitogen-converged host, and the webmail's latency
#                             (scripts/bench_webmail.py: log in, list an inbox of
#                             5,000 messages, 1 and 20 sessions; the host is in
#                             mail_webmail, as the lab's is); last, clamd's load time and
#                             memory with a generated signature database the size
#                             of the official one (scripts/bench_clamd_db.py, in a
#                             container of its own); and the wall time of the
#                             preflight cases (tests/preflight) on every core.
#   scripts/bench.sh --short  (part of make test, so the benchmark cannot rot unseen)
#                             one converge, one idle re-run and one idle re-run over
#                             SSH with sudo, with the default strategy
#                             (MAIL_ANSIBLE_STRATEGY, default Mitogen), of a host made
#                             from the package image (localhost/debian13-mail, the
#                             mail system's Debian packages already installed, as the
#                             edge and backup scenarios start): the install from a bare
#                             system is the full run's figure and the default
#                             scenario's proof, not paid for a third time.
#
# BENCH_STRATEGIES="mail_mitogen_linear linear" chooses the strategies of the full run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/lab/containers.conf}"
export ANSIBLE_CONFIG="$here/ansible.cfg" ANSIBLE_NOCOLOR=1
export PATH="$here/.venv/bin:$PATH"
image="${MAIL_IMAGE_DEBIAN13:-localhost/debian13-systemd:latest}"
short=false
[ "${1:-}" = --short ] && short=true
if $short; then
  image="${MAIL_IMAGE_DEBIAN13_MAIL:-localhost/debian13-mail:latest}"
  scripts/build-images.sh trixie-mail
  strategies=("${MAIL_ANSIBLE_STRATEGY:-mail_mitogen_linear}")
else
  read -r -a strategies <<<"${BENCH_STRATEGIES:-mail_mitogen_linear linear}"
fi
prefix="bench-$$"
work=$(mktemp -d)
cleanup() {
  podman rm -f $(podman ps -aq --filter "name=^${prefix}-") >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

start() {
  # NET_ADMIN: the firewall role loads nftables in the container's own network namespace.
  # BENCH_CPU_SHARES (make test: 256) lets the test suite's scenarios go first.
  podman run -d --name "$1" --hostname mail.gialai.gov.vn --cap-add NET_ADMIN --systemd=always \
    ${BENCH_CPU_SHARES:+--cpu-shares "$BENCH_CPU_SHARES"} "$image" /lib/systemd/systemd >/dev/null
  for _ in $(seq 60); do
    case "$(podman exec "$1" systemctl is-system-running 2>/dev/null || true)" in running|degraded) return ;; esac
    sleep 1
  done
}

# The full run's host is also a webmail host, as the lab's all-in-one is (its latency is
# measured below); --short leaves the webmail out (its smoke is in the edge scenario).
webmail_group=""
$short || webmail_group="mail_webmail: {hosts: {HOST: {}}}"

inventory() {  # the lab's data, one fresh host
  mkdir -p "$work/$1"
  cp -r inventories/lab/group_vars "$work/$1/"
  cat > "$work/$1/hosts.yml" <<INV
all:
  children:
    mail_mx: {hosts: {$1: {}}}
    mail_store: {hosts: {$1: {}}}
    ${webmail_group//HOST/$1}
  vars: {ansible_connection: podman_pipelined, ansible_python_interpreter: /usr/bin/python3}
INV
}

# The same host over SSH with sudo, as production reaches its servers: the lab's
# administrator (mailadmin, LAB ONLY key) from the controller, which the host's
# firewall lets in as a bastion (inventories/lab lab.yml). The inventory file sits
# beside the podman one: the same inventory directory, so the same internal CA
# (tls_internal_ca_dir is under inventory_dir).
ssh_inventory() {
  local address
  address=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1")
  install -m 0600 inventories/lab/files/ssh/lab-admin_ed25519 "$work/admin_key"
  cat > "$work/$1/hosts-ssh.yml" <<INV
all:
  children:
    mail_mx: {hosts: {$1: {}}}
    mail_store: {hosts: {$1: {}}}
    ${webmail_group//HOST/$1}
  hosts:
    $1:
      ansible_connection: ssh
      ansible_host: $address
      ansible_user: mailadmin
      ansible_become: true
      ansible_ssh_private_key_file: $work/admin_key
      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
      ansible_python_interpreter: /usr/bin/python3
INV
}

now() { date +%s.%N; }

# Wait (at most 90 s) until the container is quiet: its cgroup used under 5% of
# one core over 2 s. A converge leaves services starting (clamd, fail2ban,
# auditd); the idle re-run is timed on a settled host, as an operator meets it.
# Prints the seconds waited.
settle() {
  local t0 a b usage
  t0=$(date +%s)
  usage='if [ -r /sys/fs/cgroup/cpu.stat ]; then awk "/^usage_usec/ {print \$2 * 1000}" /sys/fs/cgroup/cpu.stat;
         else cat /sys/fs/cgroup/cpuacct/cpuacct.usage; fi'
  while [ $(( $(date +%s) - t0 )) -lt 90 ]; do
    a=$(podman exec "$1" sh -c "$usage"); sleep 2; b=$(podman exec "$1" sh -c "$usage")
    [ $(( (b - a) / 1000000 )) -lt 100 ] && break
  done
  echo $(( $(date +%s) - t0 ))
}
recap() { grep -E "^$1 +:" "$2" | tail -1; }
field() { sed -E "s/.* $1=([0-9]+).*/\1/"; }

# play <host> <inventory> <strategy> <log> <what>: one run of site.yml; sets
# took (seconds), run_changed and run_tasks (ok + skipped); stops the benchmark,
# naming <what>, if the run fails.
play() {
  local t0 line
  t0=$(now)
  ANSIBLE_STRATEGY=$3 ANSIBLE_HOST_KEY_CHECKING=False ansible-playbook -i "$2" playbooks/site.yml > "$4" 2>&1 \
    || { tail -40 "$4"; echo "bench: $5 failed" >&2; exit 1; }
  took=$(echo "$(now) - $t0" | bc)
  line=$(recap "$1" "$4")
  run_changed=$(echo "$line" | field changed)
  run_tasks=$(( $(echo "$line" | field ok) + $(echo "$line" | field skipped) ))
}

declare -A converge settled idle changed tasks ssh_idle ssh_changed ssh_tasks
for strategy in "${strategies[@]}"; do
  host="$prefix-${strategy//_/-}"
  inventory "$host"
  start "$host"
  log="$work/$host"
  play "$host" "$log/hosts.yml" "$strategy" "$log/run1.log" "the first converge ($strategy)"
  converge[$strategy]=$took
  settled[$strategy]=$(settle "$host")
  play "$host" "$log/hosts.yml" "$strategy" "$log/run2.log" "the second run ($strategy)"
  idle[$strategy]=$took changed[$strategy]=$run_changed tasks[$strategy]=$run_tasks
  last_host=$host
done

# The idle re-run over SSH with sudo, each strategy, on the first strategy's host.
host="$prefix-${strategies[0]//_/-}"
ssh_inventory "$host"
for strategy in "${strategies[@]}"; do
  play "$host" "$work/$host/hosts-ssh.yml" "$strategy" "$work/$host/run-ssh-$strategy.log" \
    "the idle run over SSH ($strategy)"
  ssh_idle[$strategy]=$took ssh_changed[$strategy]=$run_changed ssh_tasks[$strategy]=$run_tasks
done

echo
echo "fresh Debian 13 all-in-one ($image), playbooks/site.yml with the lab data ($(nproc) cores)"
printf '  %-34s' "strategy"; for s in "${strategies[@]}"; do printf ' %22s' "$s"; done; echo
printf '  %-34s' "first converge (s)"; for s in "${strategies[@]}"; do printf ' %22.1f' "${converge[$s]}"; done; echo
printf '  %-34s' "settle before the re-run (s)"; for s in "${strategies[@]}"; do printf ' %22s' "${settled[$s]}"; done; echo
printf '  %-34s' "idle re-run (s)"; for s in "${strategies[@]}"; do printf ' %22.1f' "${idle[$s]}"; done; echo
printf '  %-34s' "idle re-run: changed"; for s in "${strategies[@]}"; do printf ' %22s' "${changed[$s]}"; done; echo
printf '  %-34s' "idle re-run: tasks (ok + skipped)"; for s in "${strategies[@]}"; do printf ' %22s' "${tasks[$s]}"; done; echo
printf '  %-34s' "idle re-run: seconds per task"; for s in "${strategies[@]}"; do
  printf ' %22.3f' "$(echo "scale=4; ${idle[$s]} / ${tasks[$s]}" | bc)"; done; echo
printf '  %-34s' "idle re-run over SSH + sudo (s)"; for s in "${strategies[@]}"; do printf ' %22.1f' "${ssh_idle[$s]}"; done; echo
printf '  %-34s' "  over SSH: changed"; for s in "${strategies[@]}"; do printf ' %22s' "${ssh_changed[$s]}"; done; echo
printf '  %-34s' "  over SSH: seconds per task"; for s in "${strategies[@]}"; do
  printf ' %22.3f' "$(echo "scale=4; ${ssh_idle[$s]} / ${ssh_tasks[$s]}" | bc)"; done; echo
$short && exit 0

# Without the lab's connection plugin: the same idle re-run, plain strategy, over the
# containers.podman collection's own connection (several podman calls a task, no
# pipelining), against podman_pipelined (one `podman exec -i` a task) in the table above.
host="$prefix-${strategies[0]//_/-}"
sed 's/ansible_connection: podman_pipelined/ansible_connection: containers.podman.podman/' \
  "$work/$host/hosts.yml" > "$work/$host/hosts-podman.yml"
play "$host" "$work/$host/hosts-podman.yml" linear "$work/$host/run-podman.log" \
  "the idle run over containers.podman.podman"
printf '  %-34s %22.1f   (changed %s, %.3f s per task; linear)\n' "idle re-run, collection's podman" \
  "$took" "$run_changed" "$(echo "scale=4; $took / $run_tasks" | bc)"

# The floor: the packages the converge installed, with apt-get alone, on the same image.
packages=$(podman exec "$last_host" sh -c "apt-mark showmanual" | tr '\n' ' ')
floor="$prefix-floor"
start "$floor"
t3=$(now)
podman exec "$floor" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages" \
  > "$work/floor.log" 2>&1
t4=$(now)
podman rm -f "$floor" >/dev/null
f=$(echo "$t4 - $t3" | bc)
printf '  %-34s' "apt-get install floor (s)"; for s in "${strategies[@]}"; do printf ' %22.1f' "$f"; done; echo
printf '  %-34s' "ratio converge / floor"; for s in "${strategies[@]}"; do
  printf ' %22.2f' "$(echo "scale=4; ${converge[$s]} / $f" | bc)"; done; echo

# The Mitogen-converged host (the first strategy's) for the throughput figures.
host="$prefix-${strategies[0]//_/-}"
for s in "${strategies[@]:1}"; do podman rm -f "$prefix-${s//_/-}" >/dev/null; done

# Antivirus throughput on the converged host.
python3 scripts/bench_av.py --container "$host"

# Webmail latency: log in, then list the inbox of a mailbox with 5,000 messages, with 1 and
# 20 sessions at once, and the same list straight over IMAPS (the floor).
python3 scripts/bench_webmail.py --container "$host"

# Accounts at scale: playbooks/accounts.yml with 10,000 generated accounts, twice.
ANSIBLE_STRATEGY=${strategies[0]} python3 scripts/bench_accounts.py --container "$host" \
  --accounts "${BENCH_ACCOUNTS:-10000}"

# clamd with a signature database the size of the official one (generated here: the
# ClamAV mirror is unreachable), in a throw-away container of the package image
# (made here when missing: `make images` builds only the bare ones).
scripts/build-images.sh trixie-mail
python3 scripts/bench_clamd_db.py

# The preflight cases (tests/preflight: each one a site.yml run with one bad input,
# stopped before any host is contacted), on every core, as `make test` runs them.
t0=$(now)
pytest -q -n "$(nproc)" tests/preflight > "$work/preflight.log" 2>&1 \
  || { tail -30 "$work/preflight.log"; echo "bench: the preflight cases failed" >&2; exit 1; }
printf '  %-34s %22.1f   (%s)\n' "preflight cases, wall (s)" "$(echo "$(now) - $t0" | bc)" \
  "$(grep -Eo '[0-9]+ passed' "$work/preflight.log" | tail -1) on $(nproc) cores"
