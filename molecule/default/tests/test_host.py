"""What the host itself shows: ports, ownership, modes, versions."""

from __future__ import annotations

import pytest

from tests.helpers.mailclient import imap_wait_for, make_message, smtp_send

# 22: sshd for the administrators (the firewall admits only firewall_admin_networks)
ALLOWED_TCP = {22, 25, 465, 587, 143, 993}


@pytest.mark.audit
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
    assert ports == ALLOWED_TCP, ports


@pytest.mark.control("ACC-04")
def test_mail_store_is_readable_only_by_the_mail_owner(mail):
    rcpt = "vanphong@gialai.gov.vn"
    msg = make_message("sender@partner.example", [rcpt], "permissions probe")
    assert smtp_send(mail.target, msg, port=25) == {}
    assert len(imap_wait_for(mail.target, rcpt, mail.lab.password(rcpt), msg["Message-ID"])) == 1
    store = mail.host.file("/var/vmail")
    assert store.user == "vmail" and store.mode == 0o700
    assert mail.host.user("vmail").uid == 5000
    maildirs = mail.host.run("find /var/vmail -mindepth 2 -maxdepth 3 -type d -name Maildir").stdout.split()
    assert maildirs, "no Maildir was created"
    for path in maildirs:
        f = mail.host.file(path)
        assert f.user == "vmail" and f.mode == 0o700, path
    # no directory under the store lets group or others in
    loose = mail.host.run("find /var/vmail -type d -perm /077 -print -quit").stdout.strip()
    assert loose == "", loose
    # and another local account cannot read a message
    message = mail.host.run(
        f"grep -rl -F '{msg['Message-ID']}' /var/vmail/gialai.gov.vn/vanphong/Maildir/new /var/vmail/gialai.gov.vn/vanphong/Maildir/cur"
    ).stdout.split()[0]
    attempt = mail.host.run(f"setpriv --reuid=nobody --regid=nogroup --clear-groups cat '{message}'")
    assert attempt.rc != 0 and "Permission denied" in attempt.stderr


@pytest.mark.audit
@pytest.mark.control("TLS-03")
def test_secrets_have_tight_modes(mail):
    key = mail.host.file("/etc/ssl/mail/privkey.pem")
    assert key.user == "root" and key.mode == 0o600
    users = mail.host.file("/etc/dovecot/users")
    assert users.user == "root" and users.group == "dovecot" and users.mode == 0o640
    content = users.content_string
    assert "{SHA512-CRYPT}" in content or "{BLF-CRYPT}" in content
    for password in mail.lab.passwords.values():
        assert password not in content


@pytest.mark.audit
@pytest.mark.control("CFG-02")
def test_release_matched_software(mail):
    version = mail.host.run("dovecot --version").stdout
    postfix = mail.host.run("postconf -h mail_version").stdout
    if mail.release.startswith("12"):
        assert version.startswith("2.3") and postfix.startswith("3.7")
    else:
        assert version.startswith("2.4") and postfix.startswith("3.10")


@pytest.mark.audit
@pytest.mark.control("CFG-03")
def test_services_are_running_and_enabled(mail):
    for name in ("postfix", "dovecot"):
        svc = mail.host.service(name)
        assert svc.is_running and svc.is_enabled, name
