"""SSH: key-only administrators, no root or password login, hardened algorithms; administrators who leave, leave."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from tests.helpers.lab import run_site
from tests.helpers.outside import LAB_ADMIN, LAB_ADMIN_KEY, admin_key, ssh

# Runs alone (tests/helpers/exclusive.py): plants root's authorized_keys and an sshd drop-in, adds and removes an administrator.
pytestmark = pytest.mark.exclusive


@pytest.fixture(scope="module")
def key():
    return admin_key()


def _sshd(mail, user: str = "nobody") -> dict:
    out = mail.host.run(f"sshd -T -C user={user},host=client,addr=192.0.2.1").stdout
    return {k: v for k, _, v in (line.partition(" ") for line in out.splitlines())}


@pytest.mark.control("SSH-01")
def test_administrator_logs_in_with_the_key_and_may_sudo(mail, key):
    result = ssh(mail.target.address, "id -nG && sudo -n true && echo sudo-ok", key=key)
    assert result.returncode == 0, result.stderr
    assert "sshadmins" in result.stdout.split() and "sudo-ok" in result.stdout


@pytest.mark.control("SSH-02")
def test_no_password_or_keyboard_interactive_login_is_offered(mail):
    result = ssh(mail.target.address, "true", user="root",
                 options=("-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"))
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr, result.stderr


@pytest.mark.control("SSH-02")
def test_root_cannot_log_in_even_with_an_administrator_key(mail, key):
    # root is not in AllowGroups and PermitRootLogin is no: even a key root owned would not do
    mail.host.run("install -d -m 0700 /root/.ssh")
    pub = mail.host.run(f"cat /home/{LAB_ADMIN}/.ssh/authorized_keys").stdout
    mail.host.run(f"printf '%s' '{pub}' > /root/.ssh/authorized_keys.probe")
    try:
        mail.host.run("cp /root/.ssh/authorized_keys.probe /root/.ssh/authorized_keys")
        result = ssh(mail.target.address, "true", user="root", key=key)
        assert result.returncode == 255 and "Permission denied" in result.stderr, result.stderr
    finally:
        mail.host.run("rm -f /root/.ssh/authorized_keys /root/.ssh/authorized_keys.probe")


@pytest.mark.control("SSH-03")
def test_effective_sshd_settings(mail):
    cfg = _sshd(mail)
    assert cfg["permitrootlogin"] == "no"
    assert cfg["passwordauthentication"] == "no"
    assert cfg["kbdinteractiveauthentication"] == "no"
    assert cfg["authenticationmethods"] == "publickey"
    assert cfg["permitemptypasswords"] == "no"
    assert cfg["allowgroups"] == "sshadmins"
    assert cfg["x11forwarding"] == "no" and cfg["allowtcpforwarding"] == "no"
    assert cfg["allowagentforwarding"] == "no" and cfg["permittunnel"] == "no"
    assert int(cfg["maxauthtries"]) <= 4
    assert cfg["loglevel"] == "VERBOSE"
    assert cfg["banner"] == "/etc/issue.net"
    cfgfile = mail.host.file("/etc/ssh/sshd_config")
    assert cfgfile.user == "root" and cfgfile.mode == 0o600


@pytest.mark.control("SSH-08")
def test_the_bastion_is_never_refused_by_sshd_penalties(mail, evidence):
    """OpenSSH 9.8+ (Debian 13) refuses, with "Not allowed at this time", a source that has run up
    15 s of penalties (1 s per connection that ends without a login). The controller is the lab's
    bastion: 25 such connections in a row, and every one still gets SSH's banner."""
    with socket.create_connection((mail.target.address, 22), timeout=10) as s:
        bastion = s.getsockname()[0]
        assert s.recv(64).startswith(b"SSH-2.0-")
    cfg = _sshd(mail)
    release = mail.host.system_info.release.split(".")[0]
    if release == "12":  # OpenSSH 9.2: no penalties, the role writes no exempt list
        assert "persourcepenalties" not in cfg, cfg.get("persourcepenalties")
    else:
        assert cfg["persourcepenalties"] != "no", cfg["persourcepenalties"]
        exempt = cfg["persourcepenaltyexemptlist"].split(",")
        assert f"{bastion}/32" in exempt, exempt[:5]
    banners = []
    for _ in range(25):
        with socket.create_connection((mail.target.address, 22), timeout=10) as s:
            banners.append(s.recv(64))
    refused = [b for b in banners if not b.startswith(b"SSH-2.0-")]
    assert not refused, refused[:3]
    evidence(f"Debian {release}: 25 connections without a login from the bastion {bastion}, 25 banners"
             + ("" if release == "12" else f"; sshd's penalties on ({cfg['persourcepenalties'][:40]}...), "
                                          f"{len(exempt)} exempt bastion addresses"))


