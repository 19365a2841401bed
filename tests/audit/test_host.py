"""What the host itself shows, read-only: ports, modes of the secrets, versions, services.

Each check asks what the host's groups make it run (`MailHost.serves`): a backup or monitor
host of its own answers for SSH and its exporters only, and runs no mail service."""

from __future__ import annotations

import re

import pytest

# 22: sshd for the administrators (the firewall admits only firewall_admin_networks), on every host
SSH_TCP = {22}
# Postfix on a mail_mx host (25, submission 587 and 465), Dovecot on a mail_store host (IMAP, ManageSieve)
MX_TCP = {25, 465, 587}
STORE_TCP = {143, 993, 4190}
# a mail_webmail host (roles/webmail) also serves HTTPS and the redirect on 80
WEBMAIL_TCP = {80, 443}
# the metrics role's exporters (node, Postfix) and Dovecot's own metrics, when the inventory has
# a monitor host: they may listen only if the firewall opens them to named sources, never to everyone
METRICS_TCP = {9100, 9154, 9900}


@pytest.mark.control("CFG-02")
def test_only_mail_ports_listen_outside_loopback(mail):
    out = mail.host.run("ss -Hltn").stdout
    ports = set()
    for line in out.splitlines():
        local = line.split()[3]
        addr, port = local.rsplit(":", 1)
        if addr.startswith("127.") or addr in ("[::1]",):
            continue
        ports.add(int(port))
    metrics = ports & METRICS_TCP
    if metrics:
        ruleset = mail.host.run("nft list table inet mail_filter").stdout
        assert "dport" in ruleset, "the firewall's ruleset could not be read"
        for line in ruleset.splitlines():
            if "dport" in line and "accept" in line and "saddr" not in line:
                assert not {int(p) for p in re.findall(r"\b(\d+)\b", line.split("dport", 1)[1])} & metrics, line
    allowed = (SSH_TCP | (MX_TCP if mail.serves("mail_mx") else set())
               | (STORE_TCP if mail.serves("mail_store") else set())
               | (WEBMAIL_TCP if "mail_webmail" in mail.groups else set()))
    assert ports - metrics == allowed, ports


@pytest.mark.control("TLS-03")
# the TLS key where a TLS service runs (tests/audit/conftest.py), the accounts on mail_store
@pytest.mark.mail_groups("mail_mx", "mail_store", "mail_av", "mail_webmail")
def test_secrets_have_tight_modes(mail):
    key = mail.host.file(mail.tls_key_file)
    assert key.user == "root" and key.mode == 0o600
    if not mail.serves("mail_store"):
        return
    users = mail.host.file("/etc/dovecot/users")
    assert users.user == "root" and users.group == "dovecot" and users.mode == 0o640
    content = users.content_string
    assert "{SHA512-CRYPT}" in content or "{BLF-CRYPT}" in content
    for password in mail.known_passwords.values():
        assert password not in content


@pytest.mark.control("CFG-02")
def test_release_matched_software(mail, evidence):
    release = mail.release.split(".")[0]
    assert release in ("12", "13"), f"Debian {mail.release}: the roles support Debian 12 and 13"
    want = {"12": {"dovecot": "2.3", "postfix": "3.7"}, "13": {"dovecot": "2.4", "postfix": "3.10"}}[release]
    found = {}
    for name, command in (("postfix", "postconf -h mail_version"), ("dovecot", "dovecot --version")):
        run = mail.host.run(command)
        if run.rc == 0:
            found[name] = run.stdout.strip()
            assert found[name].startswith(want[name] + "."), (name, found[name], mail.release)
    # a mail host runs what its groups say; a host of another kind may run neither
    must = ({"postfix"} if mail.serves("mail_mx") else set()) | ({"dovecot"} if mail.serves("mail_store") else set())
    assert must <= set(found), f"not installed: {sorted(must - set(found))}"
    evidence(f"Debian {mail.release}: {found or 'no Postfix, no Dovecot'}")


@pytest.mark.control("CFG-03")
def test_services_are_running_and_enabled(mail):
    units = (["postfix"] if mail.serves("mail_mx") else []) + (["dovecot"] if mail.serves("mail_store") else [])
    # clamd and its milter where tests/audit/test_antivirus.py looks for them (AV-05)
    units += ["clamav-daemon", "clamav-milter"] if mail.serves("mail_mx", "mail_av") else []
    for name in units:
        svc = mail.host.service(name)
        assert svc.is_running and svc.is_enabled, name
    # The roles install packages with their starts held back (policy_rc_d) and start what they
    # need themselves. Whatever the host enables must have run since boot, or been tried and
    # skipped by its own conditions (a container has no time sync or pstore): an enabled unit
    # that only the next reboot would start (log rotation, session clean-up) is a role's omission.
    assert never_started(mail.host) == []


def never_started(host) -> list[str]:
    """Enabled units (no templates) that systemd has neither started nor checked since boot."""
    units = host.run("systemctl list-unit-files --state=enabled --no-legend --plain").stdout.split("\n")
    names = [line.split()[0] for line in units if line.strip() and "@" not in line.split()[0]]
    assert names, "systemctl listed no enabled unit"
    show = host.run("systemctl show -p Id -p ActiveState -p ConditionTimestampMonotonic "
                    "-p InactiveExitTimestampMonotonic " + " ".join(names))
    assert show.rc == 0, show.stderr
    late = []
    for block in show.stdout.strip().split("\n\n"):
        prop = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if (prop["ActiveState"] != "active" and prop["ConditionTimestampMonotonic"] == "0"
                and prop["InactiveExitTimestampMonotonic"] == "0"):
            late.append(prop["Id"])
    return late
