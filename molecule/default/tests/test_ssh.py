"""SSH: key-only administrators, no root or password login, hardened algorithms."""

from __future__ import annotations

import pytest

from tests.helpers.outside import LAB_ADMIN, admin_key, ssh


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
    from tests.helpers.outside import LAB_ADMIN_KEY

    want = LAB_ADMIN_KEY.with_suffix(".pub").read_text().split()[:2]
    got = [line.split()[:2] for line in mail.host.file(f"/home/{LAB_ADMIN}/.ssh/authorized_keys").content_string.splitlines()
           if line.strip() and not line.startswith("#")]
    assert got == [want]
    shadow = mail.host.run(f"getent shadow {LAB_ADMIN}").stdout.split(":")[1]
    assert shadow.startswith("!") or shadow == "*", "the administrator must have no usable password"


DROP_IN = "/etc/ssh/sshd_config.d/99-test-probe.conf"


@pytest.mark.control("SSH-03")
def test_drop_ins_add_match_blocks_but_cannot_weaken_the_global_settings(mail):
    # sshd_config ends with the Include other roles (the backup role's Match block) rely on
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