@pytest.mark.control("SSH-04")
def test_only_ed25519_and_rsa_4096_host_keys(mail):
    keys = mail.host.run("ls /etc/ssh/ | grep '^ssh_host_.*_key$'").stdout.split()
    assert sorted(keys) == ["ssh_host_ed25519_key", "ssh_host_rsa_key"]
    bits = mail.host.run("ssh-keygen -l -f /etc/ssh/ssh_host_rsa_key.pub").stdout.split()[0]
    assert bits == "4096"
    for k in keys:
        f = mail.host.file(f"/etc/ssh/{k}")
        assert f.user == "root" and f.mode == 0o600


@pytest.mark.control("SSH-04")
def test_no_group_exchange_modulus_below_3072_bits(mail):
    small = mail.host.run("awk '$1 ~ /^[0-9]/ && $5 < 3071' /etc/ssh/moduli | wc -l").stdout.strip()
    assert small == "0"


@pytest.mark.control("SSH-05")
def test_authorized_keys_are_exactly_the_inventory_keys(mail):
    want = LAB_ADMIN_KEY.with_suffix(".pub").read_text().split()[:2]
    got = [line.split()[:2] for line in mail.host.file(f"/home/{LAB_ADMIN}/.ssh/authorized_keys").content_string.splitlines()
           if line.strip() and not line.startswith("#")]
    assert got == [want]
    shadow = mail.host.run(f"getent shadow {LAB_ADMIN}").stdout.split(":")[1]
    assert shadow.startswith("!") or shadow == "*", "the administrator must have no usable password"


DROP_IN = "/etc/ssh/sshd_config.d/99-test-probe.conf"


