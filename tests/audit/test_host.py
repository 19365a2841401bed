"""What the host itself shows, read-only: ports, modes of the secrets, versions, services."""

from __future__ import annotations

import re

import pytest

# 22: sshd for the administrators (the firewall admits only firewall_admin_networks)
ALLOWED_TCP = {22, 25, 465, 587, 143, 993, 4190}
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
    assert ports - metrics == ALLOWED_TCP | (WEBMAIL_TCP if "mail_webmail" in mail.groups else set()), ports


@pytest.mark.control("TLS-03")
def test_secrets_have_tight_modes(mail):
    key = mail.host.file(mail.tls_key_file)
    assert key.user == "root" and key.mode == 0o600
    users = mail.host.file("/etc/dovecot/users")
    assert users.user == "root" and users.group == "dovecot" and users.mode == 0o640
    content = users.content_string
    assert "{SHA512-CRYPT}" in content or "{BLF-CRYPT}" in content
    for password in mail.known_passwords.values():
        assert password not in content


@pytest.mark.control("CFG-02")
def test_release_matched_software(mail):
    version = mail.host.run("dovecot --version").stdout
    postfix = mail.host.run("postconf -h mail_version").stdout
    if mail.release.startswith("12"):
        assert version.startswith("2.3") and postfix.startswith("3.7")
    else:
        assert version.startswith("2.4") and postfix.startswith("3.10")


@pytest.mark.control("CFG-03")
def test_services_are_running_and_enabled(mail):
    for name in ("postfix", "dovecot"):
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
