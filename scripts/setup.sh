#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian 12/13 machine as root:
# apt packages, the pinned virtualenv (.venv), sslyze's own venv (.venv-sslyze),
# ssh-audit's own venv (.venv-ssh-audit).
# Images are built by scripts/build-images.sh.
#   scripts/setup.sh            everything
#   scripts/setup.sh --system   the apt packages only (what the image builds need:
#                               `make test` starts them before the virtualenvs exist)
# The three virtualenvs are made side by side (each waits mostly on pip's downloads
# and unpacking).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

apt_packages=(
  podman runc debootstrap iptables uidmap netavark aardvark-dns   # containers
  python3 python3-venv python3-pip make git                          # tooling
  swaks libnet-ssleay-perl bc                                        # SMTP client, bench arithmetic
  testssl.sh lynis openssh-client                                    # independent scanners (verify)
  restic                                                             # unit tests of the backup tool (real repositories)
  chromium chromium-driver libnss3-tools                             # the webmail tests' real browser (tests/helpers/browser.py)
  ca-certificates
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = --system ] && exit 0
py=${PYTHON:-python3}
pids=()
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  (
    echo "setup: virtualenv .venv (requirements.txt)"
    "$py" -m venv .venv
    .venv/bin/pip install -q --upgrade pip >/dev/null
    .venv/bin/pip install -q -r requirements.txt
    echo "$want" > "$stamp"
  ) &
  pids+=($!)
fi
# sslyze pins its own cryptography; it gets a venv of its own.
sslyze_version=6.3.1
if ! .venv-sslyze/bin/sslyze --help >/dev/null 2>&1; then
  (
    echo "setup: sslyze $sslyze_version in .venv-sslyze"
    "$py" -m venv .venv-sslyze
    .venv-sslyze/bin/pip install -q "sslyze==$sslyze_version"
  ) &
  pids+=($!)
fi
# ssh-audit (Debian's 2.5 predates the hardened Debian 12/13 policies); own venv so
# its pin never moves the main one. Pinned; never downloaded at test time.
ssh_audit_version=3.9.0
if [ "$(.venv-ssh-audit/bin/pip show ssh-audit 2>/dev/null | sed -n 's/^Version: //p')" != "$ssh_audit_version" ]; then
  (
    echo "setup: ssh-audit $ssh_audit_version in .venv-ssh-audit"
    "$py" -m venv .venv-ssh-audit
    .venv-ssh-audit/bin/pip install -q "ssh-audit==$ssh_audit_version"
  ) &
  pids+=($!)
fi
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