@pytest.mark.control("SSH-03")
def test_drop_ins_add_match_blocks_but_cannot_weaken_the_global_settings(mail):
    # sshd_config ends with the Include other roles (the backup_server role's Match block) rely on
    lines = [line for line in mail.host.file("/etc/ssh/sshd_config").content_string.splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[-1] == "Include /etc/ssh/sshd_config.d/*.conf", lines[-3:]
    mail.host.run(f"printf 'PasswordAuthentication yes\\nPermitRootLogin yes\\nX11Forwarding yes\\n"
                  f"Match User {LAB_ADMIN}\\n    MaxSessions 1\\n' > {DROP_IN}")
    try:
        check = mail.host.run("sshd -t")
        admin, other = _sshd(mail, LAB_ADMIN), _sshd(mail)
    finally:
        mail.host.run(f"rm -f {DROP_IN}")
    assert check.rc == 0, check.stderr
    assert admin["maxsessions"] == "1" and other["maxsessions"] == "4"  # the Match block applies, to its user only
    for cfg in (admin, other):  # global lines in a drop-in come after ours: sshd keeps the first value
        assert (cfg["passwordauthentication"], cfg["permitrootlogin"], cfg["x11forwarding"]) == ("no", "no", "no")


LEAVER = "tamthoi"


@pytest.fixture(scope="module")
def leaver(mail, tmp_path_factory):
    """An administrator added to ssh_admins, logged in, removed again: what each step showed.

    Runs the operator's path: playbooks/site.yml limited to this host and the
    ssh_admins tag (the input checks run too), first with the extra administrator,
    then with the inventory's list. A shell of the leaver and one of the remaining
    administrator stay open meanwhile. Every wait is bounded; the account is
    removed again at the end.

    A new login of a user whose systemd user manager is being stopped waits for
    that stop (pam_systemd). Debian 12's systemd in these cgroup-v1 containers is
    never told the manager's cgroup is empty and sits out TimeoutStopSec (2 min),
    from 10 s after the user's last session ended: a short login there timed out.
    So each user's first shell opens before their other logins (no stop in
    between), and waits for it allow that window.
    """
    key = tmp_path_factory.mktemp("leaver") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", LEAVER, "-f", str(key)], check=True)
    admins = [{"name": LAB_ADMIN, "keys": [LAB_ADMIN_KEY.with_suffix(".pub").read_text().strip()]}]
    address = mail.target.address
    seen: dict = {}
    shells: list[subprocess.Popen] = []
    try:
        # the remaining administrator's shell: it must survive the run
        shells.append(_shell(address, LAB_ADMIN, admin_key(), "sleep 901"))
        seen["admin_shell_up"] = _wait_for(lambda: _running(mail.host, LAB_ADMIN, "sleep 901"), SHELL_UP)
        seen["added"] = run_site(mail.name, {"ssh_admins": admins + [
            {"name": LEAVER, "keys": [key.with_suffix(".pub").read_text().strip()]}]}, "ssh_admins")
        # a shell left open, as the issue describes
        session = _shell(address, LEAVER, str(key), "sleep 600")
        shells.append(session)
        seen["session_up"] = _wait_for(lambda: _running(mail.host, LEAVER, "sleep 600"), SHELL_UP)
        seen["login_while_admin"] = ssh(address, "id -nG", user=LEAVER, key=str(key))
        seen["removed"] = run_site(mail.name, {"ssh_admins": admins}, "ssh_admins")
        # the run has ended the leaver's processes before it returned; the client
        # sees its connection closed a moment later
        seen["left_running"] = mail.host.run(f"pgrep -a -u {LEAVER}").stdout.strip()
        seen["session_ended"] = _wait_for(lambda: session.poll() is not None, 30)
        seen["login_after_removal"] = ssh(address, "id -nG", user=LEAVER, key=str(key))
        seen["admin_shell_kept"] = shells[0].poll() is None and _running(mail.host, LAB_ADMIN, "sleep 901")
        seen["admin_after_removal"] = ssh(address, "true", key=admin_key())
        seen["passwd"] = mail.host.run(f"getent passwd {LEAVER}").stdout.strip().split(":")
        seen["shadow"] = mail.host.run(f"getent shadow {LEAVER}").stdout.strip().split(":")
        seen["groups"] = mail.host.run(f"id -nG {LEAVER}").stdout.split()
        seen["keys_left"] = mail.host.file(f"/home/{LEAVER}/.ssh/authorized_keys").exists
        seen["home_kept"] = mail.host.file(f"/home/{LEAVER}").is_directory
        seen["sudoers"] = mail.host.file("/etc/sudoers.d/ssh-admins").content_string
    finally:
        for shell in shells:
            if shell.poll() is None:
                shell.kill()
                shell.wait(10)
        seen["cleanup"] = _remove_leaver(mail.host)
    return seen


# Up to the container's user manager stop window (above) and a slow login.
SHELL_UP = 180


def _shell(address: str, user: str, key: str, command: str) -> subprocess.Popen:
    return subprocess.Popen(_ssh_argv(address, user, key, command),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _running(host, user: str, command: str) -> bool:
    return host.run(f"pgrep -u {user} -xf '{command}'").rc == 0


def _remove_leaver(host) -> str:
    """Leave the host as the inventory has it, whatever step failed: no such account.

    As the role does: logind ends the sessions, a bounded wait, SIGKILL for what is
    left, another bounded wait; then the account goes (userdel refuses a user who
    still runs a process). Returns what went wrong, or "".
    """
    gone = f"for i in $(seq 60); do pgrep -u {LEAVER} >/dev/null || exit 0; sleep 0.5; done; exit 1"
    host.run(f"loginctl terminate-user {LEAVER}")
    if host.run(gone).rc != 0:
        host.run(f"pkill -KILL -u {LEAVER}")
        host.run(gone)
    removed = host.run(f"userdel -r {LEAVER}; sed -i '/^{LEAVER}$/d' /var/lib/ssh-admins/created")
    return "" if host.run(f"getent passwd {LEAVER}").rc == 2 else f"{LEAVER} not removed: {removed.stderr}"


def _ssh_argv(address: str, user: str, key: str, command: str) -> list[str]:
    return ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-i", key, "-o", "IdentitiesOnly=yes",
            f"{user}@{address}", command]


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


@pytest.mark.control("SSH-07")
def test_an_administrator_removed_from_the_inventory_can_no_longer_log_in(leaver):
    added, removed = leaver["added"], leaver["removed"]
    assert added.returncode == 0, (added.stdout + added.stderr)[-3000:]
    first = leaver["login_while_admin"]
    assert first.returncode == 0 and "sshadmins" in first.stdout.split(), first.stderr
    assert leaver["session_up"], "the leaver's shell did not start"
    assert removed.returncode == 0, (removed.stdout + removed.stderr)[-3000:]
    # refused now, with the key that worked before; the shell left open was ended
    again = leaver["login_after_removal"]
    assert again.returncode == 255 and "Permission denied" in again.stderr, (again.returncode, again.stderr)
    assert leaver["left_running"] == "", f"still running after the run: {leaver['left_running']}"
    assert leaver["session_ended"], "the leaver's open SSH session survived the removal"
    # the remaining administrator's shell was left alone, and they still log in
    assert leaver["admin_shell_up"], f"{LAB_ADMIN}'s shell did not start"
    assert leaver["admin_shell_kept"], f"the run ended {LAB_ADMIN}'s open shell too"
    assert leaver["admin_after_removal"].returncode == 0, leaver["admin_after_removal"].stderr
    assert leaver["cleanup"] == "", leaver["cleanup"]


@pytest.mark.control("SSH-07")
def test_a_removed_administrator_is_locked_and_kept_for_audit(leaver):
    passwd, shadow = leaver["passwd"], leaver["shadow"]
    assert passwd and passwd[0] == LEAVER, "the account was deleted: its home and files are evidence"
    assert passwd[6].strip() == "/usr/sbin/nologin"
    assert shadow[7] == "1", f"account expiry {shadow[7]!r}: not expired"  # days since 1970: 1970-01-02
    assert shadow[1].startswith("!"), "the account must have no usable password"
    assert "sshadmins" not in leaver["groups"], leaver["groups"]
    assert not leaver["keys_left"], "authorized_keys left behind"
    assert leaver["home_kept"]
    assert LEAVER not in leaver["sudoers"]
